/**
 * The cost of one ack, sequential, precisely enough to see a few microseconds (`npm run bench:ab`,
 * and the ack-cost budget of `npm run bench`). Under load, on a 2-core VM, a target's CPU per
 * request moves by ±20 % between rounds, which hides any single change. Here the targets run as
 * Workers in ONE workerd and each is driven from inside the runtime: a loop endpoint hands N
 * bodies of the load's mix, one after the other, to the Worker's own `fetch` (everything from the
 * body read to the Durable Object write and the log line; not the HTTP server, which is the same
 * for all). Loops alternate between the targets, so machine drift and the process's own speed
 * apply to all of them alike. The result is wall time per ack, sequential: it includes the hops
 * to the Durable Object, which overlap under load, so read differences and ratios, not rates.
 *
 * Each Worker gets its own installations and Chat DOs, from a smaller pool than the load's (one
 * workerd with 3 × 2,000 SQLite DOs runs out of memory). Measuring starts once the priming's
 * processing (held back, as any burst's is) has run and workerd is idle, and should end before
 * processing of its own comes due (acks first: it is held at least MIN_HOLD_MS after a burst
 * starts, src/deliveries/pressure.ts). The first quarter of the rounds, which reopens the Chat
 * DOs workerd evicted meanwhile and warms the JIT, is not counted.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { appBindings, installOrgs, storageRoot, WEBHOOK_PATH, WEBHOOK_SECRET } from "./app-setup.mjs";
import { bodyStream, buildTemplates, chatStarts, newChats, POOL } from "./bodies.mjs";
import { cpuNs, workerdPids } from "./cpu.mjs";
import { Callgrind } from "./instructions.mjs";
import { startLiveChatMock } from "./mock-livechat.mjs";
import { optionsFromWrangler, startWithStdoutFile } from "./targets.mjs";
import { settle, workerLogs } from "./worker-logs.mjs";

/** Processing held back by acks-first comes due this long after the burst starts (MIN_HOLD_MS). */
export const MEASURE_WITHIN_MS = 10_000;

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

/** Until the processes `pids` ran less than 5 % of a CPU over a second, or `limitS` passed. */
async function idle(pids, limitS) {
  const t0 = performance.now();
  for (;;) {
    const c0 = cpuNs(pids);
    await new Promise((r) => setTimeout(r, 1000));
    if (cpuNs(pids) - c0 < 0.05e9 || performance.now() - t0 > limitS * 1000) return;
  }
}

const q = (values, f) => [...values].sort((a, b) => a - b)[Math.floor(values.length * f)];

/**
 * Measure µs per ack of each target, loops interleaved in one workerd.
 * @param {{
 *   root: string,
 *   targets: { name: string, script: string, app: boolean }[],
 *   n: number, rounds: number, newChats?: boolean,
 *   instructions?: boolean, settlePriming?: boolean, install?: boolean,
 *   log?: (line: string) => void,
 * }} o  `app: false` targets (baselines) are not installed or primed. `instructions`: workerd runs
 *   under callgrind and each loop's instructions are counted too (bench/lib/instructions.mjs; ~50×
 *   slower: keep n and rounds small; 100 chats per target, DOs never evicted). `settlePriming: false`: measure without waiting for the
 *   priming's processing (for builds that hold it back). `install: false`: no installations
 *   (the ack reads none; their provisioning would run meanwhile, slowly under callgrind).
 * @returns {Promise<{ n: number, rounds: number, counted_rounds: number, mix: string, elapsed_ms: number,
 *   late: boolean, targets: { name: string, app: boolean, p10_us: number, p25_us: number, median_us: number,
 *   cpu_p10_us?: number, cpu_median_us?: number, instructions_per_ack?: number,
 *   instructions_spread?: [number, number] }[] }>}
 *   `late`: measuring took longer than MEASURE_WITHIN_MS, so held processing may have run in it
 */
