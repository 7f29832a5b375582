import type { AccountsClient, TokenResponse } from "../livechat/accounts";
import type { Credentials } from "../livechat/auth";
import { LiveChatError } from "../livechat/errors";
import { regionFromToken } from "../livechat/region";
import type { Logger } from "../log";
import { keyId, type SealingKeys, sealWith } from "./crypto";
import { RoutedRegion } from "./routed-region";
import { licenseKey, type LicenseTokens, TokenStore } from "./token-store";

/** Refresh an access token this long before it expires. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * OAuth errors on refresh that mean this license's grant is gone: `invalid_grant`, "expired/revoked
 * refresh token" (docs/LIVECHAT.md §6.2; §7 uninstall signals). Only these mark the license for
 * reinstall, which only a new install clears.
 */
const GRANT_REFUSED = new Set(["invalid_grant"]);

/**
 * OAuth errors on refresh that are about our client credentials, not this license's grant:
 * `invalid_client`, and `unauthorized_client`, documented for a wrong secret among others
 * (docs/LIVECHAT.md §6.2). A rotated or mistyped LIVECHAT_CLIENT_SECRET makes every license's refresh
 * fail this way, so they never mark a license: they fail retryably until the secret is fixed.
 */
const CLIENT_REJECTED = new Set(["invalid_client", "unauthorized_client"]);

/** Installation state of one license as its License DO sees it. */
export interface Installation {
  installed: boolean;
  needsReinstall: boolean;
  reinstallReason?: string;
  organizationId?: string;
  region?: string;
  installedAt?: number;
  expiresAt?: number;
  scopes?: string[];
}

interface GrantStatus {
  needsReinstall: boolean;
  reinstallReason?: string;
}

/**
 * The license's OAuth grant, owned by its License DO: the single writer of the tokens in DO
 * storage (authoritative, sealed) and in KV (sealed copy for edge reads). Refreshes are
 * single-flight: concurrent callers share one refresh (LiveChat caps tokens at 25 per client
 * per account and silently revokes the oldest, docs/LIVECHAT.md §6.2 "Token limitations").
 */
