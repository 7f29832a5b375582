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
  /** `full`: everything checked with LiveChat (operator); `visit`: only what was unknown, stale or due (cron). */
  kind?: "full" | "visit";
  /** LiveChat calls the checks made (those of provisioning a new bot aside). */
  calls?: number;
}
