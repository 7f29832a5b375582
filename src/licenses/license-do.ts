import { loadConfig, requireConfig } from "../config";
import { AccountsClient, type TokenResponse } from "../livechat/accounts";
import type { Credentials } from "../livechat/auth";
import { createLogger, type Logger } from "../log";
import { AppEventLog, type AppEventRecord, type IncomingAppEvent } from "./app-events";
import { LicenseGrant, type Installation } from "./grant";
import { sealingKeys } from "./crypto";
import { TokenStore } from "./token-store";
import { UninstallCheck, type UninstallOutcome } from "./uninstall-check";
// Webhook deliveries (issue 3): inbox, dispatch, bot routing status.
import { type NamedAlarms, namedAlarms } from "../durable/alarms";
import type { WebhookKind } from "../deliveries/types";
import type { InboxOptions } from "../deliveries/inbox";
import { liveChatApis } from "../livechat/apis";
import { type BotInfo, type BotRoutingState, LicenseBot, type RoutingStatusUpdate } from "./bot";
import { LicenseProvisioning } from "./provisioning";
import type { Visit } from "./fleet";
import { LicenseReconciler, type ReconcileReport } from "./reconcile";
import { licenseStub } from "./stub";
import { defaultSettings, type Settings, SettingsStore } from "./settings";
// Operations (issue 7): the license's delivery journal.
import { DeliveryJournal, type HourlyCounts, type JournalEntry, type JournalOutcome, type JournalReport, journalReport } from "./journal";
import type { RerunResult } from "../deliveries/types";
import { type DeliveryHost, InboxObject } from "../deliveries/inbox-object";
import { DAY_MS, retentionPolicy } from "../deliveries/retention";
import { ChatIndex } from "./chat-index";
import { LicenseNumberMap } from "./license-number";
import { type BotRemoval, ERASE_FINAL_DEADLINE, type LicenseWipe, LicenseEraser, type Tombstone } from "./erase";
import { type StorageReport, storageReport } from "../durable/storage-report";
import { CHATS_COUNTED_MAX, type StorageTotals, storageTotals } from "./storage-totals";
import { PRUNE_DEADLINE } from "../deliveries/inbox";

/** The license facts handlers read, fetched from the License DO in one RPC (cached by src/chats/license-cache.ts). */
export interface LicenseSnapshot {
  installation: Installation;
  botInfo: BotInfo | null;
  settings: Settings;
  botRoutingStatus: BotRoutingState;
}

/**
 * What a License DO gets from the layer that composes it (src/objects.ts): what lies above
 * licenses/ in docs/INTERNALS.md "Layers", the app's handlers and the Chat DOs.
 */
export interface LicenseWiring {
  /**
   * The DO's inbox, its license-scoped deliveries processed by the app's handlers with `license`
   * as their license (src/framework/host.ts `deliveryHost`).
   */
  deliveries(
    host: { storage: DurableObjectStorage; alarms: NamedAlarms; license: () => LicenseObject; log: Logger },
    options: Partial<InboxOptions>,
  ): DeliveryHost;
  /** Erase one Chat DO of the license (RPC). */
  eraseChat(organizationId: string, chatId: string): Promise<unknown>;
  /** What one Chat DO of the license stores (RPC). */
  chatStorage(organizationId: string, chatId: string): Promise<StorageReport>;
}

/** The modules of a License DO that need the configuration. */
interface LicenseParts {
  grant: LicenseGrant;
  appEvents: AppEventLog;
  /** Whether an `application_uninstalled` hint is real (src/licenses/uninstall-check.ts). */
  uninstallCheck: UninstallCheck;
  /** The license's bot (src/licenses/bot.ts); its routing status gates bot webhooks. */
  bot: LicenseBot;
  settingsStore: SettingsStore;
  provisioning: LicenseProvisioning;
  reconciler: LicenseReconciler;
}

