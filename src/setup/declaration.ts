import type { WebhookKind } from "../deliveries/types";
import { router } from "../handlers";
import { webhookActions, type WebhookAction } from "../livechat/webhooks";

/**
 * The one declaration of the webhooks this app registers with LiveChat (`npm run setup`).
 *
 * What is registered follows from code, never from a hand-kept list:
 * - every action some handler of the app's router (`src/handlers.ts`) needs: a handler with
 *   `kind: "bot"` (a bot behaviour) → a `bot` webhook, which LiveChat delivers only while the
 *   license's bot is not offline, so the license owner switches the bot's behaviours from the
 *   Agent App (docs/LIVECHAT.md §1.5); with `botWebhookType: "license"` (config
 *   BOT_WEBHOOK_TYPE) those become `license` webhooks instead. `kind: "license"` or no kind → a
 *   `license` webhook (delivered whatever the bot's status);
 * - united with {@link BASE_WEBHOOKS}, the built-in bookkeeping the app always needs.
 *
 * Registration settings per action and type ({@link settingsFor}): no filter and no
 * `additional_data` unless an override asks for them. In particular bot webhooks carry no
 * `chat_presence.my_bots` filter: the bot joins a chat only to speak (`supervisor` priority,
 * src/licenses/bot.ts), so it must hear chats it is not in yet; and `incoming_event` has no
 * `author_type`, the reply timer needs both customer and agent messages.
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

/** Inputs of {@link declareWebhooks} besides the router. */
export interface DeclareOptions {
  /** The webhook type of bot behaviours (config BOT_WEBHOOK_TYPE); `bot` by default. */
  botWebhookType?: WebhookType;
  /** Settings that replace the defaults for one action and type. */
  overrides?: WebhookOverrides;
}

/**
 * Webhooks the app registers whatever its handlers are: the built-in bookkeeping.
 * - `routing_status_set`: the framework's status tracker (`framework/builtins.ts`) hands it to the
 *   License DO, which gates bot webhooks on the bot accepting chats (docs/LIVECHAT.md §1.5, §2.3).
 * - `bot_deleted`: tells the license that its bot is gone (`framework/builtins.ts`), so it is
 *   re-provisioned at once (or, in owner routing mode, shown to the operator); configuration
 *   webhooks are license-wide (docs/LIVECHAT.md §2.1).
 * Both are license webhooks: a bot webhook would not arrive while the bot is offline, exactly
 * when the app needs to hear about it.
 */
export const BASE_WEBHOOKS: readonly { action: WebhookAction; type: WebhookType }[] = Object.freeze([
  { action: "routing_status_set", type: "license" },
  { action: "bot_deleted", type: "license" },
]);

/**
 * Default registration settings of `action` as a `type` webhook (rules in the module comment):
 * none for now; overrides ({@link DeclareOptions}) add filters or `additional_data` per action.
 *
 * @example
 * settingsFor("incoming_event", "bot"); // {}
 */
export function settingsFor(_action: string, _type: WebhookType): WebhookSettings {
  return {};
}

/**
 * The desired webhooks for a router's handlers plus {@link BASE_WEBHOOKS}: one per action and
 * type, in docs/LIVECHAT.md §2.1 order, license before bot.
 *
 * @example
 * const desired = declareWebhooks(router);
 * // [{ action: "chat_deactivated", type: "license" }, ..., { action: "incoming_event", type: "bot" }, ...]
 * declareWebhooks(router, { botWebhookType: "license" }); // every behaviour as a license webhook
 */
export function declareWebhooks(source: HandlerSource, options: DeclareOptions = {}): DesiredWebhook[] {
  const botType = options.botWebhookType ?? "bot";
  const overrides = options.overrides ?? {};
  const wanted = new Set<string>(BASE_WEBHOOKS.map((w) => key(w.action, w.type)));
  for (const action of webhookActions) {
    // Without botWebhookType "license", this lists kind "license" and kind-less handlers only.
    if (source.handlersFor(action, "license").some((h) => h.kind !== "bot")) wanted.add(key(action, "license"));
    if (source.handlersFor(action, "bot").some((h) => h.kind === "bot")) wanted.add(key(action, botType));
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
export function appWebhooks(botWebhookType: WebhookType = "bot"): DesiredWebhook[] {
  return declareWebhooks(router, { botWebhookType });
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
