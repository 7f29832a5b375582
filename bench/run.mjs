#!/usr/bin/env node
/**
 * `npm run bench`: livechat-edge's webhook path against its physical limit, side by side in
 * one run, on one runtime (Miniflare/workerd as pinned), under one load.
 *
 *   1. build the Worker as `wrangler deploy` would; sizes and largest contributors
 *   2. start LiveChat mocked at loopback (mock-livechat.mjs)
 *   3. cold start: fresh Miniflare → first 200 on POST /webhooks/license, for every target
 *   4. load: each target in a fresh Miniflare, warm-up then a measured wrk run at fixed
 *      concurrency with the same unique-id webhook mix; memory sampled throughout
 *   5. ack cost: µs per ack of livechat-edge and baseline (b), sequential, loops interleaved in
 *      one workerd (bench/lib/ack-cost.mjs, `npm run bench:ab`'s method)
 *   6. micro-benchmark of the ack path's steps (no I/O) in workerd and in Node; precision and
 *      recall of the content suggestions over their labelled set (bench/suggestions, offline)
 *   7. budgets as PASS/FAIL, throughput and p99 against (b) reported with their spread, a
 *      table, bench/results/latest.json
 *
 * Exit code 0 whenever the measurements ran, even when a budget fails: this is a report.
 * Knobs (env): BENCH_SECONDS (8), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50),
 * BENCH_ROUNDS (5), BENCH_COLD_SAMPLES (3), BENCH_ACK_N (300 acks per loop), BENCH_ACK_ROUNDS (24),
 * BENCH_OUT (bench/results/latest.json),
 * BENCH_TARGETS (bare,durable,app: a subset, for investigation; budgets need all three),
 * BENCH_SOURCE=head (build the committed tree instead of the working tree), BENCH_APP_SCRIPT (run
 * another build as livechat-edge, e.g. a patched one, for investigation; sizes stay the tree's),
 * BENCH_DURABLE_SCRIPT (the same for baseline (b), e.g. one whose DOs hold more state),
 * BENCH_PERF=1 (sample workerd with Linux perf in every measured window and split its CPU per
 * request by bucket, bench/lib/perf.mjs; sampling slows the targets, so not for recorded results),
 * BENCH_VIA_ENTRY=1 (drive each target through Miniflare's entry worker instead of its own socket,
 * see bench/lib/targets.mjs).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_readConfig } from "wrangler";
import { bodyStream, buildTemplates, chatStarts, MIX, POOL } from "./lib/bodies.mjs";
import { measureAckCost } from "./lib/ack-cost.mjs";
import { buildAndMeasure, exportTree } from "./lib/build.mjs";
import { ensureWrk, runWrk, writeLuaScript, wrkVersion } from "./lib/load.mjs";
import { descendantsNamed, startCpuMeter, startMemorySampler } from "./lib/memory.mjs";
import { BUCKETS, perfAvailable, perfSplit, startPerf } from "./lib/perf.mjs";
import { startLiveChatMock } from "./lib/mock-livechat.mjs";
import { optionsFromWrangler, startTarget, VIA_ENTRY_WORKER } from "./lib/targets.mjs";
import { drainBacklog } from "./lib/worker-logs.mjs";
import { appBindings, INSTALLED_ORGS, installOrgs, postAll, storageRoot, WEBHOOK_PATH, WEBHOOK_SECRET } from "./lib/app-setup.mjs";
import { runMicro } from "./micro/run-micro.mjs";
import { runSuggestions, summary as suggestionsSummary } from "./suggestions/run.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const examplesDir = resolve(root, "test/fixtures/livechat");
const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const settings = {
  connections: num("BENCH_CONNECTIONS", 50),
  seconds: num("BENCH_SECONDS", 8),
  warmupSeconds: num("BENCH_WARMUP_SECONDS", 2),
  // Five: a stall of hundreds of ms now and then lands in one target's window (baseline (b)'s p99
  // was 1.6 s in one round), so a per-round p99 ratio swings from 0.06 to 11; the median of five
  // ratios survives two such rounds, of three only one.
  rounds: num("BENCH_ROUNDS", 5),
  coldSamples: num("BENCH_COLD_SAMPLES", 3),
  ackN: num("BENCH_ACK_N", 300),
  ackRounds: num("BENCH_ACK_ROUNDS", 24),
  wrkThreads: 1,
  path: WEBHOOK_PATH,
  installedOrgs: INSTALLED_ORGS,
  perf: process.env.BENCH_PERF === "1",
  socket: VIA_ENTRY_WORKER ? "Miniflare's entry worker" : "the Worker's own socket (unsafeDirectSockets)",
};
const outFile = resolve(root, process.env.BENCH_OUT ?? "bench/results/latest.json");
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const started = performance.now();
if (settings.perf && !perfAvailable()) {
  log("BENCH_PERF=1, but `perf` cannot sample here (not installed, or perf_event_paranoid): measuring without it");
  settings.perf = false;
}

const tmp = mkdtempSync(join(tmpdir(), "livechat-edge-bench-"));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round1 = (x) => Math.round(x * 10) / 10;
const ms = (us) => round1(us / 1000);

async function main() {
  // ── machine ────────────────────────────────────────────────────────────────
  const wrkBin = ensureWrk(log);
  const pkgVersion = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
  const osName = existsSync("/etc/os-release")
    ? (readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? "linux")
    : process.platform;
  const machine = {
    cpu: cpus()[0]?.model.trim(),
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    os: `${osName}, kernel ${release()}`,
    node: process.version,
    workerd: pkgVersion("workerd"),
    miniflare: pkgVersion("miniflare"),
    wrangler: pkgVersion("wrangler"),
    load_tool: wrkVersion(wrkBin),
    ci: Boolean(process.env.CI),
  };
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, ${machine.os}`);

  // ── 1. bundle ──────────────────────────────────────────────────────────────
  // BENCH_SOURCE=head: the committed tree, so results are reproducible while others have work in progress here.
  const buildRoot = process.env.BENCH_SOURCE === "head" ? exportTree(root, join(tmp, "head")) : root;
  const wranglerConfig = unstable_readConfig({ config: join(buildRoot, "wrangler.toml") }, { hideWarnings: true });
  log(`building the Worker from ${buildRoot === root ? "the working tree" : "HEAD"} (wrangler deploy --dry-run, plain and --minify) …`);
  const bundle = buildAndMeasure(buildRoot, tmp, Boolean(wranglerConfig.minify));
  log(`bundle: ${kib(bundle.sizes.raw_bytes)} raw, ${kib(bundle.sizes.minified_bytes)} minified, gzip ${kib(bundle.deployedGzipBytes)} as deployed (${bundle.deployed})`);

  // ── 2. LiveChat mock, bodies, targets ──────────────────────────────────────
  const mock = await startLiveChatMock(examplesDir);
  const templates = buildTemplates({ examplesDir, secret: WEBHOOK_SECRET });
  const luaScript = join(tmp, "webhooks.lua");
  writeLuaScript(luaScript, templates);
  const base = optionsFromWrangler(join(buildRoot, "wrangler.toml"));
  const bindings = appBindings(mock.url);
  const allTargets = [
    { key: "bare", label: "baseline (a): bare 200", scriptPath: join(root, "bench/baselines/bare.js"), durableObjects: false },
    { key: "durable", label: "baseline (b): parse + secret + DO write", scriptPath: process.env.BENCH_DURABLE_SCRIPT ?? join(root, "bench/baselines/durable.js") },
    { key: "app", label: "livechat-edge", scriptPath: process.env.BENCH_APP_SCRIPT ?? bundle.scriptPath },
  ];
  // BENCH_TARGETS=app (comma-separated) narrows a run for investigation; budgets need all three.
  const only = process.env.BENCH_TARGETS?.split(",");
  const targets = only ? allTargets.filter((t) => only.includes(t.key)) : allTargets;
  let runId = 1;
  const nextBodies = () => bodyStream(templates, runId++);

  const start = async (target) => {
    const persistRoot = storageRoot(target.key);
    // Log lines go to a file on tmpfs, read between the phases of a round (see startTarget).
    const t = await startTarget({
      base,
      scriptPath: target.scriptPath,
      bindings,
      persistRoot,
      durableObjects: target.durableObjects !== false,
      stdoutFile: `${persistRoot}.stdout`,
    });
    return {
      ...t,
      async dispose() {
        await t.mf.dispose();
        rmSync(persistRoot, { recursive: true, force: true });
        rmSync(`${persistRoot}.stdout`, { force: true });
      },
    };
  };
  const post = async (url, body) => {
    const res = await fetch(new URL(settings.path, url), { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, text: await res.text() };
  };

  // ── 3. cold start ──────────────────────────────────────────────────────────
  const cold = {};
  for (const target of targets) {
    const samples = [];
    for (let i = 0; i < settings.coldSamples; i++) {
      const next = nextBodies();
      const t0 = performance.now();
      const t = await start(target);
      const t1 = performance.now();
      const r = await post(t.url, next().body);
      const t2 = performance.now();
      await t.dispose();
      samples.push({ ready_ms: t1 - t0, first_request_ms: t2 - t1, total_ms: t2 - t0, status: r.status, error: r.status === 200 ? undefined : r.text.slice(0, 300) });
    }
    const ok = samples.filter((s) => s.status === 200);
    cold[target.key] = {
      samples: samples.length,
      first_status: samples[0].status,
      ok: ok.length === samples.length,
      ready_ms: round1(median(samples.map((s) => s.ready_ms))),
      first_request_ms: round1(median(samples.map((s) => s.first_request_ms))),
      total_ms: round1(median(samples.map((s) => s.total_ms))),
      error: samples.find((s) => s.error)?.error,
    };
    log(`cold start ${target.key}: ${cold[target.key].total_ms} ms to the first answer (status ${samples.map((s) => s.status).join(",")})`);
  }

  // ── 4. load ────────────────────────────────────────────────────────────────
  const rounds = Object.fromEntries(targets.map((t) => [t.key, []]));
  const unavailable = {};
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of targets) {
      if (unavailable[target.key]) continue;
      log(`round ${round}/${settings.rounds}: ${target.label} …`);
      const t = await start(target);
      try {
        let installs;
        if (target.key === "app") installs = await installOrgs(t.url);
        const probe = await post(t.url, nextBodies()().body);
        if (probe.status === 200 && target.key === "app") t.logs.noteAcked(1);
        if (probe.status !== 200) {
          unavailable[target.key] = `probe POST ${settings.path} answered ${probe.status}: ${probe.text.slice(0, 200)}`;
          log(`  ${target.key} unavailable: ${unavailable[target.key]}`);
          continue;
        }
        const prime = await primeChats(t.url, chatStarts(templates, runId++));
        if (target.key === "app") t.logs.noteAcked(prime.chats - prime.errors);
        // The priming is setup: its deliveries' processing (held back by the burst it is, see
        // src/deliveries/pressure.ts) finishes before the warm-up, not inside the measured window.
        const primeDrain = await drainBacklog(t.logs, DRAIN_LIMIT_S);
        prime.drain_s = primeDrain.seconds;
        log(`  primed ${prime.chats} chats in ${prime.seconds} s (${prime.rps} new-chat webhooks/s, ${prime.errors} errors), processed ${primeDrain.drained ? "" : "not all "}in ${primeDrain.seconds} s more`);
        mock.takeCalls();
        const eventsBefore = { ...t.logs.refresh().events, acked: t.logs.acked };
        const url = new URL(settings.path, t.url).href;
        const common = { bin: wrkBin, script: luaScript, url, connections: settings.connections, threads: settings.wrkThreads };
        const warm = await runWrk({ ...common, seconds: settings.warmupSeconds, run: runId++ });
        const memory = startMemorySampler(200);
        const cpuMeter = startCpuMeter();
        const perfFile = join(tmp, `perf-${target.key}-${round}.data`);
        const workerdPid = descendantsNamed("workerd")[0];
        const sampler = settings.perf && workerdPid ? startPerf(workerdPid, perfFile) : undefined;
        const result = await runWrk({ ...common, seconds: settings.seconds, run: runId++ });
        if (target.key === "app") t.logs.noteAcked((warm.outcomes?.accepted ?? 0) + (result.outcomes?.accepted ?? 0));
        await sampler?.stop();
        const cpu = cpuMeter.stop();
        const mem = memory.stop();
        const processing = processingDuring(eventsBefore, { ...t.logs.refresh().events, acked: t.logs.acked });
        if (processing) {
          // Let post-ack processing finish what the load left behind, then rate it end to end.
          const loadSeconds = settings.warmupSeconds + result.seconds;
          const drain = await drainBacklog(t.logs, DRAIN_LIMIT_S);
          const after = processingDuring(eventsBefore, { ...t.logs.events, acked: t.logs.acked });
          processing.drain_s = drain.seconds;
          // Of the drain, the 100 ms polls in which deliveries got processed: how fast the backlog goes once it runs.
          processing.drain_busy_s = drain.busy_s;
          processing.drain_rps = drain.busy_s > 0 ? Math.round((after.processed + after.dead - processing.processed - processing.dead) / drain.busy_s) : undefined;
          processing.drained = drain.drained;
          processing.processed_incl_drain = after.processed + after.dead;
          processing.end_to_end_rps = round1(processing.processed_incl_drain / (loadSeconds + drain.seconds));
        }
        const upstream = mock.takeCalls();
        // After the processing counts: reading the samples takes a second or two, while workerd goes on.
        let perf;
        if (sampler) {
          try {
            perf = perfSplit(perfFile, result.requests);
          } catch (error) {
            log(`  perf: ${error.message}`); // a diagnostic: the round's measurements stand without it
          }
          rmSync(perfFile, { force: true });
        }
        rounds[target.key].push({
          round,
          rps: round1(result.rps),
          requests: result.requests,
          ok200: result.ok200,
          errors: result.errorCount,
          socket_errors: result.socketErrors,
          wrk_errors: result.errors,
          non200: result.non200,
          statuses: result.statuses,
          outcomes: result.outcomes,
          error_samples: result.samples,
          latency_ms: {
            p50: ms(result.latency_us.p50),
            p90: ms(result.latency_us.p90),
            p99: ms(result.latency_us.p99),
            p999: ms(result.latency_us.p999),
            max: ms(result.latency_us.max),
            mean: ms(result.latency_us.mean),
          },
          warmup: { rps: round1(warm.rps), errors: warm.errorCount, outcomes: warm.outcomes },
          memory: mem,
          cpu,
          upstream_calls_during_warmup_and_run: upstream,
          runtime_log_lines: { stdout: t.logs.refresh().stdoutLines, stderr: t.logs.stderrLines, stdout_tail: t.logs.stdoutTail, stderr_tail: t.logs.stderrTail },
          worker_log_events: t.logs.events,
          processing,
          installs,
          prime,
          perf_us_per_request: perf,
        });
        log(`  ${Math.round(result.rps)} req/s, p50 ${ms(result.latency_us.p50)} ms, p99 ${ms(result.latency_us.p99)} ms, errors ${result.errorCount}, outcomes ${JSON.stringify(result.outcomes)}; cpu ${JSON.stringify(cpu)}`);
        if (perf) log(`  perf, workerd µs per request: ${JSON.stringify(perf)}`);
      } finally {
        await t.dispose();
      }
    }
  }
  await mock.close();

  const load = {};
  for (const target of targets) {
    const rs = rounds[target.key];
    if (!rs.length) {
      load[target.key] = { label: target.label, available: false, reason: unavailable[target.key] };
      continue;
    }
    load[target.key] = {
      label: target.label,
      available: true,
      rps: round1(median(rs.map((r) => r.rps))),
      p50_ms: round1(median(rs.map((r) => r.latency_ms.p50))),
      p99_ms: round1(median(rs.map((r) => r.latency_ms.p99))),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      requests: rs.reduce((a, r) => a + r.requests, 0),
      outcomes: sumMaps(rs.map((r) => r.outcomes)),
      peak_memory_mib: Math.max(...rs.map((r) => r.memory.total_rss_peak_mib)),
      workerd_peak_rss_mib: Math.max(...rs.map((r) => r.memory.workerd_rss_peak_mib)),
      workerd_cores: Math.round(median(rs.map((r) => r.cpu.workerd_cores)) * 100) / 100,
      processing_kept_up: rs.every((r) => r.processing) ? median(rs.map((r) => r.processing.kept_up)) : undefined,
      end_to_end_rps: rs.every((r) => r.processing) ? round1(median(rs.map((r) => r.processing.end_to_end_rps))) : undefined,
      perf_us_per_request: rs.every((r) => r.perf_us_per_request)
        ? Object.fromEntries(Object.keys(rs[0].perf_us_per_request).map((k) => [k, round1(median(rs.map((r) => r.perf_us_per_request[k])))]))
        : undefined,
      rounds: rs,
    };
  }

  // ── 5. ack cost ────────────────────────────────────────────────────────────
  // Under load a round runs at one of two speeds (docs/BENCHMARK.md), so throughput and p99
  // ratios of single rounds range from 0.09 to 3.6; the sequential cost of one ack, loops
  // interleaved in one workerd, moves by ~10 µs. It is the gated measure of the ack's speed.
  let ackCost;
  const durableTarget = targets.find((t) => t.key === "durable");
  const appTarget = targets.find((t) => t.key === "app");
  if (durableTarget && appTarget) {
    log(`ack cost, sequential (bench:ab's method): ${settings.ackN} acks × ${settings.ackRounds} rounds per target …`);
    try {
      ackCost = await measureAckCost({
        root: buildRoot,
        targets: [
          { name: "baseline (b)", script: durableTarget.scriptPath, app: false },
          { name: "livechat-edge", script: appTarget.scriptPath, app: true },
        ],
        n: settings.ackN,
        rounds: settings.ackRounds,
        log: (line) => log(`  ${line}`),
      });
      const [b, a] = ackCost.targets;
      ackCost.ratio = Math.round((b.p10_us / a.p10_us) * 100) / 100;
      log(`  µs per ack (p10): baseline (b) ${b.p10_us}, livechat-edge ${a.p10_us}: (b) ÷ livechat-edge ${ackCost.ratio}`);
    } catch (error) {
      ackCost = { error: error.message };
      log(`  ack cost unavailable: ${error.message}`);
    }
  }

  // ── 6. micro-benchmark ─────────────────────────────────────────────────────
  log("micro-benchmark of the ack path …");
  const micro = await runMicro({ root, srcRoot: buildRoot, tmp, templates, secret: WEBHOOK_SECRET, nextBodies });
  log("content suggestions over their labelled set …");
  const suggestions = await runSuggestions({ root });

  // ── 7. ratios, budgets, report ─────────────────────────────────────────────
  const app = load.app;
  const ratio = (a, b) => (a && b ? Math.round((a / b) * 100) / 100 : null);
  // Per round, app against the baseline measured next to it (same background load, roughly),
  // then the median over rounds: steadier on a shared machine than a ratio of medians.
  const ratios = {};
  for (const k of ["bare", "durable"]) {
    if (!app?.available || !load[k]?.available) continue;
    const pairs = app.rounds
      .map((a) => [a, load[k].rounds.find((b) => b.round === a.round)])
      .filter(([, b]) => b);
    const med = (fn) => Math.round(median(pairs.map(([a, b]) => fn(a) / fn(b))) * 100) / 100;
    ratios[`app_vs_${k}`] = {
      rps: med((x) => x.rps),
      p50: med((x) => x.latency_ms.p50),
      p99: med((x) => x.latency_ms.p99),
      per_round_rps: pairs.map(([a, b]) => ratio(a.rps, b.rps)),
      per_round_p99: pairs.map(([a, b]) => ratio(a.latency_ms.p99, b.latency_ms.p99)),
    };
  }
  const windows = Object.values(load).flatMap((l) => l.rounds ?? []);
  const background = {
    median_cores: Math.round(median(windows.map((w) => w.cpu.background_cores)) * 100) / 100,
    max_cores: Math.max(...windows.map((w) => w.cpu.background_cores)),
    load_average_at_end: loadavg().map((x) => Math.round(x * 100) / 100),
  };
  const vsB = ratios.app_vs_durable;
  const spread = (xs) => `rounds: ${xs.join(", ")}; range ${Math.min(...xs)}–${Math.max(...xs)}`;
  const ackTargets = ackCost?.targets;
  const coldApp = cold.app?.ok ? cold.app.total_ms : undefined;
  const coldBare = cold.bare?.ok ? cold.bare.total_ms : undefined;
  const budgets = [
    budget(
      `ack cost: baseline (b)'s µs per ack ÷ livechat-edge's ≥ ${BUDGETS.ackCostRatio} (sequential, p10 of ${ackCost?.counted_rounds ?? "?"} rounds)`,
      ackTargets ? `${ackCost.ratio} ((b) ${ackTargets[0].p10_us} µs, livechat-edge ${ackTargets[1].p10_us} µs${ackCost.late ? "; measuring ran late, held processing may be in it" : ""})` : `n/a${ackCost?.error ? `: ${ackCost.error}` : ""}`,
      ackTargets && ackCost.ratio >= BUDGETS.ackCostRatio,
    ),
    budget(
      "zero errors under load",
      app?.available
        ? `${app.errors} (${sumOf(app.rounds, "socket_errors")} connection errors, ${sumOf(app.rounds, "non200")} non-200; ` +
          `same run: baseline (a) ${load.bare?.errors ?? "n/a"}, baseline (b) ${load.durable?.errors ?? "n/a"})`
        : "n/a",
      app?.available && app.errors === 0,
    ),
    budget(`gzip bundle ≤ ${BUDGETS.gzipKiB} KiB (${bundle.deployed}, as deployed)`, kib(bundle.deployedGzipBytes), bundle.deployedGzipBytes <= BUDGETS.gzipKiB * 1024),
    budget(
      `cold start ≤ ${BUDGETS.coldStartVsBare} × baseline (a)'s (median of ${settings.coldSamples} start(s) per target, same run)`,
      coldApp !== undefined && coldBare !== undefined ? `${ratio(coldApp, coldBare)}× (${coldApp} ms against ${coldBare} ms)` : "n/a",
      coldApp !== undefined && coldBare !== undefined && coldApp <= BUDGETS.coldStartVsBare * coldBare,
    ),
    budget(
      "content suggestions: precision ≥ 0.9 at recall ≥ 0.6 (default threshold, labelled set)",
      suggestions.available ? `precision ${suggestions.all.precision}, recall ${suggestions.all.recall}` : "n/a",
      suggestions.available && suggestions.met,
    ),
    reported("throughput under load ÷ baseline (b)", vsB ? `${vsB.rps}× (${spread(vsB.per_round_rps)})` : "n/a"),
    reported("p99 under load ÷ baseline (b)", vsB ? `${vsB.p99}× (${spread(vsB.per_round_p99)})` : "n/a"),
  ];
  const peakMemory = {
    total_rss_peak_mib: Math.max(...Object.values(load).filter((l) => l.available).map((l) => l.peak_memory_mib)),
    node_hwm_mib: round1(process.resourceUsage().maxRSS / 1024),
  };

  const results = {
    schema: "livechat-edge/bench@1",
    measured_at: new Date().toISOString(),
    commit: gitHead(),
    source: buildRoot === root ? "working tree" : "HEAD (git archive)",
    src_uncommitted_changes: buildRoot === root ? gitDirty("src") : [],
    machine,
    settings: {
      ...settings,
      mix: Object.fromEntries(Object.keys(templates).map((a) => [a, MIX.filter((m) => m === a).length / MIX.length])),
      pool: { organizations: POOL.orgs, chats: POOL.orgs * POOL.chatsPerOrg },
      body_bytes: Object.fromEntries(Object.entries(templates).map(([a, t]) => [a, t.parts.join("").length])),
      storage: "SQLite DOs and KV on tmpfs (/dev/shm); see storageRoot() in bench/lib/app-setup.mjs",
      livechat: "mocked at loopback (bench/lib/mock-livechat.mjs), documented sample responses",
      aggregate: `median over ${settings.rounds} round(s), targets interleaved within a round; ratios are medians of per-round ratios`,
    },
    bundle,
    cold_start: cold,
    load,
    ratios,
    memory: peakMemory,
    background_load: background,
    ack_cost: ackCost,
    micro,
    suggestions: suggestions.available ? { ...suggestions, misses: undefined } : suggestions,
    budgets,
    duration_s: round1((performance.now() - started) / 1000),
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  printReport(results);
  log(`results written to ${relative(root, outFile)} in ${results.duration_s} s`);
}

/**
 * Longest wait for post-ack processing to catch up after the load, per round: longer than the
 * 30 s a burst may hold processing back (src/deliveries/pressure.ts).
 */
