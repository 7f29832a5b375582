import { type AcceptResult, type IncomingDelivery, type Json, toWire, type WebhookKind, type WireDelivery } from "../deliveries/types";
import { DEDUPE_TTL_MS, MIN_DEDUPE_TTL_MS } from "../deliveries/inbox";
import {
  chatIdOf,
  dedupeKey,
  dedupeKeyKind,
  parseAction,
  parseEnvelope,
  secretMatches,
  stringifyRedacted,
} from "../livechat/webhooks";
import { type DeliveryLog, reject, type WebhookResult } from "./answer";

/** What the pipeline needs from its host (the route). */
export interface ReceiveDeps {
  /** Accepted webhook secrets: current first, previous during a rotation (config `webhookSecrets`). */
  secrets: readonly string[];
  /** Store a delivery durably: in its Chat DO when it has `chatId`, else in its License DO. */
  accept(delivery: WireDelivery): Promise<AcceptResult>;
  now?: () => number;
}

/**
 * Receive one parsed JSON webhook body: envelope (400) → secret, constant time (401) → action
 * schema → dedupe key → scope → durable accept in the DO. Answers 200 only once the delivery is
 * stored; an authentic webhook with an unknown action or an invalid payload is stored as
 * `unprocessable` and answered 200 too, because LiveChat retries non-200 answers and then drops
 * the webhook (docs/LIVECHAT.md §1.4). Never throws on bad input; a storage failure rejects (→ 500,
 * and LiveChat retries).
 *
 * @example
 * const result = await receiveWebhook("license", JSON.parse(text), { secrets, accept });
 * return c.json(result.body, result.status);
 */
export async function receiveWebhook(kind: WebhookKind, body: unknown, deps: ReceiveDeps): Promise<WebhookResult> {
  const parsedEnvelope = parseEnvelope(body);
  if (!parsedEnvelope.ok) {
    // A body that is a valid envelope but for its secret is unauthenticated, not malformed (401).
    if (isRecord(body) && parseEnvelope({ ...body, secret_key: "-" }).ok) return unauthorized(kind, body);
    return reject(kind, "invalid_envelope", parsedEnvelope.error);
  }
  const envelope = parsedEnvelope.envelope;
  const record = body as Record<string, unknown>; // parseEnvelope accepts JSON objects only
  // docs/LIVECHAT.md §1.3: the body's secret_key is the only proof of origin; compared in constant time.
  if (!secretMatches(envelope.secretKey, deps.secrets)) return unauthorized(kind, record);

  const now = (deps.now ?? Date.now)();
  const parsed = parseAction(envelope.action, envelope.payload);
  const action = parsed.ok ? parsed.action : envelope.action;
  // Scope: chat-scoped actions go to the chat's DO, the rest to the license's. An invalid payload of
  // a chat-scoped action still goes to its chat when the chat id is readable (chatIdOf reads raw
  // payloads), so that a rerun after a schema fix runs in the chat's order, with the chat's state.
  const chatId = chatIdOf(envelope.action, envelope.payload);
  const key = `${kind}:${await dedupeKey(envelope.action, envelope.payload, envelope)}`;
  const delivery: IncomingDelivery = {
    kind,
    organizationId: envelope.organizationId,
    ...(envelope.licenseId !== undefined ? { licenseId: envelope.licenseId } : {}),
    ...(chatId !== undefined ? { chatId } : {}),
    action,
    webhookId: envelope.webhookId,
    dedupeKey: key,
    // Ids LiveChat never reuses can be held longer; content-hash keys expire after the 15-minute minimum
    // so a genuinely repeated change (tag, untag, tag again) is not mistaken for a redelivery.
    dedupeTtlMs: dedupeKeyKind(envelope.action) === "identity" ? DEDUPE_TTL_MS : MIN_DEDUPE_TTL_MS,
    payload: envelope.payload as Json,
    ...(envelope.additionalData ? { additionalData: envelope.additionalData as IncomingDelivery["additionalData"] } : {}),
    ...(envelope.requester ? { requester: stringsOf(envelope.requester) } : {}),
    receivedAt: now,
    ...(parsed.ok ? {} : { unprocessable: { reason: parsed.reason, error: parsed.error } }),
  };
  const log = {
    kind,
    organization_id: delivery.organizationId,
    action,
    ...(chatId !== undefined ? { chat_id: chatId } : {}),
    dedupe_key: key,
    ...(parsed.ok ? {} : { reason: parsed.reason, detail: parsed.error }),
  };
  // Stored deliveries never contain secret_key, at any depth (the envelope's own is not part of the content).
  return answerOnceStored(deps.accept(toWire(delivery, stringifyRedacted)), log);
}

/**
 * The 200 once the Durable Object has stored the delivery. Apart from receiveWebhook so that only
 * the log fields wait for the hop, the longest wait of an ack: the body, its parsed forms and the
 * delivery are garbage once sent. Under load, what outlives a few young-generation collections is
 * promoted, and the old generation's collections stop the isolate (~120 ms every ~3 s in
 * `npm run bench`); sampled with V8's heap profiler, this cut what acks promote from ~5.7 to ~5.0 KB each.
 */
async function answerOnceStored(stored: Promise<AcceptResult>, log: Omit<DeliveryLog, "outcome" | "status">): Promise<WebhookResult> {
  const accepted = await stored;
  return {
    status: 200,
    body: { ok: true, outcome: accepted.outcome },
    log: { ...log, outcome: accepted.outcome, status: 200, delivery_id: accepted.deliveryId },
  };
}

function unauthorized(kind: WebhookKind, body: Record<string, unknown>): WebhookResult {
  // Nothing about the expected secret, in the answer or in the log line (docs/ARCHITECTURE.md).
  const org = body.organization_id ?? body.license_id;
  return reject(kind, "unauthorized", "Missing or invalid webhook secret", {
    ...(typeof org === "string" || typeof org === "number" ? { organization_id: String(org).slice(0, 128) } : {}),
    ...(typeof body.action === "string" ? { action: body.action.slice(0, 128) } : {}),
  });
}

function stringsOf(record: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) if (typeof value === "string") out[key] = value;
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
