import type { Logger } from "../log";

/**
 * At most one confirmation per license in this span, whatever the number of uninstall hints; the
 * cron retries a pending one on the license's visit (src/licenses/fleet.ts).
 */
export const UNINSTALL_CHECK_INTERVAL_MS = 4 * 60_000;

/** What became of an uninstall hint (an `application_uninstalled` App Webhook, or the cron's retry). */
export type UninstallOutcome =
  /** LiveChat confirmed: the access token and the refresh token are both refused. */
  | "uninstalled"
  /** LiveChat refuted: the grant still works. */
  | "ignored_grant_alive"
  /** LiveChat could not be asked, or its answer was not definitive: pending, retried by the cron. */
  | "unconfirmed"
  /** Asked less than {@link UNINSTALL_CHECK_INTERVAL_MS} ago: not asked again. */
  | "throttled"
  /** The grant was replaced (reinstalled) while LiveChat answered: nothing changed. */
  | "ignored_reinstalled"
  /** Nothing to uninstall. */
  | "not_installed";

/** Stored under {@link STATE_KEY}. */
interface CheckState {
  /** When LiveChat was last asked. Kept after a refutation, so a flood of hints asks no more often. */
  lastCheckAt: number;
  /** Set while an uninstall hint is neither confirmed nor refuted. */
  pendingSince?: number;
  attempts: number;
}

const STATE_KEY = "uninstall-check";

/** What the check works with; owned by the License DO. */
export interface UninstallCheckDeps {
  storage: DurableObjectStorage;
  installed: () => Promise<boolean>;
  /** The grant's generation (src/licenses/grant.ts `version`). */
  generation: () => number;
  liveness: () => Promise<"alive" | "gone" | "unknown">;
  /** Uninstall while the grant is still `generation`; false when it moved. */
  uninstall: (generation: number) => Promise<boolean>;
  /** A hint became pending or stopped being so: the KV listing says so for the cron (src/licenses/grant.ts `relist`). */
  relist?: () => Promise<void>;
  log: Logger;
  now?: () => number;
}

/**
 * Decides whether an uninstall hint is real. App Webhooks carry no secret (docs/LIVECHAT.md §7) and
 * name public ids, so anyone can post `application_uninstalled` for any license: each hint is
 * checked with LiveChat (src/licenses/grant.ts `liveness`), at most once per
 * {@link UNINSTALL_CHECK_INTERVAL_MS}; one that cannot be decided stays pending and is retried
 * from the cron until LiveChat confirms or refutes it, whatever the license's state (a license
 * marked for reinstall is listed as pending for that, `relist`). State is mirrored in memory, so a
 * throttled hint costs no storage read or write.
 */
export class UninstallCheck {
  private cached: CheckState | null | undefined;
  private checking = false;
  private readonly now: () => number;

  constructor(private readonly deps: UninstallCheckDeps) {
    this.now = deps.now ?? (() => Date.now());
  }

  /** An uninstall hint arrived: confirm it with LiveChat, unless that was done moments ago. */
  async hint(): Promise<UninstallOutcome> {
    if (!(await this.deps.installed())) return "not_installed";
    const state = await this.state();
    if (this.checking || (state && this.now() - state.lastCheckAt < UNINSTALL_CHECK_INTERVAL_MS)) return "throttled";
    return this.check(state);
  }

  /** The cron's visit: ask again about a pending hint (throttled like a hint); undefined when none is pending. */
  async retryPending(): Promise<UninstallOutcome | undefined> {
    const state = await this.state();
    if (state?.pendingSince === undefined) return undefined;
    if (!(await this.deps.installed())) {
      await this.write({ ...state, pendingSince: undefined });
      return "not_installed";
    }
    if (this.checking || this.now() - state.lastCheckAt < UNINSTALL_CHECK_INTERVAL_MS) return "throttled";
    return this.check(state);
  }

  /** When a pending hint arrived, or undefined (for operators). */
  async pendingSince(): Promise<number | undefined> {
    return (await this.state())?.pendingSince;
  }

  /** A new installation refutes any pending hint. */
  async clear(): Promise<void> {
    const state = await this.state();
    if (state?.pendingSince !== undefined) await this.write({ ...state, pendingSince: undefined, attempts: 0 });
  }

  private async check(state: CheckState | null): Promise<UninstallOutcome> {
    const { liveness, uninstall, generation: version, log } = this.deps;
    const generation = version();
    const now = this.now();
    this.checking = true;
    try {
      // Written before LiveChat is asked: hints arriving meanwhile are throttled, even after a restart.
      await this.write({ lastCheckAt: now, pendingSince: state?.pendingSince ?? now, attempts: (state?.attempts ?? 0) + 1 });
      const answer = await liveness();
      if (generation !== version()) return "ignored_reinstalled";
      if (answer === "alive") {
        await this.write({ lastCheckAt: now, attempts: 0 });
        return "ignored_grant_alive";
      }
      if (answer === "unknown") {
        log.warn("uninstall hint unconfirmed; retried by the cron", { attempts: (state?.attempts ?? 0) + 1 });
        return "unconfirmed";
      }
      if (!(await uninstall(generation))) return "ignored_reinstalled";
      // Nothing of the license stays behind; the route stops waking this DO once KV has no grant.
      this.cached = null;
      await this.deps.storage.delete(STATE_KEY);
      return "uninstalled";
    } finally {
      this.checking = false;
    }
  }

  private async state(): Promise<CheckState | null> {
    if (this.cached === undefined) this.cached = (await this.deps.storage.get<CheckState>(STATE_KEY)) ?? null;
    return this.cached;
  }

  private async write(state: CheckState): Promise<void> {
    const was = this.cached?.pendingSince !== undefined;
    if (state.pendingSince === undefined) delete state.pendingSince;
    this.cached = state;
    await this.deps.storage.put(STATE_KEY, state);
    // Listed as pending or not, so the cron retries it even on a license waiting for its reinstall.
    if (was !== (state.pendingSince !== undefined)) await this.deps.relist?.();
  }
}
