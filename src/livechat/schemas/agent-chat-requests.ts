import * as z from "zod/mini";
import { propertiesSchema, visibilitySchema } from "./common";
import { userTypeSchema } from "./users";

/**
 * Agent Chat Web API v3.6 request bodies (docs/LIVECHAT.md §4.3; samples in test/fixtures/livechat/agent.v3.6.*.json):
 * the types of what the client sends, and schemas the tests hold the requests against. Apart from
 * the response schemas (./agent-chat.ts) so that the Worker bundle, which only needs the types,
 * does not carry them.
 */

/** Agents: accepting/not accepting; bots also `offline` (docs/LIVECHAT.md §4.3). */
export const routingStatusSchema = z.enum(["accepting_chats", "not_accepting_chats", "offline"]);
export type RoutingStatus = z.infer<typeof routingStatusSchema>;
export const setRoutingStatusRequestSchema = z.looseObject({
  status: routingStatusSchema,
  /** The agent or bot; defaults to the requester. */
  agent_id: z.optional(z.string()),
});
export type SetRoutingStatusRequest = z.input<typeof setRoutingStatusRequestSchema>;
export const listRoutingStatusesRequestSchema = z.looseObject({
  filters: z.optional(z.looseObject({ group_ids: z.optional(z.array(z.number())) })),
});
export type ListRoutingStatusesRequest = z.input<typeof listRoutingStatusesRequestSchema>;
export const getChatRequestSchema = z.looseObject({
  chat_id: z.string(),
  /** Default: the latest thread. */
  thread_id: z.optional(z.string()),
});
export type GetChatRequest = z.input<typeof getChatRequestSchema>;
export const sortOrderSchema = z.enum(["asc", "desc"]);
export const listChatsRequestSchema = z.looseObject({
  filters: z.optional(
    z.looseObject({
      /** v3.6 name; v3.5 used `include_active` (docs/LIVECHAT.md §4.3). */
      active: z.optional(z.boolean()),
      include_active: z.optional(z.boolean()),
      include_chats_without_threads: z.optional(z.boolean()),
      group_ids: z.optional(z.array(z.number())),
      properties: z.optional(z.record(z.string(), z.unknown())),
    }),
  ),
  sort_order: z.optional(sortOrderSchema),
  /** ≤ 100, default 10. */
  limit: z.optional(z.number()),
  /** Cannot be combined with filters, limit or sort_order (docs/LIVECHAT.md §4.1). */
  page_id: z.optional(z.string()),
});
export type ListChatsRequest = z.input<typeof listChatsRequestSchema>;
export const listThreadsRequestSchema = z.looseObject({
  chat_id: z.string(),
  sort_order: z.optional(sortOrderSchema),
  limit: z.optional(z.number()),
  page_id: z.optional(z.string()),
  min_events_count: z.optional(z.number()),
  filters: z.optional(z.looseObject({ from: z.optional(z.string()), to: z.optional(z.string()) })),
});
export type ListThreadsRequest = z.input<typeof listThreadsRequestSchema>;
export const deactivateChatRequestSchema = z.looseObject({
  id: z.string(),
  ignore_requester_presence: z.optional(z.boolean()),
});
export type DeactivateChatRequest = z.input<typeof deactivateChatRequestSchema>;
export const addUserToChatRequestSchema = z.looseObject({
  chat_id: z.string(),
  user_id: z.string(),
  user_type: userTypeSchema,
  visibility: visibilitySchema,
  ignore_requester_presence: z.optional(z.boolean()),
});
export type AddUserToChatRequest = z.input<typeof addUserToChatRequestSchema>;
export const removeUserFromChatRequestSchema = z.looseObject({
  chat_id: z.string(),
  user_id: z.string(),
  user_type: userTypeSchema,
  ignore_requester_presence: z.optional(z.boolean()),
});
export type RemoveUserFromChatRequest = z.input<typeof removeUserFromChatRequestSchema>;
/**
 * An event to send with `send_event` (docs/LIVECHAT.md §4.3: `{type:"message", text, visibility?,
 * custom_id?, properties?}`); other event types add their own fields.
 */
export const eventInputSchema = z.looseObject({
  type: z.string(),
  text: z.optional(z.string()),
  visibility: z.optional(visibilitySchema),
  custom_id: z.optional(z.string()),
  properties: z.optional(propertiesSchema),
});
export type EventInput = z.input<typeof eventInputSchema>;

export const sendEventRequestSchema = z.looseObject({
  chat_id: z.string(),
  event: eventInputSchema,
  /** Documented only up to v3.3 (docs/LIVECHAT.md §4.3); kept for callers that know what they do. */
  attach_to_last_thread: z.optional(z.boolean()),
});
export type SendEventRequest = z.input<typeof sendEventRequestSchema>;
/** `tag` is case-sensitive (docs/LIVECHAT.md §4.3). */
export const tagThreadRequestSchema = z.looseObject({ chat_id: z.string(), thread_id: z.string(), tag: z.string() });
export type TagThreadRequest = z.input<typeof tagThreadRequestSchema>;
export const updateThreadPropertiesRequestSchema = z.looseObject({
  chat_id: z.string(),
  thread_id: z.string(),
  properties: propertiesSchema,
});
export type UpdateThreadPropertiesRequest = z.input<typeof updateThreadPropertiesRequestSchema>;
