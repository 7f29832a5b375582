#!/usr/bin/env node
/**
 * `npm run bench:profile`: what one webhook costs the Worker, for comparing changes. Throughput on
 * this 2-core box swings ±20 % between runs (client, server and the processing backlog share the
 * cores), so this measures workerd's CPU time instead: over a wrk run and then until post-ack
 * processing has drained, divided by the deliveries acked. Starts the Worker (unminified, for
 * readable names) and LiveChat's mock like `npm run bench`, installs and primes the same way.
 *
 * `--cpuprofile` also records a V8 CPU profile of the isolate (Worker and both Durable Objects
 * share it in workerd) through the inspector, prints the top self-time functions and the time per
 * source file (esbuild's `// src/…` markers) and writes the `.cpuprofile` for Chrome DevTools.
 * The profiler slows the Worker down: read its shares, not its rates.
 * Knobs: PROFILE_SECONDS (8), PROFILE_WARMUP_SECONDS (2, unmeasured), PROFILE_RUNS (2), BENCH_CONNECTIONS (50), PROFILE_OUT, PROFILE_SCRIPT
 * (another Worker script to measure the same way, e.g. bench/baselines/durable.js).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildTemplates, chatStarts } from "./lib/bodies.mjs";
import { ensureWrk, runWrk, writeLuaScript } from "./lib/load.mjs";
import { startCpuMeter } from "./lib/memory.mjs";
import { startLiveChatMock } from "./lib/mock-livechat.mjs";
import { appBindings, installOrgs, postAll, storageRoot, WEBHOOK_PATH, WEBHOOK_SECRET } from "./lib/app-setup.mjs";
import { optionsFromWrangler, startTarget } from "./lib/targets.mjs";
import { settle } from "./lib/worker-logs.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const examplesDir = resolve(root, "test/fixtures/livechat");
const seconds = Number(process.env.PROFILE_SECONDS ?? 8);
const warmupSeconds = Number(process.env.PROFILE_WARMUP_SECONDS ?? 2);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const log = (msg) => process.stderr.write(`[profile] ${msg}\n`);
const WebSocket = createRequire(createRequire(import.meta.url).resolve("miniflare"))("ws");

const tmp = mkdtempSync(join(tmpdir(), "livechat-edge-profile-"));
const outFile = process.env.PROFILE_OUT ?? join(tmp, "app.cpuprofile");

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
async function cdp(url) {
  const ws = new WebSocket(url);
  await new Promise((ok, fail) => (ws.once("open", ok), ws.once("error", fail)));
  let id = 0;
  const waiting = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  });
  return {
    send: (method, params = {}) =>
      new Promise((ok) => {
        const n = ++id;
        waiting.set(n, ok);
        ws.send(JSON.stringify({ id: n, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Source file of each bundle line, from esbuild's `// src/…` / `// node_modules/…` markers. */
function fileIndex(script) {
  const marks = [];
  script.split("\n").forEach((line, i) => {
    const m = line.match(/^\/\/ ((?:src|node_modules)\/\S+)$/);
    if (m) marks.push([i, m[1].replace(/^node_modules\/(@[^/]+\/[^/]+|[^/]+).*/, "$1")]);
  });
  return (line) => {
    let lo = 0;
    let hi = marks.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid][0] <= line) (found = marks[mid][1]), (lo = mid + 1);
      else hi = mid - 1;
    }
    return found;
  };
}

