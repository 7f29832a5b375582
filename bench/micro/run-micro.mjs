/**
 * Bundle micro/receive.mjs with the real src/livechat/webhooks modules (esbuild, which wrangler
 * ships) and run it in a fresh Node process over bodies from the load's mix.
 */
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const SUMMARY_STAGES = ["json_parse", "envelope", "verify", "validate"];

/** `srcRoot`: the tree whose src/ is measured (the working tree, or an export of HEAD). */
export async function runMicro({ root, srcRoot = root, tmp, secret, nextBodies, seconds = 0.6, count = 2000 }) {
  const entry = join(root, "bench/micro/receive.mjs");
  const module = join(srcRoot, "src/livechat/webhooks/index.ts");
  if (!existsSync(module)) return { available: false, reason: "src/livechat/webhooks/index.ts does not exist" };
  const outfile = join(tmp, "micro.mjs");
  const useSrcRoot = {
    name: "src-root",
    setup(b) {
      b.onResolve({ filter: /src\/livechat\/webhooks\/index\.ts$/ }, () => ({ path: module }));
    },
  };
  await build({ entryPoints: [entry], bundle: true, platform: "node", format: "esm", target: "node20", outfile, logLevel: "error", plugins: [useSrcRoot] });
  const next = nextBodies();
  const bodies = Array.from({ length: count }, () => next());
  const inputFile = join(tmp, "micro-input.json");
  writeFileSync(inputFile, JSON.stringify({ bodies, secret, seconds }));
  const r = spawnSync(process.execPath, [outfile, inputFile], { encoding: "utf8" });
  if (r.status !== 0) return { available: false, reason: `micro-benchmark failed: ${(r.stderr || r.stdout).slice(0, 500)}` };
  const out = JSON.parse(r.stdout.trim().split("\n").pop());
  const us = (ns) => (ns / 1000).toFixed(1);
  const p = out.pipelines_ns;
  return {
    available: true,
    runtime: `Node ${process.version} (V8), esbuild bundle of src/livechat/webhooks`,
    ...out,
    summary:
      `parse + verify + validate ${us(p.receive)} µs (p50 ${us(out.receive_per_call_ns.p50)}, p99 ${us(out.receive_per_call_ns.p99)}); ` +
      `${SUMMARY_STAGES.map((s) => `${s} ${us(out.stages_ns[s])}`).join(", ")}; ` +
      `with chat scope + dedupe key + redact + stringify ${us(p.receive_full)} µs; floor (JSON.parse + ===) ${us(p.floor)} µs`,
  };
}
