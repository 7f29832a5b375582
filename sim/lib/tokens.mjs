// Token issuing and lookup: OAuth access/refresh tokens, authorization codes, bot JWTs and PATs.
//
// Access tokens carry the region prefix ("dal:…", "fra:…"); refresh tokens do not (docs/LIVECHAT.md §6.3).
// Access tokens live 8 h by default (§6.2); bot tokens 24 h and cannot be revoked (§3.3);
// at most 25 access and 25 refresh tokens per client and account, the oldest is revoked (§6.2).
import { createHmac, timingSafeEqual } from "node:crypto";
import { opaque } from "./util.mjs";

/** @typedef {import("./state.mjs").Store} Store */
/** @typedef {import("./state.mjs").License} License */
/** @typedef {import("./state.mjs").AccessToken} AccessToken */
/** @typedef {import("./state.mjs").RefreshToken} RefreshToken */

const MAX_TOKENS_PER_CLIENT_AND_ACCOUNT = 25;
export const BOT_TOKEN_TTL_S = 24 * 60 * 60;

/**
 * @typedef {object} TokenSettings
 * @property {number} accessTtlS   access token lifetime in seconds
 * @property {number} codeTtlMs    authorization code lifetime
 */

export class Tokens {
  /**
   * @param {Store} store
   * @param {TokenSettings} settings
   */
  constructor(store, settings) {
    this.store = store;
    this.settings = settings;
  }

  get t() {
    return this.store.state.tokens;
  }

  /**
   * A single-use authorization code, region-prefixed like LiveChat's (docs/LIVECHAT.md §6.1).
   * @param {Omit<import("./state.mjs").AuthCode, "code" | "expires_at" | "used">} input
   * @param {License} license
   */
  issueCode(input, license) {
    const code = `${license.region}:${opaque(16)}`;
    this.t.codes[code] = { ...input, code, expires_at: Date.now() + this.settings.codeTtlMs, used: false };
    this.store.changed();
    return code;
  }

  /**
   * New access token (and refresh token unless `refreshToken` is reused), with the 25-per-client
   * and account cap applied.
   * @param {{ clientId: string, license: License, scope: string, publicClient: boolean, refreshToken?: string }} input
   */
  issue({ clientId, license, scope, publicClient, refreshToken }) {
    const now = Date.now();
    const accountId = license.owner.account_id;
    const access = `${license.region}:${opaque(18)}`;
    let refresh = refreshToken;
    if (!refresh) {
      refresh = opaque(18);
      /** @type {RefreshToken} */
      const rec = {
        token: refresh,
        client_id: clientId,
        account_id: accountId,
        organization_id: license.organization_id,
        scope,
        issued_at: now,
        revoked: false,
        public_client: publicClient,
      };
      this.t.refresh[refresh] = rec;
      this.capOldest(this.t.refresh, clientId, accountId);
    }
    this.t.access[access] = {
      token: access,
      client_id: clientId,
      account_id: accountId,
      organization_id: license.organization_id,
      scope,
      issued_at: now,
      expires_at: now + this.settings.accessTtlS * 1000,
      revoked: false,
      refresh_token: refresh,
    };
    this.capOldest(this.t.access, clientId, accountId);
    this.store.changed();
    return this.response(this.t.access[access], refresh);
  }

  /**
   * The token endpoint's answer shape (test/fixtures/livechat/accounts.token.*.response.json).
   * @param {AccessToken} rec
   * @param {string} refreshToken
   */
  response(rec, refreshToken) {
    return {
      access_token: rec.token,
      account_id: rec.account_id,
      expires_in: Math.max(0, Math.round((rec.expires_at - Date.now()) / 1000)),
      organization_id: rec.organization_id,
      refresh_token: refreshToken,
      scope: rec.scope,
      token_type: "Bearer",
    };
  }

  /**
   * Revoke the oldest valid tokens beyond the cap.
   * @param {Record<string, { client_id: string, account_id: string, issued_at: number, revoked: boolean }>} table
   * @param {string} clientId
   * @param {string} accountId
   */
  capOldest(table, clientId, accountId) {
    const valid = Object.values(table)
      .filter((r) => r.client_id === clientId && r.account_id === accountId && !r.revoked)
      .sort((a, b) => a.issued_at - b.issued_at);
    for (const r of valid.slice(0, Math.max(0, valid.length - MAX_TOKENS_PER_CLIENT_AND_ACCOUNT))) r.revoked = true;
  }

