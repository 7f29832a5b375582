import type { AccountsClient, TokenResponse } from "../livechat/accounts";
import type { Credentials } from "../livechat/auth";
import { LiveChatError } from "../livechat/errors";
import { regionFromToken } from "../livechat/region";
import type { Logger } from "../log";
import { importSealingKey, seal, unseal } from "./crypto";
import { licenseKey, type LicenseTokens, TokenStore } from "./token-store";

/** Refresh an access token this long before it expires. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * OAuth errors on refresh that mean the grant is gone: the user revoked access, uninstalled,
 * or the refresh token expired (PLATFORM.md §6.2 / GAPI token errors, §7 uninstall signals).
 */
const GRANT_GONE = new Set(["invalid_grant", "unauthorized_client", "invalid_client", "access_denied"]);

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
 * per account and silently revokes the oldest, PLATFORM.md §6.2 "Token limitations").
 */
export class LicenseGrant {
  private cached: LicenseTokens | null | undefined;
  private refreshing: Promise<LicenseTokens> | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly store: TokenStore,
    private readonly encryptionKey: string,
    private readonly accounts: AccountsClient,
    private readonly log: Logger,
  ) {}

  /** Store tokens from a code exchange; a reinstall replaces the previous grant. */
  async install(response: TokenResponse, now = Date.now()): Promise<Installation> {
    const previous = await this.tokens();
    if (previous && previous.accessToken !== response.access_token) {
      // A reinstall issues a new grant; revoke the old access token so it does not count
      // against the 25-token cap. Best effort: the new grant is what matters.
      await this.revokeQuietly(previous.accessToken);
    }
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
    await this.save(tokens, { needsReinstall: false });
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
      region: tokens.region,
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
    let tokens = await this.tokens();
    if (!tokens) throw new LiveChatError({ status: 0, type: "not_installed", message: "The app is not installed on this license" });
    const status = await this.status();
    if (status.needsReinstall) {
      throw new LiveChatError({ status: 0, type: "needs_reinstall", message: "The license must reinstall the app" });
    }
    // LiveChat rejected the current token before its stored expiry (revoked, rotated): refresh
    // once; concurrent callers holding the same rejected token share that refresh.
    const rejected = rejectedToken !== undefined && rejectedToken === tokens.accessToken;
    if (rejected || tokens.expiresAt - Date.now() <= marginMs) tokens = await this.refresh();
    return { kind: "bearer", token: tokens.accessToken, region: tokens.region };
  }

  /** Refresh now (single-flight). Marks the license as needing reinstall when the grant is gone. */
  refresh(): Promise<LicenseTokens> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /**
   * Whether LiveChat still honours this license's grant, found out from LiveChat itself: the access
   * token (refreshed first when it expires soon) is introspected (`GET /v2/info`, PLATFORM.md §6.1).
   * `gone`: no grant, one marked for reinstall, a refresh LiveChat rejects or a token it refuses
   * (401/403), as after an uninstall (PLATFORM.md §7). `unknown`: LiveChat could not be asked
   * (outage, rate limit, timeout, after the client's retries).
   */
  async liveness(): Promise<"alive" | "gone" | "unknown"> {
    const gone = (err: unknown) =>
      err instanceof LiveChatError &&
      (err.status === 401 || err.status === 403 || GRANT_GONE.has(err.type) || err.type === "not_installed" || err.type === "needs_reinstall");
    try {
      await this.accounts.info((await this.credentials()).token);
      return "alive";
    } catch (err) {
      return gone(err) ? "gone" : "unknown";
    }
  }

  /** Revoke at LiveChat (best effort) and delete every copy of the tokens. */
  async uninstall(): Promise<void> {
    const tokens = await this.tokens();
    if (tokens) {
      await this.revokeQuietly(tokens.accessToken);
      if (tokens.refreshToken) await this.revokeQuietly(tokens.refreshToken);
    }
    await this.storage.delete(["grant", "grant-status"]);
    const organizationId = tokens?.organizationId ?? (await this.storage.get<string>("organization-id"));
    if (organizationId) await this.store.delete(organizationId);
    this.cached = null;
  }

  private async doRefresh(): Promise<LicenseTokens> {
    const tokens = await this.tokens();
    if (!tokens) throw new LiveChatError({ status: 0, type: "not_installed", message: "The app is not installed on this license" });
    if (!tokens.refreshToken) {
      await this.markNeedsReinstall("no refresh token");
      throw new LiveChatError({ status: 0, type: "needs_reinstall", message: "No refresh token; reinstall required" });
    }
    try {
      const response = await this.accounts.refresh(tokens.refreshToken);
      const now = Date.now();
      const next: LicenseTokens = {
        ...tokens,
        accessToken: response.access_token,
        // Public/PKCE clients get a rotated refresh token; keep whichever is current (PLATFORM.md §6.2).
        refreshToken: response.refresh_token ?? tokens.refreshToken,
        expiresAt: now + response.expires_in * 1000,
        scopes: response.scope ? splitScopes(response.scope) : tokens.scopes,
        region: regionFromToken(response.access_token) ?? tokens.region,
        updatedAt: now,
      };
      await this.save(next, { needsReinstall: false });
      this.log.info("token refreshed", { organization_id: tokens.organizationId, expires_at: next.expiresAt });
      return next;
    } catch (err) {
      if (err instanceof LiveChatError && GRANT_GONE.has(err.type)) {
        await this.markNeedsReinstall(err.type);
        this.log.warn("refresh rejected; license needs reinstall", { organization_id: tokens.organizationId, error: err.type });
      } else {
        this.log.warn("token refresh failed", { organization_id: tokens.organizationId, error: errorType(err) });
      }
      throw err;
    }
  }

  private async markNeedsReinstall(reason: string): Promise<void> {
    const status: GrantStatus = { needsReinstall: true, reinstallReason: reason };
    await this.storage.put("grant-status", status);
    const tokens = await this.tokens();
    if (tokens) await this.store.put(tokens, true);
  }

  private async status(): Promise<GrantStatus> {
    return (await this.storage.get<GrantStatus>("grant-status")) ?? { needsReinstall: false };
  }

  private async tokens(): Promise<LicenseTokens | null> {
    if (this.cached !== undefined) return this.cached;
    const sealed = await this.storage.get<string>("grant");
    const organizationId = await this.storage.get<string>("organization-id");
    this.cached = sealed && organizationId ? await this.store.open(organizationId, sealed) : null;
    return this.cached;
  }

  private async save(tokens: LicenseTokens, status: GrantStatus): Promise<void> {
    const context = licenseKey(tokens.organizationId);
    const sealed = await seal(await importSealingKey(this.encryptionKey), JSON.stringify(tokens), context);
    // DO storage first: it is the source of truth; KV is the edge-readable copy.
    await this.storage.put({ grant: sealed, "organization-id": tokens.organizationId, "grant-status": status });
    this.cached = tokens;
    await this.store.put(tokens, status.needsReinstall);
  }

  private async revokeQuietly(token: string): Promise<void> {
    try {
      await this.accounts.revoke(token);
    } catch (err) {
      this.log.warn("token revoke failed", { error: errorType(err) });
    }
  }
}

function splitScopes(scope: string | undefined): string[] {
  return (scope ?? "").split(/[\s,]+/).filter(Boolean);
}

function errorType(err: unknown): string {
  return err instanceof LiveChatError ? err.type : err instanceof Error ? err.name : "unknown";
}
