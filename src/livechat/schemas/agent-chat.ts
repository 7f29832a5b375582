import * as z from "zod/mini";
import { pageShape, propertiesSchema, visibilitySchema } from "./common";
import { chatSchema, chatSummarySchema, threadSchema } from "./chat";
import { eventInputSchema } from "./events";
import { userTypeSchema } from "./users";

/**
 * Agent Chat Web API v3.6 request/response bodies (PLATFORM.md §4.3; samples in
 * examples/agent.v3.6.*.json).
 */

// ---- Routing status (PLATFORM.md §4.3 "set_routing_status" lives in the Agent Chat API) ----

/** Agents: accepting/not accepting; bots also `offline` (PLATFORM.md §4.3). */
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
/** `status` stays a string: spellings are normalised by livechat/webhooks (ARCHITECTURE.md "Forward compatible"). */
export const agentRoutingStatusSchema = z.looseObject({ agent_id: z.string(), status: z.string() });
export type AgentRoutingStatus = z.infer<typeof agentRoutingStatusSchema>;
export const listRoutingStatusesResponseSchema = z.array(agentRoutingStatusSchema);

// ---- Chats (PLATFORM.md §4.3) ----

export const getChatRequestSchema = z.looseObject({
  chat_id: z.string(),
  /** Default: the latest thread. */
  thread_id: z.optional(z.string()),
});
export type GetChatRequest = z.input<typeof getChatRequestSchema>;
export const getChatResponseSchema = chatSchema;
export type GetChatResponse = z.infer<typeof getChatResponseSchema>;

export const sortOrderSchema = z.enum(["asc", "desc"]);

export const listChatsRequestSchema = z.looseObject({
  filters: z.optional(
    z.looseObject({
      /** v3.6 name; v3.5 used `include_active` (PLATFORM.md §4.3). */
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
  /** Cannot be combined with filters, limit or sort_order (PLATFORM.md §4.1). */
  page_id: z.optional(z.string()),
});
export type ListChatsRequest = z.input<typeof listChatsRequestSchema>;
export const listChatsResponseSchema = z.looseObject({
  chats_summary: z.array(chatSummarySchema),
  found_chats: z.optional(z.number()),
  ...pageShape,
});
export type ListChatsResponse = z.infer<typeof listChatsResponseSchema>;

export const listThreadsRequestSchema = z.looseObject({
  chat_id: z.string(),
  sort_order: z.optional(sortOrderSchema),
  limit: z.optional(z.number()),
  page_id: z.optional(z.string()),
  min_events_count: z.optional(z.number()),
  filters: z.optional(z.looseObject({ from: z.optional(z.string()), to: z.optional(z.string()) })),
});
export type ListThreadsRequest = z.input<typeof listThreadsRequestSchema>;
export const listThreadsResponseSchema = z.looseObject({
  threads: z.array(threadSchema),
  found_threads: z.optional(z.number()),
  ...pageShape,
});
export type ListThreadsResponse = z.infer<typeof listThreadsResponseSchema>;

export const deactivateChatRequestSchema = z.looseObject({
  id: z.string(),
  ignore_requester_presence: z.optional(z.boolean()),
});
export type DeactivateChatRequest = z.input<typeof deactivateChatRequestSchema>;

// ---- Chat users (PLATFORM.md §4.3) ----

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

// ---- Events (PLATFORM.md §4.3: the sender must be in the chat; inactive chat → `chat_inactive`) ----

export const sendEventRequestSchema = z.looseObject({
  chat_id: z.string(),
  event: eventInputSchema,
  /** Documented only up to v3.3 (PLATFORM.md §4.3); kept for callers that know what they do. */
  attach_to_last_thread: z.optional(z.boolean()),
});
export type SendEventRequest = z.input<typeof sendEventRequestSchema>;
export const sendEventResponseSchema = z.looseObject({ event_id: z.string() });
export type SendEventResponse = z.infer<typeof sendEventResponseSchema>;

// ---- Threads: tags and properties (PLATFORM.md §4.3) ----

/** `tag` is case-sensitive (PLATFORM.md §4.3). */
export const tagThreadRequestSchema = z.looseObject({ chat_id: z.string(), thread_id: z.string(), tag: z.string() });
export type TagThreadRequest = z.input<typeof tagThreadRequestSchema>;

export const updateThreadPropertiesRequestSchema = z.looseObject({
  chat_id: z.string(),
  thread_id: z.string(),
  properties: propertiesSchema,
});
export type UpdateThreadPropertiesRequest = z.input<typeof updateThreadPropertiesRequestSchema>;
