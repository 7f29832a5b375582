/**
 * What the inbox does with a stored webhook after the 200 (src/deliveries/inbox.ts): read the
 * delivery its body holds, and its dedupe key with the window in which the same key means a
 * redelivery. LiveChat's rules, handed to the inbox by its host (src/framework/host.ts). A
 * state-like change also names its subject, so that the same change after another state of that
 * subject is told from a redelivery (src/livechat/webhooks/dedupe.ts `dedupeSubject`).
 */
import type { IncomingDelivery, Json, JsonObject, WebhookKind, WebhookRules } from "../deliveries/types";
import { canonicalAction, chatIdOf, dedupeKey, dedupeKeyKind, dedupeSubject, pickRequester } from "../livechat/webhooks";
import { isLicenseNumber, isRecord } from "../livechat/webhooks/schemas/common";

/**
 * How long after a webhook's arrival the same content-hash key is its redelivery. LiveChat retries
 * "up to 3 times within ~1 minute" after a ~10 s timeout (docs/LIVECHAT.md §1.4): two minutes cover
 * that span. Not longer: such a key repeats when the same change genuinely happens again (tag,
 * untag, tag; accepting, not accepting, accepting), and a longer window would drop the repeat. A
 * redelivery later than that (the legacy docs' "10 times within 6 hours") is processed again,
 * which handlers are written for (idempotent everywhere).
 */
export const REDELIVERY_WINDOW_MS = 2 * 60_000;
/** Window of identity keys: ids LiveChat never reuses (event, thread) can be held for a day. */
export const IDENTITY_KEY_WINDOW_MS = 24 * 60 * 60_000;

/** LiveChat's license and bot webhooks (docs/LIVECHAT.md §1.2), as the inbox applies them after the 200. */
export const webhookRules: WebhookRules = {
  describe(kind: WebhookKind, body: JsonObject, receivedAt: number): IncomingDelivery {
    const rawAction = String(body.action);
    const payload = body.payload ?? null;
    const licenseId = isLicenseNumber(body.license_id) ? body.license_id : undefined;
    const organizationId = typeof body.organization_id === "string" ? body.organization_id : String(licenseId);
    const chatId = chatIdOf(rawAction, payload);
    const requester = pickRequester(body.requester);
    return {
      kind,
      organizationId,
      ...(licenseId !== undefined ? { licenseId } : {}),
      ...(chatId !== undefined ? { chatId } : {}),
      action: canonicalAction(rawAction) ?? rawAction,
      webhookId: String(body.webhook_id),
      payload,
      ...(isRecord(body.additional_data) ? { additionalData: body.additional_data as JsonObject } : {}),
      ...(requester ? { requester } : {}),
      receivedAt,
    };
  },

  async dedupe(delivery: IncomingDelivery): Promise<{ key: string; windowMs: number; subject?: string }> {
    // Prefixed with the endpoint: the same event on the license and the bot endpoint is two deliveries.
    const key = `${delivery.kind}:${await dedupeKey(delivery.action, delivery.payload)}`;
    if (dedupeKeyKind(delivery.action) === "identity") return { key, windowMs: IDENTITY_KEY_WINDOW_MS };
    const subject = await dedupeSubject(delivery.action, delivery.payload);
    return { key, windowMs: REDELIVERY_WINDOW_MS, ...(subject !== undefined ? { subject: `${delivery.kind}:${subject}` } : {}) };
  },
};