const DRAIN_LIMIT_S = 45;

/**
 * How far post-ack processing kept up during warm-up + measurement: the acks the harness counted
 * (`acked`) against the Worker's own log lines ("delivery processed" / retry / dead-letter). An ack
 * rate bought by deferring all processing is a backlog, not throughput; this makes it visible.
 * Undefined for targets that do not log (the baselines process nothing after the ack).
 */
function processingDuring(before, after) {
  const delta = (match) =>
    Object.entries(after)
      .filter(([k]) => match(k))
      .reduce((sum, [k, v]) => sum + v - (before[k] ?? 0), 0);
  const accepted = delta((k) => k === "acked");
  if (accepted === 0) return undefined;
  const processed = delta((k) => k.startsWith("delivery processed"));
  const retried = delta((k) => k.startsWith("delivery failed"));
  const dead = delta((k) => k.startsWith("delivery dead-lettered"));
  return { accepted, processed, retried, dead, kept_up: Math.round((processed / accepted) * 100) / 100 };
}

/**
 * Create every chat's DO before the timed warm-up (one incoming_chat per chat, at the load's
 * concurrency, from Node), so the measured window is the steady state of a known set of chats.
 * Its rate is reported too: it is the cost of a webhook that creates its Chat DO.
 */
async function primeChats(url, bodies) {
  const r = await postAll(url, bodies, settings.connections);
  return { chats: r.count, seconds: round1(r.seconds), rps: Math.round(r.count / r.seconds), errors: r.errors };
}

