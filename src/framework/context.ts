import type { Config } from "../config";
import type { Json, JsonObject, WebhookKind } from "../deliveries/types";
import type { BotInfo } from "../licenses/bot";
import type { Installation } from "../licenses/grant";
import type { Settings } from "../licenses/settings";
import { AgentChatApi } from "../livechat/agent-chat";
import type { Credentials } from "../livechat/auth";
import { ConfigurationApi } from "../livechat/configuration";
import type { RoutingStatus, WebhookAction } from "../livechat/webhooks";
import type { Logger } from "../log";

/** One observed routing status change; `at` orders updates (an older one never overwrites a newer one). */
export interface RoutingStatusUpdate {
  agentId: string;
  status: RoutingStatus;
  at: number;
}

/**
 * What the License DO knows about its bot's routing status. Bot webhooks are acted on only while
 * it is `accepting_chats` (docs/LIVECHAT.md §1.5); no bot or no known status counts as not accepting.
 */
export interface BotRoutingState {
  agentId?: string;
  status?: RoutingStatus;
  updatedAt?: number;
  acceptingChats: boolean;
}

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

/** LiveChat Web API clients, built on first use. */
export interface LiveChatApis {
  /** Agent Chat API as the license (its OAuth grant). */
  readonly agent: AgentChatApi;
  /** Configuration API as the license. */
  readonly configuration: ConfigurationApi;
  /** Agent Chat API as the license's bot (its own token; add it to a chat before sending there). */
  readonly bot: AgentChatApi;
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

/**
 * LiveChat clients for a license, created lazily so a handler that never calls LiveChat never
 * needs credentials. Credentials come from the License DO on each call (it refreshes them).
 */
export function liveChatApis(
  config: Pick<Config, "apiUrl" | "apiVersion">,
  license: Pick<LicenseRpc, "credentials" | "botCredentials" | "recordRegion">,
): LiveChatApis {
  // A re-route is kept with the license; a failure to keep it only costs the next client the same re-route.
  const onRegion = (region: string) => void license.recordRegion(region).catch(() => {});
  const options = { apiUrl: config.apiUrl, version: config.apiVersion, credentials: (rejected?: Credentials) => license.credentials(rejected), onRegion };
  let agent: AgentChatApi | undefined;
  let configuration: ConfigurationApi | undefined;
  let bot: AgentChatApi | undefined;
  return {
    get bot() {
      return (bot ??= new AgentChatApi({ ...options, credentials: (rejected?: Credentials) => license.botCredentials(rejected) }));
    },
    get agent() {
      return (agent ??= new AgentChatApi(options));
    },
    get configuration() {
      return (configuration ??= new ConfigurationApi(options));
    },
  };
}
