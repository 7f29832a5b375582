import * as z from "zod/mini";

/**
 * Configuration API v3.6 request bodies (docs/LIVECHAT.md §3.2–§3.4; samples in
 * test/fixtures/livechat/configuration.v3.6.*.json): the types of what the client sends, and schemas the tests
 * hold the requests against. Apart from the response schemas (./configuration.ts) so that the
 * Worker bundle, which only needs the types, does not carry them.
 */

/** `license` webhooks fire for the whole license; `bot` webhooks for the app's bots (docs/LIVECHAT.md §1.5). */
export const webhookTypeSchema = z.enum(["license", "bot"]);

/** Routing priority of a bot in a group (docs/LIVECHAT.md §3.3 "Priorities"). */
export const groupPrioritySchema = z.enum(["first", "normal", "last", "supervisor"]);
export type GroupPriority = z.infer<typeof groupPrioritySchema>;

export const registerWebhookRequestSchema = z.looseObject({
  url: z.string(),
  action: z.string(),
  secret_key: z.string(),
  /** Always required for the webhook methods (docs/LIVECHAT.md §3.1). */
  owner_client_id: z.string(),
  type: webhookTypeSchema,
  description: z.optional(z.string()),
  additional_data: z.optional(z.array(z.string())),
  filters: z.optional(z.record(z.string(), z.unknown())),
});
export type RegisterWebhookRequest = z.input<typeof registerWebhookRequestSchema>;
export const listWebhooksRequestSchema = z.looseObject({ owner_client_id: z.string() });
export type ListWebhooksRequest = z.input<typeof listWebhooksRequestSchema>;
export const unregisterWebhookRequestSchema = z.looseObject({ id: z.string(), owner_client_id: z.string() });
export type UnregisterWebhookRequest = z.input<typeof unregisterWebhookRequestSchema>;
export const listWebhookNamesRequestSchema = z.looseObject({ version: z.optional(z.string()) });
export type ListWebhookNamesRequest = z.input<typeof listWebhookNamesRequestSchema>;
/** Body of enable/disable/get_license_webhooks_state: `{}` with Bearer, `owner_client_id` with a PAT (docs/LIVECHAT.md §3.1). */
export const licenseWebhooksRequestSchema = z.looseObject({ owner_client_id: z.optional(z.string()) });
export type LicenseWebhooksRequest = z.input<typeof licenseWebhooksRequestSchema>;
const botFieldsShape = {
  avatar: z.optional(z.string()),
  /** ≤ 500, default 6. */
  max_chats_count: z.optional(z.number()),
  default_group_priority: z.optional(groupPrioritySchema),
  job_title: z.optional(z.string()),
  groups: z.optional(z.array(z.looseObject({ id: z.number(), priority: groupPrioritySchema }))),
  /** 3.6: default "chatbot". */
  type: z.optional(z.string()),
  work_scheduler: z.optional(z.record(z.string(), z.unknown())),
  timezone: z.optional(z.string()),
  /** Only with a PAT (docs/LIVECHAT.md §3.1). */
  owner_client_id: z.optional(z.string()),
};
export const createBotRequestSchema = z.looseObject({ name: z.string(), ...botFieldsShape });
export type CreateBotRequest = z.input<typeof createBotRequestSchema>;
/** Optional extra fields of `get_bot` / `list_bots`. */
export const botFieldSchema = z.enum(["groups", "work_scheduler", "job_title", "max_chats_count", "timezone"]);
export const getBotRequestSchema = z.looseObject({ id: z.string(), fields: z.optional(z.array(botFieldSchema)) });
export type GetBotRequest = z.input<typeof getBotRequestSchema>;
export const listBotsRequestSchema = z.looseObject({
  /** false (default): bots of this app only (docs/LIVECHAT.md §3.3 footnote). */
  all: z.optional(z.boolean()),
  fields: z.optional(z.array(botFieldSchema)),
});
export type ListBotsRequest = z.input<typeof listBotsRequestSchema>;
export const updateBotRequestSchema = z.looseObject({ id: z.string(), name: z.optional(z.string()), ...botFieldsShape });
export type UpdateBotRequest = z.input<typeof updateBotRequestSchema>;
export const deleteBotRequestSchema = z.looseObject({ id: z.string() });
export type DeleteBotRequest = z.input<typeof deleteBotRequestSchema>;
/** docs/LIVECHAT.md §3.3 issue_bot_token: no scope listed; the bot secret authorises it. */
export const issueBotTokenRequestSchema = z.looseObject({
  bot_id: z.string(),
  client_id: z.string(),
  bot_secret: z.string(),
  organization_id: z.string(),
});
export type IssueBotTokenRequest = z.input<typeof issueBotTokenRequestSchema>;
export const resetBotSecretRequestSchema = z.looseObject({ id: z.string(), owner_client_id: z.optional(z.string()) });
export type ResetBotSecretRequest = z.input<typeof resetBotSecretRequestSchema>;
export const listTagsRequestSchema = z.looseObject({
  filters: z.optional(z.looseObject({ group_ids: z.optional(z.array(z.number())) })),
});
export type ListTagsRequest = z.input<typeof listTagsRequestSchema>;
