#!/usr/bin/env node
/**
 * `npm run bench:ab [-- REF]`: what a change does to the cost of one ack, precisely enough to see
 * a few microseconds. `npm run bench` compares against the baselines under load, and on this
 * 2-core VM its per-request CPU moves by ±20 % between rounds, which hides any single
 * optimisation. Here baseline (b), livechat-edge at REF (default HEAD) and the working tree run as
 * three Workers in ONE workerd, and each is driven from inside the runtime: a loop endpoint hands
 * N bodies of the load's mix, one after the other, to the Worker's own `fetch` (everything from
 * the body read to the Durable Object write and the log line; not the HTTP server, which is the
 * same for all). Loops alternate between the targets, so machine drift and the process's own
 * speed apply to all of them alike. The result is wall time per ack, sequential: it includes
 * the hops to the Durable Object, which overlap under load, so read differences, not rates.
 *
 * Each Worker gets its own installations and Chat DOs, from a smaller pool than the load's (one
 * workerd with 3 × 2,000 SQLite DOs runs out of memory). Measuring starts once the priming's
 * processing (held back, as any burst's is) has run and workerd is idle, and should end before
 * processing of its own comes due (acks first: it is held at least MIN_HOLD_MS after a burst
 * starts, src/deliveries/pressure.ts); with more targets, lower AB_N or AB_ROUNDS. The first
 * quarter of the rounds, which reopens the Chat DOs workerd evicted meanwhile and warms the JIT,
 * is not counted.
 *
 * Knobs: AB_MIX=new-chats (every ack creates a Chat DO, as a chat's first webhook does; then
 * AB_N defaults to 40 and AB_ROUNDS to 8), AB_N (300 acks per loop), AB_ROUNDS (24), AB_SCRIPTS
 * ("name=path,…": prebuilt Worker scripts to compare instead, e.g. patched builds from
 * `wrangler deploy --dry-run --outdir`; a name containing "baseline" is not installed or primed).
 * Two livechat-edge builds at a time give the stated precision; with more, workerd holds more DOs
 * and the noise grows.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { appBindings, installOrgs, storageRoot, WEBHOOK_PATH, WEBHOOK_SECRET } from "./lib/app-setup.mjs";
import { bodyStream, buildTemplates, chatStarts, newChats, POOL } from "./lib/bodies.mjs";
import { exportTree, wranglerBuild } from "./lib/build.mjs";
import { startLiveChatMock } from "./lib/mock-livechat.mjs";
import { optionsFromWrangler, startWithStdoutFile } from "./lib/targets.mjs";
import { settle, workerLogs } from "./lib/worker-logs.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const examplesDir = resolve(root, "test/fixtures/livechat");
/** `new-chats`: every ack is a chat's first webhook, so it creates (constructs and migrates) a Chat DO. */
const NEW_CHATS = process.env.AB_MIX === "new-chats";
// New DOs are costly to keep: ~1,000 more in one workerd and its SQLite runs out of memory.
const N = Number(process.env.AB_N ?? (NEW_CHATS ? 40 : 300));
const ROUNDS = Number(process.env.AB_ROUNDS ?? (NEW_CHATS ? 8 : 24));
/** Processing held back by acks-first comes due this long after the burst starts (MIN_HOLD_MS). */
const MEASURE_WITHIN_MS = 10_000;
const log = (msg) => process.stderr.write(`[ab] ${msg}\n`);
const tmp = mkdtempSync(join(tmpdir(), "livechat-edge-ab-"));

/** The loop endpoint, wrapped around a target's own module (its DO classes re-exported). */
const LOOP_MODULE = `import target, { License, Chat } from "./index.js";
export { License, Chat };
export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname !== "/__ab_loop") return target.fetch(request, env, ctx);
    const statuses = {};
    for (const body of await request.json()) {
      const headers = { "content-type": "application/json", "content-length": String(new TextEncoder().encode(body).byteLength) };
      const res = await target.fetch(new Request("http://ab${WEBHOOK_PATH}", { method: "POST", headers, body }), env, ctx);
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
    return Response.json(statuses);
  },
};
`;

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