/** The License DO's modules over its SQLite tables (see {@link License.storageParts}). */
interface LicenseStorage {
  alarms: NamedAlarms;
  deliveries: DeliveryHost;
  journal: DeliveryJournal;
  chats: ChatIndex;
  eraser: LicenseEraser;
}

/**
 * License Durable Object: one per organization_id, the single writer of that license's
 * tokens, bot credentials, settings and reconcile state (docs/ARCHITECTURE.md "One writer per
 * license"). The class is a thin RPC shell; each concern lives in its own module. The class
 * wrangler.toml binds is src/objects.ts's `License`, which wires it to the handlers and the Chat DOs.
 */
export class LicenseObject extends InboxObject {
  /** The modules over the DO's storage, built on first use and dropped by the final erase. */
  private opened: LicenseStorage | undefined;
  private parts: LicenseParts | undefined;
  /** The handlers and the Chat DOs (src/objects.ts). */
  private readonly wiring: LicenseWiring;

  constructor(ctx: DurableObjectState, env: Env, wiring: LicenseWiring) {
    super(ctx, env);
    this.wiring = wiring;
  }

  /** Named deadlines over the DO's one alarm: delivery processing, provisioning, reconcile. */
  private get alarms(): NamedAlarms {
    return this.storageParts().alarms;
  }

  protected get deliveries(): DeliveryHost {
    return this.storageParts().deliveries;
  }

  /** Bounded index of every delivery of the license, wherever processed (src/licenses/journal.ts). */
  private get journal(): DeliveryJournal {
    return this.storageParts().journal;
  }

  /** The license's chats that may hold data, to reach them on erase (src/licenses/chat-index.ts). */
  private get chats(): ChatIndex {
    return this.storageParts().chats;
  }

  /** What an uninstall erases, and the tombstone it leaves (src/licenses/erase.ts). */
  private get eraser(): LicenseEraser {
    return this.storageParts().eraser;
  }

  /** The license's numeric id → its organization, for license_id-only webhooks (src/licenses/license-number.ts); keys only, no table. */
  private get licenseNumbers(): LicenseNumberMap {
    return new LicenseNumberMap(this.ctx.storage, this.env.TOKENS);
  }

  /**
   * The modules that create tables, built lazily (not in the constructor) so that the final erase
   * can leave the DO with no storage at all: it drops them, and the next call builds them afresh.
   */
  private storageParts(): LicenseStorage {
    if (this.opened) return this.opened;
    const { ctx, env } = this;
    const log = createLogger({ component: "license" });
    // While the configuration is invalid, the default retention applies (and processing waits).
    const config = loadConfig(env);
    const retention = retentionPolicy(config.ok ? config.config : {});
    const alarms = namedAlarms(ctx.storage, log);
    const chats = new ChatIndex(ctx.storage, { windowMs: () => retention.deadLetterMs + DAY_MS });
    const eraser = new LicenseEraser({
      storage: ctx.storage,
      alarms,
      chats,
      eraseChat: this.wiring.eraseChat,
      retentionMs: () => retention.deliveryMs,
      onErased: () => {
        this.opened = undefined;
        this.parts = undefined;
      },
      log,
    });
    // License-scoped deliveries are processed here, with this DO as the handlers' license. The inbox
    // needs no configuration to store a webhook; processing reads it (and waits while it is invalid).
    const journal = new DeliveryJournal(ctx.storage);
    const deliveries = this.wiring.deliveries(
      { storage: ctx.storage, alarms, license: () => this, log },
      {
        deliveryRetentionMs: retention.deliveryMs,
        deadLetterTtlMs: retention.deadLetterMs,
        // Journal each attempt; a journal failure never fails the delivery. A license webhook that
        // arrived proves license webhooks enabled (the hourly visit asks LiveChat less).
        onAttempt: (event) => {
          this.journalSafely(() => journal.record(journalReport(event)), log);
          if (event.delivery.kind === "license") void this.noteLicenseWebhook(event.delivery.receivedAt);
        },
      },
    );
    this.opened = { alarms, deliveries, journal, chats, eraser };
    return this.opened;
  }