export class LicenseGrant {
  private cached: LicenseTokens | null | undefined;
  private refreshing: Promise<LicenseTokens> | undefined;
  /**
   * Bumped when the grant is replaced (install) or deleted (uninstall). A refresh awaits LiveChat,
   * and meanwhile the DO serves other calls: after each await it compares the generation and drops
   * its outcome when the grant changed. Memory suffices: a refresh never outlives this object.
   */
  private generation = 0;
  /** Bumped by every write of the grant: a re-seal writes only when nothing was written since it read. */
  private writes = 0;
  /** The data center LiveChat named for the license, sent before the token's own (src/licenses/routed-region.ts). */
  private readonly routed: RoutedRegion;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly store: TokenStore,
    private readonly keys: SealingKeys,
    private readonly accounts: AccountsClient,
    private readonly log: Logger,
    /** Runs before the grant is sealed again (the License DO re-seals its bot's values there first). */
    private readonly beforeReseal: (organizationId: string) => Promise<void> = async () => {},
    /** Whether an uninstall hint is pending (src/licenses/uninstall-check.ts), for the KV listing of a license marked for reinstall. */
    private readonly uninstallPending: () => Promise<boolean> = async () => false,
  ) {
    this.routed = new RoutedRegion(storage);
  }

  /** Store tokens from a code exchange; a reinstall replaces the previous grant. */
  async install(response: TokenResponse, now = Date.now()): Promise<Installation> {
    const previous = await this.replaceable(response.organization_id);
    const tokens: LicenseTokens = {
      organizationId: response.organization_id,
      accountId: response.account_id,
      accessToken: response.access_token,
      refreshToken: response.refresh_token,
      expiresAt: now + response.expires_in * 1000,
      scopes: splitScopes(response.scope),
      region: regionFromToken(response.access_token),
      installedAt: now,
      updatedAt: now,
    };
    // A new grant: a refresh of the previous one still in flight must not write over it, and later
    // callers must not join that refresh.
    this.supersede();
    await this.save(tokens, { needsReinstall: false });
    if (previous && previous.accessToken !== response.access_token) {
      // Revoke the old tokens so they do not count against the 25-token caps (docs/LIVECHAT.md §6.2)
      // and a copy of the superseded refresh token cannot mint access tokens any more. Only now: the
      // DO serves other calls while this is on the network, and they must already see the new grant.
      // Best effort: the new grant is what matters.
      await this.revokeQuietly(previous.accessToken);
      if (previous.refreshToken && previous.refreshToken !== response.refresh_token) await this.revokeQuietly(previous.refreshToken);
    }
    return this.installation();
  }

  /** What an operator or handler needs to know about the installation. No token in it. */
  async installation(): Promise<Installation> {
    const tokens = await this.tokens();
    const status = await this.status();
    if (!tokens) return { installed: false, needsReinstall: status.needsReinstall, reinstallReason: status.reinstallReason };
    return {
      installed: true,
      needsReinstall: status.needsReinstall,
      reinstallReason: status.reinstallReason,
      organizationId: tokens.organizationId,
      region: await this.routed.resolve(tokens.region),
      installedAt: tokens.installedAt,
      expiresAt: tokens.expiresAt,
      scopes: tokens.scopes,
    };
  }

  /**
   * Credentials for calling LiveChat as the license, refreshed first when the token expires
   * within `marginMs` or is the one LiveChat just rejected (`rejectedToken`). Throws a LiveChatError `not_installed` / `needs_reinstall` when there is
   * no usable grant.
   */
  async credentials(marginMs = REFRESH_MARGIN_MS, rejectedToken?: string): Promise<Credentials> {
    let tokens = await this.current();
    // LiveChat rejected the current token before its stored expiry (revoked, rotated): refresh
    // once; concurrent callers holding the same rejected token share that refresh.
    const rejected = rejectedToken !== undefined && rejectedToken === tokens.accessToken;
    if (rejected || tokens.expiresAt - Date.now() <= marginMs) tokens = await this.refresh();
    return { kind: "bearer", token: tokens.accessToken, region: await this.routed.resolve(tokens.region) };
  }

  /**
   * LiveChat answered a call of this license with `misdirected_request` naming `region`
   * (docs/LIVECHAT.md §6.3): kept, so later credentials carry it and clients go there first.
   */
  async learnRegion(region: string): Promise<void> {
    const tokens = await this.tokens();
    if (!tokens) return;
    // Logged where LiveChat re-routed the call (src/livechat/http.ts "livechat region corrected").
    await this.routed.learn(region, tokens.region);
  }

  /**
   * Refresh now (single-flight). Marks the license as needing reinstall when LiveChat refuses the
   * grant (`invalid_grant`); our client credentials refused (`invalid_client`,
   * `unauthorized_client`) fail retryably and mark nothing.
   */
  refresh(): Promise<LicenseTokens> {
    if (!this.refreshing) {
      const refreshing = this.doRefresh().finally(() => {
        // A reinstall or uninstall may have let a newer refresh start meanwhile: keep that one.
        if (this.refreshing === refreshing) this.refreshing = undefined;
      });
      this.refreshing = refreshing;
    }
    return this.refreshing;
  }

  /**
   * The grant's generation: it moves when the grant is replaced (install) or deleted (uninstall).
   * A caller that awaits the network compares it afterwards and changes nothing when it moved.
   */
  version(): number {
    return this.generation;
  }

  /**
   * Whether LiveChat still honours this license's grant, asked of LiveChat itself. `gone` only on
   * a definitive answer: the access token refused by `GET /v2/info` with LiveChat's own error body
   * (or already expired), then the refresh token refused with `invalid_grant` (docs/LIVECHAT.md
   * §6.1, §6.2, §7 uninstall signals). A token that works, or a refresh that succeeds, is `alive`.
   * Anything else (an HTML or empty 401/403 from an edge, 5xx, a timeout, our client credentials
   * refused) proves nothing: `unknown`. The caller compares {@link version} afterwards.
   */
  async liveness(): Promise<"alive" | "gone" | "unknown"> {
    const stored = await this.tokens();
    if (!stored) return "gone";
    // LiveChat refuses an expired token for that reason alone: only an unexpired one is asked about.
    if (stored.expiresAt > Date.now()) {
      try {
        await this.accounts.info(stored.accessToken);
        return "alive";
      } catch (err) {
        if (!refusedByLiveChat(err)) return "unknown";
      }
    }
    const status = await this.status();
    if (status.needsReinstall) return GRANT_REFUSED.has(status.reinstallReason ?? "") ? "gone" : "unknown";
    try {
      await this.refresh();
      return "alive";
    } catch (err) {
      return err instanceof LiveChatError && GRANT_REFUSED.has(err.type) ? "gone" : "unknown";
    }
  }

  /**
   * Delete every copy of the tokens, then revoke them at LiveChat (best effort). With
   * `generation`, only while the grant is still that one: false, and nothing changed, when a
   * reinstall (or another uninstall) moved it.
   */
  async uninstall(generation = this.generation): Promise<boolean> {
    if (generation !== this.generation) return false;
    const tokens = await this.tokens();
    const organizationId = tokens?.organizationId ?? (await this.storage.get<string>("organization-id"));
    if (generation !== this.generation) return false;
    // Deleted before the revocations go out: a refresh in flight meanwhile finds its grant gone and
    // drops (and revokes) what it minted instead of writing it back.
    this.supersede();
    this.cached = null;
    await this.storage.delete(["grant", "grant-status", "grant-key"]);
    await this.routed.forget();
    if (organizationId) await this.store.delete(organizationId);
    if (tokens) {
      await this.revokeQuietly(tokens.accessToken);
      if (tokens.refreshToken) await this.revokeQuietly(tokens.refreshToken);
    }
    return true;
  }

  private async doRefresh(): Promise<LicenseTokens> {
    const generation = this.generation;
    const tokens = await this.tokens();
    if (!tokens) throw notInstalled();
    if (generation !== this.generation) return this.current();
    if (!tokens.refreshToken) {
      await this.markNeedsReinstall("no refresh token", generation);
      throw needsReinstall();
    }
    let response: TokenResponse;
    try {
      response = await this.accounts.refresh(tokens.refreshToken);
    } catch (err) {
      // LiveChat answered about the grant read above; once that grant is replaced or deleted, the
      // answer says nothing about the current one.
      if (generation !== this.generation) return this.current();
      throw await this.refreshFailed(err, tokens, generation);
    }
    const now = Date.now();
    const next: LicenseTokens = {
      ...tokens,
      accessToken: response.access_token,
      // Public/PKCE clients get a rotated refresh token; keep whichever is current (docs/LIVECHAT.md §6.2).
      refreshToken: response.refresh_token ?? tokens.refreshToken,
      expiresAt: now + response.expires_in * 1000,
      scopes: response.scope ? splitScopes(response.scope) : tokens.scopes,
      region: regionFromToken(response.access_token) ?? tokens.region,
      updatedAt: now,
    };
    if (!(await this.save(next, { needsReinstall: false }, generation))) {
      await this.discard(response, tokens);
      return this.current();
    }
    this.log.info("token refreshed", { organization_id: tokens.organizationId, expires_at: next.expiresAt });
    return next;
  }

  /** Record a failed refresh of the current grant; the error to throw. */
  private async refreshFailed(err: unknown, tokens: LicenseTokens, generation: number): Promise<unknown> {
    const organizationId = tokens.organizationId;
    if (err instanceof LiveChatError && GRANT_REFUSED.has(err.type)) {
      await this.markNeedsReinstall(err.type, generation);
      this.log.warn("refresh rejected; license needs reinstall", { organization_id: organizationId, error: err.type });
      return err;
    }
    if (err instanceof LiveChatError && CLIENT_REJECTED.has(err.type)) {
      // Every license fails the same way until the client credentials are fixed: an operator's
      // error, not the license's. Retryable: the grant is intact and the next call refreshes again.
      this.log.error("refresh refused: our client credentials (LIVECHAT_CLIENT_ID / LIVECHAT_CLIENT_SECRET)", {
        organization_id: organizationId,
        error: err.type,
        status: err.status,
      });
      return new LiveChatError({ status: err.status, type: err.type, message: err.detail, data: err.data, method: err.method, retryable: true });
    }
    this.log.warn("token refresh failed", { organization_id: organizationId, error: errorType(err) });
    return err;
  }

  /**
   * Drop what a refresh minted for a grant replaced or deleted while LiveChat answered: it belongs
   * to no stored grant, so revoke it (best effort) lest it count against the cap of 25 tokens per
   * client per account (docs/LIVECHAT.md §6.2). Never logged.
   */
  private async discard(response: TokenResponse, used: LicenseTokens): Promise<void> {
    this.log.warn("refresh dropped: grant replaced meanwhile", { organization_id: used.organizationId });
    const current = await this.tokens();
    if (response.access_token !== current?.accessToken) await this.revokeQuietly(response.access_token);
    const rotated = response.refresh_token;
    if (rotated && rotated !== used.refreshToken && rotated !== current?.refreshToken) await this.revokeQuietly(rotated);
  }

  /** The usable grant as it is now (credentials, and a refresh whose own outcome was superseded). */
  private async current(): Promise<LicenseTokens> {
    const tokens = await this.tokens();
    if (!tokens) throw notInstalled();
    if ((await this.status()).needsReinstall) throw needsReinstall();
    return tokens;
  }

  /** The grant is being replaced or deleted: refreshes in flight must not write, and new callers must not join them. */
  private supersede(): void {
    this.generation++;
    this.refreshing = undefined;
  }

  /** Mark the license for reinstall, unless the grant changed since `generation`. */
  private async markNeedsReinstall(reason: string, generation: number): Promise<void> {
    if (generation !== this.generation) return;
    const status: GrantStatus = { needsReinstall: true, reinstallReason: reason };
    await this.storage.put("grant-status", status);
    await this.relist(generation);
  }

  /**
   * Write the KV listing of a license marked for reinstall again, saying whether an uninstall hint
   * is pending: the cron skips such a license unless one is (src/licenses/fleet.ts). Called when
   * that changes; writes nothing for any other license (the cron visits it anyway).
   */
  async relist(generation = this.generation): Promise<void> {
    if (!(await this.status()).needsReinstall) return;
    const tokens = await this.tokens().catch(() => null);
    const pending = await this.uninstallPending();
    if (tokens && generation === this.generation) await this.store.put(tokens, true, pending);
  }

  private async status(): Promise<GrantStatus> {
    const status = (await this.storage.get<GrantStatus>("grant-status")) ?? { needsReinstall: false };
    // Earlier versions also marked client-level errors; such a mark says nothing about this grant.
    // It is not honoured, and the next successful refresh overwrites it.
    if (status.needsReinstall && CLIENT_REJECTED.has(status.reinstallReason ?? "")) return { needsReinstall: false };
    return status;
  }

  /**
   * The grant an install replaces. One sealed under another TOKEN_ENCRYPTION_KEY (local state kept
   * while the key changed) cannot be opened, revoked or used: the install overwrites it.
   */
  private async replaceable(organizationId: string): Promise<LicenseTokens | null> {
    try {
      return await this.tokens();
    } catch (err) {
      this.log.warn("stored grant unreadable (sealed with another TOKEN_ENCRYPTION_KEY?); the install replaces it", {
        organization_id: organizationId,
        error: errorType(err),
      });
      return null;
    }
  }

  private async tokens(): Promise<LicenseTokens | null> {
    if (this.cached !== undefined) return this.cached;
    const sealed = await this.storage.get<string>("grant");
    const organizationId = await this.storage.get<string>("organization-id");
    if (!sealed || !organizationId) return (this.cached = null);
    this.cached = await this.store.open(organizationId, sealed).catch(unreadable);
    // First read of a grant not marked with the current key (under the previous one, or written by
    // an older version): seal it again.
    if ((await this.storage.get<string>("grant-key")) !== (await keyId(this.keys.current))) {
      await this.reseal().catch((err: unknown) => {
        this.log.warn("could not seal the grant again with the current key", { organization_id: organizationId, error: errorType(err) });
      });
    }
    return this.cached;
  }

  /**
   * Seal the stored grant again with the current TOKEN_ENCRYPTION_KEY when it is not marked with
   * the current key's id (`grant-key`, written with every seal, and in the KV listing as
   * `sealedWith`): under the previous key, or written by an older version. Nothing is decrypted
   * when the mark is current. The bot's values go first (`beforeReseal`), so the listing says "current key"
   * only once all of the license's sealed values are. Writes only when nothing else wrote the
   * grant meanwhile. True when it sealed again. Runs on first read and from the cron's reconcile.
   */
  async reseal(): Promise<boolean> {
    const generation = this.generation;
    const writes = this.writes;
    const sealed = await this.storage.get<string>("grant");
    const organizationId = await this.storage.get<string>("organization-id");
    if (!sealed || !organizationId) return false;
    if ((await this.storage.get<string>("grant-key")) === (await keyId(this.keys.current))) return false;
    const tokens = await this.store.open(organizationId, sealed);
    await this.beforeReseal(organizationId);
    const status = (await this.storage.get<GrantStatus>("grant-status")) ?? { needsReinstall: false };
    const saved = await this.save(tokens, status, generation, writes);
    if (saved) this.log.info("grant sealed again with the current key", { organization_id: organizationId });
    return saved;
  }

  /**
   * Store the grant. With `generation` (a refresh), only while the grant has not been replaced or
   * deleted since; with `writes` (a re-seal), only while it has not been written at all since:
   * false when it was, and nothing is written.
   */
  private async save(tokens: LicenseTokens, status: GrantStatus, generation?: number, writes?: number): Promise<boolean> {
    const context = licenseKey(tokens.organizationId);
    const sealed = await sealWith(this.keys, JSON.stringify(tokens), context);
    const sealedWith = await keyId(this.keys.current);
    const pending = status.needsReinstall && (await this.uninstallPending());
    // Checked after the last await before the write, so nothing runs in between.
    if (generation !== undefined && generation !== this.generation) return false;
    if (writes !== undefined && writes !== this.writes) return false;
    this.writes++;
    // DO storage first: it is the source of truth; KV is the edge-readable copy.
    await this.storage.put({ grant: sealed, "organization-id": tokens.organizationId, "grant-status": status, "grant-key": sealedWith });
    this.cached = tokens;
    await this.store.put(tokens, status.needsReinstall, pending);
    return true;
  }

  private async revokeQuietly(token: string): Promise<void> {
    try {
      await this.accounts.revoke(token);
    } catch (err) {
      this.log.warn("token revoke failed", { error: errorType(err) });
    }
  }
}

