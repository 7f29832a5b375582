/**
 * The three targets, each in its own fresh Miniflare (TOOLCHAIN.md §3.7) with the options
 * wrangler derives from wrangler.toml (`unstable_getMiniflareWorkerOptions`: compatibility
 * date and flags, KV TOKENS, SQLite-backed DOs LICENSES → License and CHATS → Chat, vars),
 * listening on a loopback port that wrk drives directly (no wrangler dev proxy, no dispatchFetch).
 */
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

/**
 * @param {string} configPath wrangler.toml
 * @returns the worker options wrangler would give Miniflare, and whether deploys minify
 */
export function optionsFromWrangler(configPath) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  return workerOptions;
}

/**
 * Start one target. `durableObjects: false` drops the DO bindings (baseline (a) has no DO
 * classes). Storage (SQLite DOs, KV) lives under `persistRoot`: the bench puts it on tmpfs,
 * see storageRoot() in run.mjs. Runtime stdout/stderr are consumed and counted (never printed during the load, so
 * the terminal does not slow the Worker down); the last lines are kept for diagnostics.
 */
export async function startTarget({ base, scriptPath, bindings, persistRoot, durableObjects = true }) {
  // `events` counts the Worker's JSON log lines by msg (+ result/outcome), e.g. how post-ack
  // processing went: "delivery processed:not_installed", "delivery failed, will retry:retry".
  const logs = { stdoutLines: 0, stderrLines: 0, stdoutTail: [], stderrTail: [], events: {} };
  const count = (line) => {
    if (line.charCodeAt(0) !== 123) return; // "{"
    const msg = line.match(/"msg":"([^"]{1,80})"/)?.[1];
    if (!msg) return;
    if (msg === "deliveries processed") {
      // One line per processing pass (src/framework/host.ts) with the number it finished.
      const n = Number(line.match(/"processed":(\d+)/)?.[1] ?? 0);
      logs.events["delivery processed"] = (logs.events["delivery processed"] ?? 0) + n;
      return;
    }
    const detail = line.match(/"(?:result|outcome)":"([^"]{1,40})"/)?.[1];
    const key = detail ? `${msg}:${detail}` : msg;
    logs.events[key] = (logs.events[key] ?? 0) + 1;
  };
  const keep = (tail, line) => {
    tail.push(line.slice(0, 400));
    if (tail.length > 6) tail.shift();
  };
  const options = {
    ...base,
    ...(durableObjects ? {} : { durableObjects: {} }),
    name: "bench-target",
    modules: true,
    modulesRoot: dirname(scriptPath),
    scriptPath,
    bindings: { ...base.bindings, ...bindings },
    host: "127.0.0.1",
    port: 0,
    logRequests: false,
    defaultPersistRoot: persistRoot,
    handleRuntimeStdio(stdout, stderr) {
      createInterface({ input: stdout }).on("line", (l) => (logs.stdoutLines++, count(l), keep(logs.stdoutTail, l)));
      createInterface({ input: stderr }).on("line", (l) => (logs.stderrLines++, count(l), keep(logs.stderrTail, l)));
    },
  };
  const mf = new Miniflare(options);
  const url = await mf.ready;
  return { mf, url: new URL(url), logs };
}