  /**
   * The license's modules, built on first use: they all need the configuration, and a DO that
   * cannot build them must still store its webhooks (src/config.ts `loadWebhookSecrets`).
   */
  private get m(): LicenseParts {
    return (this.parts ??= this.build());
  }

  private build(): LicenseParts {
    const { ctx, env } = this;
    const config = requireConfig(env);
    const log = createLogger({ component: "license" });
    const accounts = new AccountsClient({
      accountsUrl: config.accountsUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
    });
    const keys = sealingKeys(config);
    // The bot's sealed values are sealed again before the grant, which marks the license as done.
    const grant: LicenseGrant = new LicenseGrant(
      ctx.storage,
      new TokenStore(env.TOKENS, keys),
      keys,
      accounts,
      log,
      (org) => bot.reseal(org),
      async () => (await uninstallCheck.pendingSince()) !== undefined,
    );
    const appEvents = new AppEventLog(ctx.storage);
    const uninstallCheck = new UninstallCheck({
      storage: ctx.storage,
      installed: async () => (await grant.installation()).installed,
      generation: () => grant.version(),
      liveness: () => grant.liveness(),
      uninstall: (generation) => this.uninstallGrant(generation),
      relist: () => grant.relist(),
      log,
    });
    const bot = new LicenseBot(ctx.storage, keys, config.clientId, () => liveChatApis(config, this), log);
    const settingsStore = new SettingsStore(ctx.storage, () => defaultSettings(config));
    const provisioning = new LicenseProvisioning({
      grant,
      bot,
      settings: settingsStore,
      alarms: this.alarms,
      apis: () => liveChatApis(config, this),
      log,
    });
    const reconciler = new LicenseReconciler({
      storage: ctx.storage,
      grant,
      bot,
      settings: settingsStore,
      provisioning,
      alarms: this.alarms,
      apis: () => liveChatApis(config, this),
      log,
      retryUninstall: async () => (await uninstallCheck.retryPending()) === "uninstalled",
      staleMs: config.reconcile.staleMs,
      spreadMs: config.reconcile.spreadMs,
    });
    return { grant, appEvents, uninstallCheck, bot, settingsStore, provisioning, reconciler };
  }

  /** Deadlines of the license's modules (provisioning, reconcile) have their handlers once the modules are built. */
  override async alarm(): Promise<void> {
    try {
      void this.m;
    } catch (error) {
      // Configuration invalid: the deadlines fail and back off until it is fixed; /healthz names it.
      createLogger({ component: "license" }).error("license modules unavailable", { error });
    }
    await super.alarm();
  }

  // ── OAuth grant ──────────────────────────────────────────────────────────────

  /** Store the grant from a code exchange (install or reinstall), then provision the bot (on the alarm, retried). */
  async install(response: TokenResponse): Promise<Installation> {
    const installation = await this.m.grant.install(response);
    // A new grant: an uninstall that was under way no longer stands, nor does a pending hint; an
    // erase waiting for the retention period stops (the settings kept for this are used again).
    this.m.bot.reopen();
    await this.m.uninstallCheck.clear();
    await this.eraser.cancel();
    await this.m.provisioning.schedule();
    return installation;
  }

  /** Installation state without any token. */
  installation(): Promise<Installation> {
    return this.m.grant.installation();
  }

  /** Credentials to call LiveChat as the license; refreshed single-flight when close to expiry or rejected by LiveChat. */
  credentials(rejected?: Credentials): Promise<Credentials> {
    return this.m.grant.credentials(undefined, rejected?.token);
  }

  /** LiveChat re-routed a call of this license to `region` (`misdirected_request`): later clients go there first. */
  recordRegion(region: string): Promise<void> {
    return this.m.grant.learnRegion(region);
  }

  /**
   * Stop the license's work (bot offline, deadlines cancelled), then revoke and delete the grant
   * and bot credentials. False when a reinstall replaced the grant meanwhile: then nothing of the
   * new installation is touched.
   */
  uninstall(): Promise<boolean> {
    return this.uninstallGrant(this.m.grant.version());
  }

