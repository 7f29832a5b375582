import { roleOf } from "../chats/users";
import type { HandlerContext } from "../framework/context";
import { MAX_TEXT_BYTES } from "../livechat/schemas/events";
import { type ChatEvent, isEventType } from "../livechat/webhooks";
import { IndexCache, libraryOf } from "./content-match/index";
import { MAX_SUGGESTED_TAGS, suggest } from "./content-match/score";
import { type ActiveChat, activeChat, botOnDuty, sendOnce } from "./send";
import { suggestionsFor, TAG_SUGGESTED_PREFIX } from "./tag-suggestions";

/**
 * Suggestions from what the customer writes, the extension LiveChat's bot-webhooks article proposes
 * for its tag-suggestions example (docs/LIVECHAT.md source BLOG-BOT): a customer's message
 * (`incoming_event`, or the first ones in `incoming_chat`'s thread, docs/LIVECHAT.md §2.3)
 * that fits tags of the license's library (`tagSuggestions`, plus `tagKeywords`; matched in
 * src/bot/content-match) brings those tags' canned responses to the agents, agents-only, while
 * the chat is active and the bot on duty.
 *
 * Once per tag and thread: a tag suggested here, or by tagging the thread (tag-suggestions.ts,
 * same chat-store key), is not suggested in that thread again, whatever the redeliveries
 * (docs/LIVECHAT.md §1.4). A response an agent already wrote in the thread is left out.
 * Matching comes first and needs no LiveChat call, so the many messages that fit nothing cost none.
 */

/** The library's indexes, one per license in this isolate, rebuilt when its settings change. */
const indexes = new IndexCache();

/** One tag's responses to suggest. */
export interface ContentPick {
  tag: string;
  texts: readonly string[];
}

/** The agents-only text listing `picks`, within LiveChat's message size. */
export function contentSuggestionText(picks: readonly ContentPick[]): string {
  const encoder = new TextEncoder();
  let text = "Suggested replies for the customer's message:";
  let n = 0;
  for (const { tag, texts } of picks) {
    for (const response of texts) {
      const line = `\n${n + 1}. [${tag}] ${response}`;
      if (encoder.encode(text + line).length > MAX_TEXT_BYTES) return text;
      text += line;
      n++;
    }
  }
  return text;
}

/** Text as compared with what agents wrote: case and runs of white space do not count. */
const comparable = (text: string) => text.toLowerCase().replace(/\s+/g, " ").trim();

/** What agents other than the bot wrote in the chat's active thread, {@link comparable}. */
function agentTexts(chat: ActiveChat, botId: string): string[] {
  const agents = new Set(chat.users.filter((u) => u.type === "agent" && u.id !== botId).map((u) => u.id));
  return (chat.thread.events ?? [])
    .filter((e) => e.type === "message" && e.author_id !== undefined && agents.has(e.author_id) && e.text)
    .map((e) => comparable(e.text!));
}

/** One event of thread `threadId` (from `incoming_event`, or `incoming_chat`'s `thread.events`). */
export async function onCustomerMessage(threadId: string, event: ChatEvent, ctx: HandlerContext): Promise<void> {
  // A customer cannot write agents-only; an agents-only message is an agent's (docs/LIVECHAT.md §4.3).
  if (!ctx.chat || !isEventType(event, "message") || event.visibility === "agents") return;
  const settings = await ctx.license.settings();
  if (!settings.contentSuggestions) return;
  const library = libraryOf(settings.tagSuggestions, settings.tagKeywords);
  if (library.length === 0) return;
  const index = indexes.get(ctx.organizationId, library);
  const matched = suggest(index, event.text, { threshold: settings.contentSuggestionThreshold, max: MAX_SUGGESTED_TAGS });
  const key = (tag: string) => `${TAG_SUGGESTED_PREFIX}${threadId}:${tag}`;
  const fresh: string[] = [];
  for (const { tag } of matched) if (!(await ctx.chat.store.get(key(tag)))) fresh.push(tag);
  if (fresh.length === 0) return;

  const scope = { chat: ctx.chat, license: ctx.license, api: ctx.api, log: ctx.log };
  const provisioned = await ctx.license.botInfo();
  if (!provisioned || (await roleOf(scope, event.author_id, provisioned.id)) !== "customer") return;
  const bot = await botOnDuty(ctx);
  if (!bot) {
    ctx.log.info("customer message fits suggestions while the bot is not accepting chats; none made", { tags: fresh });
    return;
  }
  const chat = await activeChat(scope);
  if (!chat || chat.thread.id !== threadId) {
    ctx.log.info("thread no longer active; no content suggestion", { thread_id: threadId, tags: fresh });
    return;
  }
  const used = agentTexts(chat, bot.id);
  const picks = fresh
    .map((tag) => ({ tag, texts: suggestionsFor(settings.tagSuggestions, tag).filter((t) => !used.some((u) => u.includes(comparable(t)))) }))
    .filter((p) => p.texts.length > 0);
  // A tag whose every response an agent already wrote is settled for this thread too.
  for (const tag of fresh) {
    if (!picks.some((p) => p.tag === tag)) await ctx.chat.store.put(key(tag), { at: Date.now(), via: "agents" });
  }
  if (picks.length === 0) {
    ctx.log.info("agents already wrote what would be suggested; none made", { tags: fresh });
    return;
  }
  const outcome = await sendOnce(scope, bot, chat, {
    customId: `content:${threadId}:${event.id}`,
    text: contentSuggestionText(picks),
    visibility: "agents",
  });
  if (outcome.status === "chat_inactive") return;
  for (const { tag } of picks) await ctx.chat.store.put(key(tag), { eventId: outcome.eventId, at: Date.now(), via: "content" });
}
