/**
 * Webhook parsing for LiveChat license/bot webhooks (v3.6 and v3.5): pure functions, no Worker
 * bindings, no I/O (docs/INTERNALS.md "Webhook parsing"; docs/LIVECHAT.md §1–§2).
 *
 * Before the 200 (cheapest first): size → content type → JSON → {@link parseEnvelope} (400) →
 * {@link secretMatches} (401) → route by {@link chatIdOf} → store {@link storedBody}. After it, in
 * the inbox: {@link parseAction} (unknown action / invalid payload: recorded as unprocessable) and
 * the {@link dedupeKey} claim.
 */
export { parseEnvelope, pickRequester, redactEnvelope, storedBody, withOrganizationId, nestingDepth, MAX_BODY_DEPTH, MAX_SECRET_LENGTH, type Envelope } from "./envelope";
export { secretMatches } from "./verify";
export { normalizeRoutingStatus, type RoutingStatus } from "./routing-status";
export {
  parseAction,
  canonicalAction,
  isWebhookAction,
  webhookActions,
  webhookActionsV35,
  webhookActionsV36,
  actionSchemas,
  type WebhookAction,
  type WebhookPayload,
  type ParsedAction,
} from "./actions";
export { isChatScoped, chatIdOf, chatScopedActions } from "./scope";
export { dedupeKey, dedupeKeyKind, dedupeSubject, canonicalJson, sha256Hex } from "./dedupe";
export { summarizeIssues, MAX_SUMMARY_LENGTH } from "./issues";

export type { Access, Properties, RatingProperties, DeletedProperties, Queue } from "./schemas/common";
export {
  isAgentUser,
  isCustomerUser,
  type AgentUser,
  type CustomerUser,
  type CustomerProfile,
  type UnknownUser,
  type ChatUser,
  type Visit,
} from "./schemas/users";
export {
  isEventType,
  isDeletedEvent,
  eventTypes,
  type ChatEvent,
  type KnownEvent,
  type KnownEventType,
  type MessageEvent,
  type RichMessageEvent,
  type FileEvent,
  type FormEvent,
  type FilledFormEvent,
  type CustomEvent,
  type SystemMessageEvent,
  type SystemEvent,
  type DeletedEvent,
  type UnknownEvent,
  type IncomingEventPayload,
  type EventUpdatedPayload,
  type EventDeletedPayload,
  type IncomingRichMessagePostbackPayload,
} from "./schemas/events";
export type {
  Chat,
  ChatThread,
  IncomingChatPayload,
  ChatDeactivatedPayload,
  ChatAccessUpdatedPayload,
  ChatTransferredPayload,
  UserAddedToChatPayload,
  UserRemovedFromChatPayload,
  ThreadTaggedPayload,
  ThreadUntaggedPayload,
  EventsMarkedAsSeenPayload,
  ThreadSummarySetPayload,
  CustomerSessionFieldsUpdatedPayload,
  IncomingCustomerPayload,
} from "./schemas/chats";
export type {
  ChatPropertiesUpdatedPayload,
  ChatPropertiesDeletedPayload,
  ThreadPropertiesUpdatedPayload,
  ThreadPropertiesDeletedPayload,
  EventPropertiesUpdatedPayload,
  EventPropertiesDeletedPayload,
} from "./schemas/properties";
export type { RoutingStatusSetPayload } from "./schemas/status";
export type {
  AgentCreatedPayload,
  AgentUpdatedPayload,
  AgentIdPayload,
  AutoAccessChange,
  AutoAccessesUpdatedPayload,
  BotCreatedPayload,
  BotUpdatedPayload,
  BotDeletedPayload,
  GroupCreatedPayload,
  GroupUpdatedPayload,
  GroupDeletedPayload,
  TagCreatedPayload,
  TagUpdatedPayload,
  TagDeletedPayload,
} from "./schemas/configuration";
