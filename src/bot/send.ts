import type { ChatHandle, LicenseRpc, LiveChatApis } from "../framework/context";
import type { BotInfo } from "../licenses/bot";
import { LiveChatError } from "../livechat/errors";
import type { GetChatResponse } from "../livechat/schemas/agent-chat";
import type { Thread } from "../livechat/schemas/chat";
import type { Visibility } from "../livechat/schemas/common";
import type { Logger } from "../log";

/**
 * How the bot speaks in a chat, shared by its behaviours:
 * - it acts only while it is accepting chats ({@link botOnDuty}, docs/LIVECHAT.md §1.5);
 * - it sends only into the chat's active thread, read fresh with `get_chat` ({@link activeChat});
 * - it is added to the chat (`add_user_to_chat` as the license) before it sends, with enough
 *   visibility ({@link ensureBotInChat}, docs/LIVECHAT.md §4.3);
 * - every send carries a deterministic `custom_id`, and a send whose `custom_id` is already in
 *   the thread is not repeated ({@link sendOnce}), so a retry after a crash cannot post twice.
 */

/** A handler's or timer's view of the chat, the license and LiveChat. */
export interface BotScope {
  chat: Pick<ChatHandle, "id" | "store">;
  license: Pick<LicenseRpc, "botInfo" | "botRoutingStatus" | "settings">;
  api: Pick<LiveChatApis, "agent" | "bot">;
  log: Logger;
}

/** The bot's membership of the chat, remembered in the chat store. */
export interface Membership {
  botId: string;
  threadId: string;
  visibility: Visibility;
}

/** Chat-store key of the bot's {@link Membership}. */
export const MEMBERSHIP_KEY = "bot:membership";

/** The chat with its active thread, as `get_chat` returned it. */
export type ActiveChat = GetChatResponse & { thread: Thread };

/**
 * The license's bot when it may act: provisioned and `accepting_chats`. Outside working hours
 * (`not_accepting_chats` / `offline`) the bot stays silent (docs/LIVECHAT.md §1.5).
 */
export async function botOnDuty(scope: Pick<BotScope, "license">): Promise<BotInfo | undefined> {
  const [bot, status] = await Promise.all([scope.license.botInfo(), scope.license.botRoutingStatus()]);
  return bot && status.acceptingChats && status.agentId === bot.id ? bot : undefined;
}

/**
 * The chat and its latest thread when that thread is active (`get_chat` as the license,
 * docs/LIVECHAT.md §4.3); undefined when the chat is no longer active or LiveChat does not know it
 * (`chat_inactive`, `not_found`).
 */
export async function activeChat(scope: Pick<BotScope, "chat" | "api">): Promise<ActiveChat | undefined> {
  try {
    const chat = await scope.api.agent.getChat({ chat_id: scope.chat.id });
    return chat.thread?.active === true ? (chat as ActiveChat) : undefined;
  } catch (err) {
    if (err instanceof LiveChatError && (err.type === "chat_inactive" || err.type === "not_found")) return undefined;
    throw err;
  }
}

const enough = (have: string | undefined, need: Visibility): have is Visibility =>
  have === "all" || (have === "agents" && need === "agents");

/**
 * Make sure the bot is in the chat's active thread with at least `visibility` (`all` can send
 * both kinds of events; `agents` only agents-only ones, docs/LIVECHAT.md §4.3). The fresh `get_chat`
 * answer decides when it lists the bot; otherwise the remembered membership of this thread does.
 * A bot that joined agents-only and must now speak to the customer is added again with `all`
 * (assumption: LiveChat accepts a repeated `add_user_to_chat` and updates the visibility, as
 * the simulator does). The license's agent is usually not in the chat, hence
 * `ignore_requester_presence`.
 */
export async function ensureBotInChat(scope: BotScope, bot: BotInfo, chat: ActiveChat, visibility: Visibility): Promise<void> {
  const listed = chat.users.find((u) => u.id === bot.id);
  const remembered = await scope.chat.store.get<Membership>(MEMBERSHIP_KEY);
  const rememberedHere = remembered?.botId === bot.id && remembered.threadId === chat.thread.id ? remembered : undefined;
  const current = listed ? (listed.present === false ? undefined : listed.visibility) : rememberedHere?.visibility;
  if (enough(current, visibility)) {
    if (!rememberedHere || rememberedHere.visibility !== current) {
      await scope.chat.store.put(MEMBERSHIP_KEY, { botId: bot.id, threadId: chat.thread.id, visibility: current } satisfies Membership);
    }
    return;
  }
  await scope.api.agent.addUserToChat({
    chat_id: scope.chat.id,
    user_id: bot.id,
    user_type: "agent",
    visibility,
    ignore_requester_presence: true,
  });
  await scope.chat.store.put(MEMBERSHIP_KEY, { botId: bot.id, threadId: chat.thread.id, visibility } satisfies Membership);
  scope.log.info("bot added to chat", { bot_id: bot.id, thread_id: chat.thread.id, visibility });
}

/** Forget the bot's membership (it was removed, or the chat was deactivated: agents leave). */
export async function forgetMembership(store: BotScope["chat"]["store"]): Promise<void> {
  await store.delete(MEMBERSHIP_KEY);
}

/** A message the bot sends. */
export interface BotMessage {
  /** Deterministic per logical send, e.g. `nudge:<stretch>`: a retry is recognisable in the thread. */
  customId: string;
  text: string;
  visibility: Visibility;
}

/** What {@link sendOnce} did. */
export type SendOutcome = { status: "sent"; eventId: string } | { status: "already_sent"; eventId: string } | { status: "chat_inactive" };

/**
 * Send `message` as the bot into the active thread of `chat`, once: when the thread already holds
 * an event with the same `custom_id` (an earlier attempt whose outcome was lost), nothing is sent.
 * The bot is added to the chat first. `send_event` runs with the bot's own token
 * (docs/LIVECHAT.md §4.2); `chat_inactive` (the chat closed meanwhile, §4.3) is an outcome, not an error.
 */
export async function sendOnce(scope: BotScope, bot: BotInfo, chat: ActiveChat, message: BotMessage): Promise<SendOutcome> {
  const earlier = chat.thread.events?.find((e) => e.custom_id === message.customId);
  if (earlier) {
    scope.log.info("bot message already in the thread; not sent again", { custom_id: message.customId, event_id: earlier.id });
    return { status: "already_sent", eventId: earlier.id };
  }
  await ensureBotInChat(scope, bot, chat, message.visibility);
  try {
    const { event_id } = await scope.api.bot.sendEvent({
      chat_id: scope.chat.id,
      event: { type: "message", text: message.text, visibility: message.visibility, custom_id: message.customId },
    });
    scope.log.info("bot message sent", { custom_id: message.customId, event_id, visibility: message.visibility });
    return { status: "sent", eventId: event_id };
  } catch (err) {
    if (err instanceof LiveChatError && err.type === "chat_inactive") return { status: "chat_inactive" };
    throw err;
  }
}

