import type { NamedAlarms } from "../durable/alarms";
import type { LiveChatApis } from "../livechat/apis";
import { LiveChatError } from "../livechat/errors";
import type { Logger } from "../log";
import type { LicenseBot } from "./bot";
import type { LicenseGrant } from "./grant";
import type { LicenseProvisioning } from "./provisioning";
import type { ReconcileReport } from "./reconcile-report";
import { RoutingKeeper } from "./routing-keeper";
import { desiredRoutingStatus, type SettingsStore } from "./settings";

export { CONFIRM_DELAY_MS, HEAL_DEADLINE, CONFIRM_DEADLINE } from "./routing-keeper";
export type { ReconcileReport } from "./reconcile-report";

/** Deadline name of a scheduled visit (the cron's fan-out) on the License DO's alarm. */
export const RECONCILE_DEADLINE = "reconcile";
/** Refresh the access token when it expires within this window: hourly visits never miss it. */
export const RECONCILE_REFRESH_WINDOW_MS = 3600_000 + 15 * 60_000;
/** How many reconcile reports a license keeps. */
export const RECONCILE_HISTORY = 20;
/** Storage key of the {@link Observed} facts. */
const OBSERVED_KEY = "reconcile-observed";
/** A license webhook's arrival is written down at most this often (it proves license webhooks enabled). */
const OBSERVE_WRITE_EVERY_MS = 5 * 60_000;

/** Facts about the license observed from webhooks and API answers. */
interface Observed {
  /** When license webhooks were last known enabled: a `get_license_webhooks_state` answer, or a license webhook that arrived. */
  licenseWebhooksAt?: number;
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
  /** Ask LiveChat again about a pending uninstall hint; true when it confirmed and the license was uninstalled. */
  retryUninstall?: () => Promise<boolean>;
  /** How long an observation is trusted without asking LiveChat (RECONCILE_STALE_SECONDS). */
  staleMs?: number;
  /** The cron's interval (RECONCILE_SPREAD_SECONDS): how far a visit may land from its hour mark. */
  spreadMs?: number;
  now?: () => number;
}

/**
 * Desired-state reconciliation of one license, run by its own License DO: token fresh for the
 * next hour, bot present, bot routing status as the working hours want (managed routing mode;
 * a bot drifting to `offline` silently stops getting bot webhooks, docs/LIVECHAT.md §1.5), and
 * license webhooks enabled (`disable_license_webhooks` survives reinstalls, §3.2).
 *
 * Two depths:
 * - {@link visit} (the cron, about hourly): calls LiveChat only for what is unknown, stale or
 *   due. While license webhooks are known enabled (an API answer or a license webhook within the
 *   stale period), `routing_status_set` and `bot_deleted` (license webhooks, src/setup/declaration.ts)
 *   report every change of the bot, so what they last said is current: a healthy license costs one
 *   `get_license_webhooks_state` an hour, none when a license webhook arrived meanwhile.
 * - {@link run} (an operator's forced check): everything, regardless of staleness.
 * Owner routing mode records the status and never sets it. Each step is independent: one failing
 * step is recorded and the others still run.
 */
export class LicenseReconciler {
  private readonly now: () => number;
  /**
   * How long a visit trusts an observation: the stale period less the cron's spread. A license's
   * visits come one stale period apart give or take the spread (src/licenses/fleet.ts), and the
   * previous visit's answer is a little younger than its visit: trusted for the full period, it
   * would make every other hourly visit skip the check.
   */
  private readonly freshMs: number;
  private readonly routing: RoutingKeeper;
  private observedCache: Observed | undefined;

  constructor(private readonly deps: ReconcileDeps) {
    this.now = deps.now ?? (() => Date.now());
    const staleMs = deps.staleMs ?? 3600_000;
    this.freshMs = Math.max(staleMs - (deps.spreadMs ?? 0), staleMs / 2);
    this.routing = new RoutingKeeper({ ...deps, now: this.now, record: (report) => this.record(report) });
    deps.alarms.handle(RECONCILE_DEADLINE, async () => {
      await this.visit();
    });
  }

  /** The bot's routing status was reported (routing_status_set): heal or confirm it (src/licenses/routing-keeper.ts). */
  onReport(): Promise<void> {
    return this.routing.onReport();
  }

  /** Settings changed: re-arm the working-hours switch. */
  armSwitch(): Promise<void> {
    return this.routing.armSwitch();
  }

  /** Visit on the alarm after `delayMs` (the cron's fan-out spreads a fleet's visits). */
  async schedule(delayMs = 0): Promise<void> {
    await this.deps.alarms.schedule(RECONCILE_DEADLINE, this.now() + delayMs, "earliest");
  }

  /** Cancel a scheduled visit, heal or confirmation (uninstall). */
  async cancel(): Promise<void> {
    await this.deps.alarms.cancel(RECONCILE_DEADLINE);
    await this.routing.cancel();
  }

  /**
   * A license webhook arrived at `at`: license webhooks are enabled. Written down at most every
   * few minutes (this runs for deliveries).
   */
  async noteLicenseWebhook(at: number): Promise<void> {
    const observed = await this.observed();
    if ((observed.licenseWebhooksAt ?? 0) + OBSERVE_WRITE_EVERY_MS > at) return;
    await this.saveObserved({ ...observed, licenseWebhooksAt: at });
  }

