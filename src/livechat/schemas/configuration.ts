import * as z from "zod/mini";

/**
 * Configuration API v3.6 request/response bodies (PLATFORM.md §3.2–§3.4; samples in
 * examples/configuration.v3.6.*.json). Requests type what we send; responses are loose.
 */

// ---- Webhooks (PLATFORM.md §3.2, §2.2) ----

/** `license` webhooks fire for the whole license; `bot` webhooks for the app's bots (PLATFORM.md §1.5). */
export const webhookTypeSchema = z.enum(["license", "bot"]);

export const registerWebhookRequestSchema = z.looseObject({
  url: z.string(),
  action: z.string(),
  secret_key: z.string(),
  /** Always required for the webhook methods (PLATFORM.md §3.1). */
  owner_client_id: z.string(),
  type: webhookTypeSchema,
  description: z.optional(z.string()),
  additional_data: z.optional(z.array(z.string())),
  filters: z.optional(z.record(z.string(), z.unknown())),
});
export type RegisterWebhookRequest = z.input<typeof registerWebhookRequestSchema>;
export const registerWebhookResponseSchema = z.looseObject({ id: z.string() });
export type RegisterWebhookResponse = z.infer<typeof registerWebhookResponseSchema>;

export const listWebhooksRequestSchema = z.looseObject({ owner_client_id: z.string() });
export type ListWebhooksRequest = z.input<typeof listWebhooksRequestSchema>;
export const webhookSchema = z.looseObject({
  id: z.string(),
  url: z.string(),
  action: z.string(),
  type: z.optional(z.string()),
  owner_client_id: z.optional(z.string()),
  description: z.optional(z.string()),
  filters: z.optional(z.record(z.string(), z.unknown())),
  additional_data: z.optional(z.array(z.string())),
});
export type Webhook = z.infer<typeof webhookSchema>;
export const listWebhooksResponseSchema = z.array(webhookSchema);

export const unregisterWebhookRequestSchema = z.looseObject({ id: z.string(), owner_client_id: z.string() });
export type UnregisterWebhookRequest = z.input<typeof unregisterWebhookRequestSchema>;

export const listWebhookNamesRequestSchema = z.looseObject({ version: z.optional(z.string()) });
export type ListWebhookNamesRequest = z.input<typeof listWebhookNamesRequestSchema>;
export const webhookNameSchema = z.looseObject({
  action: z.string(),
  filters: z.optional(z.array(z.string())),
  additional_data: z.optional(z.array(z.string())),
});
export type WebhookName = z.infer<typeof webhookNameSchema>;
export const listWebhookNamesResponseSchema = z.array(webhookNameSchema);

/** Body of enable/disable/get_license_webhooks_state: `{}` with Bearer, `owner_client_id` with a PAT (PLATFORM.md §3.1). */
export const licenseWebhooksRequestSchema = z.looseObject({ owner_client_id: z.optional(z.string()) });
export type LicenseWebhooksRequest = z.input<typeof licenseWebhooksRequestSchema>;
export const licenseWebhooksStateSchema = z.looseObject({ license_webhooks_enabled: z.boolean() });
export type LicenseWebhooksState = z.infer<typeof licenseWebhooksStateSchema>;

// ---- Bots (PLATFORM.md §3.3) ----

/** Routing priority of a bot in a group (PLATFORM.md §3.3 "Priorities"). */
export const groupPrioritySchema = z.enum(["first", "normal", "last", "supervisor"]);
export type GroupPriority = z.infer<typeof groupPrioritySchema>;

const botGroupSchema = z.looseObject({ id: z.number(), priority: z.optional(z.string()) });

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
  /** Only with a PAT (PLATFORM.md §3.1). */
  owner_client_id: z.optional(z.string()),
};

export const createBotRequestSchema = z.looseObject({ name: z.string(), ...botFieldsShape });
export type CreateBotRequest = z.input<typeof createBotRequestSchema>;
/** Keep both: `secret` is needed for every `issue_bot_token` (PLATFORM.md §4.2). */
export const createBotResponseSchema = z.looseObject({ id: z.string(), secret: z.string() });
export type CreateBotResponse = z.infer<typeof createBotResponseSchema>;

/** Optional extra fields of `get_bot` / `list_bots`. */
export const botFieldSchema = z.enum(["groups", "work_scheduler", "job_title", "max_chats_count", "timezone"]);

export const getBotRequestSchema = z.looseObject({ id: z.string(), fields: z.optional(z.array(botFieldSchema)) });
export type GetBotRequest = z.input<typeof getBotRequestSchema>;
export const botSchema = z.looseObject({
  id: z.string(),
  name: z.optional(z.string()),
  /** v3.5 called it `avatar`. */
  avatar_path: z.optional(z.string()),
  avatar: z.optional(z.string()),
  default_group_priority: z.optional(z.string()),
  owner_client_id: z.optional(z.string()),
  max_chats_count: z.optional(z.number()),
  groups: z.optional(z.array(botGroupSchema)),
  job_title: z.optional(z.string()),
  timezone: z.optional(z.string()),
  work_scheduler: z.optional(z.record(z.string(), z.unknown())),
});
export type Bot = z.infer<typeof botSchema>;

export const listBotsRequestSchema = z.looseObject({
  /** false (default): bots of this app only (PLATFORM.md §3.3 footnote). */
  all: z.optional(z.boolean()),
  fields: z.optional(z.array(botFieldSchema)),
});
export type ListBotsRequest = z.input<typeof listBotsRequestSchema>;
export const listBotsResponseSchema = z.array(botSchema);

export const updateBotRequestSchema = z.looseObject({ id: z.string(), name: z.optional(z.string()), ...botFieldsShape });
export type UpdateBotRequest = z.input<typeof updateBotRequestSchema>;

export const deleteBotRequestSchema = z.looseObject({ id: z.string() });
export type DeleteBotRequest = z.input<typeof deleteBotRequestSchema>;

/** PLATFORM.md §3.3 issue_bot_token: no scope listed; the bot secret authorises it. */
export const issueBotTokenRequestSchema = z.looseObject({
  bot_id: z.string(),
  client_id: z.string(),
  bot_secret: z.string(),
  organization_id: z.string(),
});
export type IssueBotTokenRequest = z.input<typeof issueBotTokenRequestSchema>;
/** A bot JWT, valid 24 h, not revocable, no region prefix (PLATFORM.md §3.3, §6.3). */
export const issueBotTokenResponseSchema = z.looseObject({ token: z.string() });
export type IssueBotTokenResponse = z.infer<typeof issueBotTokenResponseSchema>;

export const resetBotSecretRequestSchema = z.looseObject({ id: z.string(), owner_client_id: z.optional(z.string()) });
export type ResetBotSecretRequest = z.input<typeof resetBotSecretRequestSchema>;
export const resetBotSecretResponseSchema = z.looseObject({ secret: z.string() });
export type ResetBotSecretResponse = z.infer<typeof resetBotSecretResponseSchema>;

// ---- Tags (PLATFORM.md §3.4) ----

export const listTagsRequestSchema = z.looseObject({
  filters: z.optional(z.looseObject({ group_ids: z.optional(z.array(z.number())) })),
});
export type ListTagsRequest = z.input<typeof listTagsRequestSchema>;
export const tagSchema = z.looseObject({
  name: z.string(),
  group_ids: z.optional(z.array(z.number())),
  author_id: z.optional(z.string()),
  created_at: z.optional(z.string()),
});
export type Tag = z.infer<typeof tagSchema>;
export const listTagsResponseSchema = z.array(tagSchema);
