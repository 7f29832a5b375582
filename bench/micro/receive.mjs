/**
 * Micro-benchmark of the ack path in Node: the step functions of stages.mjs (the real modules
 * from src/, bundled by esbuild, one process, no I/O), over the same unique-id webhook mix the
 * load uses. Run through run-micro.mjs, which passes a JSON file: { bodies: [{action, body}],
 * secret, seconds }. workerd.mjs times the same steps inside workerd.
 */
import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ACK_STAGES, ASYNC_STAGES, makeStages, PIPELINES, PROCESSING_STAGES } from "./stages.mjs";

// `crypto.subtle.timingSafeEqual` is a workerd extension (src/livechat/webhooks/verify.ts uses it);
// Node's equivalent is node:crypto's. Provided here, in the harness only, when the runtime lacks it.
if (typeof crypto.subtle.timingSafeEqual !== "function") {
  Object.defineProperty(crypto.subtle, "timingSafeEqual", {
    value: (a, b) => timingSafeEqual(ArrayBuffer.isView(a) ? a : new Uint8Array(a), ArrayBuffer.isView(b) ? b : new Uint8Array(b)),
  });
}

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { seconds } = input;
const texts = input.bodies.map((b) => b.body);
const actions = input.bodies.map((b) => b.action);
const stages = makeStages(texts, input.secret);
const n = texts.length;
let sink = 0;
const take = (v) => (sink += v ? 1 : 0);

/** Time `fn(i)` in batches for `budget` seconds after a warm-up; mean ns per call. */
async function time(fn, isAsync, budget = seconds) {
  for (let i = 0; i < 2000; i++) take(isAsync ? await fn(i % n) : fn(i % n));
  let ops = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(budget * 1e9));
  let now = start;
  while (now < end) {
    if (isAsync) for (let j = 0; j < 100; j++, ops++) take(await fn(ops % n));
    else for (let j = 0; j < 100; j++, ops++) take(fn(ops % n));
    now = process.hrtime.bigint();
  }
  return Number(now - start) / ops;
}

const timed = async (names) => {
  const out = {};
  for (const name of names) out[name] = Math.round(await time(stages[name], ASYNC_STAGES.has(name)));
  return out;
};

const byAction = {};
for (const action of [...new Set(actions)]) {
  const idx = actions.flatMap((a, i) => (a === action ? [i] : []));
  const ns = await time((k) => stages.ack(idx[k % idx.length]), true, seconds / 2);
  byAction[action] = { body_bytes: texts[idx[0]].length, ack_ns: Math.round(ns) };
}

process.stdout.write(
  `${JSON.stringify({
    bodies: n,
    stages_ns: await timed(ACK_STAGES),
    processing_ns: await timed(PROCESSING_STAGES),
    pipelines_ns: await timed(PIPELINES),
    by_action: byAction,
    sink: sink > 0,
  })}\n`,
);
