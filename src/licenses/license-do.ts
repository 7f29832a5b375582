import { DurableObject } from "cloudflare:workers";
import { requireConfig } from "../config";
import { AccountsClient, type TokenResponse } from "../livechat/accounts";
import type { Credentials } from "../livechat/auth";
import { createLogger } from "../log";
import { AppEventLog, type AppEventRecord } from "./app-events";
import { LicenseGrant, type Installation } from "./grant";
import { TokenStore } from "./token-store";
// Webhook deliveries (issue 3): inbox, dispatch, bot routing status.
import type { NamedAlarms } from "../durable/alarms";
import type { InboxSummary } from "../deliveries/inbox";
import type { AcceptResult, DeadLetter, DeliveryStatus, IncomingDelivery, ReplayResult, StoredDelivery } from "../deliveries/types";
import { type BotRoutingState, liveChatApis, type RoutingStatusUpdate } from "../framework/context";
import { type DeliveryHost, deliveryHost, namedAlarms } from "../framework/host";
import { router } from "../handlers";
import { type BotInfo, LicenseBot } from "./bot";
import { LicenseProvisioning } from "./provisioning";
import { defaultSettings, type Settings, SettingsStore } from "./settings";

/**
 * License Durable Object: one per organization_id, the single writer of that license's
 * tokens, bot credentials, settings and reconcile state (ARCHITECTURE.md "One writer per
 * license"). The class is a thin RPC shell; each concern lives in its own module.
 */
export class License extends DurableObject<Env> {
  private readonly grant: LicenseGrant;
  private readonly appEvents: AppEventLog;
  /** Named deadlines over the DO's one alarm: delivery processing now; refresh/reconcile can add theirs. */
  private readonly alarms: NamedAlarms;
  private readonly deliveries: DeliveryHost;
  /** The license's bot (src/licenses/bot.ts); here its routing status gates bot webhooks. */
  private readonly bot: LicenseBot;
  private readonly settingsStore: SettingsStore;
  private readonly provisioning: LicenseProvisioning;

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
    this.alarms = namedAlarms(ctx.storage, log);
    this.bot = new LicenseBot(ctx.storage, config.tokenEncryptionKey, config.clientId, () => liveChatApis(config, this), log);
    this.settingsStore = new SettingsStore(ctx.storage, () => defaultSettings(config));
    this.provisioning = new LicenseProvisioning({
      grant: this.grant,
      bot: this.bot,
      settings: this.settingsStore,
      alarms: this.alarms,
      apis: () => liveChatApis(config, this),
      log,
    });
    // License-scoped deliveries are processed here, with this DO as the handlers' license.
    this.deliveries = deliveryHost(ctx.storage, this.alarms, { router, config: () => config, license: () => this, log });
  }

  // ── OAuth grant ──────────────────────────────────────────────────────────────

  /** Store the grant from a code exchange (install or reinstall), then provision the bot (on the alarm, retried). */
  async install(response: TokenResponse): Promise<Installation> {
    const installation = await this.grant.install(response);
    await this.provisioning.schedule();
    return installation;
  }

  /** Installation state without any token. */
  installation(): Promise<Installation> {
    return this.grant.installation();
  }

  /** Credentials to call LiveChat as the license; refreshed single-flight when close to expiry. */
  credentials(): Promise<Credentials> {
    return this.grant.credentials();
  }

  /** Stop the license's work (bot offline, deadlines cancelled), then revoke and delete the grant and bot credentials. */
  async uninstall(): Promise<void> {
    await this.provisioning.stop();
    await this.grant.uninstall();
  }

  // ── Bot and settings (src/licenses/bot.ts, settings.ts, provisioning.ts; issue 4) ──

  /** Provision the bot now (idempotent): create or reuse it, issue its token, set its routing status. */
  provisionBot(): Promise<BotInfo> {
    return this.provisioning.run();
  }

  /** The bot's own credentials; its 24 h token is renewed single-flight ahead of expiry. */
  async botCredentials(): Promise<Credentials> {
    const installation = await this.grant.installation();
    if (!installation.organizationId) throw new Error("LiveChat failed (not_installed): The app is not installed on this license");
    return this.bot.credentials(installation.organizationId, installation.region);
  }

  /** The bot without secrets, or null before provisioning. */
  botInfo(): Promise<BotInfo | null> {
    return this.bot.info();
  }

  /** Per-license settings, defaults merged. */
  settings(): Promise<Settings> {
    return this.settingsStore.get();
  }

  /** Validate and store a settings patch; working-hours changes re-apply the bot's routing status. */
  async updateSettings(patch: unknown): Promise<{ ok: true; settings: Settings } | { ok: false; problems: string[] }> {
    const result = await this.settingsStore.update(patch);
    if (result.ok && patch && typeof patch === "object" && ("workingHours" in patch || "botName" in patch)) {
      await this.provisioning.schedule();
    }
    return result;
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

  // ── Webhook deliveries (src/deliveries, src/framework; issue 3) ──────────────

  /** Store a license-scoped (or unprocessable) delivery: dedupe claim + record, atomically; schedule processing. */
  accept(delivery: IncomingDelivery): Promise<AcceptResult> {
    return this.deliveries.inbox.accept(delivery);
  }

  /** Newest deliveries first (pending, and the last finished ones). */
  async recentDeliveries(options: { limit?: number; status?: DeliveryStatus } = {}): Promise<StoredDelivery[]> {
    return this.deliveries.inbox.recent(options);
  }

  /** One delivery by id. */
  async delivery(deliveryId: string): Promise<StoredDelivery | undefined> {
    return this.deliveries.inbox.get(deliveryId);
  }

  /** Dead letters, newest first. */
  async deadLetters(limit?: number): Promise<DeadLetter[]> {
    return this.deliveries.inbox.deadLetters(limit);
  }

  /** Queue a dead letter again (its dedupe claim stays, so redeliveries remain duplicates). */
  replayDelivery(deliveryId: string): Promise<ReplayResult> {
    return this.deliveries.inbox.replay(deliveryId);
  }

  /** Pending and dead-letter counts. */
  async inboxSummary(): Promise<InboxSummary> {
    return this.deliveries.inbox.summary();
  }

  /** The bot's routing status as last set or reported; bot webhooks act only while accepting chats (PLATFORM.md §1.5). */
  async botRoutingStatus(): Promise<BotRoutingState> {
    const info = await this.bot.info();
    return {
      ...(info ? { agentId: info.id } : {}),
      ...(info?.routingStatus ? { status: info.routingStatus } : {}),
      ...(info?.routingStatusAt !== undefined ? { updatedAt: info.routingStatusAt } : {}),
      acceptingChats: info?.routingStatus === "accepting_chats",
    };
  }

  /** A reported routing status (routing_status_set); kept when it concerns the bot and is not older. */
  recordRoutingStatus(update: RoutingStatusUpdate): Promise<boolean> {
    return this.bot.noteRoutingStatus(update.agentId, update.status, update.at);
  }

  /** Runs whatever named deadline is due (delivery processing and pruning, and later others). */
  override async alarm(): Promise<void> {
    await this.alarms.run();
  }
}