  /**
   * Uninstall only when LiveChat confirms the grant is gone: App Webhooks carry no secret
   * (docs/LIVECHAT.md §7), so an `application_uninstalled` is a hint, checked at most once per few
   * minutes and retried by the cron while undecided (src/licenses/uninstall-check.ts).
   */
  uninstallIfRevoked(): Promise<UninstallOutcome> {
    return this.m.uninstallCheck.hint();
  }

  /**
   * The uninstall, guarded by the grant's generation: every step that awaits the network is
   * followed by a check, and once a reinstall moved the generation nothing more is changed. A
   * provisioning run or bot creation in flight finishes first, so its bot is taken offline and
   * forgotten with the rest instead of outliving the grant.
   */
  private async uninstallGrant(generation: number): Promise<boolean> {
    const current = () => this.m.grant.version() === generation;
    const abandon = () => {
      this.m.bot.reopen();
      return false;
    };
    await this.m.bot.close();
    await this.m.provisioning.settled();
    if (!current()) return abandon();
    const stopped = await this.m.provisioning.stop(current);
    if (!stopped.stood) return abandon();
    await this.m.reconciler.cancel();
    if (!current()) return abandon();
    const installation = await this.m.grant.installation();
    if (!(await this.m.grant.uninstall(generation))) return abandon();
    if (installation.organizationId) await this.licenseNumbers.forget(installation.organizationId);
    // The grant is gone: erase what the license stored (src/licenses/erase.ts).
    if (installation.organizationId) {
      this.lastErase = await this.eraser.afterUninstall(installation.organizationId, this.eraseReason, stopped.bot);
    }
    return true;
  }

  /** Why the uninstall running now happens (the tombstone says it). */
  private eraseReason: Tombstone["reason"] = "uninstalled";
  /** What the last uninstall of this instance wiped (the operator's erase answers it). */
  private lastErase: { wiped: LicenseWipe; tombstone: Tombstone } | undefined;

  /**
   * Erase the license on an operator's word: the uninstall of a confirmed one (bot deleted at
   * LiveChat while the grant works, tokens revoked, storage erased but settings and a tombstone,
   * every chat erased on the alarm). Answers what was erased; `not_installed` when there was no grant.
   */
  async eraseOnRequest(): Promise<
    | { ok: true; bot: BotRemoval; wiped: LicenseWipe; tombstone: Tombstone; chatsToErase: number }
    | { ok: false; reason: "not_installed" | "ignored_reinstalled"; tombstone?: Tombstone }
  > {
    const installation = await this.m.grant.installation();
    if (!installation.installed) return { ok: false, reason: "not_installed", ...(await this.tombstoneIf()) };
    const chatsToErase = this.chats.count();
    this.eraseReason = "operator";
    this.lastErase = undefined;
    let uninstalled: boolean;
    try {
      uninstalled = await this.uninstall();
    } finally {
      this.eraseReason = "uninstalled";
    }
    const erased = this.lastErase as { wiped: LicenseWipe; tombstone: Tombstone } | undefined;
    if (!uninstalled || !erased) return { ok: false, reason: "ignored_reinstalled" };
    const { wiped, tombstone } = erased;
    return { ok: true, bot: tombstone.bot, wiped, tombstone, chatsToErase };
  }

  /** The tombstone of an uninstalled license, while it is kept. */
  async tombstone(): Promise<Tombstone | undefined> {
    return this.eraser.tombstone();
  }

  private async tombstoneIf(): Promise<{ tombstone?: Tombstone }> {
    const tombstone = await this.eraser.tombstone();
    return tombstone ? { tombstone } : {};
  }

