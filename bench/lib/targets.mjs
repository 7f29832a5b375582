/**
 * The three targets, each in its own fresh Miniflare (docs/TOOLCHAIN.md §3.7) with the options
 * wrangler derives from wrangler.toml (`unstable_getMiniflareWorkerOptions`: compatibility
 * date and flags, KV TOKENS, SQLite-backed DOs LICENSES → License and CHATS → Chat, vars),
 * listening on a loopback port that wrk drives directly (no wrangler dev proxy, no dispatchFetch).
 *
 * That port is the Worker's own socket (Miniflare's `unsafeDirectSockets`), not Miniflare's entry
 * worker, which no deployed Worker runs behind (it adds pretty error pages, live reload, request
 * logs and the `cf` blob). On the same workerd thread as the target, it cost ~140 µs per request
 * (baseline (a) ~16k req/s direct, ~5k through it), and in about one 8 s wrk run in five it closed
 * all 50 connections at once, mid-run (baseline (a): 16 of 84 runs through it, 0 of 30 direct;
 * direct, it happened in 2 of ~21 livechat-edge rounds; docs/BENCHMARK.md). BENCH_VIA_ENTRY=1
 * goes through it, as the bench did before.
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { workerLogs } from "./worker-logs.mjs";

/** Whether wrk goes through Miniflare's entry worker (BENCH_VIA_ENTRY=1) instead of the Worker's own socket. */
export const VIA_ENTRY_WORKER = process.env.BENCH_VIA_ENTRY === "1";

/**
 * A Miniflare whose workerd appends its stdout (the Worker's log lines) to `stdoutFile`, truncated
 * first, instead of a pipe this process would have to keep draining (see startTarget). `prefix`: a
 * command line to run workerd under (e.g. valgrind, bench/lib/instructions.mjs).
 */
export async function startWithStdoutFile(options, stdoutFile, prefix = "") {
  closeSync(openSync(stdoutFile, "w"));
  // Miniflare spawns MINIFLARE_WORKERD_PATH when set, with this process's environment.
  const vars = { MINIFLARE_WORKERD_PATH: wrapper, BENCH_REAL_WORKERD: realWorkerd(), BENCH_WORKERD_STDOUT: stdoutFile, BENCH_WORKERD_PREFIX: prefix };
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  try {
    const mf = new Miniflare(options);
    await mf.ready;
    return mf;
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/**
 * A one-file bundle as the ES module list `wrangler deploy` uploads. Throws on a relative import
 * (a chunk esbuild would emit for a dynamic import), which this list would have to include.
 */
export function bundleModules(scriptPath) {
  const contents = readFileSync(scriptPath, "utf8");
  if (/(?:\bfrom|\bimport)\s*\(?\s*["']\.\.?\//.test(contents)) {
    throw new Error(`${scriptPath} imports a relative module: list it in bundleModules()`);
  }
  return [{ type: "ESModule", path: scriptPath, contents }];
}

/**
 * @param {string} configPath wrangler.toml
 * @returns the worker options wrangler would give Miniflare, and whether deploys minify
 */
export function optionsFromWrangler(configPath) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  return workerOptions;
}

const wrapper = join(dirname(fileURLToPath(import.meta.url)), "workerd-stdout-to-file.sh");
const realWorkerd = () => {
  const fromMiniflare = createRequire(createRequire(import.meta.url).resolve("miniflare"));
  const mod = fromMiniflare("workerd");
  return mod.default ?? mod;
};

/**
 * Start one target. `durableObjects: false` drops the DO bindings (baseline (a) has no DO
 * classes). Storage (SQLite DOs, KV) lives under `persistRoot`: the bench puts it on tmpfs,
 * see storageRoot() in run.mjs. Runtime stdout/stderr are consumed and counted (never printed during the load, so
 * the terminal does not slow the Worker down); the last lines are kept for diagnostics.
 *
 * `stdoutFile`: workerd writes its stdout (the Worker's log lines) to that file instead of a pipe,
 * and `logs.refresh()` reads what is new. Through a pipe, every log line cost the Worker under load
 * ~150 µs of workerd CPU whenever this Node process (also the LiveChat mock and the samplers) did not
 * drain it at once; a Worker that logs per request paid for the harness's reader, not for its log
 * line (measured: docs/BENCHMARK.md). Without it, `refresh()` does nothing and lines are counted
 * as they arrive.
 */
export async function startTarget({ base, scriptPath, bindings, persistRoot, durableObjects = true, stdoutFile }) {
  const { logs, onStdoutLine, onStderrLine } = workerLogs(stdoutFile);
  const options = {
    ...base,
    ...(durableObjects ? {} : { durableObjects: {} }),
    name: "bench-target",
    // The bundle's modules, listed: with `modules: true` Miniflare finds them by parsing the entry
    // script in Node (acorn), which took ~150 ms of livechat-edge's "cold start" (~3 ms of a
    // baseline's) and is not part of any Worker's start at the edge (measured: docs/BENCHMARK.md).
    modules: bundleModules(scriptPath),
    modulesRoot: dirname(scriptPath),
    bindings: { ...base.bindings, ...bindings },
    host: "127.0.0.1",
    port: 0,
    logRequests: false,
    defaultPersistRoot: persistRoot,
    ...(VIA_ENTRY_WORKER ? {} : { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] }),
    handleRuntimeStdio(stdout, stderr) {
      createInterface({ input: stdout }).on("line", onStdoutLine);
      createInterface({ input: stderr }).on("line", onStderrLine);
    },
  };
  const mf = stdoutFile ? await startWithStdoutFile(options, stdoutFile) : new Miniflare(options);
  const entry = await mf.ready;
  const url = VIA_ENTRY_WORKER ? entry : await mf.unsafeGetDirectURL();
  return { mf, url: new URL(url), logs };
}
