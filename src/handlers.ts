import { registerBot } from "./bot";
import { TimerRegistry, trackBotDeleted, trackRoutingStatus, WebhookRouter } from "./framework";

/**
 * The app's webhook handlers. The bot behaviours register here, and so do yours:
 *
 * @example
 * router.on("incoming_event", async (payload, ctx) => {
 *   ctx.log.info("new event", { chat_id: payload.chat_id });
 * });
 */
export const router = new WebhookRouter();

/** Handlers of the chats' logical timers (src/chats/timers.ts), by kind; every Chat DO runs its timers through them. */
export const timers = new TimerRegistry();

// Built-in: keep the License DO's view of routing statuses current (gates bot webhooks), and
// re-provision a bot deleted in LiveChat.
trackRoutingStatus(router);
trackBotDeleted(router);

// The bot (issue 4): chat users, reply timer, tag suggestions, rating reaction.
registerBot(router, timers);
