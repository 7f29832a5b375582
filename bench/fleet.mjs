#!/usr/bin/env node
// The reconcile at fleet scale (issue 23): N real License DOs in workerd (`wrangler dev`) against
// the LiveChat simulator. It installs N licenses through the real install flow (GET /install →
// authorize → /install?code, then bot provisioning on each License DO's alarm), then runs the cron
// as the Cron Trigger would and reports:
//   - LiveChat calls per license per hour (every call the simulator saw from the Worker),
//   - the busiest second of LiveChat calls (the fleet-wide ceiling),
//   - wall time and workerd CPU time of each cron invocation, and of the visits it spread out.
//
// The reconcile clock is compressed so an "hour" takes a minute: RECONCILE_STALE_SECONDS=60 and
// RECONCILE_SPREAD_SECONDS=5 (one cron slot per 5 s, 12 slots per stale period, as 5 min and 1 h
// in production), and the fleet-wide ceiling is scaled by the same factor (60×), so the ceiling
// divides the fleet as it would in production. Token lifetimes are not compressed (8 h): refreshes
// are added in docs/BENCHMARK.md.
//
//   npm run bench:fleet [-- --licenses 1000 --hours 2 --concurrency 20 --json FILE]
import { createWriteStream, readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { startSimulator } from "../sim/server.mjs";
import { generateSecrets, serialize } from "../scripts/local-env.mjs";
import { freePort, ROOT, startWrangler, waitForWorker } from "../scripts/local-stack.mjs";

const { values } = parseArgs({
  options: {
    licenses: { type: "string", default: "1000" },
    hours: { type: "string", default: "2" },
    concurrency: { type: "string", default: "20" },
    json: { type: "string" },
  },
});
const N = Number(values.licenses);
const HOURS = Number(values.hours);
const STALE_S = 60;
const SPREAD_S = 5;
/** The production ceiling (10 visits a second) in compressed time: an hour lasts STALE_S seconds. */
const CALLS_PER_SECOND = Number(process.env.FLEET_CALLS_PER_SECOND ?? 10 * (3600 / 60));
const SLOTS = STALE_S / SPREAD_S;

/** A Worker → LiveChat call in the simulator's log. */
const API_LINE = /^(GET|POST|DELETE) (\/v\d+\.\d+\/(?:agent|configuration)\/action\/\w+|\/v2\/token|\/v2\/info) (\d{3})/;

const log = (line) => console.log(line);
const calls = [];
/** The cron's reports as the Worker logged them. */
const fanOuts = [];
/** Called with each fan-out line as it is read (the cron phase samples workerd's CPU there). */
let onFanOut = () => {};
let reloads = 0;
let retries = 0;
const dir = mkdtempSync(join(tmpdir(), "livechat-edge-fleet-"));
const secrets = { ...generateSecrets(), LIVECHAT_CLIENT_ID: "fleet-client" };
let sim;
let wrangler;

try {
  const port = await freePort();
  const workerUrl = `http://127.0.0.1:${port}`;
  sim = await startSimulator({
    port: 0,
    log: (line) => {
      const m = API_LINE.exec(line);
      if (m) calls.push({ at: Date.now(), method: m[1], path: m[2], status: Number(m[3]) });
    },
    app: {
      client_id: secrets.LIVECHAT_CLIENT_ID,
      client_secret: secrets.LIVECHAT_CLIENT_SECRET,
      name: "livechat-edge (fleet bench)",
      redirect_uris: [`${workerUrl}/install`],
    },
  });
  const envFile = join(dir, "worker.env");
  writeFileSync(
    envFile,
    serialize({
      ...secrets,
      PUBLIC_URL: workerUrl,
      LIVECHAT_ACCOUNTS_URL: sim.url,
      LIVECHAT_API_URL: sim.url,
      LOG_LEVEL: "info", // the cron's "reconcile fan-out" line carries its report and duration
      RECONCILE_STALE_SECONDS: String(STALE_S),
      RECONCILE_SPREAD_SECONDS: String(SPREAD_S),
      RECONCILE_CALLS_PER_SECOND: String(CALLS_PER_SECOND),
    }),
    { mode: 0o600 },
  );
  wrangler = startWrangler({ port, persistTo: join(dir, "state"), envFile, inspectorPort: await freePort(), output: "pipe" });
  // The Worker's output goes to bench/results/fleet-worker.log; the cron's report lines are kept.
  const workerLog = createWriteStream(join(ROOT, "bench", "results", "fleet-worker.log"));
  wrangler.child.stdout.pipe(workerLog);
  wrangler.child.stderr.pipe(workerLog);
  // wrangler dev rebuilds the Worker when a source file changes: a run with a reload measured two builds.
  for (const output of [wrangler.child.stdout, wrangler.child.stderr]) {
    createInterface({ input: output }).on("line", (line) => {
      if (line.includes("Reloading local server")) reloads++;
      // A LiveChat call the Worker retries (the simulator did not answer in time, or refused a connection).
      if (line.includes('"livechat retry"')) retries++;
    });
  }
  createInterface({ input: wrangler.child.stdout }).on("line", (line) => {
    if (!line.includes('"reconcile fan-out"')) return;
    const entry = { at: Date.now(), report: JSON.parse(line.slice(line.indexOf("{"))) };
    onFanOut(entry);
    fanOuts.push(entry);
  });
  await waitForWorker(workerUrl, { timeoutMs: 90_000, exited: wrangler.exited });
  log(`fleet bench: ${N} licenses, Worker ${workerUrl}, simulator ${sim.url}; an "hour" is ${STALE_S} s, a cron slot ${SPREAD_S} s`);

  // ── Install N licenses through the Worker ──
  const t0 = Date.now();
  let next = 0;
  let failed = 0;
  const installOne = async (i) => {
    const name = `fleet-${i}`;
    await sim.control.call("POST", "/_sim/licenses", { name });
    // Each license installs from its own address: GET /install is limited per client IP (INSTALL_LIMITER).
    const ip = { "cf-connecting-ip": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
    const start = await fetch(`${workerUrl}/install`, { redirect: "manual", headers: ip });
    if (start.status !== 302) throw new Error(`GET /install answered ${start.status}: ${(await start.text()).slice(0, 300)}`);
    const authorize = new URL(start.headers.get("location"), workerUrl);
    authorize.searchParams.set("license", name);
    // As a browser would: the Worker's state cookie goes back with the callback.
    const cookie = start.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const approved = await fetch(authorize, { redirect: "manual" });
    const back = approved.headers.get("location");
    if (!back) throw new Error(`authorize answered ${approved.status}: ${(await approved.text()).slice(0, 200)}`);
    const done = await fetch(back, { redirect: "manual", headers: { ...ip, ...(cookie ? { cookie } : {}) } });
    await done.text();
    if (done.status !== 200) failed++;
  };
  await Promise.all(
    Array.from({ length: Number(values.concurrency) }, async () => {
      while (next < N) await installOne(next++);
    }),
  );
  log(`installed ${N - failed}/${N} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // Provisioning runs on each License DO's alarm: wait until every bot accepts chats.
  const accepting = () =>
    Object.values(sim.state.licenses).filter((l) => Object.values(l.bots).some((b) => l.routing[b.id] === "accepting_chats")).length;
  for (let waited = 0; accepting() < N - failed && waited < 300; waited++) await sleep(1_000);
  log(`provisioned: ${accepting()} bots accepting chats, ${calls.length} LiveChat calls so far (install + provisioning)`);

  // ── The cron, as the Cron Trigger runs it: once per slot ──
  // Each trigger names its scheduled time, a multiple of the spread (as a Cron Trigger's is), so
  // the 12 triggers of an "hour" visit the 12 slots once each (src/licenses/fleet.ts: slot =
  // scheduledTime / spread mod slots) however late the bench's own timers fire. A trigger is never
  // aborted (that could cancel the run) and never awaited: the run is known from its log line.
  const pids = () => descendants(wrangler.child.pid).filter((pid) => /workerd/.test(safeRead(`/proc/${pid}/cmdline`)));
  const cpuMs = () => pids().reduce((sum, pid) => sum + processCpuMs(pid), 0);
  onFanOut = (entry) => (entry.cpuMs = cpuMs());
  const runs = [];
  const hours = [];
  await sleep(SPREAD_S * 1000); // the visits scheduled by provisioning settle
  const spreadMs = SPREAD_S * 1000;
  const firstTick = Math.ceil(Date.now() / spreadMs) + 1;
  let tickNo = 0;
  const callsAtFirstTrigger = calls.length;
  const retriesBefore = retries;
  for (let h = 0; h < HOURS; h++) {
    const hourStart = Date.now();
    const callsBefore = calls.length;
    const cpuBefore = cpuMs();
    for (let i = 0; i < SLOTS; i++, tickNo++) {
      const scheduledTime = (firstTick + tickNo) * spreadMs;
      await sleep(Math.max(0, scheduledTime - Date.now()));
      const run = { hour: h, slot: (firstTick + tickNo) % SLOTS, scheduledTime, firedAt: Date.now(), cpuAtTrigger: cpuMs() };
      runs.push(run);
      const url = `${workerUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}&time=${scheduledTime}`;
      fetch(url, { signal: AbortSignal.timeout(120_000) })
        .then((r) => r.text())
        .catch(() => {});
    }
    await sleep(Math.max(0, (firstTick + tickNo) * spreadMs - Date.now())); // the last slot's spread
    const inHour = calls.slice(callsBefore);
    const perSecond = new Map();
    for (const c of inHour) perSecond.set(Math.floor(c.at / 1000), (perSecond.get(Math.floor(c.at / 1000)) ?? 0) + 1);
    const byPath = {};
    for (const c of inHour) byPath[c.path.replace(/^\/v\d+\.\d+/, "")] = (byPath[c.path.replace(/^\/v\d+\.\d+/, "")] ?? 0) + 1;
    hours.push({
      hour: h,
      calls: inHour.length,
      callsPerLicense: inHour.length / N,
      peakCallsPerSecond: Math.max(0, ...perSecond.values()),
      byPath,
      wallMs: Date.now() - hourStart,
      workerdCpuMs: cpuMs() - cpuBefore,
    });
    log(`hour ${h}: ${inHour.length} LiveChat calls = ${(inHour.length / N).toFixed(3)} per license; busiest second ${Math.max(0, ...perSecond.values())} calls; ${JSON.stringify(byPath)}`);
  }
  // A run that took longer than its spread (a loaded machine) schedules visits past the last
  // window: the total counts every call until the Worker has been quiet for 5 s.
  for (let quiet = 0, seen = calls.length, waited = 0; quiet < 5 && waited < 60; waited++) {
    await sleep(1_000);
    quiet = calls.length === seen ? quiet + 1 : 0;
    seen = calls.length;
  }
  const cronCalls = calls.length - callsAtFirstTrigger;
  log(`all runs: ${cronCalls} LiveChat calls = ${(cronCalls / N / HOURS).toFixed(3)} per license per "hour"; ${retries - retriesBefore} calls retried by the Worker`);
  // Every run's log line, matched to its trigger by slot (each "hour" visits each slot once).
  for (let waited = 0; fanOuts.length < runs.length && waited < 60; waited++) await sleep(1_000);
  const unmatched = [...fanOuts];
  for (const run of runs) {
    const at = unmatched.findIndex((f) => f.report.slot === run.slot && f.at >= run.firedAt);
    if (at < 0) continue;
    const [seen] = unmatched.splice(at, 1);
    Object.assign(run, { due: seen.report.due, slots: seen.report.slots, durationMs: seen.report.durationMs, observedMs: seen.at - run.firedAt, cpuMs: seen.cpuMs - run.cpuAtTrigger });
  }
  const unseen = runs.filter((r) => r.due === undefined).length;
  const visited = runs.reduce((sum, r) => sum + (r.due ?? 0), 0);
  log(`cron: ${runs.length} triggers, ${runs.length - unseen} runs seen (${unseen} unseen), ${visited} visits scheduled = ${(visited / N / HOURS).toFixed(3)} per license per "hour"`);
  // Runs of the last "hour" whose log line was seen (an unseen one is counted above, not guessed).
  const cron = runs.filter((r) => r.hour === HOURS - 1 && r.due !== undefined);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = {
    licenses: N,
    installed: N - failed,
    hourSeconds: STALE_S,
    slots: SLOTS,
    callsPerSecondCeiling: CALLS_PER_SECOND,
    triggers: runs.length,
    runsUnseen: unseen,
    visitsPerLicensePerHour: visited / N / HOURS,
    callsPerLicensePerHour: cronCalls / N / HOURS,
    callsRetried: retries - retriesBefore,
    hours,
    cronRuns: runs,
    cronDurationMsMedian: median(cron.map((r) => r.durationMs)),
    cronDurationMsMax: Math.max(...cron.map((r) => r.durationMs)),
    cronCpuMsMedian: median(cron.map((r) => r.cpuMs)),
    cronCpuMsMax: Math.max(...cron.map((r) => r.cpuMs)),
    workerReloads: reloads,
  };
  if (reloads > 0) log(`WARNING: wrangler dev reloaded the Worker ${reloads} times (a source file changed during the run): run again`);
  log(`cron run (last hour): duration median ${summary.cronDurationMsMedian} ms, max ${summary.cronDurationMsMax} ms (the handler's own clock); workerd CPU from trigger to its report: median ${summary.cronCpuMsMedian} ms, max ${summary.cronCpuMsMax} ms`);
  if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2));
} finally {
  await wrangler?.stop().catch(() => {});
  await sim?.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function safeRead(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Pids below `root` (its children, theirs, …), read from /proc. */
function descendants(root) {
  const parent = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = safeRead(`/proc/${name}/stat`);
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid) parent.set(Number(name), ppid);
  }
  const out = [];
  for (const [pid] of parent) {
    for (let p = parent.get(pid); p; p = parent.get(p)) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** User + system CPU time of a process (ms). */
function processCpuMs(pid) {
  const stat = safeRead(`/proc/${pid}/stat`);
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime in clock ticks (100 Hz)
}
