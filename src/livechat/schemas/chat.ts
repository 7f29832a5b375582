import * as z from "zod/mini";
import { accessSchema, propertiesSchema } from "./common";
import { eventSchema } from "./events";
import { userSchema } from "./users";

/**
 * Chats, threads and chat summaries (docs/LIVECHAT.md §4.3–§4.4; test/fixtures/livechat/structure.v3.6.*.json,
 * agent.v3.6.get_chat.response.json, agent.v3.6.list_chats.response.json).
 */

/** A thread with its events (ADS "Thread"). */
export const threadSchema = z.looseObject({
  id: z.string(),
  active: z.optional(z.boolean()),
  created_at: z.optional(z.string()),
  user_ids: z.optional(z.array(z.string())),
  events: z.optional(z.array(eventSchema)),
  properties: z.optional(propertiesSchema),
  access: z.optional(accessSchema),
  tags: z.optional(z.array(z.string())),
  previous_thread_id: z.optional(z.string()),
  next_thread_id: z.optional(z.string()),
  /** 3.6 AI thread summary (`{status, text, updated_at}`). */
  summary: z.optional(z.looseObject({})),
  restricted_access: z.optional(z.string()),
});
export type Thread = z.infer<typeof threadSchema>;

/** A chat: `get_chat` returns one `thread` (the requested or latest); the ADS structure lists `threads`. */
export const chatSchema = z.looseObject({
  id: z.string(),
  thread: z.optional(threadSchema),
  threads: z.optional(z.array(threadSchema)),
  users: z.array(userSchema),
  properties: z.optional(propertiesSchema),
  access: z.optional(accessSchema),
  is_followed: z.optional(z.boolean()),
});
export type Chat = z.infer<typeof chatSchema>;

/** The latest thread of a chat in `list_chats` (ADS "Chat summary"). */
export const threadSummarySchema = z.looseObject({
  id: z.string(),
  created_at: z.optional(z.string()),
  user_ids: z.optional(z.array(z.string())),
  properties: z.optional(propertiesSchema),
  active: z.optional(z.boolean()),
  access: z.optional(accessSchema),
  tags: z.optional(z.array(z.string())),
});
export type ThreadSummary = z.infer<typeof threadSummarySchema>;

/**
 * One `chats_summary` entry. Users and last events are partial: the documented sample has
 * `"users": [{}, {}]` and `"event": {}` placeholders (test/fixtures/livechat/SOURCES.md "comment-only placeholders").
 */
export const chatSummarySchema = z.looseObject({
  id: z.string(),
  last_thread_summary: z.optional(threadSummarySchema),
  users: z.optional(z.array(z.partial(userSchema))),
  last_event_per_type: z.optional(
    z.record(
      z.string(),
      z.looseObject({
        thread_id: z.optional(z.string()),
        thread_created_at: z.optional(z.string()),
        event: z.optional(z.partial(eventSchema)),
      }),
    ),
  ),
  properties: z.optional(propertiesSchema),
  access: z.optional(accessSchema),
  is_followed: z.optional(z.boolean()),
});
export type ChatSummary = z.infer<typeof chatSummarySchema>;
