import { normalizeRoutingStatus } from "../livechat/webhooks";
import type { ProvisioningDeps } from "./provisioning";
import type { ReconcileReport } from "./reconcile-report";
import { desiredRoutingStatus, nextRoutingSwitch } from "./settings";

/** Deadline name of a routing-status heal (managed mode): after a reported drift, at a working-hours switch. */
export const HEAL_DEADLINE = "heal-routing";
/** Deadline name of the check that confirms a reported routing status with LiveChat. */
export const CONFIRM_DEADLINE = "confirm-routing";
/** How long after a reported status it is confirmed: reports of one switch arrive together. */
export const CONFIRM_DELAY_MS = 2_000;

/** What the keeper works with (provisioning's parts of the License DO, and the two below); owned by the License DO. */
export interface RoutingKeeperDeps extends ProvisioningDeps {
  /** Keep a report in the reconcile history. */
  record: (report: ReconcileReport) => Promise<ReconcileReport>;
  now: () => number;
}

/**
 * Keeps the bot's routing status between reconciles, from what LiveChat reports
 * (`routing_status_set`, docs/LIVECHAT.md §2.3) and what the clock says:
 * - managed routing mode: a reported status other than the working hours' is healed at once
 *   (one `set_routing_status`), and a working-hours switch is applied when it comes due (a
 *   deadline at the next switch, no LiveChat call before it);
 * - every reported change is confirmed with `list_routing_statuses` shortly after, because
 *   webhooks carry no id and may come late or twice (§1.4); owner mode only records.
 */
export class RoutingKeeper {
  constructor(private readonly deps: RoutingKeeperDeps) {
    deps.alarms.handle(HEAL_DEADLINE, async () => {
      await this.heal();
      await this.armSwitch();
    });
    deps.alarms.handle(CONFIRM_DEADLINE, async () => {
      await this.confirm();
    });
  }

  /** The bot's routing status was reported: heal it (managed mode, drift) or confirm it shortly. */
  async onReport(): Promise<void> {
    if (!(await this.healIfDrifted())) await this.deps.alarms.schedule(CONFIRM_DEADLINE, this.deps.now() + CONFIRM_DELAY_MS, "earliest");
  }

  /** In managed mode, schedule a heal now when the known status is not the wanted one. True when scheduled. */
  async healIfDrifted(): Promise<boolean> {
    const [info, current] = await Promise.all([this.deps.bot.info(), this.deps.settings.get()]);
    if (!info || info.deletedAt !== undefined || current.routingMode !== "managed") return false;
    if (info.routingStatus === desiredRoutingStatus(current.workingHours, new Date(this.deps.now()))) return false;
    await this.deps.alarms.schedule(HEAL_DEADLINE, this.deps.now(), "earliest");
    return true;
  }

  /** In managed mode with working hours, a heal deadline at the next switch (replacing a later one). */
  async armSwitch(): Promise<void> {
    const current = await this.deps.settings.get();
    if (current.routingMode !== "managed") return;
    const at = nextRoutingSwitch(current.workingHours, new Date(this.deps.now()));
    if (at !== undefined) await this.deps.alarms.schedule(HEAL_DEADLINE, at, "earliest");
  }

  /**
   * Set the bot's routing status to what the working hours want when its known status differs
   * (managed mode only; one LiveChat call, kept in the reconcile history when it changed something).
   */
  async heal(): Promise<ReconcileReport | undefined> {
    const { bot, settings, grant, apis, log, now } = this.deps;
    const installation = await grant.installation();
    if (!installation.installed || installation.needsReinstall) return undefined;
    const [info, current] = await Promise.all([bot.info(), settings.get()]);
    if (!info || info.deletedAt !== undefined || current.routingMode !== "managed") return undefined;
    const desired = desiredRoutingStatus(current.workingHours, new Date(now()));
    if (info.routingStatus === desired) return undefined;
    const report: ReconcileReport = { at: now(), durationMs: 0, drift: [`bot routing status ${info.routingStatus ?? "unknown"}, wanted ${desired}`], fixed: [], failed: [] };
    try {
      await bot.setRoutingStatus(desired, apis().bot);
      report.fixed.push(`bot routing status set to ${desired}`);
    } catch (err) {
      report.failed.push({ step: "routing_status", error: err instanceof Error ? err.message.slice(0, 300) : String(err) });
      log.warn("routing status heal failed", { organization_id: installation.organizationId, error: report.failed[0].error });
    }
    return this.deps.record(report);
  }

  /** Read the bot's routing status from LiveChat, record it, and heal drift in managed mode. */
  async confirm(): Promise<void> {
    const installation = await this.deps.grant.installation();
    if (!installation.installed || installation.needsReinstall) return;
    const info = await this.deps.bot.info();
    if (!info || info.deletedAt !== undefined) return;
    await this.read(info.id);
    await this.healIfDrifted();
  }

  /** The bot's status as `list_routing_statuses` answers it, recorded (one LiveChat call). */
  async read(botId: string): Promise<string> {
    const statuses = await this.deps.apis().agent.listRoutingStatuses({});
    const reported = statuses.find((s) => s.agent_id === botId)?.status;
    // A bot missing from the list is not routable: offline.
    const actual = reported === undefined ? "offline" : normalizeRoutingStatus(reported);
    if (actual) await this.deps.bot.noteRoutingStatus(botId, actual, this.deps.now());
    return actual ?? String(reported);
  }

  /** Cancel pending heals and confirmations (uninstall). */
  async cancel(): Promise<void> {
    await this.deps.alarms.cancel(HEAL_DEADLINE);
    await this.deps.alarms.cancel(CONFIRM_DEADLINE);
  }
}
