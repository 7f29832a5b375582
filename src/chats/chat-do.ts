import { loadConfig, requireConfig } from "../config";
import type { NamedAlarms } from "../durable/alarms";
import type { PendingTimer } from "../framework/context";
import { type DeliveryHost, deliveryHost, namedAlarms } from "../framework/host";
import type { RerunResult, WebhookKind } from "../deliveries/types";
import { type JournalReport, journalReport } from "../licenses/journal";
import type { TimerRegistry } from "../framework/timers";
import type { WebhookRouter } from "../framework/router";
import { licenseStub } from "../licenses/stub";
import { createLogger, type Logger } from "../log";
import { SqlChatStore } from "./chat-store";
import { LicenseCache } from "./license-cache";
import { SqlChatTimers } from "./timers";
import { InboxObject } from "../deliveries/inbox-object";
import { retentionPolicy } from "../deliveries/retention";
import type { StoredDelivery } from "../deliveries/types";
import { chatHoldings, type ErasedChat } from "./holdings";
import { ChatRetention } from "./retention";
import { PRUNE_DEADLINE } from "../deliveries/inbox";
import { type StorageReport, storageReport, storedDeadline } from "../durable/storage-report";

/** A Chat DO's modules over its storage. */
interface ChatParts {
  /** Named deadlines over the DO's one alarm: delivery processing and pruning, and the chat's timers. */
  alarms: NamedAlarms;
  /** The chat's logical timers (`timer:<name>` deadlines), e.g. the bot's reply timer. */
  timers: SqlChatTimers;
  store: SqlChatStore;
  deliveries: DeliveryHost;
  retention: ChatRetention;
}

/** One logger for every Chat DO of the isolate: its fields are the same for all of them. */
const chatLog = createLogger({ component: "chat" });

/** What a Chat DO gets from the layer that composes it (src/objects.ts): the app's handlers. */
export interface ChatWiring {
  /** Webhook handlers by action (src/handlers.ts). */
  router: WebhookRouter;
  /** Timer handlers by kind (src/handlers.ts). */
  timers: TimerRegistry;
}

/**
 * Chat Durable Object: one per (organization_id, chat_id). Records the chat's deliveries durably
 * before the ack, processes them in arrival order on its alarm, and keeps the chat's own state
 * (docs/ARCHITECTURE.md "The data's way through the Worker"). A thin RPC shell over its modules;
 * the class wrangler.toml binds is src/objects.ts's `Chat`, which hands it the app's handlers.
 */
export class ChatObject extends InboxObject {
  /** The DO's modules, built on first use and dropped when the DO erases itself (see {@link ChatObject.erase}). */
  private built: ChatParts | undefined;
  private readonly log: Logger;
  /** Journal reports to the License DO, sent one after another, never awaited by processing. */
  private reporting: Promise<void> = Promise.resolve();
  /** Reports of the current processing pass, by organization; sent as one batch when it ends. */
  private readonly unsent = new Map<string, JournalReport[]>();
  /** The license facts handlers read, shared for a few seconds (src/chats/license-cache.ts). */
  private readonly license: LicenseCache;

  /** The app's handlers (src/objects.ts). */
  private readonly wiring: ChatWiring;

  constructor(ctx: DurableObjectState, env: Env, wiring: ChatWiring) {
    super(ctx, env);
    this.wiring = wiring;
    this.log = chatLog;
    this.license = new LicenseCache((organizationId) => licenseStub(env, organizationId), {
      ttlMs: () => requireConfig(env).licenseCacheTtlMs,
    });
  }

  /**
   * The modules over the DO's storage. Built lazily, not in the constructor: their tables are
   * created when built, and an erased DO must stay empty until something is stored again.
   */
  private parts(): ChatParts {
    if (this.built) return this.built;
    const { ctx, env } = this;
    const log = this.log;
    // Storing a webhook needs no configuration (src/config.ts loadWebhookSecrets): while it is
    // invalid, the default retention applies and processing waits (src/framework/host.ts).
    const config = loadConfig(env);
    const alarms = namedAlarms(ctx.storage, log);
    const store = new SqlChatStore(ctx.storage);
    const timers = new SqlChatTimers({
      alarms,
      storage: ctx.storage,
      store,
      registry: this.wiring.timers,
      license: (organizationId) => this.license.handle(organizationId),
      config: () => requireConfig(env),
      log,
    });
    const policy = retentionPolicy(config.ok ? config.config : {});
    const retention = new ChatRetention({
      storage: ctx.storage,
      alarms,
      policy,
      pendingTimers: () => timers.list().length,
      installation: (organizationId) => this.license.handle(organizationId).installation(),
      erase: async (reason) => {
        const erased = await this.erase();
        log.info("chat erased", { reason, ...erased });
      },
      log,
    });
    const deliveries = deliveryHost(ctx.storage, alarms, {
      router: this.wiring.router,
      config: () => requireConfig(env),
      // The Chat DO reaches its license over RPC, its handler reads through the short-lived cache.
      license: (organizationId) => this.license.handle(organizationId),
      chat: (delivery) =>
        delivery.chatId === undefined
          ? undefined
          : { id: delivery.chatId, organizationId: delivery.organizationId, store, timers },
      log,
    }, {
      deliveryRetentionMs: policy.deliveryMs,
      deadLetterTtlMs: policy.deadLetterMs,
      // Off the ack path: tell the license's journal how each attempt ended (src/licenses/journal.ts).
      // Batched per processing pass: one RPC when the pass ends, not one per attempt.
      onAttempt: (event) => {
        this.report(event.delivery.organizationId, () => journalReport(event), false);
        if (event.result !== "retry") this.lifecycleNotes.push(event.delivery);
      },
      onPassEnd: () => {
        this.flushReports();
        this.noteLifecycle();
      },
      onPrune: (report, now) => retention.afterPrune(report, now),
    });
    this.built = { alarms, timers, store, deliveries, retention };
    return this.built;
  }

