import { requireConfig } from "../config";
import { createLogger } from "../log";
import { sealingKeys } from "./crypto";
import { licenseStub } from "./stub";
import { TokenStore } from "./token-store";

/** KV list page size: KV's maximum, so 10,000 licenses take 10 list calls. */
export const FLEET_PAGE_SIZE = 1000;

/** What one cron pass did. */
export interface FleetReport {
  pages: number;
  licenses: number;
  scheduled: number;
  skippedNeedsReinstall: number;
  failed: string[];
}

/**
 * The cron's whole job: walk installed licenses in KV pages (cursor) and hand each page to one
 * of its License DOs, which schedules its own reconcile and its page-mates' (two-level fan-out).
 * The cron invocation thus makes about two subrequests per 1,000 licenses, each page leader at
 * most 1,000 (Workers' per-invocation subrequest limit), and every license does its own LiveChat
 * calls in its own alarm invocation. Licenses marked as needing reinstall are skipped until they
 * reinstall (while TOKEN_ENCRYPTION_KEY_PREVIOUS is set, not those still sealed with an old key). A page whose leader fails is retried with another leader (up to three, starting at
 * `rotation`, which the cron picks anew every run); a failing license never stops the others.
 */
export async function reconcileFleet(
  env: Env,
  options: { pageSize?: number; spreadMs?: number; rotation?: number } = {},
): Promise<FleetReport> {
  const config = requireConfig(env);
  const keys = sealingKeys(config);
  const store = new TokenStore(env.TOKENS, keys);
  const rotating = keys.previous !== undefined;
  const log = createLogger({ component: "cron" });
  const report: FleetReport = { pages: 0, licenses: 0, scheduled: 0, skippedNeedsReinstall: 0, failed: [] };
  let cursor: string | undefined;
  do {
    const page = await store.list({ cursor, limit: options.pageSize ?? FLEET_PAGE_SIZE });
    report.pages++;
    report.licenses += page.licenses.length;
    // A license waiting for its reinstall is skipped, unless a key rotation still has to re-seal it.
    const orgs = page.licenses.filter((l) => !l.needsReinstall || (rotating && l.oldKey)).map((l) => l.organizationId);
    report.skippedNeedsReinstall += page.licenses.length - orgs.length;
    let handled = orgs.length === 0;
    // Leaders start at a position that moves with every run: a license whose DO keeps failing must
    // not cost its page-mates every run (KV lists in the same order each time).
    const start = Math.abs(Math.trunc(options.rotation ?? 0));
    for (let attempt = 0; attempt < Math.min(3, orgs.length) && !handled; attempt++) {
      const index = (start + attempt) % orgs.length;
      const leader = orgs[index];
      try {
        const result = await licenseStub(env, leader).fanOutReconcile(
          orgs.filter((_, i) => i !== index),
          options.spreadMs,
        );
        report.scheduled += result.scheduled;
        report.failed.push(...result.failed);
        handled = true;
      } catch (err) {
        log.warn("fan-out leader failed; trying another", { organization_id: leader, error: err instanceof Error ? err.message : String(err) });
        report.failed.push(leader);
      }
    }
    cursor = page.cursor;
  } while (cursor);
  log.info("reconcile fan-out", { ...report, failed: report.failed.length });
  return report;
}
