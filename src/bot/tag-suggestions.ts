import type { ChatStore, HandlerContext } from "../framework/context";
import type { ThreadTaggedPayload } from "../livechat/webhooks";
import { MAX_TEXT_BYTES } from "../livechat/schemas/events";
import { activeChat, botOnDuty, sendOnce } from "./send";

/**
 * Tag suggestions (issue 4, docs/LIVECHAT.md §2.3 `thread_tagged`): when a thread is tagged with a tag
 * the license configured canned responses for (`settings.tagSuggestions`), the bot posts them as
 * one agents-only message, if the chat is still active. Unknown tag → nothing, not even an API
 * call. One suggestion per (thread, tag): tagging the same thread again later posts nothing new.
 * (LiveChat's canned-response API exists only in v3.7 preview, §3.5, so the texts are ours.)
 */

/** Chat-store key prefix of suggestions made, per thread and tag. */
export const TAG_SUGGESTED_PREFIX = "tags:suggested:";

/** Forget the suggestions made in `threadId` (a thread long closed: its store keys would only grow). */
export async function forgetTagThread(store: ChatStore, threadId: string): Promise<void> {
  for (const [key] of await store.list(`${TAG_SUGGESTED_PREFIX}${threadId}:`)) await store.delete(key);
}

/** The agents-only text listing `responses` for `tag`, within LiveChat's message size. */
export function suggestionText(tag: string, responses: readonly string[]): string {
  const encoder = new TextEncoder();
  let text = `Suggested replies for the tag "${tag}":`;
  for (const [i, response] of responses.entries()) {
    const line = `\n${i + 1}. ${response}`;
    if (encoder.encode(text + line).length > MAX_TEXT_BYTES) break;
    text += line;
  }
  return text;
}

/**
 * The responses configured for `tag`. Own keys only: the tag is free text from LiveChat
 * (docs/LIVECHAT.md §2.3 `thread_tagged`), and a plain object also "has" `constructor`, `__proto__`,
 * `toString`… through its prototype.
 */
export function suggestionsFor(suggestions: Readonly<Record<string, readonly string[]>>, tag: string): readonly string[] {
  return Object.hasOwn(suggestions, tag) ? suggestions[tag] : [];
}

/** `thread_tagged` handler. */
export async function onThreadTagged(payload: ThreadTaggedPayload, ctx: HandlerContext): Promise<void> {
  if (!ctx.chat) return;
  const responses = suggestionsFor((await ctx.license.settings()).tagSuggestions, payload.tag);
  if (responses.length === 0) return;
  const key = `${TAG_SUGGESTED_PREFIX}${payload.thread_id}:${payload.tag}`;
  if (await ctx.chat.store.get(key)) return;
  const bot = await botOnDuty(ctx);
  if (!bot) {
    ctx.log.info("thread tagged while the bot is not accepting chats; no suggestion", { tag: payload.tag });
    return;
  }
  const scope = { chat: ctx.chat, license: ctx.license, api: ctx.api, log: ctx.log };
  const chat = await activeChat(scope);
  if (!chat || chat.thread.id !== payload.thread_id) {
    ctx.log.info("tagged thread no longer active; no suggestion", { tag: payload.tag, thread_id: payload.thread_id });
    return;
  }
  const outcome = await sendOnce(scope, bot, chat, {
    customId: `tag:${payload.thread_id}:${payload.tag}`,
    text: suggestionText(payload.tag, responses),
    visibility: "agents",
  });
  if (outcome.status === "chat_inactive") return;
  await ctx.chat.store.put(key, { eventId: outcome.eventId, at: Date.now() });
}
