// Who is calling a Web API method: an OAuth access token (Bearer), a bot token (Bearer JWT from
// issue_bot_token) or a Personal Access Token (Basic base64(account_id:PAT)) (docs/LIVECHAT.md §3.1, §4.1, §4.2).
// The credential's organization decides the license. In v3.6 a bot acts only with its own token;
// v3.5 still honours `X-Author-Id: <bot_id>` on an agent's token (A35).
import { ApiError, forbidden } from "./errors.mjs";
import { hasAnyScope } from "./scopes.mjs";

/** @typedef {import("./state.mjs").Store} Store */
/** @typedef {import("./state.mjs").License} License */
/** @typedef {import("./tokens.mjs").Tokens} Tokens */

/**
 * @typedef {object} Requester
 * @property {"agent" | "bot"} kind
 * @property {string} id          agent id (email) or bot id: the author of what it does
 * @property {string | null} clientId  the OAuth client (null for a PAT): the `source_type` of webhooks
 * @property {string} accountId   the Accounts account behind the credential
 * @property {string} scope       granted scopes, comma-separated
 * @property {"oauth" | "pat" | "bot"} via
 * @property {License} license
 */

const INVALID_TOKEN = () => new ApiError("authentication", "Invalid access token");

/**
 * Authenticate a Web API request or throw `authentication` (401).
 * @param {{ store: Store, tokens: Tokens, strictRegion: boolean }} deps
 * @param {import("node:http").IncomingHttpHeaders} headers
 * @param {string} version
 * @returns {Requester}
 */
export function authenticate({ store, tokens, strictRegion }, headers, version) {
  const header = String(headers.authorization ?? "");
  const [scheme, ...rest] = header.split(" ");
  const credential = rest.join(" ").trim();
  /** @type {Requester | undefined} */
  let requester;
  /** @type {string | undefined} */
  let region;

  if (/^bearer$/i.test(scheme) && credential) {
    const claims = credential.split(".").length === 3 ? tokens.verifyBotToken(credential) : undefined;
    if (claims) {
      const license = store.licenseByOrganization(claims.organization_id);
      const bot = license?.bots[claims.bot_id];
      if (!license || !bot) throw INVALID_TOKEN();
      requester = { kind: "bot", id: bot.id, clientId: claims.client_id, accountId: bot.id, scope: claims.scope, via: "bot", license };
    } else {
      const rec = tokens.validAccess(credential);
      const license = rec && store.licenseByOrganization(rec.organization_id);
      if (!rec || !license) throw INVALID_TOKEN();
      requester = { kind: "agent", id: license.owner.id, clientId: rec.client_id, accountId: rec.account_id, scope: rec.scope, via: "oauth", license };
      region = credential.split(":")[0];
    }
  } else if (/^basic$/i.test(scheme) && credential) {
    const decoded = Buffer.from(credential, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const pat = colon > 0 ? tokens.pat(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
    const license = pat && store.licenseByOrganization(pat.organization_id);
    if (!pat || !license) throw INVALID_TOKEN();
    requester = { kind: "agent", id: license.owner.id, clientId: null, accountId: pat.account_id, scope: pat.scope, via: "pat", license };
    region = pat.token.split(":")[0];
  } else {
    throw INVALID_TOKEN();
  }

  checkRegion(requester.license, headers["x-region"], region, strictRegion);
  return actAs(requester, headers["x-author-id"], version);
}

/**
 * `X-Region` must name the license's data center when sent; in strict mode a non-default
 * region (fra) must be sent (the pre-2025 rule, docs/LIVECHAT.md §6.3).
 * @param {License} license
 * @param {string | string[] | undefined} header
 * @param {string | undefined} tokenRegion
 * @param {boolean} strict
 */
function checkRegion(license, header, tokenRegion, strict) {
  const sent = Array.isArray(header) ? header[0] : header;
  const expected = license.region;
  const wrong = sent ? sent !== expected : strict && expected !== "dal";
  if (wrong || (tokenRegion && tokenRegion !== expected)) {
    throw new ApiError("misdirected_request", "Wrong region", { data: { region: expected } });
  }
}

/**
 * v3.5 only: an agent credential plus `X-Author-Id: <bot_id>` acts as that bot (A35 "Calling the
 * API as a bot"). v3.6 dropped the mechanism, so the header changes nothing there (CCL v3.6).
 * @param {Requester} requester
 * @param {string | string[] | undefined} header
 * @param {string} version
 * @returns {Requester}
 */
function actAs(requester, header, version) {
  const authorId = Array.isArray(header) ? header[0] : header;
  if (!authorId || version !== "3.5" || requester.kind !== "agent") return requester;
  const bot = requester.license.bots[authorId];
  if (!bot) throw forbidden("X-Author-Id does not name a bot of this license");
  const mine = requester.via === "pat" ? bot.created_via === "pat" : bot.owner_client_id === requester.clientId;
  if (!mine && !hasAnyScope(requester.scope, ["agents-bot--all:rw"])) throw forbidden("The bot is not owned by the requester");
  return { ...requester, kind: "bot", id: bot.id };
}

/**
 * Throw `authorization` unless the requester holds one of the scopes.
 * @param {Requester} requester
 * @param {string[]} anyOf
 */
export function needScope(requester, anyOf) {
  if (!hasAnyScope(requester.scope, anyOf)) {
    throw forbidden(`Missing required scope: ${anyOf.join(" or ")}`);
  }
}
