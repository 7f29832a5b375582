import type { WebhookKind } from "../deliveries/types";
import { router } from "../handlers";
import { isChatScoped, isWebhookAction, webhookActions, type WebhookAction } from "../livechat/webhooks";

/**
 * The one declaration of the webhooks this app registers with LiveChat (`npm run setup`).
 *
 * What is registered follows from code, never from a hand-kept list:
 * - every action some handler of the app's router (`src/handlers.ts`) needs: a handler with
 *   `kind: "bot"` → a `bot` webhook; `kind: "license"` or no kind → a `license` webhook (a
 *   handler without kind runs for both endpoints, and the license webhook already delivers the
 *   license's every chat, docs/LIVECHAT.md §1.5);
 * - united with {@link BASE_WEBHOOKS}, the built-in bookkeeping the app always needs.
 *
 * Registration settings per action and type ({@link settingsFor}):
 * - `bot` webhooks of chat-scoped actions get `filters.chat_presence.my_bots: true`: only chats
 *   where one of our bots is present (docs/LIVECHAT.md §2.2, `chat_presence` is allowed on the
 *   chat-scoped actions exactly);
 * - `license` webhooks carry no filter; in particular `incoming_event` has no `author_type`, the
 *   bot behaviours need both customer and agent messages (a customer message starts the reply
 *   timer, an agent's reply stops it);
 * - no `additional_data` unless an override asks for it.
 */

/** `register_webhook.type` (docs/LIVECHAT.md §1.5, §3.2); the same names as the two webhook endpoints. */
export type WebhookType = WebhookKind;

/** Values of `register_webhook.additional_data` (docs/LIVECHAT.md §2.2). */
export type AdditionalDataKey = "chat_properties" | "chat_presence_user_ids";

/** `register_webhook.filters` (docs/LIVECHAT.md §2.2; which filter is allowed on which action is checked against `list_webhook_names`). */
export type WebhookFilters = {
  /** `incoming_event`, `event_updated`: only events authored by this user type. */
  author_type?: "customer" | "agent";
  /** Only chats whose `source.client_id` property is this client id. */
  only_my_chats?: boolean;
  /** Chat-scoped actions: who must (not) be in the chat. */
  chat_presence?: {
    user_ids?: { values: string[] } | { exclude_values: string[] };
    /** Any bot owned by `owner_client_id` is in the chat. */
    my_bots?: boolean;
  };
  /** All actions (since v3.4): which client triggered the event. */
  source_type?: Array<"my_client" | "other_clients" | "system">;
  /** `routing_status_set`. */
  agent_ids?: string[];
};

/** Per-webhook registration settings. */
export type WebhookSettings = {
  filters?: WebhookFilters;
  additional_data?: AdditionalDataKey[];
};

/** One webhook the app wants registered (for its own url; see `plan.ts`). */
export type DesiredWebhook = WebhookSettings & {
  /** A webhook action name (docs/LIVECHAT.md §2.1); checked against `list_webhook_names` before anything changes. */
  action: string;
  type: WebhookType;
};

/** What {@link declareWebhooks} reads from a router: the `WebhookRouter` API, nothing more. */
export interface HandlerSource {
  handlersFor(action: string, kind: WebhookKind): ReadonlyArray<{ kind?: WebhookKind }>;
}

/** Settings that replace the defaults for one action and type, e.g. `{ incoming_chat: { license: { additional_data: ["chat_properties"] } } }`. */
export type WebhookOverrides = Partial<Record<string, Partial<Record<WebhookType, WebhookSettings>>>>;

/**
 * Webhooks the app registers whatever its handlers are: the built-in bookkeeping.
 * - `routing_status_set`: the framework's status tracker (`framework/builtins.ts`) hands it to the
 *   License DO, which gates bot webhooks on the bot accepting chats (docs/LIVECHAT.md §1.5, §2.3).
 * - `bot_deleted`: tells the license that its bot is gone, so the bot identity (`licenses/bot.ts`,
 *   which recreates a missing bot on `ensure`) can react before the next reconcile; configuration
 *   webhooks are license-wide (docs/LIVECHAT.md §2.1). Recorded by the inbox even before a handler exists.
 */
export const BASE_WEBHOOKS: readonly { action: WebhookAction; type: WebhookType }[] = Object.freeze([
  { action: "routing_status_set", type: "license" },
  { action: "bot_deleted", type: "license" },
]);

/**
 * Default registration settings of `action` as a `type` webhook (rules in the module comment).
 *
 * @example
 * settingsFor("incoming_event", "bot");     // { filters: { chat_presence: { my_bots: true } } }
 * settingsFor("incoming_event", "license"); // {}
 */
export function settingsFor(action: string, type: WebhookType): WebhookSettings {
  if (type === "bot" && isWebhookAction(action) && isChatScoped(action)) {
    return { filters: { chat_presence: { my_bots: true } } };
  }
  return {};
}

/**
 * The desired webhooks for a router's handlers plus {@link BASE_WEBHOOKS}: one per action and
 * type, in docs/LIVECHAT.md §2.1 order, license before bot.
 *
 * @example
 * const desired = declareWebhooks(router);
 * // [{ action: "incoming_event", type: "license" }, ..., { action: "routing_status_set", type: "license" }, ...]
 */
export function declareWebhooks(source: HandlerSource, overrides: WebhookOverrides = {}): DesiredWebhook[] {
  const wanted = new Set<string>(BASE_WEBHOOKS.map((w) => key(w.action, w.type)));
  for (const action of webhookActions) {
    // A handler without kind is returned for both endpoints: it needs the license webhook only.
    if (source.handlersFor(action, "license").length > 0) wanted.add(key(action, "license"));
    if (source.handlersFor(action, "bot").some((h) => h.kind === "bot")) wanted.add(key(action, "bot"));
  }
  const desired: DesiredWebhook[] = [];
  for (const type of ["license", "bot"] as const) {
    for (const action of webhookActions) {
      if (!wanted.has(key(action, type))) continue;
      const settings = overrides[action]?.[type] ?? settingsFor(action, type);
      desired.push({ action, type, ...cloneSettings(settings) });
    }
  }
  return desired;
}

/** The app's declaration: {@link declareWebhooks} over the router of `src/handlers.ts`. */
export function appWebhooks(): DesiredWebhook[] {
  return declareWebhooks(router);
}

function key(action: string, type: WebhookType): string {
  return `${type}:${action}`;
}

function cloneSettings(settings: WebhookSettings): WebhookSettings {
  const out: WebhookSettings = {};
  if (settings.filters !== undefined) out.filters = structuredClone(settings.filters);
  if (settings.additional_data !== undefined) out.additional_data = [...settings.additional_data];
  return out;
}
