/**
 * Webhook answers (docs/ARCHITECTURE.md "Webhook answers") and the log line of a rejected request.
 * LiveChat retries anything but 200 and then drops the webhook (docs/LIVECHAT.md §1.4), so authentic
 * webhooks always get 200; 4xx only for requests that are not (verifiably) LiveChat's. A stored
 * webhook's own log line is written once, by its processing (src/framework/host.ts).
 */
import type { Logger } from "../log";

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

/** The fields of a rejection's log line; never a secret or body. */
export interface RejectionLog {
  kind: "license" | "bot";
  outcome: "rejected";
  status: number;
  organization_id?: string;
  action?: string;
  /** Rejection type. */
  reason: RejectionType;
  /** Short, value-free description of the problem (field names only). */
  detail?: string;
}

/** HTTP answer, plus the log line when it is a rejection. */
export type WebhookResult =
  | { status: 200; body: { ok: true; outcome: "accepted" } }
  | { status: 400 | 401 | 413 | 415; body: { ok: false; error: { type: RejectionType; message: string } }; log: RejectionLog };

/** A 4xx answer. `message` must not contain the secret or body values. */
export function reject(
  kind: "license" | "bot",
  type: RejectionType,
  message: string,
  log: Pick<RejectionLog, "organization_id" | "action"> = {},
): WebhookResult {
  const status = statusOf[type];
  return {
    status,
    body: { ok: false, error: { type, message } },
    log: { ...log, kind, outcome: "rejected", status, reason: type, ...(type === "unauthorized" ? {} : { detail: message }) },
  };
}

/** Write the one line of a rejected webhook request, at `warn`: organization, action, reason, duration. */
export function logRejection(log: Logger, result: WebhookResult, durationMs: number): void {
  if (result.status !== 200) log.warn("webhook", { ...result.log, duration_ms: durationMs });
}