  /** The cron's visit: only what is unknown, stale or due (see the class comment). */
  visit(): Promise<ReconcileReport> {
    return this.reconcile("visit");
  }

  /** An operator's full check: everything, with LiveChat, now. Never throws for LiveChat failures: they are in the report. */
  run(): Promise<ReconcileReport> {
    return this.reconcile("full");
  }

  private async reconcile(kind: "full" | "visit"): Promise<ReconcileReport> {
    const started = this.now();
    const full = kind === "full";
    const report: ReconcileReport = { at: started, durationMs: 0, drift: [], fixed: [], failed: [], kind, calls: 0 };
    const { grant, bot, settings, provisioning, log } = this.deps;
    const call = <T>(fn: () => Promise<T>): Promise<T> => {
      report.calls!++;
      return fn();
    };
    const apis = this.deps.apis;

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

    // 1. Access token valid for the next visit (due; a failed refresh marks the license for reinstall).
    const tokenOk = await step("token", async () => {
      if ((installation.expiresAt ?? 0) - this.now() <= RECONCILE_REFRESH_WINDOW_MS) {
        report.drift.push("access token expires within the hour");
        await call(() => grant.refresh());
        report.fixed.push("access token refreshed");
      }
    });
    if (!tokenOk) {
      if ((await grant.installation()).needsReinstall) report.skipped = "needs_reinstall";
      return this.record(report);
    }

    // 2. License webhooks enabled: asked when not known within the stale period (or always, full).
    let reportsTrusted = false;
    await step("license_webhooks", async () => {
      const observed = await this.observed();
      if (!full && (observed.licenseWebhooksAt ?? 0) > this.now() - this.freshMs) {
        reportsTrusted = true;
        return;
      }
      const state = await call(() => apis().configuration.getLicenseWebhooksState({}));
      if (!state.license_webhooks_enabled) {
        report.drift.push("license webhooks disabled");
        await call(() => apis().configuration.enableLicenseWebhooks({}));
        report.fixed.push("license webhooks enabled");
        // Changes of the bot meanwhile were not reported: check it below.
      } else {
        reportsTrusted = !full;
      }
      await this.saveObserved({ ...observed, licenseWebhooksAt: this.now() });
    });

    // 3. The bot exists (recreated when it is missing; a deleted one only in managed mode or when forced).
    const current = await settings.get();
    const owner = current.routingMode === "owner";
    let botGone = false;
    const botOk = await step("bot", async () => {
      const info = await bot.info();
      let gone = !info ? "no bot" : info.deletedAt !== undefined ? `bot ${info.id} was deleted` : undefined;
      if (info && !gone && !reportsTrusted) {
        try {
          await call(() => apis().configuration.getBot({ id: info.id }));
        } catch (err) {
          if (!(err instanceof LiveChatError && err.type === "not_found")) throw err;
          await bot.noteDeleted(info.id, this.now());
          gone = `bot ${info.id} was deleted`;
        }
      }
      if (!gone) return;
      report.drift.push(gone);
      if (info && owner && !full) {
        // Owner mode: recorded and shown (license page); an operator's forced reconcile re-creates it.
        botGone = true;
        return;
      }
      await bot.forget();
      const created = await provisioning.run();
      report.fixed.push(`bot ${created.id} provisioned`);
    });
    if (botOk && !botGone) {
      if (full) {
        await step("bot_token", async () => {
          const before = (await bot.info())?.tokenExpiresAt;
          await bot.credentials(org, installation.region);
          const after = (await bot.info())?.tokenExpiresAt;
          if (after !== before) {
            report.calls!++;
            report.fixed.push("bot token renewed");
          }
        });
      }
      // 4. Routing status as desired (managed) or as it is (owner): read when not trusted or unknown.
      await step("routing_status", async () => {
        const info = (await bot.info())!;
        const desired = desiredRoutingStatus(current.workingHours, new Date(this.now()));
        let actual: string | undefined = info.routingStatus;
        if (!reportsTrusted || actual === undefined) actual = await call(() => this.routing.read(info.id));
        if (owner || actual === desired) return;
        report.drift.push(`bot routing status ${actual}, wanted ${desired}`);
        await call(() => bot.setRoutingStatus(desired, apis().bot));
        report.fixed.push(`bot routing status set to ${desired}`);
      });
      await this.routing.armSwitch();
    }

    report.durationMs = this.now() - started;
    if (report.drift.length || report.failed.length) {
      log.info("reconciled", { organization_id: org, kind, drift: report.drift, fixed: report.fixed, failed: report.failed, calls: report.calls });
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

  private async observed(): Promise<Observed> {
    return (this.observedCache ??= (await this.deps.storage.get<Observed>(OBSERVED_KEY)) ?? {});
  }

  private async saveObserved(observed: Observed): Promise<void> {
    this.observedCache = observed;
    await this.deps.storage.put(OBSERVED_KEY, observed);
  }
}

function describe(err: unknown): string {
  if (err instanceof LiveChatError) return `${err.type}: ${err.detail}`.slice(0, 300);
  return (err instanceof Error ? err.message : String(err)).slice(0, 300);
}
