import type { ChatStore, HandlerContext } from "../framework/context";
import { ratingMessage, type Settings } from "../licenses/settings";
import { MAX_TEXT_BYTES } from "../livechat/schemas/events";
import { activeChat, botOnDuty, sendOnce } from "./send";

/**
 * Rating reaction (issue 4, docs/LIVECHAT.md §5): a chat rating makes the bot post one agents-only
 * suggestion: good → ask the customer for a review (the license's `reviewUrl`), bad → ask what
 * went wrong. A rating arrives as `thread_properties_updated` with `properties.rating.score`
 * (1 good, 0 bad) and/or as the `rating.chat_rated` system message (`text_vars.score`, read as
 * "good"/"bad" or 1/0: unofficial, §5). Both signals make one suggestion: the reaction is
 * recorded per (thread, score). A cancelled rating (`thread_properties_deleted` of
 * `rating.score`, or `rating.chat_rating_canceled`) is noted, and a later rating reacts again.
 * Ratings often come after the chat ended: then nothing can be sent, which is noted too.
 */

export type RatingScore = "good" | "bad";

/** What happened to a rating of a thread. */
export interface RatingRecord {
  score: RatingScore;
  outcome: "suggested" | "chat_inactive" | "bot_not_accepting";
  /** Bumped by every cancellation, so a new rating's message has a new `custom_id`. */
  generation: number;
  eventId?: string;
  at: number;
}

/** A noted cancellation. */
export interface RatingCancellation {
  score: RatingScore;
  at: number;
}

/** Chat-store key prefixes: the current rating, its generation, the last cancellation (per thread). */
export const RATING_PREFIX = "rating:current:";
export const RATING_GENERATION_PREFIX = "rating:generation:";
export const RATING_CANCELLED_PREFIX = "rating:cancelled:";

/** Forget what was noted about `threadId`'s ratings (a thread long closed: its store keys would only grow). */
export async function forgetRatingThread(store: ChatStore, threadId: string): Promise<void> {
  for (const prefix of [RATING_PREFIX, RATING_GENERATION_PREFIX, RATING_CANCELLED_PREFIX]) await store.delete(prefix + threadId);
}

/** `1`/`"1"`/`"good"` → good, `0`/`"0"`/`"bad"` → bad, anything else → undefined. */
export function ratingScore(value: unknown): RatingScore | undefined {
  if (value === 1 || value === "1" || value === "good") return "good";
  if (value === 0 || value === "0" || value === "bad") return "bad";
  return undefined;
}

/**
 * {@link ratingMessage} within LiveChat's message size. Settings are validated to fit, so
 * clipping only guards settings stored before that check (a longer text could never be sent).
 */
export function ratingText(rating: Settings["rating"], score: RatingScore): string {
  return clipBytes(ratingMessage(rating, score), MAX_TEXT_BYTES);
}

/** `text` cut to at most `max` UTF-8 bytes on a character boundary, marked with an ellipsis. */
function clipBytes(text: string, max: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).byteLength <= max) return text;
  const ellipsis = "…"; // 3 bytes
  // encodeInto never writes part of a character; `read` is how much of `text` fit.
  const { read } = encoder.encodeInto(text, new Uint8Array(max - 3));
  return text.slice(0, read) + ellipsis;
}

/** React to a rating of `threadId` (once per thread and score). */
export async function onRated(ctx: HandlerContext, threadId: string, score: RatingScore): Promise<void> {
  if (!ctx.chat) return;
  const { store } = ctx.chat;
  const key = RATING_PREFIX + threadId;
  const current = await store.get<RatingRecord>(key);
  if (current?.score === score) return; // the other signal of the same rating, or a redelivery
  const generation = (await store.get<number>(RATING_GENERATION_PREFIX + threadId)) ?? 0;
  const record = (outcome: RatingRecord["outcome"], eventId?: string): RatingRecord => ({
    score,
    outcome,
    generation,
    ...(eventId ? { eventId } : {}),
    at: Date.now(),
  });

  const bot = await botOnDuty(ctx);
  if (!bot) {
    ctx.log.info("chat rated while the bot is not accepting chats; no suggestion", { score });
    await store.put(key, record("bot_not_accepting"));
    return;
  }
  const scope = { chat: ctx.chat, license: ctx.license, api: ctx.api, log: ctx.log };
  const chat = await activeChat(scope);
  if (!chat || chat.thread.id !== threadId) {
    ctx.log.info("chat rated after it ended; no suggestion", { score, thread_id: threadId });
    await store.put(key, record("chat_inactive"));
    return;
  }
  const text = ratingText((await ctx.license.settings()).rating, score);
  const outcome = await sendOnce(scope, bot, chat, {
    customId: `rating:${threadId}:${generation}:${score}`,
    text,
    visibility: "agents",
  });
  await store.put(key, outcome.status === "chat_inactive" ? record("chat_inactive") : record("suggested", outcome.eventId));
}

/** Note that the rating of `threadId` was cancelled; the next rating reacts again. */
export async function onRatingCancelled(ctx: HandlerContext, threadId: string): Promise<void> {
  if (!ctx.chat) return;
  const { store } = ctx.chat;
  const current = await store.get<RatingRecord>(RATING_PREFIX + threadId);
  if (!current) return; // already noted (the other cancellation signal), or never rated
  const generation = (await store.get<number>(RATING_GENERATION_PREFIX + threadId)) ?? 0;
  await store.put(RATING_GENERATION_PREFIX + threadId, generation + 1);
  await store.put(RATING_CANCELLED_PREFIX + threadId, { score: current.score, at: Date.now() } satisfies RatingCancellation);
  await store.delete(RATING_PREFIX + threadId);
  ctx.log.info("chat rating cancelled", { thread_id: threadId, score: current.score });
}
