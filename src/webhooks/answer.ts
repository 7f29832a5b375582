/**
 * Webhook answers (docs/ARCHITECTURE.md "Webhook answers") and the one log line per delivery.
 * LiveChat retries anything but 200 and then drops the webhook (docs/LIVECHAT.md §1.4), so authentic
 * webhooks always get 200; 4xx only for requests that are not (verifiably) LiveChat's.
 */
import type { Logger } from "../log";

/** Outcome of one webhook request, as logged. */
export type DeliveryOutcome = "accepted" | "duplicate" | "unprocessable" | "rejected";

/** Why a request was rejected (the `type` of the error answer). */
export type RejectionType =
  | "payload_too_large"
  | "unsupported_media_type"
  | "invalid_json"
  | "invalid_envelope"
  | "unauthorized";

const statusOf: Record<RejectionType, 400 | 401 | 413 | 415> = {
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_json: 400,
  invalid_envelope: 400,
  unauthorized: 401,
};

/** The fields of the per-delivery log line; never a secret or body. */
export interface DeliveryLog {
  kind: "license" | "bot";
  outcome: DeliveryOutcome;
  status: number;
  organization_id?: string;
  action?: string;
  chat_id?: string;
  dedupe_key?: string;
  delivery_id?: string;
  /** Rejection type, or the reason a webhook is unprocessable. */
  reason?: string;
  /** Short, value-free description of the problem (field names only). */
  detail?: string;
}

/** HTTP answer plus its log line. */
export interface WebhookResult {
  status: 200 | 400 | 401 | 413 | 415;
  body: { ok: true; outcome: "accepted" | "duplicate" | "unprocessable" } | { ok: false; error: { type: RejectionType; message: string } };
  log: DeliveryLog;
}

/** A 4xx answer. `message` must not contain the secret or body values. */
export function reject(kind: "license" | "bot", type: RejectionType, message: string, log: Partial<DeliveryLog> = {}): WebhookResult {
  const status = statusOf[type];
  return {
    status,
    body: { ok: false, error: { type, message } },
    log: { ...log, kind, outcome: "rejected", status, reason: type, ...(type === "unauthorized" ? {} : { detail: message }) },
  };
}

/**
 * Write the one structured line for a webhook request: organization, action, chat, dedupe key,
 * outcome and duration (issue 3 "Observability"). Rejections log at `warn`.
 */
export function logDelivery(log: Logger, result: WebhookResult, durationMs: number): void {
  const fields = { ...result.log, duration_ms: durationMs };
  if (result.log.outcome === "rejected") log.warn("webhook", fields);
  else log.info("webhook", fields);
}
