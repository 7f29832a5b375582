import * as z from "zod/mini";

/**
 * Configuration API v3.6 response bodies (docs/LIVECHAT.md §3.2–§3.4; samples in
 * test/fixtures/livechat/configuration.v3.6.*.json); loose, as LiveChat may add fields.
 */

// Request bodies: types only here (their schemas, for tests, are in ./configuration-requests.ts).
export type {
  GroupPriority,
  RegisterWebhookRequest,
  ListWebhooksRequest,
  UnregisterWebhookRequest,
  ListWebhookNamesRequest,
  LicenseWebhooksRequest,
  CreateBotRequest,
  GetBotRequest,
  ListBotsRequest,
  UpdateBotRequest,
  DeleteBotRequest,
  IssueBotTokenRequest,
  ResetBotSecretRequest,
  ListTagsRequest,
} from "./configuration-requests";

// ---- Webhooks (docs/LIVECHAT.md §3.2, §2.2) ----

export const registerWebhookResponseSchema = z.looseObject({ id: z.string() });
export type RegisterWebhookResponse = z.infer<typeof registerWebhookResponseSchema>;

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

export const webhookNameSchema = z.looseObject({
  action: z.string(),
  filters: z.optional(z.array(z.string())),
  additional_data: z.optional(z.array(z.string())),
});
export type WebhookName = z.infer<typeof webhookNameSchema>;
export const listWebhookNamesResponseSchema = z.array(webhookNameSchema);

export const licenseWebhooksStateSchema = z.looseObject({ license_webhooks_enabled: z.boolean() });
export type LicenseWebhooksState = z.infer<typeof licenseWebhooksStateSchema>;

// ---- Bots (docs/LIVECHAT.md §3.3) ----


const botGroupSchema = z.looseObject({ id: z.number(), priority: z.optional(z.string()) });

/** Keep both: `secret` is needed for every `issue_bot_token` (docs/LIVECHAT.md §4.2). */
export const createBotResponseSchema = z.looseObject({ id: z.string(), secret: z.string() });
export type CreateBotResponse = z.infer<typeof createBotResponseSchema>;

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

export const listBotsResponseSchema = z.array(botSchema);

/** A bot JWT, valid 24 h, not revocable, no region prefix (docs/LIVECHAT.md §3.3, §6.3). */
export const issueBotTokenResponseSchema = z.looseObject({ token: z.string() });
export type IssueBotTokenResponse = z.infer<typeof issueBotTokenResponseSchema>;

export const resetBotSecretResponseSchema = z.looseObject({ secret: z.string() });
export type ResetBotSecretResponse = z.infer<typeof resetBotSecretResponseSchema>;

// ---- Tags (docs/LIVECHAT.md §3.4) ----

export const tagSchema = z.looseObject({
  name: z.string(),
  group_ids: z.optional(z.array(z.number())),
  author_id: z.optional(z.string()),
  created_at: z.optional(z.string()),
});
export type Tag = z.infer<typeof tagSchema>;
export const listTagsResponseSchema = z.array(tagSchema);