const q = (values, f) => [...values].sort((a, b) => a - b)[Math.floor(values.length * f)];

async function main() {
  const targets = targetsToRun();
  // 800 Chat DOs in all (400 per livechat-edge target when comparing two): far more in one workerd
  // and it evicts and reopens them all the time (or its SQLite runs out of memory).
  POOL.chatsPerOrg = Math.max(5, Math.floor(40 / targets.filter((t) => t.app).length));
  const templates = buildTemplates({ examplesDir, secret: WEBHOOK_SECRET });
  const mock = await startLiveChatMock(examplesDir);
  const base = optionsFromWrangler(join(root, "wrangler.toml"));
  const persist = storageRoot("ab");
  const workers = targets.map((t, i) => {
    const dir = join(tmp, `target-${i}`);
    mkdirSync(dir);
    copyFileSync(t.script, join(dir, "index.js"));
    writeFileSync(join(dir, "loop.js"), LOOP_MODULE);
    return {
      ...base,
      name: `target-${i}`,
      modules: true,
      modulesRoot: dir,
      scriptPath: join(dir, "loop.js"),
      modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
      bindings: { ...base.bindings, ...appBindings(mock.url) },
    };
  });
  const mf = await startWithStdoutFile({ workers, host: "127.0.0.1", port: 0, defaultPersistRoot: persist }, `${persist}.stdout`);
  const { logs } = workerLogs(`${persist}.stdout`);
  try {
    let run = 1;
    const loop = async (t, bodies) => {
      const res = await t.worker.fetch("http://ab/__ab_loop", { method: "POST", body: JSON.stringify(bodies) });
      const statuses = await res.json();
      if (statuses["200"] !== bodies.length) throw new Error(`${t.name}: answers ${JSON.stringify(statuses)}`);
    };
    for (const [i, t] of targets.entries()) {
      t.worker = await mf.getWorker(`target-${i}`);
      t.ms = [];
      if (!t.app) continue;
      await installOrgs("http://ab/", (url, init) => t.worker.fetch(url, init));
      await loop(t, chatStarts(templates, run++));
    }
    log(`primed ${POOL.orgs * POOL.chatsPerOrg} chats per target; waiting for their processing …`);
    // The priming is a burst: its processing is held back, and comes due seconds after workerd
    // went idle (src/deliveries/pressure.ts). Measuring starts once it has run.
    await settle(logs, 120, log);
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      // Rotated, so that no target runs twice in a row and each one goes first as often as the others.
      for (const t of targets.map((_, i) => targets[(i + round) % targets.length])) {
        const next = NEW_CHATS ? newChats(templates, 100 + run++) : bodyStream(templates, 100 + run++);
        const bodies = Array.from({ length: N }, () => next().body);
        const t0 = performance.now();
        await loop(t, bodies);
        t.ms.push(performance.now() - t0);
      }
    }
    const elapsed = performance.now() - started;
    if (elapsed > MEASURE_WITHIN_MS) log(`measuring took ${(elapsed / 1000).toFixed(1)} s: held processing may have run in it; lower AB_N or AB_ROUNDS`);
    // The first quarter of the rounds warms the JIT; p10 is the least disturbed by the machine.
    const us = (t, f) => Math.round((q(t.ms.slice(ROUNDS >> 2), f) * 1000) / N);
    const first = targets.find((t) => t.app);
    console.log(`µs per ack${NEW_CHATS ? " to a new chat" : ""}, sequential, ${N} acks × ${ROUNDS} rounds each (one workerd, loops interleaved):`);
    for (const t of targets) {
      const delta = t.app && t !== first ? `  ${us(t, 0.1) - us(first, 0.1) >= 0 ? "+" : ""}${us(t, 0.1) - us(first, 0.1)} µs vs ${first.name}` : "";
      console.log(`  ${t.name.padEnd(14)} p10 ${String(us(t, 0.1)).padStart(4)}  p25 ${String(us(t, 0.25)).padStart(4)}  median ${String(us(t, 0.5)).padStart(4)}${delta}`);
    }
  } finally {
    await mf.dispose();
    await mock.close();
    rmSync(persist, { recursive: true, force: true });
    rmSync(`${persist}.stdout`, { force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
