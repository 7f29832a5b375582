import * as s from "./schemas/agent-chat";
import { WebApiClient, type WebApiOptions } from "./web-api";

/**
 * Agent Chat Web API v3.x: routing statuses, chats, chat users, events, thread tags and
 * properties (docs/LIVECHAT.md §4). In v3.6 a bot acts with its own token from `issue_bot_token`
 * (X-Author-Id is gone, docs/LIVECHAT.md §4.2); pass the license's region with it.
 *
 * @example
 * const agent = new AgentChatApi({ apiUrl, version: "3.6", credentials: { kind: "bearer", token: botJwt, region: "dal" } });
 * const { event_id } = await agent.sendEvent({ chat_id, event: { type: "message", text: "Hi!", visibility: "all" } });
 */
export class AgentChatApi extends WebApiClient {
  constructor(options: WebApiOptions) {
    super("agent", options);
  }

  /** `set_routing_status` of an agent or bot (bots may also be `offline`) (docs/LIVECHAT.md §4.3). */
  setRoutingStatus(request: s.SetRoutingStatusRequest): Promise<void> {
    return this.callVoid("set_routing_status", request);
  }

  /** `list_routing_statuses` → `[{agent_id, status}]` (docs/LIVECHAT.md §4.3). */
  listRoutingStatuses(request: s.ListRoutingStatusesRequest = {}): Promise<s.AgentRoutingStatus[]> {
    return this.call("list_routing_statuses", request, s.listRoutingStatusesResponseSchema);
  }

  /** `get_chat` with one thread (the latest unless `thread_id`) (docs/LIVECHAT.md §4.3). */
  getChat(request: s.GetChatRequest): Promise<s.GetChatResponse> {
    return this.call("get_chat", request, s.getChatResponseSchema);
  }

  /** `list_chats` → summaries plus paging (docs/LIVECHAT.md §4.3, §4.1 "Pagination"). */
  listChats(request: s.ListChatsRequest = {}): Promise<s.ListChatsResponse> {
    return this.call("list_chats", request, s.listChatsResponseSchema);
  }

  /** `list_threads` of a chat (docs/LIVECHAT.md §4.3). */
  listThreads(request: s.ListThreadsRequest): Promise<s.ListThreadsResponse> {
    return this.call("list_threads", request, s.listThreadsResponseSchema);
  }

  /** `add_user_to_chat`, e.g. a bot before it sends events (docs/LIVECHAT.md §4.3). */
  addUserToChat(request: s.AddUserToChatRequest): Promise<void> {
    return this.callVoid("add_user_to_chat", request);
  }

  /** `remove_user_from_chat` (docs/LIVECHAT.md §4.3). */
  removeUserFromChat(request: s.RemoveUserFromChatRequest): Promise<void> {
    return this.callVoid("remove_user_from_chat", request);
  }

  /**
   * `send_event` → `{event_id}` (docs/LIVECHAT.md §4.3). Fails with `chat_inactive` when the chat has
   * no active thread. Retried only after a rate limit: a 5xx or timeout may follow a stored event,
   * so the caller decides (set `custom_id` and look for it before sending again).
   */
  sendEvent(request: s.SendEventRequest): Promise<s.SendEventResponse> {
    // Not idempotent: only a rate limit is retried here (docs/LIVECHAT.md §4.3; see HttpRequest.idempotent).
    return this.call("send_event", request, s.sendEventResponseSchema, { idempotent: false });
  }

  /** `tag_thread`; the tag is case-sensitive (docs/LIVECHAT.md §4.3). */
  tagThread(request: s.TagThreadRequest): Promise<void> {
    return this.callVoid("tag_thread", request);
  }

  /** `untag_thread` (docs/LIVECHAT.md §4.3). */
  untagThread(request: s.TagThreadRequest): Promise<void> {
    return this.callVoid("untag_thread", request);
  }

  /** `deactivate_chat`: closes the active thread (docs/LIVECHAT.md §4.3). */
  deactivateChat(request: s.DeactivateChatRequest): Promise<void> {
    return this.callVoid("deactivate_chat", request);
  }

  /** `update_thread_properties` (docs/LIVECHAT.md §4.3). */
  updateThreadProperties(request: s.UpdateThreadPropertiesRequest): Promise<void> {
    return this.callVoid("update_thread_properties", request);
  }
}
