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
  }

  /** Reconcile on the alarm after `delayMs` (jitter spreads a fleet's API calls). */
  async schedule(delayMs = 0): Promise<void> {
    await this.deps.alarms.schedule(RECONCILE_DEADLINE, this.now() + delayMs, "earliest");
  }

  /** Cancel a scheduled reconcile (uninstall). */
  async cancel(): Promise<void> {
    await this.deps.alarms.cancel(RECONCILE_DEADLINE);
  }

  /** Reconcile now and record the report. Never throws for LiveChat failures: they are in the report. */
  async run(): Promise<ReconcileReport> {
    const started = this.now();
    const report: ReconcileReport = { at: started, durationMs: 0, drift: [], fixed: [], failed: [] };
    const { grant, bot, settings, apis, log } = this.deps;

    // An uninstall hint LiveChat could not confirm yet is asked about again first (src/licenses/uninstall-check.ts).
    if (await this.deps.retryUninstall?.()) return { ...report, skipped: "not_installed" };

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
      // 4. Routing status as desired (working hours in the license's time zone).
      await step("routing_status", async () => {
        const desired = desiredRoutingStatus((await settings.get()).workingHours, new Date(this.now()));
        const id = (await bot.id())!;
        const statuses = await apis().agent.listRoutingStatuses({});
        const reported = statuses.find((s) => s.agent_id === id)?.status;
        // A bot missing from the list is not routable: treat it as offline.
        const actual = reported === undefined ? "offline" : normalizeRoutingStatus(reported);
        if (actual) await bot.noteRoutingStatus(id, actual, this.now());
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
