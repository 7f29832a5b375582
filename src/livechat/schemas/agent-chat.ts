import * as z from "zod/mini";
import { pageShape } from "./common";
import { chatSchema, chatSummarySchema, threadSchema } from "./chat";

/**
 * Agent Chat Web API v3.6 response bodies (docs/LIVECHAT.md §4.3; samples in
 * test/fixtures/livechat/agent.v3.6.*.json).
 */

// Request bodies: types only here (their schemas, for tests, are in ./agent-chat-requests.ts).
export type {
  RoutingStatus,
  SetRoutingStatusRequest,
  ListRoutingStatusesRequest,
  GetChatRequest,
  ListChatsRequest,
  ListThreadsRequest,
  DeactivateChatRequest,
  AddUserToChatRequest,
  RemoveUserFromChatRequest,
  SendEventRequest,
  TagThreadRequest,
  UpdateThreadPropertiesRequest,
} from "./agent-chat-requests";

// ---- Routing status (docs/LIVECHAT.md §4.3 "set_routing_status" lives in the Agent Chat API) ----

/** `status` stays a string: spellings are normalised by livechat/webhooks (docs/ARCHITECTURE.md "Forward compatible"). */
export const agentRoutingStatusSchema = z.looseObject({ agent_id: z.string(), status: z.string() });
export type AgentRoutingStatus = z.infer<typeof agentRoutingStatusSchema>;
export const listRoutingStatusesResponseSchema = z.array(agentRoutingStatusSchema);

// ---- Chats (docs/LIVECHAT.md §4.3) ----

export const getChatResponseSchema = chatSchema;
export type GetChatResponse = z.infer<typeof getChatResponseSchema>;

export const listChatsResponseSchema = z.looseObject({
  chats_summary: z.array(chatSummarySchema),
  found_chats: z.optional(z.number()),
  ...pageShape,
});
export type ListChatsResponse = z.infer<typeof listChatsResponseSchema>;

export const listThreadsResponseSchema = z.looseObject({
  threads: z.array(threadSchema),
  found_threads: z.optional(z.number()),
  ...pageShape,
});
export type ListThreadsResponse = z.infer<typeof listThreadsResponseSchema>;

// ---- Chat users (docs/LIVECHAT.md §4.3) ----

// ---- Events (docs/LIVECHAT.md §4.3: the sender must be in the chat; inactive chat → `chat_inactive`) ----

export const sendEventResponseSchema = z.looseObject({ event_id: z.string() });
export type SendEventResponse = z.infer<typeof sendEventResponseSchema>;

// ---- Threads: tags and properties (docs/LIVECHAT.md §4.3) ----
