import { ChatUsers } from "../chats/users";
import type { WebhookRouter } from "../framework/router";
import type { TimerRegistry } from "../framework/timers";
import { isEventType } from "../livechat/webhooks";
import { onCustomerMessage } from "./content-suggestions";
import { forgetRatingThread, onRated, onRatingCancelled, ratingScore } from "./rating-reaction";
import { fireReplyTimer, onChatEvent, onDeactivated, onTransfer, REPLY_TIMER, replyScope } from "./reply-nudge";
import { forgetMembership } from "./send";
import { forgetTagThread, onThreadTagged } from "./tag-suggestions";

/**
 * Register the bot's behaviours (issue 4): chat-user tracking, the reply timer and its nudge,
 * tag suggestions, suggestions from the customer's messages, rating reactions, plus the `reply` timer's handler. The behaviours are bot
 * webhooks (`kind: "bot"`): LiveChat sends them only while the bot is not offline, and they act
 * only while it accepts chats (docs/LIVECHAT.md §1.5). Chat-user tracking is bookkeeping, so it
 * also runs while the bot does not accept chats (`ignoreBotStatus`). `chat_deactivated` must
 * arrive whatever the bot's status (it ends the reply timer and bounds the chat's store), so it
 * is a license webhook (`kind: "license"`); a timer whose other cancelling events were missed
 * while the bot was offline checks the chat with `get_chat` before it nudges (reply-nudge.ts).
 * Handlers are named `bot:<concern>:<action>` (retries skip completed ones); the chat-user
 * tracker comes first so the handlers after it see the users a delivery brought. Returns a
 * function that removes everything it registered.
 */
export function registerBot(router: WebhookRouter, timers: TimerRegistry): () => void {
  const offs: (() => void)[] = [];

  // ── Chat users (src/chats/users.ts) and the bot's membership ──
  offs.push(
    router.on(
      "incoming_chat",
      async (p, ctx) => {
        if (ctx.chat) await new ChatUsers(ctx.chat.store).learn(p.chat.users);
      },
      { name: "bot:users:incoming_chat", kind: "bot", ignoreBotStatus: true },
    ),
    router.on(
      "user_added_to_chat",
      async (p, ctx) => {
        if (ctx.chat) await new ChatUsers(ctx.chat.store).learn([p.user]);
      },
      { name: "bot:users:user_added_to_chat", kind: "bot", ignoreBotStatus: true },
    ),
    router.on(
      "user_removed_from_chat",
      async (p, ctx) => {
        if (!ctx.chat) return;
        await new ChatUsers(ctx.chat.store).removed(p.user_id, p.user_type);
        if ((await ctx.license.botInfo())?.id === p.user_id) await forgetMembership(ctx.chat.store);
      },
      { name: "bot:users:user_removed_from_chat", kind: "bot", ignoreBotStatus: true },
    ),
    // Deactivation: agents, the bot too, leave the chat (docs/LIVECHAT.md §2.3 `chat_deactivated`).
    router.on(
      "chat_deactivated",
      async (_p, ctx) => {
        if (ctx.chat) await forgetMembership(ctx.chat.store);
      },
      { name: "bot:users:chat_deactivated", kind: "license" },
    ),
  );

  // ── Reply timer (src/bot/reply-nudge.ts) ──
  offs.push(
    router.on(
      "incoming_chat",
      async (p, ctx) => {
        const scope = replyScope(ctx);
        if (!scope) return;
        // The chat may start with the customer's first message(s) (docs/LIVECHAT.md §2.3).
        for (const event of p.chat.thread.events ?? []) await onChatEvent(scope, p.chat.thread.id, event, ctx.delivery.receivedAt);
      },
      { name: "bot:reply:incoming_chat", kind: "bot" },
    ),
    router.on(
      "incoming_event",
      async (p, ctx) => {
        const scope = replyScope(ctx);
        if (scope) await onChatEvent(scope, p.thread_id, p.event, ctx.delivery.receivedAt);
      },
      { name: "bot:reply:incoming_event", kind: "bot" },
    ),
    router.on(
      "chat_transferred",
      async (p, ctx) => {
        const scope = replyScope(ctx);
        if (scope) await onTransfer(scope, ctx.delivery.receivedAt, p.thread_id);
      },
      { name: "bot:reply:chat_transferred", kind: "bot" },
    ),
    router.on(
      "chat_deactivated",
      async (p, ctx) => {
        const scope = replyScope(ctx);
        if (!scope) return;
        // Only the named thread's wait ends: a late one for an older thread (docs/LIVECHAT.md §1.4, §2.3).
        // Threads past the last 20 closed ones lose their per-thread keys: a long-lived chat's store stays bounded.
        for (const thread of await onDeactivated(scope, p.thread_id)) {
          await forgetTagThread(scope.chat.store, thread);
          await forgetRatingThread(scope.chat.store, thread);
        }
      },
      { name: "bot:reply:chat_deactivated", kind: "license" },
    ),
    timers.on(REPLY_TIMER, fireReplyTimer),
  );

  // ── Tag suggestions (src/bot/tag-suggestions.ts) ──
  offs.push(router.on("thread_tagged", onThreadTagged, { name: "bot:tags:thread_tagged", kind: "bot" }));

  // ── Suggestions from what the customer writes (src/bot/content-suggestions.ts) ──
  offs.push(
    router.on(
      "incoming_chat",
      async (p, ctx) => {
        for (const event of p.chat.thread.events ?? []) await onCustomerMessage(p.chat.thread.id, event, ctx);
      },
      { name: "bot:content:incoming_chat", kind: "bot" },
    ),
    router.on("incoming_event", (p, ctx) => onCustomerMessage(p.thread_id, p.event, ctx), { name: "bot:content:incoming_event", kind: "bot" }),
  );

  // ── Rating reaction (src/bot/rating-reaction.ts; docs/LIVECHAT.md §5) ──
  offs.push(
    router.on(
      "thread_properties_updated",
      async (p, ctx) => {
        const score = ratingScore(p.properties.rating?.score);
        if (score) await onRated(ctx, p.thread_id, score);
      },
      { name: "bot:rating:thread_properties_updated", kind: "bot" },
    ),
    router.on(
      "thread_properties_deleted",
      async (p, ctx) => {
        if (p.properties.rating?.includes("score")) await onRatingCancelled(ctx, p.thread_id);
      },
      { name: "bot:rating:thread_properties_deleted", kind: "bot" },
    ),
    router.on(
      "incoming_event",
      async (p, ctx) => {
        if (!isEventType(p.event, "system_message")) return;
        if (p.event.system_message_type === "rating.chat_rated") {
          const score = ratingScore(p.event.text_vars?.score);
          if (score) await onRated(ctx, p.thread_id, score);
        } else if (p.event.system_message_type === "rating.chat_rating_canceled") {
          await onRatingCancelled(ctx, p.thread_id);
        }
      },
      { name: "bot:rating:incoming_event", kind: "bot" },
    ),
  );

  return () => offs.splice(0).forEach((off) => off());
}