  /**
   * A valid (known, not revoked, not expired) access token record.
   * @param {string} token
   * @returns {AccessToken | undefined}
   */
  validAccess(token) {
    const rec = this.t.access[token];
    if (!rec || rec.revoked || rec.expires_at <= Date.now()) return undefined;
    return rec;
  }

  /**
   * Revoke every access and refresh token of a license (optionally of one client), and its bot
   * tokens when `bots` is set (which LiveChat itself cannot do: a fault for tests).
   * @param {License} license
   * @param {{ clientId?: string, bots?: boolean, refresh?: boolean }} [options]
   */
  revokeLicense(license, options = {}) {
    const { clientId, bots = false, refresh = true } = options;
    const mine = (r) => r.organization_id === license.organization_id && (!clientId || r.client_id === clientId);
    let count = 0;
    for (const r of Object.values(this.t.access)) if (mine(r) && !r.revoked) (r.revoked = true), count++;
    if (refresh) for (const r of Object.values(this.t.refresh)) if (mine(r) && !r.revoked) (r.revoked = true), count++;
    if (bots) for (const r of Object.values(this.t.bot)) if (mine(r) && !r.revoked) (r.revoked = true), count++;
    this.store.changed();
    return count;
  }

  /**
   * Make every access token of a license expire now (refresh tokens stay valid).
   * @param {License} license
   */
  expireLicense(license) {
    let count = 0;
    for (const r of Object.values(this.t.access)) {
      if (r.organization_id === license.organization_id && !r.revoked && r.expires_at > Date.now()) {
        r.expires_at = Date.now();
        count++;
      }
    }
    this.store.changed();
    return count;
  }

  /**
   * A bot token: an HS256 JWT without region prefix, valid 24 h (docs/LIVECHAT.md §3.3, §6.3).
   * @param {{ botId: string, clientId: string, organizationId: string }} input
   */
  issueBotToken({ botId, clientId, organizationId }) {
    const iat = Math.floor(Date.now() / 1000);
    const jti = opaque(12);
    const payload = {
      iss: "livechat-sim",
      sub: botId,
      bot_id: botId,
      client_id: clientId,
      organization_id: organizationId,
      scope: "chats--access:rw,agents-bot--my:rw,customers:rw",
      iat,
      exp: iat + BOT_TOKEN_TTL_S,
      jti,
    };
    const head = b64json({ alg: "HS256", typ: "JWT" });
    const body = b64json(payload);
    const token = `${head}.${body}.${this.sign(`${head}.${body}`)}`;
    this.t.bot[jti] = { jti, bot_id: botId, client_id: clientId, organization_id: organizationId, expires_at: payload.exp * 1000, revoked: false };
    this.store.changed();
    return token;
  }

  /**
   * The claims of a valid bot token, or undefined.
   * @param {string} token
   */
  verifyBotToken(token) {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let claims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
    const rec = this.t.bot[claims.jti];
    if (!rec || rec.revoked || claims.exp * 1000 <= Date.now()) return undefined;
    return claims;
  }

  /** @param {string} data */
  sign(data) {
    return createHmac("sha256", this.store.state.signing_key).update(data).digest("base64url");
  }

  /**
   * A Personal Access Token for the license's owner, region-prefixed like LiveChat's PATs.
   * @param {License} license
   * @param {string} scope
   */
  issuePat(license, scope) {
    const token = `${license.region}:${opaque(18)}`;
    this.t.pats[`${license.owner.account_id}:${token}`] = {
      account_id: license.owner.account_id,
      token,
      organization_id: license.organization_id,
      scope,
    };
    this.store.changed();
    return { account_id: license.owner.account_id, token };
  }

  /**
   * @param {string} accountId
   * @param {string} token
   */
  pat(accountId, token) {
    return this.t.pats[`${accountId}:${token}`];
  }
}

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
