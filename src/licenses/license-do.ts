import { DurableObject } from "cloudflare:workers";
import { requireConfig } from "../config";
import { AccountsClient, type TokenResponse } from "../livechat/accounts";
import type { Credentials } from "../livechat/auth";
import { createLogger } from "../log";
import { AppEventLog, type AppEventRecord } from "./app-events";
import { LicenseGrant, type Installation } from "./grant";
import { TokenStore } from "./token-store";

/**
 * License Durable Object: one per organization_id, the single writer of that license's
 * tokens, bot credentials, settings and reconcile state (ARCHITECTURE.md "One writer per
 * license"). The class is a thin RPC shell; each concern lives in its own module.
 */
export class License extends DurableObject<Env> {
  private readonly grant: LicenseGrant;
  private readonly appEvents: AppEventLog;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = requireConfig(env);
    const log = createLogger({ component: "license" });
    const accounts = new AccountsClient({
      accountsUrl: config.accountsUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
    });
    this.grant = new LicenseGrant(ctx.storage, new TokenStore(env.TOKENS, config.tokenEncryptionKey), config.tokenEncryptionKey, accounts, log);
    this.appEvents = new AppEventLog(ctx.storage);
  }

  // ── OAuth grant ──────────────────────────────────────────────────────────────

  /** Store the grant from a code exchange (install or reinstall). */
  install(response: TokenResponse): Promise<Installation> {
    return this.grant.install(response);
  }

  /** Installation state without any token. */
  installation(): Promise<Installation> {
    return this.grant.installation();
  }

  /** Credentials to call LiveChat as the license; refreshed single-flight when close to expiry. */
  credentials(): Promise<Credentials> {
    return this.grant.credentials();
  }

  /** Revoke and delete the grant, and stop the license's work. */
  async uninstall(): Promise<void> {
    await this.grant.uninstall();
  }

  // ── App Webhooks ─────────────────────────────────────────────────────────────

  /** Record an App Webhook event (install, uninstall, payment) for operators. */
  recordAppEvent(event: AppEventRecord): Promise<void> {
    return this.appEvents.record(event);
  }

  /** Recent App Webhook events, newest first. */
  listAppEvents(): Promise<AppEventRecord[]> {
    return this.appEvents.list();
  }
}