  /** Processed lifecycle deliveries (deactivation, new thread) of the current pass, noted when it ends. */
  private lifecycleNotes: StoredDelivery[] = [];

  private noteLifecycle(): void {
    const notes = this.lifecycleNotes;
    this.lifecycleNotes = [];
    const retention = this.built?.retention;
    if (!retention) return;
    this.ctx.waitUntil(
      (async () => {
        for (const delivery of notes) await retention.noteProcessed(delivery);
      })().catch((error: unknown) => this.log.warn("chat lifecycle note failed", { error })),
    );
  }

  protected get deliveries(): DeliveryHost {
    return this.parts().deliveries;
  }

  private get alarms(): NamedAlarms {
    return this.parts().alarms;
  }

  private get timers(): SqlChatTimers {
    return this.parts().timers;
  }

  private get store(): SqlChatStore {
    return this.parts().store;
  }

  /**
   * Erase everything this DO stores (deliveries, dead letters, dedupe claims, timers, the chat's
   * store) and its alarm: what an uninstall, an operator's request or the chat's retention asks
   * (docs/DATA.md). Answers what was there. The DO stays empty until a webhook for the chat arrives.
   */
  async erase(): Promise<ErasedChat> {
    const held = await this.holdingsIfAny();
    this.built?.alarms.forgetAll();
    this.built = undefined;
    this.lifecycleNotes = [];
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    return held;
  }

  /** What the DO holds, without creating any table (an erased DO stays empty). */
  async holdings(): Promise<ErasedChat> {
    return this.holdingsIfAny();
  }

  private async holdingsIfAny(): Promise<ErasedChat> {
    const tables = new Set(
      this.ctx.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((r) => r.name),
    );
    return chatHoldings(this.ctx.storage.sql, tables);
  }

  /**
   * What the DO stores, the oldest item it keeps and when its next prune runs (which may erase it,
   * src/chats/retention.ts), for the license's totals; creates no table.
   */
  async storageReport(): Promise<StorageReport> {
    return storageReport(this.ctx.storage, storedDeadline(this.ctx.storage.sql, PRUNE_DEADLINE));
  }

  // ── Deliveries (src/deliveries) ──────────────────────────────────────────────

  /** The webhook's ack for a chat-scoped delivery: store it, schedule processing (src/deliveries/inbox.ts). */
  append(kind: WebhookKind, body: string): Promise<void> | undefined {
    return this.parts().deliveries.inbox.append(kind, body);
  }

  /** Operator replay of any recorded delivery (dead, or finished: only incomplete handlers run). */
  rerunDelivery(deliveryId: string): Promise<RerunResult> {
    return this.deliveries.inbox.rerun(deliveryId);
  }

  /**
   * Queue a journal report for the License DO and, when `flush` (not mid-pass: the pass's end
   * flushes), send the queue now. Reports go out in the background and in order. A failure is logged and
   * dropped: the journal is an index for operators, never a reason to fail or delay a delivery.
   */
  private report(organizationId: string, make: () => JournalReport, flush = true): void {
    let report: JournalReport;
    try {
      report = make();
    } catch (error) {
      this.log.warn("delivery journal report failed", { error });
      return;
    }
    const queue = this.unsent.get(organizationId);
    if (queue) queue.push(report);
    else this.unsent.set(organizationId, [report]);
    if (flush) this.flushReports();
  }

  /** Send every queued report, one `journalReport` RPC per organization, after the ones already sent. */
  private flushReports(): void {
    for (const [organizationId, reports] of this.unsent) {
      this.unsent.delete(organizationId);
      this.reporting = this.reporting
        .then(() => licenseStub(this.env, organizationId).journalReport(reports))
        .catch((error: unknown) =>
          this.log.warn("delivery journal report failed", { organization_id: organizationId, reports: reports.length, error }),
        );
    }
    this.ctx.waitUntil(this.reporting);
  }

  // ── Timers (src/chats/timers.ts) ───────────────────────────────────────────────

  /** The chat's pending timers, earliest first: name, due time (ms), organization, chat and data. */
  async pendingTimers(): Promise<PendingTimer[]> {
    return this.timers.list();
  }
}
