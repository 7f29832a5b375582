/**
 * The durable inbox's records. A delivery is one webhook as the receiver accepted it, minus
 * `secret_key` (docs/ARCHITECTURE.md "Secrets stay secret"): it is what handlers are run from.
 */

/** A JSON value: what a parsed webhook body holds (and what crosses DO RPC unchanged). */
export type Json = string | number | boolean | null | JsonArray | JsonObject;

/** A JSON object. (Interfaces keep the recursion lazy for the RPC stub types.) */
export interface JsonObject {
  [key: string]: Json;
}

/** A JSON array. */
export interface JsonArray extends Array<Json> {}

/** Which endpoint received the webhook: `/webhooks/license` or `/webhooks/bot` (docs/LIVECHAT.md §1.5). */
export type WebhookKind = "license" | "bot";

/**
 * Where a delivery is in its life:
 * - `pending`: stored, waiting for (another) processing attempt;
 * - `processed`: handlers ran to completion;
 * - `skipped`: a bot delivery while the bot was not accepting chats (no gated handler ran);
 * - `not_installed`: the organization has no installation; recorded, no handler ran;
 * - `unprocessable`: authentic, but unknown action or payload failing its schema; never processed;
 * - `dead`: every attempt failed; a dead letter holds it until replayed or expired.
 */
export type DeliveryStatus = "pending" | "processed" | "skipped" | "not_installed" | "unprocessable" | "dead";

/** A webhook the receiver hands to a DO's inbox (structured-cloneable: it crosses RPC). */
export interface IncomingDelivery {
  kind: WebhookKind;
  organizationId: string;
  /** v3.5-and-older numeric license id, when the envelope carried one (docs/LIVECHAT.md §1.2). */
  licenseId?: number;
  chatId?: string;
  action: string;
  webhookId: string;
  /** Idempotency key; claimed atomically on accept (docs/ARCHITECTURE.md "Idempotent everywhere"). */
  dedupeKey: string;
  /**
   * How long the claim on `dedupeKey` holds (ms); the inbox default when absent. Never below
   * `MIN_DEDUPE_TTL_MS`, 15 minutes (docs/ARCHITECTURE.md "Idempotent everywhere"; docs/LIVECHAT.md §1.4).
   */
  dedupeTtlMs?: number;
  /** The action's payload as validated (and normalised) by the receiver; `secret_key` never. */
  payload: Json;
  additionalData?: JsonObject;
  /** v3.6 configuration webhooks: who made the change (`user_id`, `account_id`, `client_id`). */
  requester?: Record<string, string>;
  receivedAt: number;
  /** Set when the webhook is authentic but cannot be processed: recorded, never run. */
  unprocessable?: { reason: string; error: string };
}

/**
 * A delivery as it crosses RPC from the receiver to its DO: the content (`payload`,
 * `additionalData`, `requester`) serialized once, by the receiver, into the JSON the inbox stores.
 * A string is copied across RPC for a fraction of the cost of structured-cloning the object graph.
 */
export type WireDelivery = Omit<IncomingDelivery, "payload" | "additionalData" | "requester"> & {
  /** `JSON.stringify({ payload, additionalData, requester })`: see {@link toWire}. */
  content: string;
};

/**
 * The wire form of `delivery` (see {@link WireDelivery}). `stringify` serialises the content; the
 * receiver passes one that drops any `secret_key` (`stringifyRedacted`).
 */
export function toWire(
  delivery: IncomingDelivery,
  stringify: (content: Record<string, unknown>) => string = JSON.stringify,
): WireDelivery {
  const { payload, additionalData, requester, ...rest } = delivery;
  return { ...rest, content: stringify({ payload, additionalData, requester }) };
}

/** A delivery as stored. */
export interface StoredDelivery extends IncomingDelivery {
  id: string;
  /** Arrival order within the DO. */
  seq: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt?: number;
  lastError?: string;
  /** Why a terminal status was reached (e.g. "bot not accepting chats"). */
  note?: string;
  finishedAt?: number;
  /** Names of handlers that already completed (retries skip them). */
  handled: string[];
}

/** Answer of `accept()`. `duplicate` carries the id of the delivery that claimed the key first. */
export interface AcceptResult {
  outcome: "accepted" | "duplicate" | "unprocessable";
  deliveryId: string;
}

/** A delivery whose every attempt failed. */
export interface DeadLetter {
  deliveryId: string;
  action: string;
  chatId?: string;
  dedupeKey: string;
  error: string;
  attempts: number;
  deadAt: number;
}

/** Answer of `replay()`. */
export type ReplayResult =
  | { ok: true; deliveryId: string }
  | { ok: false; reason: "not_found" | "not_dead" };

/**
 * Answer of `rerun()` (operator replay of any recorded delivery). `from` is the status it had;
 * `skipHandlers` the handlers that had completed and will not run again. `pending`: the delivery
 * is still queued; nothing to replay.
 */
export type RerunResult =
  | { ok: true; deliveryId: string; from: DeliveryStatus; skipHandlers?: string[] }
  | { ok: false; reason: "not_found" | "pending" | "not_dead" };

/** What a processor reports for one delivery; throwing instead means "failed, retry". */
export interface ProcessOutcome {
  status: "processed" | "skipped" | "not_installed" | "unprocessable";
  note?: string;
}

/** One processing attempt, as the inbox hands it to the processor. */
export interface ProcessAttempt {
  delivery: StoredDelivery;
  /** 1-based attempt number. */
  attempt: number;
  /** Record that handler `name` completed, so a retry does not run it again. */
  markHandled(name: string): void;
}

/** Runs a delivery's handlers. */
export type Processor = (attempt: ProcessAttempt) => Promise<ProcessOutcome>;
