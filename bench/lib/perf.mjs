/**
 * Where workerd's CPU goes per request under load (`BENCH_PERF=1 npm run bench`): Linux `perf`
 * samples workerd's call stacks during each measured window, and every sample is put in the
 * first bucket below whose pattern one of its frames matches. The bench's own sequential
 * comparison (`npm run bench:ab`) cannot show this: it has no concurrency, no HTTP and a smaller
 * working set, and under load livechat-edge costs more than its sequential parts add up to.
 *
 * workerd is not stripped, so its C++ frames (V8, KJ, SQLite, the runtime) have names; JIT-compiled
 * JavaScript shows as unnamed frames. Sampling costs the target CPU too (stack unwinding at
 * {@link FREQUENCY} Hz), so a BENCH_PERF run's rates are not for the README.
 */
import { spawn, spawnSync } from "node:child_process";

/** Samples per second, per CPU. */
export const FREQUENCY = 999;

/**
 * Buckets, first match wins (a GC inside a SQL call counts as GC). Each names the frames it is
 * recognised by; "runtime" is everything else (the event loop, HTTP, request contexts).
 */
export const BUCKETS = [
  ["gc", /Heap::CollectGarbage|Scavenge|MinorGC|MarkCompact|Sweeper|IncrementalMarking|cppgc::internal|TracedHandles::ProcessWeak/],
  ["sqlite", /sqlite3|SqliteDatabase|ActorSqlite/],
  ["do_method", /JsRpcTargetBase/], // the Durable Object's side of an RPC call, its SQL excepted
  ["rpc_call", /JsRpcProperty::call/], // the Worker's side: stub, serialising the argument, dispatch
  ["json", /JsonParser|JsonStringifier|Builtin_Json/],
  ["syscalls", /entry_SYSCALL_64/],
  ["javascript", /^\[unknown\]$|^Builtins_/], // JS and the runtime APIs it calls that no bucket above claims
];

/** Whether `perf record` can sample here (installed, and allowed by perf_event_paranoid). */
export function perfAvailable() {
  const probe = spawnSync("perf", ["stat", "-e", "cpu-clock", "true"], { stdio: "ignore" });
  return probe.status === 0;
}

/** Start sampling process `pid` into `file`; `stop()` resolves once perf has written it. */
export function startPerf(pid, file) {
  const child = spawn("perf", ["record", "-q", "-e", "cpu-clock", "-F", String(FREQUENCY), "-g", "-p", String(pid), "-o", file], {
    stdio: "ignore",
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    stop() {
      child.kill("SIGINT");
      return exited;
    },
  };
}

/**
 * Microseconds of workerd's busiest thread (the one that runs every isolate) per request, by
 * bucket, from a `perf record` file covering a window that served `requests` requests.
 */
export function perfSplit(file, requests) {
  const out = spawnSync("perf", ["script", "-i", file, "-F", "tid,ip,sym"], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (out.status !== 0) throw new Error(`perf script failed: ${out.stderr.slice(0, 300)}`);
  const byThread = new Map(); // tid → bucket → samples
  let tid;
  let frames = [];
  const flush = () => {
    if (tid === undefined) return;
    const name = BUCKETS.find(([, pattern]) => frames.some((f) => pattern.test(f)))?.[0] ?? "runtime";
    const counts = byThread.get(tid) ?? new Map();
    counts.set(name, (counts.get(name) ?? 0) + 1);
    byThread.set(tid, counts);
    tid = undefined;
    frames = [];
  };
  for (const line of out.stdout.split("\n")) {
    if (line.trim() === "") flush();
    else if (!/^\s/.test(line)) tid = line.trim().split(/\s+/)[0];
    else frames.push(line.trim().replace(/^[0-9a-f]+\s+/, "").replace(/\(.*$/, "").trim());
  }
  flush();
  const [main] = [...byThread.values()].sort((a, b) => total(b) - total(a));
  const usPerSample = 1e6 / FREQUENCY / Math.max(1, requests);
  const split = { total: round1(total(main ?? new Map()) * usPerSample) };
  for (const name of [...BUCKETS.map(([n]) => n), "runtime"]) split[name] = round1((main?.get(name) ?? 0) * usPerSample);
  return split;
}

const total = (counts) => [...counts.values()].reduce((a, b) => a + b, 0);
const round1 = (x) => Math.round(x * 10) / 10;
