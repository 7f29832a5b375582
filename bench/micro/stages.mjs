/**
 * The steps of the ack path (src/routes/webhooks.ts → src/webhooks/receive.ts) as functions of a
 * body index, over pre-computed inputs, for the micro-benchmark's two runners: Node (receive.mjs)
 * and workerd (workerd.mjs, the runtime the Worker runs in: its `node:crypto` is not Node's).
 * The real modules, bundled from the measured tree's src/ (run-micro.mjs).
 *
 * Ack path, before the 200 (what each costs per webhook):
 *   content_type   isJsonContentType of the request's Content-Type
 *   utf8_decode    strict (fatal) UTF-8 decode of the body bytes
 *   json_parse     JSON.parse of the body text
 *   envelope       parseEnvelope (fields, lengths, nesting depth)
 *   depth          nestingDepth alone (part of envelope)
 *   verify         secretMatches (SHA-256 of the given secret, constant-time compare)
 *   chat_scope     chatIdOf
 *   stored_body    storedBody (the body text without its secret_key)
 *   do_name        chatObjectName (the Chat DO's name; idFromName is the runtime's)
 *   uuid           crypto.randomUUID (the stored row's id, in the DO)
 * After the 200, in the DO's processing (not on the ack):
 *   validate       parseAction (zod/mini schema of the action's payload)
 *   dedupe_key     dedupeKey (async; SHA-256 only for content keys)
 * Pipelines (per webhook, end to end, no I/O):
 *   ack            content type → decode → JSON.parse → receiveWebhook (envelope, secret, scope,
 *                  stored body) with an append that only names the DO
 *   floor          decode (not strict) → JSON.parse → secret === → DO name (what baseline (b) does)
 */
import { isJsonContentType } from "../../src/http/json-body.ts";
import { chatObjectName } from "../../src/chats/stub.ts";
import { receiveWebhook } from "../../src/webhooks/receive.ts";
import {
  chatIdOf,
  dedupeKey,
  nestingDepth,
  parseAction,
  parseEnvelope,
  secretMatches,
  storedBody,
} from "../../src/livechat/webhooks/index.ts";

export const ACK_STAGES = ["content_type", "utf8_decode", "json_parse", "envelope", "depth", "verify", "chat_scope", "stored_body", "do_name", "uuid"];
export const PROCESSING_STAGES = ["validate", "dedupe_key"];
export const PIPELINES = ["ack", "floor"];

/**
 * Stage functions over `texts` (the bodies) and `secret`. Each returns something to sink, or a
 * promise of it (async stages). `accepted` as src/config.ts builds webhookSecrets without a
 * previous secret.
 */
export function makeStages(texts, secret) {
  const accepted = [secret];
  const encoder = new TextEncoder();
  const bytes = texts.map((t) => encoder.encode(t));
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
  const chats = envelopes.map((e) => chatIdOf(e.action, e.payload));
  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const loose = new TextDecoder();
  let named = "";
  const deps = {
    secrets: accepted,
    append: async (d) => {
      named = d.chatId !== undefined ? chatObjectName(d.organizationId, d.chatId) : d.organizationId;
      if (d.body.length === 0) throw new Error("empty stored body");
    },
  };
  return {
    content_type: () => isJsonContentType("application/json"),
    utf8_decode: (i) => strict.decode(bytes[i]).length,
    json_parse: (i) => JSON.parse(texts[i]),
    envelope: (i) => parseEnvelope(parsed[i]).ok,
    depth: (i) => nestingDepth(parsed[i]),
    verify: (i) => secretMatches(envelopes[i].secretKey, accepted),
    chat_scope: (i) => chatIdOf(envelopes[i].action, envelopes[i].payload),
    stored_body: (i) => storedBody(texts[i], parsed[i]).length,
    do_name: (i) => (chats[i] === undefined ? envelopes[i].organizationId : chatObjectName(envelopes[i].organizationId, chats[i])),
    uuid: () => crypto.randomUUID(),
    validate: (i) => parseAction(envelopes[i].action, envelopes[i].payload).ok,
    dedupe_key: async (i) => (await dedupeKey(envelopes[i].action, envelopes[i].payload)).length,
    ack: async (i) => {
      if (!isJsonContentType("application/json")) throw new Error("content type");
      const text = strict.decode(bytes[i]);
      const r = await receiveWebhook("license", JSON.parse(text), text, deps);
      if (r.status !== 200) throw new Error(`ack answered ${r.status}`);
      return named.length;
    },
    floor: (i) => {
      const body = JSON.parse(loose.decode(bytes[i]));
      if (body.secret_key !== secret) throw new Error("secret");
      const chat = body.payload.chat_id ?? body.payload.chat?.id;
      return (chat ? `${body.organization_id}:${chat}` : String(body.organization_id)).length;
    },
  };
}

/** Stages that return a promise. */
export const ASYNC_STAGES = new Set(["dedupe_key", "ack"]);