function sumOf(rows, key) {
  return rows.reduce((a, r) => a + (r[key] ?? 0), 0);
}

/**
 * The budgets `npm run bench` gates (docs/BENCHMARK.md "Budgets"). The ack-cost floor is what the
 * ack's redesign reached (0.79 at 3876dd3; its goal was 0.83) less the 5 % a change may lose
 * without saying why in its commit.
 */
const BUDGETS = { ackCostRatio: 0.75, gzipKiB: 72, coldStartVsBare: 1.25 };

function budget(name, actual, pass) {
  return { name, actual, pass: Boolean(pass) };
}

/** A measure shown with the budgets but not gated: on this machine its rounds are bimodal. */
function reported(name, actual) {
  return { name, actual, gated: false };
}

function sumMaps(maps) {
  const out = {};
  for (const m of maps) for (const [k, v] of Object.entries(m ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function gitHead() {
  try {
    const head = readFileSync(join(root, ".git/HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    const loose = join(root, ".git", ref);
    if (existsSync(loose)) return readFileSync(loose, "utf8").trim();
    const packed = readFileSync(join(root, ".git/packed-refs"), "utf8").split("\n").find((l) => l.endsWith(` ${ref}`));
    return packed?.split(" ")[0];
  } catch {
    return undefined;
  }
}

/** Uncommitted changes under `path` (the bundle is built from the working tree). */
function gitDirty(path) {
  const r = spawnSync("git", ["status", "--porcelain", "--", path], { cwd: root, encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n").filter(Boolean) : undefined;
}

function pad(s, n, right = false) {
  s = String(s);
  return right ? s.padStart(n) : s.padEnd(n);
}

function printReport(r) {
  const lines = [];
  const m = r.machine;
  lines.push("", `livechat-edge webhook benchmark: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB; Node ${m.node}, workerd ${m.workerd}, ${m.load_tool.split(" [")[0]}`);
  lines.push(`load: ${r.settings.connections} connections, ${r.settings.warmupSeconds} s warm-up + ${r.settings.seconds} s measured, ${r.settings.rounds} round(s); POST ${r.settings.path} to ${r.settings.socket ?? "Miniflare's entry worker"}`);
  lines.push("");
  lines.push(`${pad("target", 42)}${pad("req/s", 9, true)}${pad("p50 ms", 9, true)}${pad("p99 ms", 9, true)}${pad("errors", 8, true)}${pad("cold ms", 9, true)}${pad("peak MiB", 10, true)}${pad("workerd cores", 15, true)}`);
  for (const [key, l] of Object.entries(r.load)) {
    if (!l.available) {
      lines.push(`${pad(l.label, 42)}  unavailable: ${l.reason}`);
      continue;
    }
    lines.push(
      `${pad(l.label, 42)}${pad(Math.round(l.rps), 9, true)}${pad(l.p50_ms, 9, true)}${pad(l.p99_ms, 9, true)}${pad(l.errors, 8, true)}${pad(r.cold_start[key]?.total_ms ?? "", 9, true)}${pad(l.peak_memory_mib, 10, true)}${pad(l.workerd_cores, 15, true)}`,
    );
  }
  for (const [k, v] of Object.entries(r.ratios)) {
    lines.push(`${pad(`livechat-edge / ${k === "app_vs_bare" ? "baseline (a)" : "baseline (b)"}`, 42)}${pad(`${v.rps}×`, 9, true)}${pad(`${v.p50}×`, 9, true)}${pad(`${v.p99}×`, 9, true)}`);
  }
  if (r.load.app?.available) {
    lines.push(`livechat-edge outcomes: ${JSON.stringify(r.load.app.outcomes)}`);
    const p = r.load.app.rounds.map((x) => x.processing).filter(Boolean);
    if (p.length) {
      lines.push(
        `livechat-edge post-ack processing during warm-up + run, per round: ${p.map((x) => `${x.processed}/${x.accepted} processed (${Math.round(x.kept_up * 100)} %)`).join(", ")}`,
      );
      lines.push(
        `livechat-edge end to end (accepted and processed, backlog drained after the load): ${r.load.app.end_to_end_rps} deliveries/s` +
          ` (per round ${p.map((x) => `${x.end_to_end_rps}/s, drain ${x.drain_s} s${x.drained ? "" : " (not finished)"}, of which ${x.drain_busy_s} s processing at ${x.drain_rps}/s`).join("; ")})`,
      );
    }
  }
  const perfRows = Object.values(r.load).filter((l) => l.perf_us_per_request);
  if (perfRows.length) {
    const names = ["total", ...BUCKETS.map(([n]) => n), "runtime"];
    lines.push("", `workerd CPU per request under load, µs (perf, median round; sampling slows the targets):`);
    lines.push(`${pad("", 42)}${names.map((n) => pad(n, 11, true)).join("")}`);
    for (const l of perfRows) lines.push(`${pad(l.label, 42)}${names.map((n) => pad(l.perf_us_per_request[n], 11, true)).join("")}`);
  }
  const s = r.bundle.sizes;
  lines.push("");
  lines.push(`bundle: raw ${kib(s.raw_bytes)} (gzip ${kib(s.raw_gzip_bytes)}), minified ${kib(s.minified_bytes)} (gzip ${kib(s.minified_gzip_bytes)}); deploy uploads the ${r.bundle.deployed} one`);
  lines.push(`  largest (minified): ${r.bundle.contributors.minified.byGroup.slice(0, 8).map((c) => `${c.name} ${kib(c.bytes)}`).join(", ")}`);
  if (r.micro.available) {
    lines.push(`ack path's steps, in isolation (per webhook, no I/O): ${r.micro.summary}`);
  } else {
    lines.push(`ack path micro-benchmark: unavailable: ${r.micro.reason}`);
  }
  if (r.suggestions) lines.push(suggestionsSummary(r.suggestions));
  const bg = r.background_load;
  lines.push(`CPU used by other processes on this machine while measuring: median ${bg.median_cores} cores, max ${bg.max_cores} (load average ${bg.load_average_at_end.join(" ")})`);
  if (bg.median_cores > 0.2) lines.push(`WARNING: the machine was shared during the run; absolute numbers are depressed and noisy, ratios less so`);
  lines.push(`peak memory: ${r.memory.total_rss_peak_mib} MiB RSS (workerd + wrk + Node harness, worst target); Node harness high-water ${r.memory.node_hwm_mib} MiB`);
  lines.push("");
  for (const b of r.budgets) lines.push(`${b.gated === false ? "INFO" : b.pass ? "PASS" : "FAIL"}  ${b.name}: ${b.actual}${b.gated === false ? " (reported, not gated)" : ""}`);
  const kept = r.load.app?.processing_kept_up;
  if (kept !== undefined && kept < 0.9) {
    lines.push(
      `NOTE  post-ack processing kept up with only ${Math.round(kept * 100)} % of acks (median round): the ack rate is partly a backlog; ` +
        `end to end ${r.load.app.end_to_end_rps} deliveries/s` +
        (r.load.durable?.available ? ` = ${Math.round((r.load.app.end_to_end_rps / r.load.durable.rps) * 100) / 100}× baseline (b)` : ""),
    );
  }
  const failed = r.budgets.filter((b) => b.gated !== false && !b.pass).length;
  lines.push(failed ? `${failed} budget(s) FAILED (exit code stays 0: this is a report)` : "all budgets pass");
  process.stdout.write(`${lines.join("\n")}\n`);
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