function summarize(profile, fileOf, scriptUrlPart) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  // Shares of busy time: the drain waits are idle by design.
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  for (const id of idle) self.delete(id);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const files = new Map();
  for (const [id, us] of self) {
    const f = byId.get(id).callFrame;
    const inScript = f.url.includes(scriptUrlPart);
    const file = inScript ? fileOf(f.lineNumber) : f.url ? f.url : `(${f.functionName || "native"})`;
    const key = `${f.functionName || "(anonymous)"} ${inScript ? `${file}:${f.lineNumber + 1}` : file}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const top = (m, n) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
      .join("\n");
  return { total, text: `── self time by function (top 40) ──\n${top(fns, 40)}\n\n── self time by file (top 30) ──\n${top(files, 30)}` };
}

const profiling = process.argv.includes("--cpuprofile");
const runs = Number(process.env.PROFILE_RUNS ?? 2);

async function main() {
  const wrkBin = ensureWrk(log);
  const build = join(tmp, "build");
  log(`building${profiling ? " unminified" : ""} …`);
  const r = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", build, ...(profiling ? ["--minify=false"] : [])], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const scriptPath = process.env.PROFILE_SCRIPT ?? join(build, "index.js");
  // A baseline processes nothing after its ack: only livechat-edge's acks wait for processing.
  const processes = !/baselines[\\/]/.test(scriptPath);
  const mock = await startLiveChatMock(examplesDir);
  const templates = buildTemplates({ examplesDir, secret: WEBHOOK_SECRET });
  const lua = join(tmp, "webhooks.lua");
  writeLuaScript(lua, templates);
  const persistRoot = storageRoot("profile");
  const inspectorPort = 9200 + Math.floor(Math.random() * 600);
  const t = await startTarget({
    base: { ...optionsFromWrangler(join(root, "wrangler.toml")), ...(profiling ? { inspectorPort } : {}) },
    scriptPath,
    persistRoot,
    bindings: appBindings(mock.url),
    stdoutFile: `${persistRoot}.stdout`,
  });
  // Until what was accepted so far is processed (a burst's processing is held back and comes due
  // seconds after workerd went idle, src/deliveries/pressure.ts), then idle: so that no run
  // measures the processing of the deliveries before it.
  const settleAll = () => settle(t.logs, 60, log);
  try {
    await installOrgs(t.url);
    const primed = await postAll(t.url, chatStarts(templates, 1), connections);
    if (processes) t.logs.noteAcked(primed.count - primed.errors);
    log(`primed ${primed.count} chats (${primed.errors} errors)`);
    await settleAll();
    const url = new URL(WEBHOOK_PATH, t.url).href;
    const common = { bin: wrkBin, script: lua, url, connections, threads: 1 };
    // Chat DOs idle for ~10 s are evicted by workerd, so the priming and drain leave most of them
    // cold: a short unmeasured load reopens them, as the bench's warm-up does.
    if (warmupSeconds > 0) {
      const warm = await runWrk({ ...common, seconds: warmupSeconds, run: 9 });
      if (processes) t.logs.noteAcked(warm.outcomes?.accepted ?? 0);
      await settleAll();
    }
    let session;
    if (profiling) {
      const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
      const target = targets.find((x) => x.title?.includes("bench-target")) ?? targets[0];
      session = await cdp(target.webSocketDebuggerUrl);
      await session.send("Profiler.enable");
      await session.send("Profiler.setSamplingInterval", { interval: 200 });
      await session.send("Profiler.start");
    }
    const rows = [];
    for (let run = 1; run <= runs; run++) {
      const meter = startCpuMeter();
      const result = await runWrk({ ...common, seconds, run: 10 + run });
      const ack = meter.stop();
      if (processes) t.logs.noteAcked(result.outcomes?.accepted ?? 0);
      await settleAll();
      const all = meter.stop();
      const acked = result.outcomes?.accepted ?? 0;
      rows.push({ rps: result.rps, acked, ackUs: (ack.workerd_cpu_ms * 1000) / acked, allUs: (all.workerd_cpu_ms * 1000) / acked });
      const last = rows.at(-1);
      console.log(
        `run ${run}: ${Math.round(last.rps)} req/s, ${acked} accepted; workerd CPU per delivery: ${Math.round(last.ackUs)} µs during the load, ${Math.round(last.allUs)} µs including drained processing`,
      );
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    console.log(`median: ${Math.round(med(rows.map((x) => x.ackUs)))} µs/delivery under load, ${Math.round(med(rows.map((x) => x.allUs)))} µs end to end`);
    if (session) {
      const { result: stopped } = await session.send("Profiler.stop");
      session.close();
      writeFileSync(outFile, JSON.stringify(stopped.profile));
      console.log(summarize(stopped.profile, fileIndex(readFileSync(scriptPath, "utf8")), "index.js").text);
      log(`profile: ${outFile} (Chrome DevTools → Performance → Load profile)`);
    }
  } finally {
    await t.mf.dispose();
    await mock.close?.();
    rmSync(persistRoot, { recursive: true, force: true });
    rmSync(`${persistRoot}.stdout`, { force: true });
    if (!profiling || process.env.PROFILE_OUT) rmSync(tmp, { recursive: true, force: true });
    else log(`kept ${tmp} for the profile; delete it when done`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
