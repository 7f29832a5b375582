import { trackRoutingStatus, WebhookRouter } from "./framework";

/**
 * The app's webhook handlers. The bot behaviours register here, and so do yours:
 *
 * @example
 * router.on("incoming_event", async (payload, ctx) => {
 *   ctx.log.info("new event", { chat_id: payload.chat_id });
 * });
 */
export const router = new WebhookRouter();

// Built-in: keep the License DO's view of routing statuses current (gates bot webhooks).
trackRoutingStatus(router);
