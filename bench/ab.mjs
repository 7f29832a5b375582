#!/usr/bin/env node
/**
 * `npm run bench:ab [-- REF]`: what a change does to the cost of one ack, precisely enough to see
 * a few microseconds. `npm run bench` compares against the baselines under load, and on this
 * 2-core VM its per-request CPU moves by ±20 % between rounds, which hides any single
 * optimisation. Here baseline (b), livechat-edge at REF (default HEAD) and the working tree run as
 * three Workers in ONE workerd, each driven from inside the runtime, loops interleaved
 * (bench/lib/ack-cost.mjs: the method, also behind `npm run bench`'s ack-cost budget). The result
 * is wall time per ack, sequential: read differences, not rates.
 *
 * Knobs: AB_MIX=new-chats (every ack creates a Chat DO, as a chat's first webhook does; then
 * AB_N defaults to 40 and AB_ROUNDS to 8), AB_N (300 acks per loop), AB_ROUNDS (24), AB_SCRIPTS
 * ("name=path,…": prebuilt Worker scripts to compare instead, e.g. patched builds from
 * `wrangler deploy --dry-run --outdir`; a name containing "baseline" is not installed or primed).
 * Two livechat-edge builds at a time give the stated precision; with more, workerd holds more DOs
 * and the noise grows.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { measureAckCost } from "./lib/ack-cost.mjs";
import { exportTree, wranglerBuild } from "./lib/build.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** `new-chats`: every ack is a chat's first webhook, so it creates (constructs and migrates) a Chat DO. */
const NEW_CHATS = process.env.AB_MIX === "new-chats";
// New DOs are costly to keep: ~1,000 more in one workerd and its SQLite runs out of memory.
const N = Number(process.env.AB_N ?? (NEW_CHATS ? 40 : 300));
const ROUNDS = Number(process.env.AB_ROUNDS ?? (NEW_CHATS ? 8 : 24));
const log = (msg) => process.stderr.write(`[ab] ${msg}\n`);
const tmp = mkdtempSync(join(tmpdir(), "livechat-edge-ab-"));

function targetsToRun() {
  if (process.env.AB_SCRIPTS) {
    return process.env.AB_SCRIPTS.split(",").map((spec) => {
      const [name, path] = spec.split("=");
      return { name, script: resolve(path), app: !/baseline/.test(name) };
    });
  }
  const ref = process.argv[2] ?? "HEAD";
  const rev = spawnSync("git", ["rev-parse", "--short", ref], { cwd: root, encoding: "utf8" });
  if (rev.status !== 0) throw new Error(`not a commit: ${ref}`);
  const name = rev.stdout.trim();
  const tree = exportTree(root, join(tmp, "ref"), name);
  log(`building ${name} and the working tree …`);
  // As wrangler.toml configures the build (minified), i.e. what `wrangler deploy` uploads.
  const built = (dir, out) => (wranglerBuild(dir, out, false), join(out, "index.js"));
  return [
    { name: "baseline (b)", script: join(root, "bench/baselines/durable.js"), app: false },
    { name, script: built(tree, join(tmp, "build-ref")), app: true },
    { name: "working tree", script: built(root, join(tmp, "build-work")), app: true },
  ];
}

async function main() {
  try {
    const targets = targetsToRun();
    const r = await measureAckCost({ root, targets, n: N, rounds: ROUNDS, newChats: NEW_CHATS, log });
    if (r.late) log(`measuring took ${(r.elapsed_ms / 1000).toFixed(1)} s: held processing may have run in it; lower AB_N or AB_ROUNDS`);
    const first = r.targets.find((t) => t.app);
    console.log(`µs per ack${NEW_CHATS ? " to a new chat" : ""}, sequential, ${N} acks × ${ROUNDS} rounds each (one workerd, loops interleaved):`);
    for (const t of r.targets) {
      const delta = t.app && t !== first ? `  ${t.p10_us - first.p10_us >= 0 ? "+" : ""}${t.p10_us - first.p10_us} µs vs ${first.name}` : "";
      const cpu = t.cpu_median_us === undefined ? "" : `  | workerd CPU p10 ${String(t.cpu_p10_us).padStart(4)}  median ${String(t.cpu_median_us).padStart(4)}`;
      console.log(`  ${t.name.padEnd(14)} p10 ${String(t.p10_us).padStart(4)}  p25 ${String(t.p25_us).padStart(4)}  median ${String(t.median_us).padStart(4)}${cpu}${delta}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
