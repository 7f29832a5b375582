/**
 * The durable inbox's records. A delivery is one webhook as the receiver stored it, minus
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
 * - `pending`: stored, waiting for (another) processing attempt, in its queue's order;
 * - `parked`: its retries would have held its queue too long; retried later, out of order;
 * - `processed`: handlers ran to completion;
 * - `duplicate`: a redelivery of a webhook stored before (same dedupe key, received within the
 *   key's window); never run;
 * - `skipped`: a bot delivery while the bot was not accepting chats (no gated handler ran);
 * - `not_installed`: the organization has no installation; recorded, no handler ran;
 * - `unprocessable`: authentic, but unknown action or payload failing its schema; never run;
 * - `dead`: every attempt failed; a dead letter holds it until replayed or expired.
 */
export type DeliveryStatus = "pending" | "parked" | "processed" | "duplicate" | "skipped" | "not_installed" | "unprocessable" | "dead";

/** A webhook as processing reads it from its stored body (structured-cloneable: it crosses RPC). */
export interface IncomingDelivery {
  kind: WebhookKind;
  organizationId: string;
  /** v3.5-and-older numeric license id, when the envelope carried one (docs/LIVECHAT.md §1.2). */
  licenseId?: number;
  chatId?: string;
  /** The canonical action name (aliases resolved), or the raw one when unknown. */
  action: string;
  webhookId: string;
  /** The action's payload as received; `secret_key` never. */
  payload: Json;
  additionalData?: JsonObject;
  /** v3.6 configuration webhooks: who made the change (`user_id`, `account_id`, `client_id`). */
  requester?: Record<string, string>;
  receivedAt: number;
  /** Set when the webhook is authentic but cannot be processed: recorded, never run. */
  unprocessable?: { reason: string; error: string };
}

/**
 * LiveChat's rules the inbox applies after the 200, supplied by its host (src/webhooks/admit.ts):
 * what a stored body holds, and its dedupe key.
 */
export interface WebhookRules {
  /** The delivery a stored webhook body holds (the ack checked its envelope). Never throws for such a body. */
  describe(kind: WebhookKind, body: JsonObject, receivedAt: number): IncomingDelivery;
  /**
   * Its dedupe key, and for how long after its arrival a webhook with the same key is a redelivery
   * of it (docs/ARCHITECTURE.md "Idempotent everywhere"). With a `subject` (what a state-like change
   * changes), only the subject's latest state is claimed: the same key after another state of the
   * subject is a genuine repeat, not a redelivery.
   */
  dedupe(delivery: IncomingDelivery): Promise<{ key: string; windowMs: number; subject?: string }>;
}

/** A delivery as stored. */
export interface StoredDelivery extends IncomingDelivery {
  id: string;
  /** Arrival order within the DO. */
  seq: number;
  /** Idempotency key, set once processing admitted the delivery (docs/ARCHITECTURE.md "Idempotent everywhere"). */
  dedupeKey?: string;
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

/** A delivery processing admitted: its dedupe key is known. */
export type AdmittedDelivery = StoredDelivery & { dedupeKey: string };

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
  /** What made it unprocessable (recorded as its `lastError`). */
  error?: string;
}

/** One processing attempt, as the inbox hands it to the processor. */
export interface ProcessAttempt {
  delivery: AdmittedDelivery;
  /** 1-based attempt number. */
  attempt: number;
  /** Record that handler `name` completed, so a retry does not run it again. */
  markHandled(name: string): void;
}

/** Runs a delivery's handlers. */
export type Processor = (attempt: ProcessAttempt) => Promise<ProcessOutcome>;
