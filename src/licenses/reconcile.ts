import type { NamedAlarms } from "../durable/alarms";
import type { LiveChatApis } from "../framework/context";
import { LiveChatError } from "../livechat/errors";
import { normalizeRoutingStatus } from "../livechat/webhooks";
import type { Logger } from "../log";
import type { LicenseBot } from "./bot";
import type { LicenseGrant } from "./grant";
import type { LicenseProvisioning } from "./provisioning";
import { desiredRoutingStatus, type SettingsStore } from "./settings";

/** Deadline name of a scheduled reconcile on the License DO's alarm. */
export const RECONCILE_DEADLINE = "reconcile";
/** Deadline name of a routing-status heal (managed mode) after a reported drift. */
export const HEAL_DEADLINE = "heal-routing";
/** Deadline name of the check that confirms a reported routing status with LiveChat. */
export const CONFIRM_DEADLINE = "confirm-routing";
/** How long after a reported status it is confirmed: reports of one switch arrive together. */
export const CONFIRM_DELAY_MS = 2_000;
/** Refresh the access token when it expires within this window (issue 5: "within the hour"). */
export const RECONCILE_REFRESH_WINDOW_MS = 3600_000;
/** How many reconcile reports a license keeps. */
export const RECONCILE_HISTORY = 20;

/** What one reconcile found and did. */
export interface ReconcileReport {
  at: number;
  durationMs: number;
  /** Differences between the desired and the actual state. */
  drift: string[];
  /** What was changed to remove drift (or renewed ahead of time). */
  fixed: string[];
  /** Steps that failed, with the error type/message (no secrets). */
  failed: { step: string; error: string }[];
  /** Set when the license was not reconciled at all. */
  skipped?: "not_installed" | "needs_reinstall";
}

/** Everything reconcile works with; owned by the License DO. */
export interface ReconcileDeps {
  storage: DurableObjectStorage;
  grant: LicenseGrant;
  bot: LicenseBot;
  settings: SettingsStore;
  provisioning: LicenseProvisioning;
  alarms: NamedAlarms;
  apis: () => LiveChatApis;
  log: Logger;
  now?: () => number;
  /** Ask LiveChat again about a pending uninstall hint; true when it confirmed and the license was uninstalled. */
  retryUninstall?: () => Promise<boolean>;
}

/**
 * Desired-state reconciliation of one license, run by its own License DO (the cron only fans
 * out): token fresh for the next hour, bot present with a valid token, bot routing status as the
 * working hours want (bots drifting to `offline` silently stop getting bot webhooks, docs/LIVECHAT.md
 * §1.5), and license webhooks enabled (`disable_license_webhooks` survives reinstalls, §3.2).
 * Each step is independent: one failing step is recorded and the others still run.
 */
export class LicenseReconciler {
  private readonly now: () => number;

  constructor(private readonly deps: ReconcileDeps) {
    this.now = deps.now ?? Date.now;
    deps.alarms.handle(RECONCILE_DEADLINE, async () => {
      await this.run();
    });
    deps.alarms.handle(HEAL_DEADLINE, async () => {
      await this.heal();
    });
    deps.alarms.handle(CONFIRM_DEADLINE, async () => {
      await this.confirm();
    });
  }

  /**
   * The bot's routing status was reported: heal it (managed mode, drift) or confirm it with
   * LiveChat shortly. Webhooks carry no id and may come late or twice (docs/LIVECHAT.md §1.4), so
   * the gate trusts `list_routing_statuses` over their order: one call per reported change.
   */
  async onReport(): Promise<void> {
    if (!(await this.onReportedStatus())) await this.deps.alarms.schedule(CONFIRM_DEADLINE, this.now() + CONFIRM_DELAY_MS, "earliest");
  }

