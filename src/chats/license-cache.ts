import type { LicenseRpc } from "../framework/context";
import type { LicenseSnapshot } from "../licenses/license-do";

export type { LicenseSnapshot } from "../licenses/license-do";

/**
 * How long a Chat DO reuses a {@link LicenseSnapshot} (ms; the default of LICENSE_CACHE_TTL_MS).
 * Staleness bound: a settings change, uninstall, bot (re)provisioning or routing status change
 * reaches a Chat DO's handlers at most this long after the License DO stored it. Short enough for an operator's edit to feel
 * immediate, long enough that a busy chat asks its License DO about once per burst instead of
 * several times per delivery.
 */
export const LICENSE_SNAPSHOT_TTL_MS = 5_000;

/** What the cache needs of a License DO (its stub). */
export interface LicenseSource extends Pick<LicenseRpc, "credentials" | "botCredentials" | "recordRoutingStatus" | "recordBotDeleted" | "recordRegion"> {
  handlerSnapshot(): Promise<LicenseSnapshot>;
}

/** Options for {@link LicenseCache}. */
export interface LicenseCacheOptions {
  /** Snapshot lifetime (ms), read on each refresh; {@link LICENSE_SNAPSHOT_TTL_MS} unless set (0 = no reuse). */
  ttlMs?: () => number;
  /** Clock (ms since epoch); injectable for tests. */
  now?: () => number;
}

interface Entry {
  /** The snapshot as JSON text: settled, this promise holds the string alone, not the RPC's promise. */
  text: Promise<string>;
  fetchedAt: number;
}

/**
 * A Chat DO's short-lived, in-memory copy of its license's handler facts: the processor and the
 * handlers of every delivery and timer within the TTL share one `handlerSnapshot()` RPC instead of
 * one RPC per read. Calls that must be fresh (credentials, recording a routing status) go
 * straight to the License DO. Nothing is persisted: a restarted DO simply fetches again.
 *
 * The snapshot is kept as its JSON text, and each read parses its own copy: one string instead
 * of the RPC's promise, its runtime wrappers and the result's objects, which every Chat DO that
 * ever processed a delivery would otherwise hold until evicted. What thousands of idle DOs hold is
 * what every full garbage collection of the isolate walks, and the ack p99 grows with it
 * (docs/BENCHMARK.md "What the run says"). Copies also keep one handler's edits out of the next one's read.
 */
export class LicenseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: () => number;
  private readonly now: () => number;

  constructor(
    private readonly source: (organizationId: string) => LicenseSource,
    options: LicenseCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? (() => LICENSE_SNAPSHOT_TTL_MS);
    this.now = options.now ?? Date.now;
  }

  /** The LicenseRpc handlers of `organizationId` get: cached reads, direct fresh calls. */
  handle(organizationId: string): LicenseRpc {
    const read =
      <K extends keyof LicenseSnapshot>(key: K) =>
      async () =>
        (await this.snapshot(organizationId))[key];
    const source = () => this.source(organizationId);
    return {
      installation: read("installation"),
      botInfo: read("botInfo"),
      settings: read("settings"),
      botRoutingStatus: read("botRoutingStatus"),
      credentials: (rejected) => source().credentials(rejected),
      botCredentials: (rejected) => source().botCredentials(rejected),
      recordRegion: (region) => source().recordRegion(region),
      recordRoutingStatus: async (update) => {
        const changed = await source().recordRoutingStatus(update);
        // The cached routing state may now be wrong; the next read fetches it again.
        if (changed) this.entries.delete(organizationId);
        return changed;
      },
      recordBotDeleted: async (update) => {
        const changed = await source().recordBotDeleted(update);
        if (changed) this.entries.delete(organizationId);
        return changed;
      },
    };
  }

  private async snapshot(organizationId: string): Promise<LicenseSnapshot> {
    return JSON.parse(await this.snapshotText(organizationId)) as LicenseSnapshot;
  }

  private snapshotText(organizationId: string): Promise<string> {
    const now = this.now();
    const cached = this.entries.get(organizationId);
    if (cached && now - cached.fetchedAt < this.ttlMs()) return cached.text;
    // Concurrent readers share one in-flight RPC; a failed one is not kept (the next read retries).
    const entry: Entry = { text: this.source(organizationId).handlerSnapshot().then((snapshot) => JSON.stringify(snapshot)), fetchedAt: now };
    this.entries.set(organizationId, entry);
    entry.text.catch(() => {
      if (this.entries.get(organizationId) === entry) this.entries.delete(organizationId);
    });
    return entry.text;
  }
}
