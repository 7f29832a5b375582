import * as z from "zod/mini";
import { Id, IdOnlySchema, IntId } from "./common";

/**
 * Configuration actions (docs/LIVECHAT.md §2.1 "Configuration", payloads §2.3 / W36). In v3.6 their
 * envelope also carries `requester` (docs/LIVECHAT.md §1.2), parsed by the envelope, not here.
 * `*_updated` payloads carry the id plus only the changed fields.
 */

const GroupPriority = z.looseObject({ id: IntId, priority: z.optional(z.string()) });

/** `agent_created`: the full Agent (docs/LIVECHAT.md §2.3). */
export const AgentCreatedPayloadSchema = z.looseObject({
  id: Id,
  name: z.optional(z.string()),
  role: z.optional(z.string()),
  awaiting_approval: z.optional(z.boolean()),
  groups: z.optional(z.array(GroupPriority)),
});
export type AgentCreatedPayload = z.output<typeof AgentCreatedPayloadSchema>;

/** `agent_updated`: `id` + changed fields. */
export const AgentUpdatedPayloadSchema = z.looseObject({
  id: Id,
  name: z.optional(z.string()),
  role: z.optional(z.string()),
  groups: z.optional(z.array(GroupPriority)),
});
export type AgentUpdatedPayload = z.output<typeof AgentUpdatedPayloadSchema>;

/** `agent_approved` / `agent_suspended` / `agent_unsuspended` / `agent_deleted`: `{id}`. */
export const AgentIdPayloadSchema = IdOnlySchema;
export type AgentIdPayload = z.output<typeof AgentIdPayloadSchema>;

/** `bot_created`: `id`, `name`, `default_group_priority`, `groups`, `owner_client_id` (docs/LIVECHAT.md §2.3). */
export const BotCreatedPayloadSchema = z.looseObject({
  id: Id,
  name: z.optional(z.string()),
  default_group_priority: z.optional(z.string()),
  groups: z.optional(z.array(GroupPriority)),
  owner_client_id: z.optional(z.string()),
});
export type BotCreatedPayload = z.output<typeof BotCreatedPayloadSchema>;

/** `bot_updated`: `id` + changed fields. */
export const BotUpdatedPayloadSchema = z.looseObject({ id: Id, name: z.optional(z.string()) });
export type BotUpdatedPayload = z.output<typeof BotUpdatedPayloadSchema>;

/** `bot_deleted`: `{id}`. */
export const BotDeletedPayloadSchema = IdOnlySchema;
export type BotDeletedPayload = z.output<typeof BotDeletedPayloadSchema>;

/** `group_created`: `id:int`, `name`, `language_code`, `agent_priorities {agent_id: priority}` (docs/LIVECHAT.md §2.3). */
export const GroupCreatedPayloadSchema = z.looseObject({
  id: IntId,
  name: z.optional(z.string()),
  language_code: z.optional(z.string()),
  agent_priorities: z.optional(z.record(z.string(), z.string())),
});
export type GroupCreatedPayload = z.output<typeof GroupCreatedPayloadSchema>;

/** `group_updated`: `id` + changed fields. */
export const GroupUpdatedPayloadSchema = GroupCreatedPayloadSchema;
export type GroupUpdatedPayload = GroupCreatedPayload;

/** `group_deleted`: `{id:int}`. */
export const GroupDeletedPayloadSchema = z.looseObject({ id: IntId });
export type GroupDeletedPayload = z.output<typeof GroupDeletedPayloadSchema>;

/** `tag_created`: `name`, `group_ids:int[]`, `created_at`, `author_id` (docs/LIVECHAT.md §2.3). */
export const TagCreatedPayloadSchema = z.looseObject({
  name: z.string().check(z.minLength(1)),
  group_ids: z.optional(z.array(IntId)),
  created_at: z.optional(z.string()),
  author_id: z.optional(z.string()),
});
export type TagCreatedPayload = z.output<typeof TagCreatedPayloadSchema>;

/** `tag_updated`: `name`, `group_ids`. */
export const TagUpdatedPayloadSchema = TagCreatedPayloadSchema;
export type TagUpdatedPayload = TagCreatedPayload;

/** `tag_deleted`: `{name}`. */
export const TagDeletedPayloadSchema = z.looseObject({ name: z.string().check(z.minLength(1)) });
export type TagDeletedPayload = z.output<typeof TagDeletedPayloadSchema>;

/** One change record of `auto_accesses_updated`: `{id, status: added|updated|deleted, next_id?, ...rule}`. */
export const AutoAccessChangeSchema = z.looseObject({
  id: Id,
  status: z.optional(z.string()),
  next_id: z.optional(z.string()),
  description: z.optional(z.string()),
  access: z.optional(z.looseObject({ groups: z.optional(z.array(IntId)) })),
  conditions: z.optional(z.record(z.string(), z.unknown())),
});
export type AutoAccessChange = z.output<typeof AutoAccessChangeSchema>;

/**
 * `auto_accesses_updated`: the payload is an **array** of change records (docs/LIVECHAT.md §2.3 / W36).
 * A single record (pre-3.5 `auto_access_added|updated|deleted` style) is wrapped into an array.
 */
export const AutoAccessesUpdatedPayloadSchema = z.union([
  z.array(AutoAccessChangeSchema),
  z.pipe(AutoAccessChangeSchema, z.transform((change) => [change])),
]);
export type AutoAccessesUpdatedPayload = z.output<typeof AutoAccessesUpdatedPayloadSchema>;