export async function measureAckCost({ root, targets, n, rounds, newChats: newChatMix = false, instructions = false, settlePriming = true, install = true, log = () => {} }) {
  const examplesDir = resolve(root, "test/fixtures/livechat");
  const tmp = mkdtempSync(join(tmpdir(), "livechat-edge-ack-cost-"));
  // 800 Chat DOs in all (400 per livechat-edge target when comparing two): far more in one workerd
  // and it evicts and reopens them all the time (or its SQLite runs out of memory).
  const savedChatsPerOrg = POOL.chatsPerOrg;
  POOL.chatsPerOrg = instructions ? 5 : Math.max(5, Math.floor(40 / targets.filter((t) => t.app).length));
  const templates = buildTemplates({ examplesDir, secret: WEBHOOK_SECRET });
  const mock = await startLiveChatMock(examplesDir);
  const base = optionsFromWrangler(join(root, "wrangler.toml"));
  const persist = storageRoot("ack-cost");
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
      // Under callgrind a chat's next ack comes long after workerd's idle timeout: kept open, as
      // they stay at native speed, so that the loops measure warm DOs.
      ...(instructions
        ? { durableObjects: Object.fromEntries(Object.entries(base.durableObjects ?? {}).map(([k, v]) => [k, { ...v, unsafePreventEviction: true }])) }
        : {}),
    };
  });
  let mf;
  const callgrind = instructions ? new Callgrind() : undefined;
  try {
    mf = await startWithStdoutFile({ workers, host: "127.0.0.1", port: 0, defaultPersistRoot: persist }, `${persist}.stdout`, callgrind?.prefix);
    callgrind?.attach();
    const { logs } = workerLogs(`${persist}.stdout`);
    const runs = targets.map((t) => ({ ...t, ms: [], cpuMs: [], instr: [] }));
    const pids = workerdPids();
    let run = 1;
    const loop = async (t, bodies) => {
      const res = await t.worker.fetch("http://ab/__ab_loop", { method: "POST", body: JSON.stringify(bodies) });
      const statuses = await res.json();
      if (statuses["200"] !== bodies.length) throw new Error(`${t.name}: answers ${JSON.stringify(statuses)}`);
      if (t.app) logs.noteAcked(bodies.length);
    };
    for (const [i, t] of runs.entries()) {
      t.worker = await mf.getWorker(`target-${i}`);
      if (!t.app) continue;
      if (install) await installOrgs("http://ab/", (url, init) => t.worker.fetch(url, init));
      await loop(t, chatStarts(templates, run++));
    }
    log(`primed ${POOL.orgs * POOL.chatsPerOrg} chats per target; waiting for their processing …`);
    // The priming is a burst: its processing is held back, and comes due seconds after workerd
    // went idle (src/deliveries/pressure.ts). Measuring starts once it has run.
    if (settlePriming) await settle(logs, 120, log);
    if (callgrind) await idle([callgrind.pid], 120);
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      // Rotated, so that no target runs twice in a row and each one goes first as often as the others.
      for (const t of runs.map((_, i) => runs[(i + round) % runs.length])) {
        const next = newChatMix ? newChats(templates, 100 + run++) : bodyStream(templates, 100 + run++);
        const bodies = Array.from({ length: n }, () => next().body);
        const c0 = cpuNs(pids);
        const t0 = performance.now();
        if (callgrind) t.instr.push(await callgrind.count(() => loop(t, bodies)));
        else await loop(t, bodies);
        t.ms.push(performance.now() - t0);
        t.cpuMs.push((cpuNs(pids) - c0) / 1e6);
      }
    }
    const elapsed = performance.now() - started;
    // The first quarter of the rounds warms the JIT; p10 is the least disturbed by the machine.
    const us = (t, f, ms = t.ms) => Math.round((q(ms.slice(rounds >> 2), f) * 1000) / n);
    // workerd's CPU time per ack (all its threads, /proc schedstat), where it can be read: it
    // leaves out the time workerd waits for a CPU, which wall time on a shared machine includes.
    const cpu = (t) => (pids.length > 0 && !callgrind ? { cpu_p10_us: us(t, 0.1, t.cpuMs), cpu_median_us: us(t, 0.5, t.cpuMs) } : {});
    const counted = (t) => t.instr.slice(rounds >> 2).map((i) => Math.round(i / n));
    const instr = (t) =>
      callgrind ? { instructions_per_ack: q(counted(t), 0.5), instructions_spread: [Math.min(...counted(t)), Math.max(...counted(t))] } : {};
    return {
      n,
      rounds,
      counted_rounds: rounds - (rounds >> 2),
      mix: newChatMix ? "new-chats" : "load",
      elapsed_ms: Math.round(elapsed),
      late: elapsed > MEASURE_WITHIN_MS,
      targets: runs.map((t) => ({ name: t.name, app: t.app, p10_us: us(t, 0.1), p25_us: us(t, 0.25), median_us: us(t, 0.5), ...cpu(t), ...instr(t) })),
    };
  } finally {
    POOL.chatsPerOrg = savedChatsPerOrg;
    await mf?.dispose();
    callgrind?.dispose();
    await mock.close();
    rmSync(persist, { recursive: true, force: true });
    rmSync(`${persist}.stdout`, { force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}
