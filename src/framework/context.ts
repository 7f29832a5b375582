import type { Json, JsonObject, WebhookKind } from "../deliveries/types";
import type { BotInfo, BotRoutingState, RoutingStatusUpdate } from "../licenses/bot";
import type { Installation } from "../licenses/grant";
import type { Settings } from "../licenses/settings";
import type { LiveChatApis } from "../livechat/apis";
import type { Credentials } from "../livechat/auth";
import type { WebhookAction } from "../livechat/webhooks";
import type { Logger } from "../log";

export { liveChatApis, type LiveChatApis } from "../livechat/apis";
export type { BotRoutingState, RoutingStatusUpdate } from "../licenses/bot";

/**
 * What the License DO offers handlers (over RPC from a Chat DO, or directly inside the License
 * DO).
 */
export interface LicenseRpc {
  installation(): Promise<Installation>;
  /** The license's OAuth access token (refreshed single-flight; also when LiveChat `rejected` it). */
  credentials(rejected?: Credentials): Promise<Credentials>;
  /** The license bot's own token (v3.6: a bot acts only with it, docs/LIVECHAT.md §4.2); renewed when `rejected`. */
  botCredentials(rejected?: Credentials): Promise<Credentials>;
  /** The bot without secrets, or null before provisioning. */
  botInfo(): Promise<BotInfo | null>;
  /** Per-license settings (defaults merged). */
  settings(): Promise<Settings>;
  /** The bot's routing state (gates bot webhooks). */
  botRoutingStatus(): Promise<BotRoutingState>;
  /** Note a reported routing status; true when it concerned the license's bot. */
  recordRoutingStatus(update: RoutingStatusUpdate): Promise<boolean>;
  /** Note that LiveChat deleted an agent or bot (`bot_deleted`); true when it was the license's bot. */
  recordBotDeleted(update: { agentId: string; at: number }): Promise<boolean>;
  /** Keep the region LiveChat named in a `misdirected_request` (docs/LIVECHAT.md §6.3): later credentials carry it. */
  recordRegion(region: string): Promise<void>;
}

/** The license a delivery belongs to, as handlers see it. */
export interface LicenseHandle extends LicenseRpc {
  organizationId: string;
}

/** JSON values keyed by string, local to one chat (the Chat DO's SQLite, src/chats/chat-store.ts). */
export interface ChatStore {
  /** The value stored under `key`, or undefined. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Store a JSON-serialisable `value` under `key` (replacing any previous one). */
  put(key: string, value: unknown): Promise<void>;
  /** Remove `key`; true when it existed. */
  delete(key: string): Promise<boolean>;
  /** Entries whose key starts with `prefix`, by key. */
  list<T = unknown>(prefix?: string): Promise<[string, T][]>;
}

/** A pending timer, as the admin API lists it. */
export interface PendingTimer {
  name: string;
  /** When it fires (ms since epoch). */
  due: number;
  organizationId: string;
  chatId: string;
  /** JSON, so the list crosses RPC as it is. */
  data: Json;
}

/**
 * One chat's logical timers (src/chats/timers.ts): a fired timer runs the handler registered for
 * the part of its name before the first `:` (src/framework/timers.ts).
 *
 * @example
 * await ctx.chat.timers.start("reply", Date.now() + 120_000, { organizationId, chatId, data: { stretch: "E1" } });
 * ctx.chat.timers.get("reply"); // { name: "reply", due, organizationId, chatId, data }
 */
export interface ChatTimers {
  /**
   * Start (or move) timer `name` to fire at `at`. `mode: "keep"` leaves a running timer as it is
   * (and returns false); `"replace"` moves it. Returns true when the timer was set.
   */
  start(name: string, at: number, timer: { organizationId: string; chatId: string; data?: Json }, mode?: "replace" | "keep"): Promise<boolean>;
  /** Stop timer `name`; true when it was pending. */
  cancel(name: string): Promise<boolean>;
  /** Stop every timer of the chat; returns how many were pending. */
  cancelAll(): Promise<number>;
  /** Timer `name` if it is pending. */
  get(name: string): PendingTimer | undefined;
  /** Pending timers, earliest first. */
  list(): PendingTimer[];
}

/** The chat a chat-scoped delivery belongs to (only inside the Chat DO). */
export interface ChatHandle {
  id: string;
  organizationId: string;
  /** JSON key/value store local to this chat. */
  store: ChatStore;
  /** The chat's logical timers on the Chat DO's alarm. */
  timers?: ChatTimers;
}

/** Facts about the delivery being handled. */
export interface DeliveryInfo {
  id: string;
  dedupeKey: string;
  webhookId: string;
  receivedAt: number;
  /** 1-based processing attempt (handlers are retried on failure). */
  attempt: number;
  additionalData?: JsonObject;
  requester?: Record<string, string>;
}

/**
 * Everything a handler gets besides the payload.
 *
 * @example
 * router.on("incoming_event", async (payload, ctx) => {
 *   ctx.log.info("event", { type: payload.event.type });
 *   await ctx.chat?.store.put("last-event", payload.event.id);
 * });
 */
export interface HandlerContext<A extends WebhookAction = WebhookAction> {
  action: A;
  kind: WebhookKind;
  organizationId: string;
  chatId?: string;
  delivery: DeliveryInfo;
  license: LicenseHandle;
  api: LiveChatApis;
  chat?: ChatHandle;
  /** Logger whose lines carry organization_id, chat_id, action and delivery_id. */
  log: Logger;
}
