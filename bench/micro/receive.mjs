/**
 * Micro-benchmark of the receive path in isolation: the real modules from
 * src/livechat/webhooks (bundled by esbuild, run by Node, one process, no I/O), over the same
 * unique-id webhook mix the load uses. Run through run-micro.mjs, which passes a JSON file:
 * { bodies: [{action, body}], secret, seconds }.
 *
 * Stages (each timed alone, over pre-computed inputs):
 *   json_parse     JSON.parse of the body text
 *   envelope       parseEnvelope (fields, lengths, nesting depth)
 *   verify         secretMatches (constant time, current + previous secret)
 *   validate       parseAction (zod/mini schema of the action's payload)
 *   chat_scope     chatIdOf
 *   dedupe_key     dedupeKey (async; SHA-256 only for content keys)
 *   redact         redactEnvelope (deep copy without secret_key, for storage)
 * Pipelines (per webhook, end to end):
 *   receive        JSON.parse → parseEnvelope → secretMatches → parseAction   ("parse + verify + validate")
 *   receive_full   receive → chatIdOf → dedupeKey → redactEnvelope → JSON.stringify (what is stored)
 *   floor          JSON.parse → secret === (what baseline (b) does before its DO write)
 */
import { readFileSync } from "node:fs";
import {
  chatIdOf,
  dedupeKey,
  parseAction,
  parseEnvelope,
  redactEnvelope,
  secretMatches,
} from "../../src/livechat/webhooks/index.ts";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { secret, seconds } = input;
const accepted = [secret]; // as src/config.ts builds webhookSecrets without a previous secret
const texts = input.bodies.map((b) => b.body);
const actions = input.bodies.map((b) => b.action);
const parsed = texts.map((t) => JSON.parse(t));
const envelopes = parsed.map((p) => {
  const r = parseEnvelope(p);
  if (!r.ok) throw new Error(`bench body rejected by parseEnvelope: ${r.error}`);
  return r.envelope;
});
for (const e of envelopes) {
  const r = parseAction(e.action, e.payload);
  if (!r.ok) throw new Error(`bench body rejected by parseAction (${e.action}): ${r.error}`);
}
const n = texts.length;
let sink = 0;

/** Time `fn(i)` in batches for `seconds` after a warm-up; mean ns per call. */
function timeSync(fn, budget = seconds) {
  for (let i = 0; i < 2000; i++) fn(i % n);
  let ops = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(budget * 1e9));
  let now = start;
  while (now < end) {
    for (let j = 0; j < 100; j++, ops++) fn(ops % n);
    now = process.hrtime.bigint();
  }
  return Number(now - start) / ops;
}

async function timeAsync(fn, budget = seconds) {
  for (let i = 0; i < 2000; i++) await fn(i % n);
  let ops = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(budget * 1e9));
  let now = start;
  while (now < end) {
    for (let j = 0; j < 100; j++, ops++) await fn(ops % n);
    now = process.hrtime.bigint();
  }
  return Number(now - start) / ops;
}

/** Per-call timings of `fn` over `count` calls: p50 / p99 in ns (includes ~30 ns of timer overhead). */
function distribution(fn, count = 20000) {
  for (let i = 0; i < 2000; i++) fn(i % n);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    fn(i % n);
    out[i] = Number(process.hrtime.bigint() - t0);
  }
  out.sort();
  return { p50: out[Math.floor(count * 0.5)], p99: out[Math.floor(count * 0.99)] };
}

const receive = (i) => {
  const body = JSON.parse(texts[i]);
  const env = parseEnvelope(body);
  if (!env.ok) throw new Error(env.error);
  if (!secretMatches(env.envelope.secretKey, accepted)) throw new Error("secret");
  const action = parseAction(env.envelope.action, env.envelope.payload);
  if (!action.ok) throw new Error(action.error);
  return { body, env: env.envelope, action };
};

const stages = {
  json_parse: timeSync((i) => (sink += JSON.parse(texts[i]) ? 1 : 0)),
  envelope: timeSync((i) => (sink += parseEnvelope(parsed[i]).ok ? 1 : 0)),
  verify: timeSync((i) => (sink += secretMatches(envelopes[i].secretKey, accepted) ? 1 : 0)),
  validate: timeSync((i) => (sink += parseAction(envelopes[i].action, envelopes[i].payload).ok ? 1 : 0)),
  chat_scope: timeSync((i) => (sink += chatIdOf(envelopes[i].action, envelopes[i].payload) ? 1 : 0)),
  dedupe_key: await timeAsync(async (i) => (sink += (await dedupeKey(envelopes[i].action, envelopes[i].payload, envelopes[i])).length)),
  redact: timeSync((i) => (sink += redactEnvelope(parsed[i]) ? 1 : 0)),
};

const pipelines = {
  receive: timeSync((i) => (sink += receive(i).action.ok ? 1 : 0)),
  receive_full: await timeAsync(async (i) => {
    const r = receive(i);
    const chat = chatIdOf(r.env.action, r.env.payload);
    const key = await dedupeKey(r.env.action, r.env.payload, r.env);
    sink += JSON.stringify(redactEnvelope(r.body)).length + key.length + (chat ? 1 : 0);
  }),
  floor: timeSync((i) => {
    const body = JSON.parse(texts[i]);
    sink += body.secret_key === secret ? 1 : 0;
  }),
};

const byAction = {};
for (const action of [...new Set(actions)]) {
  const idx = actions.flatMap((a, i) => (a === action ? [i] : []));
  const bytes = texts[idx[0]].length;
  const ns = timeSync((k) => (sink += receive(idx[k % idx.length]).action.ok ? 1 : 0), seconds / 2);
  byAction[action] = { body_bytes: bytes, receive_ns: Math.round(ns) };
}

const dist = distribution(receive);
const round = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));
process.stdout.write(
  `${JSON.stringify({
    bodies: n,
    stages_ns: round(stages),
    pipelines_ns: round(pipelines),
    receive_per_call_ns: round(dist),
    by_action: byAction,
    sink: sink > 0,
  })}\n`,
);