  /**
   * What this DO stores (rows per table, bytes, keys, the oldest item kept, the next prune;
   * src/durable/storage-report.ts), and in `total` the license's figures with its Chat DOs
   * (src/licenses/storage-totals.ts), counted now unless `countChats` is false (the overview asks
   * many licenses at once). `organizationId` names the chats' DOs (a License DO does not know its name).
   */
  async storageReport(
    organizationId: string,
    options: { countChats?: boolean } = {},
  ): Promise<StorageReport & { chatsIndexed: number; total: StorageTotals; tombstone?: Tombstone }> {
    const next = [this.alarms.deadline(PRUNE_DEADLINE), this.alarms.deadline(ERASE_FINAL_DEADLINE)].filter((at): at is number => at !== undefined);
    const report = await storageReport(this.ctx.storage, next.length > 0 ? Math.min(...next) : undefined);
    const chatsIndexed = this.chats.count();
    const total = await storageTotals(report, {
      chatIds: options.countChats === false ? [] : this.chats.take(CHATS_COUNTED_MAX),
      indexed: chatsIndexed,
      report: (chatId) => this.wiring.chatStorage(organizationId, chatId),
    });
    return { ...report, chatsIndexed, total, ...(await this.tombstoneIf()) };
  }

  /** Forget a chat an operator erased (its Chat DO answered what it held). */
  async forgetChat(chatId: string): Promise<void> {
    this.chats.forget([chatId]);
  }

  // ── Reconcile (src/licenses/reconcile.ts; issue 5) ───────────────────────────

  /** A full reconcile now (an operator's forced check: everything, regardless of staleness); kept in the history. */
  reconcile(): Promise<ReconcileReport> {
    return this.m.reconciler.run();
  }

  /** Schedule a visit (only what is unknown, stale or due) on this license's own alarm after `delayMs`: the cron's fan-out calls this. */
  scheduleReconcile(delayMs = 0): Promise<void> {
    return this.m.reconciler.schedule(delayMs);
  }

  /** Reconcile reports, newest first. */
  reconcileHistory(): Promise<ReconcileReport[]> {
    return this.m.reconciler.history();
  }

  /**
   * Second level of the cron's fan-out (src/licenses/fleet.ts): schedule each visit (this
   * license's among them) on that license's own alarm after its delay. One failing license never
   * stops the others.
   */
  async fanOutReconcile(visits: Visit[]): Promise<{ scheduled: number; failed: string[] }> {
    const failed: string[] = [];
    let scheduled = 0;
    const own = (await this.m.grant.installation()).organizationId;
    for (let i = 0; i < visits.length; i += 50) {
      const batch = visits.slice(i, i + 50);
      const results = await Promise.allSettled(
        batch.map((v) => (v.organizationId === own ? this.m.reconciler.schedule(v.delayMs) : licenseStub(this.env, v.organizationId).scheduleReconcile(v.delayMs))),
      );
      results.forEach((r, j) => (r.status === "rejected" ? failed.push(batch[j].organizationId) : scheduled++));
    }
    return { scheduled, failed };
  }

  // ── Bot and settings (src/licenses/bot.ts, settings.ts, provisioning.ts; issue 4) ──

  /** Provision the bot now (idempotent): create or reuse it, issue its token, set its routing status. */
  provisionBot(): Promise<BotInfo> {
    return this.m.provisioning.run();
  }

  /** The bot's own credentials; its 24 h token is renewed single-flight ahead of expiry. */
  async botCredentials(rejected?: Credentials): Promise<Credentials> {
    const installation = await this.m.grant.installation();
    if (!installation.organizationId) throw new Error("LiveChat failed (not_installed): The app is not installed on this license");
    return this.m.bot.credentials(installation.organizationId, installation.region, rejected?.token);
  }

  /** The bot without secrets, or null before provisioning. */
  botInfo(): Promise<BotInfo | null> {
    return this.m.bot.info();
  }

  /** Per-license settings, defaults merged. */
  settings(): Promise<Settings> {
    return this.m.settingsStore.get();
  }

