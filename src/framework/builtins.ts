import type { WebhookRouter } from "./router";

/** Name of the built-in handler that tracks routing statuses. */
export const ROUTING_STATUS_TRACKER = "builtin:routing-status";

/**
 * Built-in: hand every `routing_status_set` (already normalised to the API spelling,
 * docs/LIVECHAT.md §2.3) to the License DO, which keeps the one that concerns its bot, so bot
 * webhooks can be gated on the bot accepting chats. Runs regardless of the bot's status (it is
 * how the status becomes known); the delivery's arrival time orders late webhooks.
 */
export function trackRoutingStatus(router: WebhookRouter): () => void {
  return router.on(
    "routing_status_set",
    async (payload, ctx) => {
      await ctx.license.recordRoutingStatus({
        agentId: payload.agent_id,
        status: payload.status,
        at: ctx.delivery.receivedAt,
      });
    },
    { name: ROUTING_STATUS_TRACKER, ignoreBotStatus: true },
  );
}

/** Name of the built-in handler that notices the license's bot being deleted. */
export const BOT_DELETED_TRACKER = "builtin:bot-deleted";

/**
 * Built-in: hand every `bot_deleted` (docs/LIVECHAT.md §2.3, a license webhook) to the License DO,
 * which re-provisions its bot at once when it was that one (in owner routing mode it only
 * records it for the operator).
 */
export function trackBotDeleted(router: WebhookRouter): () => void {
  return router.on(
    "bot_deleted",
    async (payload, ctx) => {
      await ctx.license.recordBotDeleted({ agentId: payload.id, at: ctx.delivery.receivedAt });
    },
    { name: BOT_DELETED_TRACKER, ignoreBotStatus: true },
  );
}