/** A stored grant that opens with none of the keys (sealed with another TOKEN_ENCRYPTION_KEY): only a reinstall helps. */
function unreadable(): never {
  throw new LiveChatError({
    status: 0,
    type: "grant_unreadable",
    message: "The stored grant cannot be opened with this TOKEN_ENCRYPTION_KEY; the license must reinstall the app",
  });
}

function notInstalled(): LiveChatError {
  return new LiveChatError({ status: 0, type: "not_installed", message: "The app is not installed on this license" });
}

function needsReinstall(): LiveChatError {
  return new LiveChatError({ status: 0, type: "needs_reinstall", message: "The license must reinstall the app" });
}

function splitScopes(scope: string | undefined): string[] {
  return (scope ?? "").split(/[\s,]+/).filter(Boolean);
}

/**
 * LiveChat itself refused the token: 401/403 with its own error body. An edge's HTML page or an
 * empty answer with the same status is not LiveChat's word (docs/LIVECHAT.md §6.2 error body).
 */
function refusedByLiveChat(err: unknown): boolean {
  return err instanceof LiveChatError && (err.status === 401 || err.status === 403) && !err.untyped;
}

function errorType(err: unknown): string {
  return err instanceof LiveChatError ? err.type : err instanceof Error ? err.name : "unknown";
}
