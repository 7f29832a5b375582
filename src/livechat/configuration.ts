import * as s from "./schemas/configuration";
import { WebApiClient, type WebApiOptions } from "./web-api";

/**
 * Configuration API v3.x: webhooks, license webhook state, bots, bot tokens, tags
 * (docs/LIVECHAT.md §3). Every response is validated; empty-bodied actions resolve void.
 *
 * @example
 * const config = new ConfigurationApi({ apiUrl, version: "3.6", credentials: { kind: "bearer", token } });
 * const { id, secret } = await config.createBot({ name: "Reply helper" });
 * const { token: botToken } = await config.issueBotToken({ bot_id: id, bot_secret: secret, client_id, organization_id });
 */
export class ConfigurationApi extends WebApiClient {
  constructor(options: WebApiOptions) {
    super("configuration", options);
  }

  /** `register_webhook` → the new webhook's id (docs/LIVECHAT.md §3.2). */
  registerWebhook(request: s.RegisterWebhookRequest): Promise<s.RegisterWebhookResponse> {
    return this.call("register_webhook", request, s.registerWebhookResponseSchema);
  }

  /** `list_webhooks` of an owner client id (docs/LIVECHAT.md §3.2). */
  listWebhooks(request: s.ListWebhooksRequest): Promise<s.Webhook[]> {
    return this.call("list_webhooks", request, s.listWebhooksResponseSchema);
  }

  /** `unregister_webhook` (docs/LIVECHAT.md §3.2). */
  unregisterWebhook(request: s.UnregisterWebhookRequest): Promise<void> {
    return this.callVoid("unregister_webhook", request);
  }

  /** `list_webhook_names`: actions with their filters; needs no authentication (docs/LIVECHAT.md §3.2). */
  listWebhookNames(request: s.ListWebhookNamesRequest = {}): Promise<s.WebhookName[]> {
    return this.callAnonymous("list_webhook_names", request, s.listWebhookNamesResponseSchema);
  }

  /** `enable_license_webhooks`; only needed after an explicit disable (docs/LIVECHAT.md §3.2). */
  enableLicenseWebhooks(request: s.LicenseWebhooksRequest = {}): Promise<void> {
    return this.callVoid("enable_license_webhooks", request);
  }

  /** `disable_license_webhooks` (docs/LIVECHAT.md §3.2). */
  disableLicenseWebhooks(request: s.LicenseWebhooksRequest = {}): Promise<void> {
    return this.callVoid("disable_license_webhooks", request);
  }

  /** `get_license_webhooks_state` → `{license_webhooks_enabled}` (docs/LIVECHAT.md §3.2). */
  getLicenseWebhooksState(request: s.LicenseWebhooksRequest = {}): Promise<s.LicenseWebhooksState> {
    return this.call("get_license_webhooks_state", request, s.licenseWebhooksStateSchema);
  }

  /**
   * `create_bot` → `{id, secret}`; keep the secret for `issue_bot_token` (docs/LIVECHAT.md §3.3).
   * Retried only after a rate limit: a repeat after a timeout or 5xx may create a second bot, so
   * the caller looks for the bot by name first (`list_bots`).
   */
  createBot(request: s.CreateBotRequest): Promise<s.CreateBotResponse> {
    return this.call("create_bot", request, s.createBotResponseSchema, { idempotent: false });
  }

  /** `get_bot` (docs/LIVECHAT.md §3.3). */
  getBot(request: s.GetBotRequest): Promise<s.Bot> {
    return this.call("get_bot", request, s.botSchema);
  }

  /** `list_bots`; `all: false` (default) lists this app's bots (docs/LIVECHAT.md §3.3). */
  listBots(request: s.ListBotsRequest = {}): Promise<s.Bot[]> {
    return this.call("list_bots", request, s.listBotsResponseSchema);
  }

  /** `update_bot` (docs/LIVECHAT.md §3.3). */
  updateBot(request: s.UpdateBotRequest): Promise<void> {
    return this.callVoid("update_bot", request);
  }

  /** `delete_bot` (docs/LIVECHAT.md §3.3). */
  deleteBot(request: s.DeleteBotRequest): Promise<void> {
    return this.callVoid("delete_bot", request);
  }

  /**
   * `issue_bot_token` → a bot JWT valid 24 h (docs/LIVECHAT.md §3.3, §4.2). It has no region prefix:
   * call the Agent Chat API with `{kind: "bearer", token, region: <license region>}`. Retried only
   * after a rate limit: each processed call mints a token that cannot be revoked (§3.3).
   */
  issueBotToken(request: s.IssueBotTokenRequest): Promise<s.IssueBotTokenResponse> {
    return this.call("issue_bot_token", request, s.issueBotTokenResponseSchema, { idempotent: false });
  }

  /**
   * `reset_bot_secret` → the new secret (docs/LIVECHAT.md §3.3). Retried only after a rate limit: a
   * processed reset whose answer was lost leaves a secret we never saw; the caller resets again.
   */
  resetBotSecret(request: s.ResetBotSecretRequest): Promise<s.ResetBotSecretResponse> {
    return this.call("reset_bot_secret", request, s.resetBotSecretResponseSchema, { idempotent: false });
  }

  /** `list_tags`, optionally filtered by group (docs/LIVECHAT.md §3.4). */
  listTags(request: s.ListTagsRequest = {}): Promise<s.Tag[]> {
    return this.call("list_tags", request, s.listTagsResponseSchema);
  }
}
