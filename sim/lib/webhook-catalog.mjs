// Which webhook actions exist per API version and which registration filters each accepts
// (docs/LIVECHAT.md §2.1, §2.2 / C36 "Triggering actions", C35).

const CHAT = ["chat_presence", "only_my_chats", "source_type"];
const EVENT = ["chat_presence", "author_type", "only_my_chats", "source_type"];
const CONFIG = ["source_type"];

/** v3.6 actions → allowed filters. */
const V36 = {
  incoming_chat: CHAT,
  chat_deactivated: CHAT,
  chat_access_updated: CHAT,
  chat_transferred: CHAT,
  user_added_to_chat: CHAT,
  user_removed_from_chat: CHAT,
  incoming_event: EVENT,
  event_deleted: CHAT,
  event_updated: EVENT,
  incoming_rich_message_postback: CHAT,
  chat_properties_updated: CHAT,
  chat_properties_deleted: CHAT,
  thread_properties_updated: CHAT,
  thread_properties_deleted: CHAT,
  event_properties_updated: CHAT,
  event_properties_deleted: CHAT,
  thread_tagged: CHAT,
  thread_untagged: CHAT,
  routing_status_set: ["agent_ids", "source_type"],
  customer_session_fields_updated: ["chat_presence", "source_type"],
  events_marked_as_seen: CHAT,
  group_created: CONFIG,
  group_updated: CONFIG,
  group_deleted: CONFIG,
  agent_created: CONFIG,
  agent_updated: CONFIG,
  agent_deleted: CONFIG,
  agent_suspended: CONFIG,
  agent_unsuspended: CONFIG,
  agent_approved: CONFIG,
  bot_created: CONFIG,
  bot_updated: CONFIG,
  bot_deleted: CONFIG,
  auto_accesses_updated: CONFIG,
  tag_created: CONFIG,
  tag_deleted: CONFIG,
  tag_updated: CONFIG,
  thread_summary_set: CHAT,
};

/** v3.5: v3.6 minus `event_deleted` and `thread_summary_set`, plus `incoming_customer` (docs/LIVECHAT.md §2.1). */
const V35 = Object.fromEntries([
  ...Object.entries(V36).filter(([action]) => action !== "event_deleted" && action !== "thread_summary_set"),
  ["incoming_customer", ["chat_presence", "source_type"]],
]);

const BY_VERSION = { "3.5": V35, "3.6": V36 };

/** Versions whose webhooks and APIs the simulator serves. */
export const SUPPORTED_VERSIONS = Object.keys(BY_VERSION);

/** Actions whose v3.6 body carries `requester` (CCL v3.6 "Webhooks"). */
export const CONFIGURATION_ACTIONS = new Set(
  Object.entries(V36)
    .filter(([, filters]) => filters === CONFIG)
    .map(([action]) => action),
);

/** `additional_data` is possible for every action except these (C36 register_webhook). */
const NO_ADDITIONAL_DATA = new Set(["agent_deleted", "agent_status_changed"]);

/**
 * Allowed filters of `action` in `version`, or undefined when the action does not exist there.
 * @param {string} version
 * @param {string} action
 * @returns {string[] | undefined}
 */
export function filtersFor(version, action) {
  return BY_VERSION[version]?.[action];
}

/**
 * Whether `additional_data` may be requested for `action`.
 * @param {string} action
 */
export function allowsAdditionalData(action) {
  return !NO_ADDITIONAL_DATA.has(action);
}

/**
 * The `list_webhook_names` answer for a version (CP `listWebhookNames.json` shape).
 * @param {string} version
 */
export function webhookNames(version) {
  return Object.entries(BY_VERSION[version] ?? {}).map(([action, filters]) => ({
    action,
    filters: [...filters],
    ...(allowsAdditionalData(action) ? { additional_data: ["chat_properties", "chat_presence_user_ids"] } : {}),
  }));
}
