import { canonicalAction, type WebhookAction } from "./actions";
import { idString, isRecord } from "./schemas/common";

/**
 * Chat scope: which actions concern one chat (and are routed to that chat's Durable Object) and
 * where their chat id lives (docs/LIVECHAT.md §2.3). Everything else (configuration, routing status,
 * `incoming_customer`) is license-level.
 */
const chatScoped: ReadonlySet<WebhookAction> = new Set<WebhookAction>([
  "incoming_chat",
  "chat_deactivated",
  "chat_access_updated",
  "chat_transferred",
  "user_added_to_chat",
  "user_removed_from_chat",
  "incoming_event",
  "event_deleted",
  "event_updated",
  "incoming_rich_message_postback",
  "chat_properties_updated",
  "chat_properties_deleted",
  "thread_properties_updated",
  "thread_properties_deleted",
  "event_properties_updated",
  "event_properties_deleted",
  "thread_tagged",
  "thread_untagged",
  "events_marked_as_seen",
  "thread_summary_set",
  "customer_session_fields_updated",
]);

/** Actions that concern a single chat. */
export const chatScopedActions: readonly WebhookAction[] = Object.freeze([...chatScoped]);

/**
 * True when the action concerns one chat. `customer_session_fields_updated` is chat-scoped but may
 * lack `active_chat`; route on {@link chatIdOf} returning a value.
 */
export function isChatScoped(action: WebhookAction): boolean {
  return chatScoped.has(action);
}

/**
 * The chat id of a chat-scoped webhook, read from the raw (possibly invalid) payload: `chat.id` for
 * `incoming_chat`, `id` for `chat_access_updated`, `active_chat.chat_id` for
 * `customer_session_fields_updated`, `chat_id` otherwise. Undefined for license-level or unknown
 * actions and when the id is missing, not a string, empty or longer than 512 characters. Never throws.
 */
export function chatIdOf(action: string, payload: unknown): string | undefined {
  try {
    const name = canonicalAction(action);
    if (!name || !chatScoped.has(name) || !isRecord(payload)) return undefined;
    switch (name) {
      case "incoming_chat":
        return isRecord(payload.chat) ? idString(payload.chat.id) : undefined;
      case "chat_access_updated":
        return idString(payload.id);
      case "customer_session_fields_updated":
        return isRecord(payload.active_chat) ? idString(payload.active_chat.chat_id) : undefined;
      default:
        return idString(payload.chat_id);
    }
  } catch {
    return undefined; // only exotic objects (throwing getters) get here
  }
}
