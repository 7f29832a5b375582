import { type Config, requireConfig } from "../config";
import { createLogger } from "../log";
import { sealingKeys } from "./crypto";
import { licenseStub } from "./stub";
import { TokenStore } from "./token-store";

/** KV list page size: KV's maximum, so 10,000 licenses take 10 list calls. */
export const FLEET_PAGE_SIZE = 1000;
/** Most visits one page leader schedules (one DO call each): within Workers' 1,000 subrequests per invocation. */
export const MAX_VISITS_PER_LEADER = 900;

/** One license's visit: schedule its reconcile after `delayMs`. */
export interface Visit {
  organizationId: string;
  delayMs: number;
}

/** What one cron pass did. */
export interface FleetReport {
  pages: number;
  licenses: number;
  skippedNeedsReinstall: number;
  /** Slots the fleet is divided into, and the one this run visits. */
  slots: number;
  slot: number;
  /** Licenses of this slot, each visited once during the run's spread. */
  due: number;
  scheduled: number;
  failed: string[];
  /** How long the run took (ms). */
  durationMs: number;
}

/**
 * A stable position of a license in the schedule (FNV-1a of its organization id): the same
 * license falls in the same slot and at the same offset every hour.
 */
export function fleetHash(organizationId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < organizationId.length; i++) {
    h ^= organizationId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * How many slots a fleet of `licenses` is divided into: one per cron run within the stale period
 * (3600 s / 300 s = 12), more when a slot would visit more licenses per second than the ceiling
 * allows (then each license is visited a little less often than hourly).
 */
export function slotCount(licenses: number, reconcile: Config["reconcile"]): number {
  const base = Math.max(1, Math.round(reconcile.staleMs / reconcile.spreadMs));
  const perRun = Math.max(1, Math.floor((reconcile.callsPerSecond * reconcile.spreadMs) / 1000));
  return Math.max(base, Math.ceil(licenses / perRun));
}

/**
 * The visits of one cron run: the licenses whose slot is the run's, each at its own offset within
 * the spread (evenly apart, ordered by their hash), so their LiveChat calls never bunch up.
 */
export function planVisits(organizationIds: readonly string[], slot: number, slots: number, spreadMs: number): Visit[] {
  const due = organizationIds.filter((org) => fleetHash(org) % slots === slot).sort((a, b) => fleetHash(a) - fleetHash(b) || (a < b ? -1 : 1));
  return due.map((organizationId, i) => ({ organizationId, delayMs: Math.floor((i * spreadMs) / due.length) }));
}

/**
 * The cron's whole job (src/index.ts `scheduled`): list the installed licenses (KV pages, about
 * one subrequest per 1,000), pick this run's slot of them (docs/BENCHMARK.md "Reconcile at fleet
 * scale") and hand them, at most {@link MAX_VISITS_PER_LEADER} at a time, to one of their License
 * DOs, which schedules each one's visit on its own alarm at its offset. A visit calls LiveChat only
 * for what is unknown, stale or due (src/licenses/reconcile.ts), so a healthy license costs about
 * one call an hour and the fleet's calls are spread evenly, at most `callsPerSecond` visits a second.
 * Licenses marked as needing reinstall are skipped, except those with a pending uninstall hint
 * (retried until LiveChat confirms or refutes it, src/licenses/uninstall-check.ts) and, while
 * TOKEN_ENCRYPTION_KEY_PREVIOUS is set, those still sealed with an old key. A batch whose leader fails is retried with
 * another leader (up to three, starting at `rotation`); a failing license never stops the others.
 */
export async function reconcileFleet(
  env: Env,
  options: { scheduledTime?: number; pageSize?: number; rotation?: number; reconcile?: Config["reconcile"] } = {},
): Promise<FleetReport> {
  const config = requireConfig(env);
  const keys = sealingKeys(config);
  const store = new TokenStore(env.TOKENS, keys);
  const rotating = keys.previous !== undefined;
  const log = createLogger({ component: "cron" });
  const started = Date.now();
  const report: FleetReport = { pages: 0, licenses: 0, skippedNeedsReinstall: 0, slots: 1, slot: 0, due: 0, scheduled: 0, failed: [], durationMs: 0 };
  const orgs: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ cursor, limit: options.pageSize ?? FLEET_PAGE_SIZE });
    report.pages++;
    report.licenses += page.licenses.length;
    // A license waiting for its reinstall is skipped, unless an uninstall hint awaits LiveChat's
    // word or a key rotation still has to re-seal it.
    for (const l of page.licenses) {
      if (l.needsReinstall && !l.uninstallPending && !(rotating && l.oldKey)) report.skippedNeedsReinstall++;
      else orgs.push(l.organizationId);
    }
    cursor = page.cursor;
  } while (cursor);

  const schedule = options.reconcile ?? config.reconcile;
  const { spreadMs } = schedule;
  report.slots = slotCount(orgs.length, schedule);
  report.slot = Math.floor((options.scheduledTime ?? Date.now()) / spreadMs) % report.slots;
  const visits = planVisits(orgs, report.slot, report.slots, spreadMs);
  report.due = visits.length;

  const start = Math.abs(Math.trunc(options.rotation ?? 0));
  for (let i = 0; i < visits.length; i += MAX_VISITS_PER_LEADER) {
    const batch = visits.slice(i, i + MAX_VISITS_PER_LEADER);
    let handled = false;
    // Leaders start at a position that moves with every run: a license whose DO keeps failing
    // must not cost its batch-mates every run.
    for (let attempt = 0; attempt < Math.min(3, batch.length) && !handled; attempt++) {
      const leader = batch[(start + attempt) % batch.length].organizationId;
      try {
        const result = await licenseStub(env, leader).fanOutReconcile(batch);
        report.scheduled += result.scheduled;
        report.failed.push(...result.failed);
        handled = true;
      } catch (err) {
        log.warn("fan-out leader failed; trying another", { organization_id: leader, error: err instanceof Error ? err.message : String(err) });
        report.failed.push(leader);
      }
    }
  }
  report.durationMs = Date.now() - started;
  log.info("reconcile fan-out", { ...report, failed: report.failed.length });
  return report;
}
