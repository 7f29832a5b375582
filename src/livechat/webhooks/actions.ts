import type * as z from "zod/mini";
import { summarizeIssues } from "./issues";
import {
  ChatAccessUpdatedPayloadSchema,
  ChatDeactivatedPayloadSchema,
  ChatTransferredPayloadSchema,
  CustomerSessionFieldsUpdatedPayloadSchema,
  EventsMarkedAsSeenPayloadSchema,
  IncomingChatPayloadSchema,
  IncomingCustomerPayloadSchema,
  ThreadSummarySetPayloadSchema,
  ThreadTagPayloadSchema,
  UserAddedToChatPayloadSchema,
  UserRemovedFromChatPayloadSchema,
} from "./schemas/chats";
import {
  AgentCreatedPayloadSchema,
  AgentIdPayloadSchema,
  AgentUpdatedPayloadSchema,
  AutoAccessesUpdatedPayloadSchema,
  BotCreatedPayloadSchema,
  BotDeletedPayloadSchema,
  BotUpdatedPayloadSchema,
  GroupCreatedPayloadSchema,
  GroupDeletedPayloadSchema,
  GroupUpdatedPayloadSchema,
  TagCreatedPayloadSchema,
  TagDeletedPayloadSchema,
  TagUpdatedPayloadSchema,
} from "./schemas/configuration";
import {
  EventDeletedPayloadSchema,
  EventUpdatedPayloadSchema,
  IncomingEventPayloadSchema,
  IncomingRichMessagePostbackPayloadSchema,
} from "./schemas/events";
import {
  ChatPropertiesDeletedPayloadSchema,
  ChatPropertiesUpdatedPayloadSchema,
  EventPropertiesDeletedPayloadSchema,
  EventPropertiesUpdatedPayloadSchema,
  ThreadPropertiesDeletedPayloadSchema,
  ThreadPropertiesUpdatedPayloadSchema,
} from "./schemas/properties";
import { RoutingStatusSetPayloadSchema } from "./schemas/status";

/**
 * Index of every webhook action of v3.6 and v3.5 (docs/LIVECHAT.md §2.1) → its payload schema (§2.3).
 * Key order follows the §2.1 table.
 */
export const actionSchemas = {
  // Chats
  incoming_chat: IncomingChatPayloadSchema,
  chat_deactivated: ChatDeactivatedPayloadSchema,
  // Chat access
  chat_access_updated: ChatAccessUpdatedPayloadSchema,
  chat_transferred: ChatTransferredPayloadSchema,
  // Chat users
  user_added_to_chat: UserAddedToChatPayloadSchema,
  user_removed_from_chat: UserRemovedFromChatPayloadSchema,
  // Events
  incoming_event: IncomingEventPayloadSchema,
  event_deleted: EventDeletedPayloadSchema,
  event_updated: EventUpdatedPayloadSchema,
  incoming_rich_message_postback: IncomingRichMessagePostbackPayloadSchema,
  // Properties
  chat_properties_updated: ChatPropertiesUpdatedPayloadSchema,
  chat_properties_deleted: ChatPropertiesDeletedPayloadSchema,
  thread_properties_updated: ThreadPropertiesUpdatedPayloadSchema,
  thread_properties_deleted: ThreadPropertiesDeletedPayloadSchema,
  event_properties_updated: EventPropertiesUpdatedPayloadSchema,
  event_properties_deleted: EventPropertiesDeletedPayloadSchema,
  // Thread tags
  thread_tagged: ThreadTagPayloadSchema,
  thread_untagged: ThreadTagPayloadSchema,
  // Status
  routing_status_set: RoutingStatusSetPayloadSchema,
  // Customers
  incoming_customer: IncomingCustomerPayloadSchema,
  customer_session_fields_updated: CustomerSessionFieldsUpdatedPayloadSchema,
  // Configuration
  agent_created: AgentCreatedPayloadSchema,
  agent_approved: AgentIdPayloadSchema,
  agent_updated: AgentUpdatedPayloadSchema,
  agent_suspended: AgentIdPayloadSchema,
  agent_unsuspended: AgentIdPayloadSchema,
  agent_deleted: AgentIdPayloadSchema,
  auto_accesses_updated: AutoAccessesUpdatedPayloadSchema,
  bot_created: BotCreatedPayloadSchema,
  bot_updated: BotUpdatedPayloadSchema,
  bot_deleted: BotDeletedPayloadSchema,
  group_created: GroupCreatedPayloadSchema,
  group_updated: GroupUpdatedPayloadSchema,
  group_deleted: GroupDeletedPayloadSchema,
  tag_created: TagCreatedPayloadSchema,
  tag_deleted: TagDeletedPayloadSchema,
  tag_updated: TagUpdatedPayloadSchema,
  // Other
  events_marked_as_seen: EventsMarkedAsSeenPayloadSchema,
  thread_summary_set: ThreadSummarySetPayloadSchema,
} as const;

