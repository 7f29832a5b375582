import { HttpClient } from "./http";
import { LiveChatError } from "./errors";
import {
  tokenInfoSchema,
  tokenResponseSchema,
  type AuthorizationCodeRequest,
  type RefreshTokenRequest,
  type TokenInfo,
  type TokenResponse,
} from "./schemas/accounts";

export { tokenInfoSchema, tokenResponseSchema, type TokenInfo, type TokenResponse } from "./schemas/accounts";

/** Options of {@link AccountsClient}. */
export interface AccountsClientOptions {
  /** e.g. "https://accounts.livechat.com" (config `accountsUrl`). */
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  http?: HttpClient;
}

/**
 * LiveChat Accounts (OAuth 2.1) for a server-side app (docs/LIVECHAT.md §6). Errors carry the OAuth
 * code as `type` (e.g. "invalid_grant"). Token requests (code exchange, refresh) are sent once,
 * retried only after 429/`temporarily_unavailable`; `info` and `revoke` are also retried after 5xx.
 * Accounts is global, so no `X-Region` is sent.
 *
 * @example
 * const accounts = new AccountsClient({ accountsUrl, clientId, clientSecret });
 * const tokens = await accounts.exchangeCode({ code, redirectUri, codeVerifier });
 * const later = await accounts.refresh(tokens.refresh_token!);
 */
export class AccountsClient {
  private readonly tokenUrl: string;
  private readonly infoUrl: string;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly http: HttpClient;

  constructor(options: AccountsClientOptions) {
    const base = options.accountsUrl.replace(/\/+$/, "");
    this.tokenUrl = `${base}/v2/token`;
    this.infoUrl = `${base}/v2/info`;
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.http = options.http ?? new HttpClient();
  }

  /**
   * Exchange an authorization code (`grant_type=authorization_code`) for tokens
   * (docs/LIVECHAT.md §6.2). Codes may arrive region-prefixed and URL-decoded (`dal:…`, §6.1): pass as is.
   */
  exchangeCode(params: { code: string; redirectUri: string; codeVerifier?: string }): Promise<TokenResponse> {
    const body: AuthorizationCodeRequest = {
      grant_type: "authorization_code",
      code: params.code,
      client_id: this.clientId,
      client_secret: this.clientSecret,
      redirect_uri: params.redirectUri,
      ...(params.codeVerifier !== undefined ? { code_verifier: params.codeVerifier } : {}),
    };
    return this.token(body, [params.code, params.codeVerifier]);
  }

  /**
   * New access token from a refresh token (`grant_type=refresh_token`, docs/LIVECHAT.md §6.2).
   * Store the returned `refresh_token` when present (public clients rotate it).
   */
  refresh(refreshToken: string): Promise<TokenResponse> {
    const body: RefreshTokenRequest = {
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: this.clientId,
      client_secret: this.clientSecret,
    };
    return this.token(body, [refreshToken]);
  }

  /** Introspect an access token: `GET /v2/info` with Bearer (docs/LIVECHAT.md §6.1). */
  info(accessToken: string): Promise<TokenInfo> {
    return this.http.requestParsed(
      { method: "GET", url: this.infoUrl, name: "accounts/info", credentials: { kind: "bearer", token: accessToken } },
      tokenInfoSchema,
    );
  }

  /**
   * Revoke a token: `DELETE /v2/token` with Bearer → `200 {}` (docs/LIVECHAT.md §6.1).
   * A 404 means the token is unknown, i.e. already revoked: that resolves too.
   */
  async revoke(token: string): Promise<void> {
    try {
      await this.http.request({
        method: "DELETE",
        url: this.tokenUrl,
        name: "accounts/revoke",
        credentials: { kind: "bearer", token },
      });
    } catch (e) {
      if (e instanceof LiveChatError && e.status === 404) return;
      throw e;
    }
  }

  /**
   * POST the grant as JSON: GAPI declares application/json and the Go SDK posts JSON (docs/LIVECHAT.md §6.2).
   * Not idempotent: after a timeout or 5xx LiveChat may have acted. A refresh it processed minted a
   * token (25 per client per account, the oldest silently revoked, §6.2) and a code is single-use
   * (§6.1), so only a rate limit (`temporarily_unavailable` is HTTP 429, §6.2) is retried here; the
   * caller refreshes again on its next call, or restarts the installation.
   */
  private token(body: AuthorizationCodeRequest | RefreshTokenRequest, secrets: (string | undefined)[]): Promise<TokenResponse> {
    return this.http.requestParsed(
      { method: "POST", url: this.tokenUrl, name: "accounts/token", body, secrets: [this.clientSecret, ...secrets], idempotent: false },
      tokenResponseSchema,
    );
  }
}
