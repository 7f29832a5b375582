import * as z from "zod/mini";
import { AccessSchema, Id, PropertiesSchema, QueueSchema } from "./common";
import { ChatEventSchema } from "./events";
import { ChatUserSchema, CustomerProfileSchema } from "./users";

/**
 * Chat-level actions (docs/LIVECHAT.md §2.1 groups Chats, Chat access, Chat users, Thread tags,
 * Customers, Other; payloads §2.3 from W36 / W35).
 */

/** Thread structure (ADS; example structure.v3.6.thread.json). */
export const ThreadSchema = z.looseObject({
  id: Id,
  active: z.optional(z.boolean()),
  user_ids: z.optional(z.array(z.string())),
  events: z.optional(z.array(ChatEventSchema)),
  properties: z.optional(PropertiesSchema),
  access: z.optional(AccessSchema),
  tags: z.optional(z.array(z.string())),
  queue: z.optional(QueueSchema),
  created_at: z.optional(z.string()),
  previous_thread_id: z.optional(z.string()),
  next_thread_id: z.optional(z.string()),
});
export type ChatThread = z.output<typeof ThreadSchema>;

/** Chat with its single current `thread`, as in `incoming_chat` (docs/LIVECHAT.md §2.3). */
export const ChatSchema = z.looseObject({
  id: Id,
  users: z._default(z.array(ChatUserSchema), []),
  properties: z.optional(PropertiesSchema),
  thread: ThreadSchema,
  access: z.optional(AccessSchema),
  is_followed: z.optional(z.boolean()),
});
export type Chat = z.output<typeof ChatSchema>;

/** `incoming_chat`: `chat` (+ `requester_id`, `transferred_from` on the push equivalent; docs/LIVECHAT.md §2.3). */
export const IncomingChatPayloadSchema = z.looseObject({
  chat: ChatSchema,
  requester_id: z.optional(z.string()),
  transferred_from: z.optional(
    z.looseObject({ group_ids: z.optional(z.array(z.number())), agent_ids: z.optional(z.array(z.string())) }),
  ),
});
export type IncomingChatPayload = z.output<typeof IncomingChatPayloadSchema>;

/** `chat_deactivated`: `chat_id`, `thread_id`, `user_id?` (missing when the router closed it; docs/LIVECHAT.md §2.3). */
export const ChatDeactivatedPayloadSchema = z.looseObject({
  chat_id: Id,
  thread_id: Id,
  user_id: z.optional(z.string()),
});
export type ChatDeactivatedPayload = z.output<typeof ChatDeactivatedPayloadSchema>;

/** `chat_access_updated`: `id` (the chat id!), `access {group_ids}` (docs/LIVECHAT.md §2.3). */
export const ChatAccessUpdatedPayloadSchema = z.looseObject({ id: Id, access: AccessSchema });
export type ChatAccessUpdatedPayload = z.output<typeof ChatAccessUpdatedPayloadSchema>;

/**
 * `chat_transferred`: `chat_id`, `thread_id?` (if active), `requester_id?`, `reason`,
 * `transferred_to {group_ids?, agent_ids?}`, `queue?` (v3.5 `queued_at_us`; docs/LIVECHAT.md §2.3).
 */
export const ChatTransferredPayloadSchema = z.looseObject({
  chat_id: Id,
  thread_id: z.optional(Id),
  requester_id: z.optional(z.string()),
  /** `manual|inactive|assigned|unassigned|other` (W36); a string so a new reason does not reject. */
  reason: z.optional(z.string()),
  transferred_to: z.looseObject({
    group_ids: z.optional(z.array(z.number())),
    agent_ids: z.optional(z.array(z.string())),
  }),
  queue: z.optional(QueueSchema),
});
export type ChatTransferredPayload = z.output<typeof ChatTransferredPayloadSchema>;

const UserType = z.string();

/** `user_added_to_chat`: `chat_id`, `thread_id`, `user`, `user_type?`, `reason?`, `requester_id?` (docs/LIVECHAT.md §2.3). */
export const UserAddedToChatPayloadSchema = z.looseObject({
  chat_id: Id,
  thread_id: Id,
  user: ChatUserSchema,
  user_type: z.optional(UserType),
  reason: z.optional(z.string()),
  requester_id: z.optional(z.string()),
});
export type UserAddedToChatPayload = z.output<typeof UserAddedToChatPayloadSchema>;

/** `user_removed_from_chat`: `chat_id`, `thread_id`, `user_id`, `user_type?`, `reason?`, `requester_id?` (docs/LIVECHAT.md §2.3). */
export const UserRemovedFromChatPayloadSchema = z.looseObject({
  chat_id: Id,
  thread_id: Id,
  user_id: Id,
  user_type: z.optional(UserType),
  reason: z.optional(z.string()),
  requester_id: z.optional(z.string()),
});
export type UserRemovedFromChatPayload = z.output<typeof UserRemovedFromChatPayloadSchema>;

/** `thread_tagged` / `thread_untagged`: `chat_id`, `thread_id`, `tag` (docs/LIVECHAT.md §2.3). */
export const ThreadTagPayloadSchema = z.looseObject({ chat_id: Id, thread_id: Id, tag: z.string().check(z.minLength(1)) });
export type ThreadTaggedPayload = z.output<typeof ThreadTagPayloadSchema>;
export type ThreadUntaggedPayload = ThreadTaggedPayload;

/** `events_marked_as_seen`: `user_id`, `chat_id`, `seen_up_to` (RFC 3339; docs/LIVECHAT.md §2.3). */
export const EventsMarkedAsSeenPayloadSchema = z.looseObject({ user_id: Id, chat_id: Id, seen_up_to: z.string() });
export type EventsMarkedAsSeenPayload = z.output<typeof EventsMarkedAsSeenPayloadSchema>;

/** `thread_summary_set` (3.6 only): `chat_id`, `thread_id`, `summary {status: ok|error, text, updated_at}` (docs/LIVECHAT.md §2.3). */
export const ThreadSummarySetPayloadSchema = z.looseObject({
  chat_id: Id,
  thread_id: Id,
  summary: z.looseObject({
    status: z.string(),
    text: z.optional(z.string()),
    updated_at: z.optional(z.string()),
  }),
});
export type ThreadSummarySetPayload = z.output<typeof ThreadSummarySetPayloadSchema>;

/**
 * `customer_session_fields_updated`: `id` (customer), `active_chat {chat_id, thread_id}`,
 * `session_fields [{key: value}]` (docs/LIVECHAT.md §2.3); sent once per active chat of the customer.
 */
export const CustomerSessionFieldsUpdatedPayloadSchema = z.looseObject({
  id: Id,
  active_chat: z.optional(z.looseObject({ chat_id: Id, thread_id: z.optional(Id) })),
  session_fields: z.optional(z.array(z.record(z.string(), z.unknown()))),
});
export type CustomerSessionFieldsUpdatedPayload = z.output<typeof CustomerSessionFieldsUpdatedPayloadSchema>;

/** `incoming_customer` (v3.5 only, removed in 3.6): `customer` (docs/LIVECHAT.md §2.1, §2.3 / W35). */
export const IncomingCustomerPayloadSchema = z.looseObject({ customer: CustomerProfileSchema });
export type IncomingCustomerPayload = z.output<typeof IncomingCustomerPayloadSchema>;
