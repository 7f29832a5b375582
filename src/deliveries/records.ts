/**
 * The inbox's read side: deliveries and dead letters as operators and processing see them
 * (src/routes/admin, Inbox.process). Synchronous SQL over the tables of src/deliveries/schema.ts.
 */
import type { DeadLetterRow, DeliveryRow } from "./schema";
import type { DeadLetter, DeliveryStatus, IncomingDelivery, JsonObject, StoredDelivery, WebhookKind, WebhookRules } from "./types";

/** Operator's view of one inbox. */
export interface InboxSummary {
  /** Waiting for processing: in their queue's order, or parked (retried out of order). */
  pending: number;
  /** Of `pending`, parked ones (present only when there are any). */
  parked?: number;
  deadLetters: number;
  oldestPendingAt?: number;
}

/**
 * What a stored body holds. A body of an admitted row written by an older version is
 * `{payload, additionalData, requester}`; every other is the webhook as received (minus its secret),
 * read through the host's rules.
 */
export function deliveryOf(row: DeliveryRow, rules: WebhookRules): IncomingDelivery {
  const body = JSON.parse(row.body) as JsonObject;
  const kind = row.kind as WebhookKind;
  if ("webhook_id" in body) return rules.describe(kind, body, row.received_at);
  return {
    kind,
    organizationId: row.organization_id ?? "",
    ...(row.license_id !== null ? { licenseId: row.license_id } : {}),
    ...(row.chat_id !== null ? { chatId: row.chat_id } : {}),
    action: row.action ?? "",
    webhookId: row.webhook_id ?? "",
    payload: body.payload ?? null,
    ...(body.additionalData !== undefined ? { additionalData: body.additionalData as JsonObject } : {}),
    ...(body.requester !== undefined ? { requester: body.requester as Record<string, string> } : {}),
    receivedAt: row.received_at,
  };
}

/** A row as a {@link StoredDelivery}; `delivery` when the caller has already read the body. */
export function toStored(row: DeliveryRow, rules: WebhookRules, delivery = deliveryOf(row, rules)): StoredDelivery {
  const { unprocessable: _described, ...rest } = delivery;
  return {
    ...rest,
    id: row.id,
    seq: row.seq,
    ...(row.dedupe_key !== null ? { dedupeKey: row.dedupe_key } : {}),
    ...(row.status === "unprocessable" && row.last_error !== null
      ? { unprocessable: { reason: row.note ?? "invalid_payload", error: row.last_error } }
      : {}),
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    ...(row.next_attempt_at !== null ? { nextAttemptAt: row.next_attempt_at } : {}),
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    ...(row.note !== null ? { note: row.note } : {}),
    ...(row.finished_at !== null ? { finishedAt: row.finished_at } : {}),
    handled: JSON.parse(row.handled) as string[],
  };
}

/**
 * Read queries over one inbox's tables.
 *
 * @example
 * const records = new InboxRecords(storage.sql, rules);
 * records.recent({ status: "dead", limit: 20 });
 */
export class InboxRecords {
  constructor(
    private readonly sql: SqlStorage,
    private readonly rules: WebhookRules,
  ) {}

  /** One delivery by id. */
  get(deliveryId: string): StoredDelivery | undefined {
    const row = this.sql.exec<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", deliveryId).toArray()[0];
    return row && toStored(row, this.rules);
  }

  /** The newest deliveries first (waiting and the last finished ones), optionally of one status. */
  recent(options: { limit?: number; status?: DeliveryStatus } = {}): StoredDelivery[] {
    const limit = clampLimit(options.limit);
    const rows = options.status
      ? this.sql.exec<DeliveryRow>("SELECT * FROM deliveries WHERE status = ? ORDER BY seq DESC LIMIT ?", options.status, limit)
      : this.sql.exec<DeliveryRow>("SELECT * FROM deliveries ORDER BY seq DESC LIMIT ?", limit);
    return rows.toArray().map((row) => toStored(row, this.rules));
  }

  /** Dead letters, newest first. */
  deadLetters(limit?: number): DeadLetter[] {
    return this.sql
      .exec<DeadLetterRow>("SELECT * FROM delivery_dead_letters ORDER BY dead_at DESC LIMIT ?", clampLimit(limit))
      .toArray()
      .map((r) => ({
        deliveryId: r.delivery_id,
        action: r.action,
        ...(r.chat_id !== null ? { chatId: r.chat_id } : {}),
        dedupeKey: r.dedupe_key,
        error: r.error,
        attempts: r.attempts,
        deadAt: r.dead_at,
      }));
  }

  /** Counts for an operator's overview. */
  summary(): InboxSummary {
    const waiting = this.sql
      .exec<{ n: number; parked: number | null; oldest: number | null }>(
        "SELECT COUNT(*) AS n, SUM(status = 'parked') AS parked, MIN(received_at) AS oldest FROM deliveries WHERE status IN ('pending', 'parked')",
      )
      .one();
    const dead = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM delivery_dead_letters").one();
    return {
      pending: waiting.n,
      ...(waiting.parked ? { parked: waiting.parked } : {}),
      deadLetters: dead.n,
      ...(waiting.oldest !== null ? { oldestPendingAt: waiting.oldest } : {}),
    };
  }
}

function clampLimit(limit: number | undefined): number {
  return Math.max(1, Math.min(500, Math.floor(limit ?? 50)));
}