  /**
   * Validate and store a settings patch; changes of working hours, bot name or routing mode
   * re-run provisioning (in managed mode it re-applies the bot's routing status).
   */
  async updateSettings(patch: unknown): Promise<{ ok: true; settings: Settings } | { ok: false; problems: string[] }> {
    const result = await this.m.settingsStore.update(patch);
    if (result.ok && patch && typeof patch === "object" && ("workingHours" in patch || "botName" in patch || "routingMode" in patch)) {
      await this.m.provisioning.schedule();
      await this.m.reconciler.armSwitch();
    }
    return result;
  }

  // ── App Webhooks ─────────────────────────────────────────────────────────────

  /**
   * An App Webhook for this license (the route found it installed): an `application_uninstalled`
   * dated before the current installation is stale; a current one is a hint to confirm with
   * LiveChat. Recorded for operators, except a hint throttled during a flood (one record per check).
   */
  async receiveAppEvent(event: Omit<IncomingAppEvent, "outcome">): Promise<UninstallOutcome | "recorded" | "ignored_stale"> {
    const installation = await this.m.grant.installation();
    if (!installation.installed) return "not_installed";
    let outcome: UninstallOutcome | "recorded" | "ignored_stale" = "recorded";
    if (event.event === "application_uninstalled") {
      const eventTime = event.date ? Date.parse(event.date) : NaN;
      outcome = installation.installedAt && eventTime < installation.installedAt ? "ignored_stale" : await this.m.uninstallCheck.hint();
    }
    // A confirmed uninstall left a tombstone that says so; nothing else of the license is kept.
    if (outcome !== "throttled" && outcome !== "not_installed" && outcome !== "uninstalled") {
      await this.m.appEvents.record({ ...event, outcome });
      // App Webhooks are where LiveChat names the license's numeric id (docs/LIVECHAT.md §7).
      if (installation.organizationId) await this.licenseNumbers.note(event.licenseId, installation.organizationId);
    }
    return outcome;
  }

  /** Record an App Webhook event (install, uninstall, payment) for operators. */
  recordAppEvent(event: IncomingAppEvent): Promise<void> {
    return this.m.appEvents.record(event);
  }

  /** Recent App Webhook events, newest first. */
  listAppEvents(): Promise<AppEventRecord[]> {
    return this.m.appEvents.list();
  }

  // ── Webhook deliveries (src/deliveries, src/framework; issue 3) ──────────────

  /** The webhook's ack for a license-scoped delivery (or one without a readable chat id): store it, schedule processing. */
  append(kind: WebhookKind, body: string): Promise<void> | undefined {
    return this.deliveries.inbox.append(kind, body);
  }

  /** Operator replay of any recorded license-scoped delivery (dead, or finished: only incomplete handlers run). */
  async rerunDelivery(deliveryId: string): Promise<RerunResult> {
    const seen = this.journal.get(deliveryId);
    const result = await this.deliveries.inbox.rerun(deliveryId);
    if (result.ok && seen) this.journal.markReplayed(deliveryId, seen.updatedAt);
    return result;
  }

  // ── Delivery journal (src/licenses/journal.ts; issue 7) ──────────────────────

  /**
   * A Chat DO reports processing attempts of chat-scoped deliveries, in order: one processing
   * pass's worth per call (a single report is still accepted from a Chat DO running older code).
   */
  async journalReport(reports: JournalReport | JournalReport[]): Promise<void> {
    // An uninstalled license keeps nothing new (a Chat DO may still report a late delivery).
    if (await this.eraser.tombstone()) return;
    const list = Array.isArray(reports) ? reports : [reports];
    this.journal.recordAll(list);
    // The chats the reports name may hold data now: indexed so that an erase reaches them.
    this.chats.note(
      list.flatMap((r) => (r.chatId === undefined ? [] : [r.chatId])),
      Date.now(),
    );
    // A license webhook (e.g. chat_deactivated) arrived: license webhooks are enabled.
    const license = list.find((r) => r.kind === "license");
    if (license) await this.noteLicenseWebhook(license.receivedAt);
  }