  /** Read the bot's routing status from LiveChat, record it, and heal drift in managed mode. */
  async confirm(): Promise<void> {
    const { bot, grant, apis } = this.deps;
    const installation = await grant.installation();
    if (!installation.installed || installation.needsReinstall) return;
    const info = await bot.info();
    if (!info || info.deletedAt !== undefined) return;
    const statuses = await apis().agent.listRoutingStatuses({});
    const reported = statuses.find((s) => s.agent_id === info.id)?.status;
    // A bot missing from the list is not routable: offline.
    const actual = reported === undefined ? "offline" : normalizeRoutingStatus(reported);
    if (actual) await bot.noteRoutingStatus(info.id, actual, this.now());
    await this.onReportedStatus();
  }

  /**
   * A routing status was reported (routing_status_set, docs/LIVECHAT.md §2.3): in managed mode,
   * when it is not what the working hours want, heal it on the alarm now (well within a minute).
   * Owner mode follows what was reported. True when a heal was scheduled.
   */
  async onReportedStatus(): Promise<boolean> {
    const [info, current] = await Promise.all([this.deps.bot.info(), this.deps.settings.get()]);
    if (!info || info.deletedAt !== undefined || current.routingMode !== "managed") return false;
    if (info.routingStatus === desiredRoutingStatus(current.workingHours, new Date(this.now()))) return false;
    await this.deps.alarms.schedule(HEAL_DEADLINE, this.now(), "earliest");
    return true;
  }

  /**
   * Set the bot's routing status to what the working hours want when its known status differs
   * (managed mode only; one LiveChat call, recorded in the history when it changed something).
   */
  async heal(): Promise<ReconcileReport | undefined> {
    const { bot, settings, grant, apis, log } = this.deps;
    const installation = await grant.installation();
    if (!installation.installed || installation.needsReinstall) return undefined;
    const [info, current] = await Promise.all([bot.info(), settings.get()]);
    if (!info || info.deletedAt !== undefined || current.routingMode !== "managed") return undefined;
    const desired = desiredRoutingStatus(current.workingHours, new Date(this.now()));
    if (info.routingStatus === desired) return undefined;
    const report: ReconcileReport = { at: this.now(), durationMs: 0, drift: [`bot routing status ${info.routingStatus ?? "unknown"}, wanted ${desired}`], fixed: [], failed: [] };
    try {
      await bot.setRoutingStatus(desired, apis().bot);
      report.fixed.push(`bot routing status set to ${desired}`);
    } catch (err) {
      report.failed.push({ step: "routing_status", error: describe(err) });
      log.warn("routing status heal failed", { organization_id: installation.organizationId, error: describe(err) });
    }
    return this.record(report);
  }

  /** Reconcile on the alarm after `delayMs` (jitter spreads a fleet's API calls). */
  async schedule(delayMs = 0): Promise<void> {
    await this.deps.alarms.schedule(RECONCILE_DEADLINE, this.now() + delayMs, "earliest");
  }

  /** Cancel a scheduled reconcile or heal (uninstall). */
  async cancel(): Promise<void> {
    await this.deps.alarms.cancel(RECONCILE_DEADLINE);
    await this.deps.alarms.cancel(HEAL_DEADLINE);
    await this.deps.alarms.cancel(CONFIRM_DEADLINE);
  }

