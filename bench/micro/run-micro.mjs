/**
 * Bundle the micro-benchmark (stages.mjs: the ack path's steps, the real modules of the measured
 * tree's src/) with esbuild, which wrangler ships, and time it twice over bodies from the load's
 * mix: in a fresh Node process (receive.mjs), and in workerd through Miniflare (worker.mjs), the
 * runtime the Worker runs in (its `node:crypto`, TextDecoder and JSON differ from Node's).
 */
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { cpuNs, workerdPids } from "../lib/cpu.mjs";

const SUMMARY_STAGES = ["json_parse", "envelope", "verify", "stored_body"];

/** Resolve the harness's `../../src/…` imports into `srcRoot`'s src/ (the tree measured). */
const srcRootPlugin = (srcRoot) => ({
  name: "src-root",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/\.\.\/src\// }, (args) => ({ path: join(srcRoot, args.path.replace(/^\.\.\/\.\.\//, "")) }));
  },
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The steps timed inside workerd: rounds of one request per step (`n` calls each), steps in turn;
 * per call (request time − a `noop` request's) / n, median over rounds, and the rounds' spread.
 */
async function timeInWorkerd({ script, texts, secret, rounds = 7, targetMs = 40 }) {
  const mf = new Miniflare({ modules: true, scriptPath: script, modulesRoot: dirname(script), compatibilityDate: "2026-04-20", compatibilityFlags: ["nodejs_compat"] });
  try {
    await mf.ready;
    const init = await mf.dispatchFetch("http://micro/init", { method: "POST", body: JSON.stringify({ texts, secret }) });
    if (!init.ok) throw new Error(`init: ${await init.text()}`);
    // The step names, from stages.mjs (which imports TypeScript, so only its bundle can load it).
    const { ACK_STAGES, PROCESSING_STAGES, PIPELINES } = await init.json();
    const pids = workerdPids();
    // workerd's CPU time when it can be read (steadier on a shared machine), else wall time.
    const clock = pids.length > 0 ? () => cpuNs(pids) / 1e6 : () => performance.now();
    const run = async (stage, n) => {
      const t0 = clock();
      const res = await mf.dispatchFetch(`http://micro/run?stage=${stage}&n=${n}&bodies=${texts.length}`);
      const body = await res.text();
      const ms = clock() - t0;
      if (!res.ok) throw new Error(`${stage}: ${body}`);
      return ms;
    };
    const names = [...ACK_STAGES, ...PROCESSING_STAGES, ...PIPELINES];
    // Calibrate: n calls per request so that a request takes about targetMs.
    const counts = {};
    for (const name of ["noop", ...names]) {
      await run(name, 2000);
      const ms = await run(name, 2000);
      counts[name] = Math.max(2000, Math.min(200_000, Math.round((2000 * targetMs) / Math.max(ms, 0.5))));
    }
    const perCall = Object.fromEntries(names.map((name) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const name of names) {
        const n = counts[name];
        const noop = await run("noop", n);
        const ms = await run(name, n);
        perCall[name].push(((ms - noop) * 1e6) / n);
      }
    }
    const ns = (list) => Object.fromEntries(list.map((name) => [name, Math.round(median(perCall[name]))]));
    const spread = Object.fromEntries(
      names.map((name) => [name, [Math.round(Math.min(...perCall[name])), Math.round(Math.max(...perCall[name]))]]),
    );
    return { clock: pids.length > 0 ? "workerd CPU time (/proc schedstat)" : "wall time", rounds, stages_ns: ns(ACK_STAGES), processing_ns: ns(PROCESSING_STAGES), pipelines_ns: ns(PIPELINES), spread_ns: spread };
  } finally {
    await mf.dispose();
  }
}

/** `srcRoot`: the tree whose src/ is measured (the working tree, or an export of HEAD). */
export async function runMicro({ root, srcRoot = root, tmp, secret, nextBodies, seconds = 0.6, count = 2000 }) {
  if (!existsSync(join(srcRoot, "src/webhooks/receive.ts"))) return { available: false, reason: "src/webhooks/receive.ts does not exist" };
  const plugins = [srcRootPlugin(srcRoot)];
  const nodeBundle = join(tmp, "micro.mjs");
  const workerBundle = join(tmp, "micro-worker.mjs");
  try {
    await build({ entryPoints: [join(root, "bench/micro/receive.mjs")], bundle: true, platform: "node", format: "esm", target: "node20", outfile: nodeBundle, logLevel: "error", plugins });
    await build({
      entryPoints: [join(root, "bench/micro/worker.mjs")],
      bundle: true,
      platform: "neutral",
      format: "esm",
      external: ["node:*", "cloudflare:*"],
      outfile: workerBundle,
      logLevel: "error",
      plugins,
    });
  } catch (error) {
    return { available: false, reason: `micro-benchmark failed to build: ${String(error).slice(0, 500)}` };
  }
  const next = nextBodies();
  const bodies = Array.from({ length: count }, () => next());
  const inputFile = join(tmp, "micro-input.json");
  writeFileSync(inputFile, JSON.stringify({ bodies, secret, seconds }));
  const r = spawnSync(process.execPath, [nodeBundle, inputFile], { encoding: "utf8" });
  if (r.status !== 0) return { available: false, reason: `micro-benchmark failed: ${(r.stderr || r.stdout).slice(0, 500)}` };
  const node = JSON.parse(r.stdout.trim().split("\n").pop());
  let workerd;
  try {
    workerd = await timeInWorkerd({ script: workerBundle, texts: bodies.map((b) => b.body), secret });
  } catch (error) {
    workerd = { error: String(error).slice(0, 500) };
  }
  const us = (ns) => (ns / 1000).toFixed(1);
  const line = (o) =>
    `ack path ${us(o.pipelines_ns.ack)} µs (${SUMMARY_STAGES.map((s) => `${s} ${us(o.stages_ns[s])}`).join(", ")}); floor (decode + JSON.parse + === + name) ${us(o.pipelines_ns.floor)} µs`;
  return {
    available: true,
    runtime: `workerd (${workerd.clock ?? "failed"}, through Miniflare) and Node ${process.version}; esbuild bundle of the ack path's modules`,
    node,
    workerd,
    summary: `${workerd.error ? `workerd: failed (${workerd.error.slice(0, 120)})` : `in workerd: ${line(workerd)}`}; in Node: ${line(node)}`,
  };
}