  /** A license webhook arrived at `at` (best effort: never fails a delivery or a report). */
  private async noteLicenseWebhook(at: number): Promise<void> {
    try {
      await this.m.reconciler.noteLicenseWebhook(at);
    } catch {
      // Configuration invalid or storage busy: the next visit asks LiveChat instead.
    }
  }

  /** Journal entries, newest first. */
  async journalEntries(options: { limit?: number; outcome?: JournalOutcome; chatId?: string; since?: number } = {}): Promise<JournalEntry[]> {
    return this.journal.list(options);
  }

  /** One journal entry. */
  async journalEntry(deliveryId: string): Promise<JournalEntry | undefined> {
    return this.journal.get(deliveryId);
  }

  /** Outcome counts per hour, oldest first. */
  async journalHourly(hours = 24): Promise<HourlyCounts[]> {
    return this.journal.hourly(hours);
  }

  /** Note that an operator re-queued a chat-scoped delivery whose entry they read at `seenUpdatedAt`. */
  async journalReplayed(deliveryId: string, seenUpdatedAt: number): Promise<void> {
    this.journal.markReplayed(deliveryId, seenUpdatedAt);
  }

  private journalSafely(write: () => void, log = createLogger({ component: "license" })): void {
    try {
      write();
    } catch (error) {
      log.warn("delivery journal write failed", { error });
    }
  }

  /** The bot's routing status as last set or reported; bot webhooks act only while accepting chats (docs/LIVECHAT.md §1.5). */
  async botRoutingStatus(): Promise<BotRoutingState> {
    return routingState(await this.m.bot.info());
  }

  /**
   * Everything handlers read about the license, in one call: a Chat DO caches it for a few
   * seconds (src/chats/license-cache.ts) instead of one RPC per read.
   */
  async handlerSnapshot(): Promise<LicenseSnapshot> {
    const [installation, botInfo, settings] = await Promise.all([this.m.grant.installation(), this.m.bot.info(), this.m.settingsStore.get()]);
    return { installation, botInfo, settings, botRoutingStatus: routingState(botInfo) };
  }

  /**
   * A reported routing status (routing_status_set); kept when it concerns the bot and is not
   * older. In managed routing mode a status other than the wanted one is healed at once;
   * otherwise it is confirmed with LiveChat shortly (src/licenses/reconcile.ts `onReport`).
   */
  async recordRoutingStatus(update: RoutingStatusUpdate): Promise<boolean> {
    const ours = await this.m.bot.noteRoutingStatus(update.agentId, update.status, update.at);
    if (ours) await this.m.reconciler.onReport();
    return ours;
  }

  /**
   * LiveChat deleted an agent or bot (bot_deleted). When it was the license's bot: managed
   * routing mode provisions a new one at once (on the alarm, retried); owner mode records it,
   * for the operator to see (license page) and to fix with a forced reconcile.
   */
  async recordBotDeleted(update: { agentId: string; at: number }): Promise<boolean> {
    if (!(await this.m.bot.noteDeleted(update.agentId, update.at))) return false;
    const { routingMode } = await this.m.settingsStore.get();
    const log = createLogger({ component: "license" });
    if (routingMode === "managed") {
      log.warn("bot deleted in LiveChat; provisioning a new one", { bot_id: update.agentId });
      await this.m.provisioning.schedule();
    } else {
      log.warn("bot deleted in LiveChat; owner routing mode: not re-created", { bot_id: update.agentId });
    }
    return true;
  }

}

/** The routing state the bot's stored info implies (no bot or no known status: not accepting). */
function routingState(info: BotInfo | null): BotRoutingState {
  return {
    ...(info ? { agentId: info.id } : {}),
    ...(info?.routingStatus ? { status: info.routingStatus } : {}),
    ...(info?.routingStatusAt !== undefined ? { updatedAt: info.routingStatusAt } : {}),
    acceptingChats: info?.routingStatus === "accepting_chats",
  };
}