  /** Reconcile now and record the report. Never throws for LiveChat failures: they are in the report. */
  async run(): Promise<ReconcileReport> {
    const started = this.now();
    const report: ReconcileReport = { at: started, durationMs: 0, drift: [], fixed: [], failed: [] };
    const { grant, bot, settings, apis, log } = this.deps;

    // An uninstall hint LiveChat could not confirm yet is asked about again first (src/licenses/uninstall-check.ts).
    if (await this.deps.retryUninstall?.()) return { ...report, skipped: "not_installed" };

    // 0. Sealed values under the previous TOKEN_ENCRYPTION_KEY are sealed again, also for a license
    // waiting for its reinstall (docs/SECURITY.md "Rotating secrets without downtime").
    try {
      if (await grant.reseal()) report.fixed.push("sealed again with the current key");
    } catch (err) {
      report.failed.push({ step: "seal", error: describe(err) });
    }
    const installation = await grant.installation();
    if (!installation.installed || !installation.organizationId) report.skipped = "not_installed";
    else if (installation.needsReinstall) report.skipped = "needs_reinstall";
    if (report.skipped) return this.record(report);
    const org = installation.organizationId!;

    const step = async (name: string, fn: () => Promise<void>): Promise<boolean> => {
      try {
        await fn();
        return true;
      } catch (err) {
        report.failed.push({ step: name, error: describe(err) });
        return false;
      }
    };

    // 1. Access token valid for the next hour (a failed refresh marks the license for reinstall).
    const tokenOk = await step("token", async () => {
      const before = installation.expiresAt ?? 0;
      if (before - this.now() <= RECONCILE_REFRESH_WINDOW_MS) {
        report.drift.push("access token expires within the hour");
        await grant.refresh();
        report.fixed.push("access token refreshed");
      }
    });
    if (!tokenOk) {
      if ((await grant.installation()).needsReinstall) report.skipped = "needs_reinstall";
      return this.record(report);
    }

    // 2. The bot exists (recreated when it was deleted) and 3. its token is valid.
    const botOk = await step("bot", async () => {
      const current = await settings.get();
      const id = await bot.id();
      if (!id) {
        report.drift.push("no bot");
      } else {
        try {
          await apis().configuration.getBot({ id });
          return;
        } catch (err) {
          if (!(err instanceof LiveChatError && err.type === "not_found")) throw err;
          report.drift.push(`bot ${id} was deleted`);
        }
      }
      await bot.forget();
      const created = await bot.ensure(org, current.botName);
      report.fixed.push(`bot ${created.id} provisioned`);
    });
    if (botOk) {
      await step("bot_token", async () => {
        const before = (await bot.info())?.tokenExpiresAt;
        await bot.credentials(org, installation.region);
        const after = (await bot.info())?.tokenExpiresAt;
        if (after !== before) report.fixed.push("bot token renewed");
      });
      // 4. Routing status as desired (working hours in the license's time zone); owner mode records only.
      await step("routing_status", async () => {
        const current = await settings.get();
        const desired = desiredRoutingStatus(current.workingHours, new Date(this.now()));
        const id = (await bot.id())!;
        const statuses = await apis().agent.listRoutingStatuses({});
        const reported = statuses.find((s) => s.agent_id === id)?.status;
        // A bot missing from the list is not routable: treat it as offline.
        const actual = reported === undefined ? "offline" : normalizeRoutingStatus(reported);
        if (actual) await bot.noteRoutingStatus(id, actual, this.now());
        if (current.routingMode === "owner") return;
        if (actual !== desired) {
          report.drift.push(`bot routing status ${actual ?? reported}, wanted ${desired}`);
          await bot.setRoutingStatus(desired, apis().bot);
          report.fixed.push(`bot routing status set to ${desired}`);
        }
      });
    }

    // 5. License webhooks enabled.
    await step("license_webhooks", async () => {
      const state = await apis().configuration.getLicenseWebhooksState({});
      if (!state.license_webhooks_enabled) {
        report.drift.push("license webhooks disabled");
        await apis().configuration.enableLicenseWebhooks({});
        report.fixed.push("license webhooks enabled");
      }
    });

    report.durationMs = this.now() - started;
    if (report.drift.length || report.failed.length) {
      log.info("reconciled", { organization_id: org, drift: report.drift, fixed: report.fixed, failed: report.failed });
    }
    return this.record(report);
  }

  /** Reports, newest first. */
  async history(): Promise<ReconcileReport[]> {
    return (await this.deps.storage.get<ReconcileReport[]>("reconcile-history")) ?? [];
  }

  private async record(report: ReconcileReport): Promise<ReconcileReport> {
    report.durationMs = this.now() - report.at;
    const history = await this.history();
    await this.deps.storage.put("reconcile-history", [report, ...history].slice(0, RECONCILE_HISTORY));
    return report;
  }
}

function describe(err: unknown): string {
  if (err instanceof LiveChatError) return `${err.type}: ${err.detail}`.slice(0, 300);
  return (err instanceof Error ? err.message : String(err)).slice(0, 300);
}