/** Every webhook action name of v3.6 and v3.5 (docs/LIVECHAT.md §2.1). */
export type WebhookAction = keyof typeof actionSchemas;

/** The parsed (output) payload type of one action, inferred from its schema. */
export type WebhookPayload<A extends WebhookAction> = z.output<(typeof actionSchemas)[A]>;

/** Result of {@link parseAction}: a typed payload, or why the webhook is unprocessable. */
export type ParsedAction =
  | { [A in WebhookAction]: { ok: true; action: A; payload: WebhookPayload<A> } }[WebhookAction]
  | { ok: false; reason: "unknown_action" | "invalid_payload"; error: string };

/** All action names (v3.6 ∪ v3.5), in docs/LIVECHAT.md §2.1 order. */
export const webhookActions: readonly WebhookAction[] = Object.freeze(Object.keys(actionSchemas) as WebhookAction[]);

/** Actions of v3.5 only (removed in 3.6) and of v3.6 only (docs/LIVECHAT.md §2.1, CCL). */
const onlyV35: ReadonlySet<string> = new Set<WebhookAction>(["incoming_customer"]);
const onlyV36: ReadonlySet<string> = new Set<WebhookAction>(["event_deleted", "thread_summary_set"]);

/** Actions available in v3.6 (for `register_webhook`, docs/LIVECHAT.md §2.1). */
export const webhookActionsV36: readonly WebhookAction[] = Object.freeze(webhookActions.filter((a) => !onlyV35.has(a)));

/** Actions available in v3.5 (docs/LIVECHAT.md §2.1). */
export const webhookActionsV35: readonly WebhookAction[] = Object.freeze(webhookActions.filter((a) => !onlyV36.has(a)));

/**
 * Alternative spellings mapped to an action. All three documented `auto_accesses_updated` samples
 * carry `"action": "auto_access_added"` (a docs quirk; pre-3.5 names were `auto_access_added|updated|deleted`,
 * docs/LIVECHAT.md §2.3), so those names are read as `auto_accesses_updated`.
 */
const aliases: ReadonlyMap<string, WebhookAction> = new Map<string, WebhookAction>([
  ["auto_access_added", "auto_accesses_updated"],
  ["auto_access_updated", "auto_accesses_updated"],
  ["auto_access_deleted", "auto_accesses_updated"],
]);

/** The action an `action` string names (aliases resolved), or undefined for an unknown action. */
export function canonicalAction(action: string): WebhookAction | undefined {
  if (typeof action !== "string") return undefined;
  if (Object.hasOwn(actionSchemas, action)) return action as WebhookAction;
  return aliases.get(action);
}

/** True when `action` (or an alias of it) is a known webhook action. */
export function isWebhookAction(action: string): action is WebhookAction {
  return typeof action === "string" && Object.hasOwn(actionSchemas, action);
}

/** Action names as they may appear in messages: printable, clipped. */
function printableAction(action: unknown): string {
  if (typeof action !== "string") return `(${typeof action})`;
  const clean = action.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}

/**
 * Validate a webhook payload against its action's schema. Never throws.
 *
 * Unknown fields pass through; only what the code reads is checked. Routing statuses come out in the
 * canonical spelling, v3.5 `last_visit` / `queued_at_us` are mirrored to `visit` / `queued_at`, and
 * `auto_access_added|updated|deleted` are read as `auto_accesses_updated`. On failure, `error` is a
 * short `path: problem` summary without input values.
 */
export function parseAction(action: string, payload: unknown): ParsedAction {
  const name = canonicalAction(action);
  if (!name) return { ok: false, reason: "unknown_action", error: `unknown action ${printableAction(action)}` };
  try {
    const result = actionSchemas[name].safeParse(payload, { reportInput: true });
    if (!result.success) return { ok: false, reason: "invalid_payload", error: summarizeIssues(result.error.issues) };
    return { ok: true, action: name, payload: result.data } as ParsedAction;
  } catch {
    // Defensive: schemas do not throw on any JSON input, but a handler must never see an exception from here.
    return { ok: false, reason: "invalid_payload", error: "payload could not be validated" };
  }
}
