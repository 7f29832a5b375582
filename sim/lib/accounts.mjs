// LiveChat Accounts (OAuth 2.1) as a marketplace app meets it (docs/LIVECHAT.md §6):
//   GET    /           authorize: approves at once for the current license, redirects with code & state
//   POST   /v2/token   authorization_code (PKCE S256/plain) and refresh_token grants
//   GET    /v2/info    token introspection
//   DELETE /v2/token   revoke → 200 {} (404 when unknown)
//   GET    /ooops      where authorization errors land (TRB "Authorization errors")
// Simulator extensions on the authorize URL: `license=<name>` (and `region=dal|fra` when it has to
// be created) picks the license instead of the current one; `sim_deny=1` answers like a user who
// declined (redirect back with `error=access_denied`).
import { createHash } from "node:crypto";
import { OAuthError } from "./errors.mjs";
import { install } from "./lifecycle.mjs";
import { escapeHtml, page, redirect, sendText } from "./http.mjs";

/** @typedef {import("./state.mjs").App} App */
/** @typedef {import("../server.mjs").Simulator} Simulator */

const NOT_AUTHORIZED = "The client is not authorized to request a token using this method.";

/**
 * Whether `requested` is allowed by one of the app's redirect URIs: same scheme and host, the
 * configured path contained in the requested one, no traversal, no query or fragment (OAUTH "Redirect URIs").
 * An app registered without redirect URIs accepts any http(s) URL (simulator convenience).
 * @param {App} app
 * @param {string} requested
 */
export function redirectAllowed(app, requested) {
  let url;
  try {
    url = new URL(requested);
  } catch {
    return false;
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash || requested.includes("..")) return false;
  if (app.redirect_uris.length === 0) return true;
  return app.redirect_uris.some((allowed) => {
    const a = new URL(allowed);
    return a.protocol === url.protocol && a.host === url.host && url.pathname.startsWith(a.pathname);
  });
}

/**
 * GET / — the authorize endpoint, or a short page about the simulator without parameters.
 * @param {Simulator} sim
 * @param {URL} url
 * @param {import("node:http").ServerResponse} res
 */
export function authorize(sim, url, res) {
  const q = url.searchParams;
  if ([...q.keys()].length === 0) return sendText(res, 200, landingPage(sim), "text/html; charset=utf-8");
  const ooops = (exception, details) => {
    const target = new URL("/ooops", sim.url);
    target.searchParams.set("oauth_exception", exception);
    if (details) target.searchParams.set("exception_details", details);
    redirect(res, target.toString());
  };
  const clientId = q.get("client_id");
  const app = clientId ? sim.store.app(clientId) : undefined;
  if (!app) return ooops("unauthorized_client", "client_id_not_found");
  const responseType = q.get("response_type");
  if (responseType !== "code" && responseType !== "token") return ooops("unsupported_response_type");
  const redirectUri = q.get("redirect_uri") ?? app.redirect_uris[0];
  if (!redirectUri) return ooops("unauthorized_client", "redirect_uri_not_set");
  if (!redirectAllowed(app, redirectUri)) return ooops("unauthorized_client", "invalid_redirect_uri");
  const challenge = q.get("code_challenge") ?? undefined;
  const method = q.get("code_challenge_method") ?? (challenge ? "plain" : undefined);
  if (challenge !== undefined && (challenge.length < 43 || challenge.length > 128 || !/^[A-Za-z0-9._~-]+$/.test(challenge))) {
    return ooops("invalid_request", "invalid_code_challenge");
  }
  if (method !== undefined && method !== "plain" && method !== "S256") return ooops("invalid_request", "invalid_code_challenge_method");

  const back = new URL(redirectUri);
  const state = q.get("state");
  if (q.get("sim_deny")) {
    back.searchParams.set("error", "access_denied");
    back.searchParams.set("error_description", "The resource owner or authorization server denied the request.");
    if (state !== null) back.searchParams.set("state", state);
    return redirect(res, back.toString());
  }

  const region = q.get("region") === "fra" ? "fra" : "dal";
  const license = sim.store.ensureLicense(q.get("license") ?? sim.store.state.current_license, { region });
  install(sim, license, app);
  sim.log(`authorize: ${app.client_id} approved on license ${license.name}`);

  if (responseType === "token") {
    const tokens = sim.tokens.issue({ clientId: app.client_id, license, scope: app.scopes, publicClient: true });
    const fragment = new URLSearchParams({ access_token: tokens.access_token, token_type: "Bearer", expires_in: String(tokens.expires_in) });
    if (state !== null) fragment.set("state", state);
    return redirect(res, `${back.toString()}#${fragment}`);
  }
  const code = sim.tokens.issueCode(
    {
      client_id: app.client_id,
      redirect_uri: redirectUri,
      license: license.name,
      ...(challenge ? { code_challenge: challenge, code_challenge_method: /** @type {"plain" | "S256"} */ (method) } : {}),
    },
    license,
  );
  back.searchParams.set("code", code);
  if (state !== null) back.searchParams.set("state", state);
  redirect(res, back.toString());
}

/**
 * GET /ooops — LiveChat's authorization error page.
 * @param {URL} url
 * @param {import("node:http").ServerResponse} res
 */
export function ooopsPage(url, res) {
  const exception = url.searchParams.get("oauth_exception") ?? "unknown";
  const details = url.searchParams.get("exception_details");
  sendText(
    res,
    200,
    page("Ooops, something went wrong", `<p>oauth_exception: <code>${escapeHtml(exception)}</code></p>${details ? `<p>exception_details: <code>${escapeHtml(details)}</code></p>` : ""}`),
    "text/html; charset=utf-8",
  );
}

/**
 * POST /v2/token — both grants (docs/LIVECHAT.md §6.2). Error codes per TRB: a used, expired or
 * foreign code and a wrong secret are `unauthorized_client`; a PKCE or redirect mismatch and a
 * revoked refresh token are `invalid_grant`; a refresh token of another client is `invalid_client`.
 * @param {Simulator} sim
 * @param {Record<string, string>} p
 */
export function token(sim, p) {
  const grant = p.grant_type;
  if (grant !== "authorization_code" && grant !== "refresh_token") {
    throw new OAuthError(grant ? "unsupported_grant_type" : "invalid_request", grant ? "The authorization grant type is not supported by the authorization server." : "`grant_type` is required");
  }
  const app = p.client_id ? sim.store.app(p.client_id) : undefined;
  if (!app) throw new OAuthError("unauthorized_client", "Client ID not found");
  const secretGiven = p.client_secret !== undefined && p.client_secret !== "";
  if (secretGiven && p.client_secret !== app.client_secret) throw new OAuthError("unauthorized_client", "Invalid client secret");
  return grant === "authorization_code" ? exchangeCode(sim, app, p, secretGiven) : refresh(sim, app, p, secretGiven);
}

/**
 * @param {Simulator} sim
 * @param {App} app
 * @param {Record<string, string>} p
 * @param {boolean} secretGiven
 */
function exchangeCode(sim, app, p, secretGiven) {
  if (!p.code) throw new OAuthError("invalid_request", "`code` is required");
  const rec = sim.store.state.tokens.codes[p.code];
  if (!rec || rec.client_id !== app.client_id || rec.used || rec.expires_at <= Date.now()) throw new OAuthError("unauthorized_client", NOT_AUTHORIZED);
  if (!secretGiven && !rec.code_challenge) throw new OAuthError("unauthorized_client", "`client_secret` is required without PKCE");
  if (p.redirect_uri !== undefined && p.redirect_uri !== rec.redirect_uri) {
    throw new OAuthError("invalid_grant", "`redirect_uri` does not match the one of the authorization request");
  }
  if (rec.code_challenge) {
    if (!p.code_verifier) throw new OAuthError("invalid_request", "`code_verifier` is required");
    const derived = rec.code_challenge_method === "S256" ? createHash("sha256").update(p.code_verifier).digest("base64url") : p.code_verifier;
    if (derived !== rec.code_challenge) throw new OAuthError("invalid_grant", "`code_verifier` does not match the `code_challenge`");
  }
  rec.used = true;
  const license = sim.store.license(rec.license);
  if (!license || !license.installs[app.client_id]?.installed) throw new OAuthError("invalid_grant", "The grant is no longer valid");
  return sim.tokens.issue({ clientId: app.client_id, license, scope: app.scopes, publicClient: !secretGiven });
}

/**
 * Confidential clients keep their refresh token; public (PKCE, no secret) clients get a new one
 * and the old one stops working (OAUTH "PKCE extension", GAPI).
 * @param {Simulator} sim
 * @param {App} app
 * @param {Record<string, string>} p
 * @param {boolean} secretGiven
 */
function refresh(sim, app, p, secretGiven) {
  if (!p.refresh_token) throw new OAuthError("invalid_request", "`refresh_token` is required");
  const rec = sim.store.state.tokens.refresh[p.refresh_token];
  if (!rec) throw new OAuthError("unauthorized_client", "Refresh token not found");
  if (rec.client_id !== app.client_id) throw new OAuthError("invalid_client", "Refresh token was issued to another client", 401);
  if (rec.revoked) throw new OAuthError("invalid_grant", "Refresh token expired or revoked");
  if (!secretGiven && !rec.public_client) throw new OAuthError("unauthorized_client", "Invalid client secret");
  const license = sim.store.licenseByOrganization(rec.organization_id);
  if (!license) throw new OAuthError("invalid_grant", "Refresh token expired or revoked");
  if (rec.public_client) rec.revoked = true;
  return sim.tokens.issue({
    clientId: app.client_id,
    license,
    scope: rec.scope,
    publicClient: rec.public_client,
    refreshToken: rec.public_client ? undefined : rec.token,
  });
}

/**
 * The token of an Accounts request: `Authorization: Bearer …` or `?code=` (GAPI).
 * @param {import("node:http").IncomingHttpHeaders} headers
 * @param {URL} url
 */
export function presentedToken(headers, url) {
  const m = /^Bearer\s+(.+)$/i.exec(String(headers.authorization ?? ""));
  return m?.[1].trim() ?? url.searchParams.get("code") ?? undefined;
}

/**
 * GET /v2/info (test/fixtures/livechat/accounts.info.response.json).
 * @param {Simulator} sim
 * @param {string | undefined} presented
 */
export function info(sim, presented) {
  const rec = presented ? sim.tokens.validAccess(presented) : undefined;
  if (!rec) throw new OAuthError("unauthorized", "Invalid access token", 401);
  return {
    access_token: rec.token,
    account_id: rec.account_id,
    client_id: rec.client_id,
    expires_in: Math.max(0, Math.round((rec.expires_at - Date.now()) / 1000)),
    organization_id: rec.organization_id,
    scope: rec.scope,
    token_type: "Bearer",
  };
}

/**
 * DELETE /v2/token: revoke an access or refresh token → `{}`; 404 when unknown or already revoked.
 * @param {Simulator} sim
 * @param {string | undefined} presented
 */
export function revoke(sim, presented) {
  const t = sim.store.state.tokens;
  const rec = presented ? (t.access[presented] ?? t.refresh[presented]) : undefined;
  if (!rec || rec.revoked) throw new OAuthError("resource_not_found", "Token not found", 404);
  rec.revoked = true;
  sim.store.changed();
  return {};
}

/** @param {Simulator} sim */
function landingPage(sim) {
  const licenses = Object.values(sim.store.state.licenses)
    .map((l) => `<li>${escapeHtml(l.name)} — organization ${escapeHtml(l.organization_id)}, license ${l.license_id}, region ${l.region}</li>`)
    .join("");
  return page(
    "LiveChat simulator",
    `<p>A local stand-in for LiveChat Accounts, the Configuration API and the Agent Chat API.
     Authorize URLs (<code>/?response_type=code&amp;client_id=…</code>) are approved at once for the
     current license <b>${escapeHtml(sim.store.state.current_license)}</b>.</p><ul>${licenses}</ul>
     <p>Control API under <code>/_sim/</code>; see sim/README.md.</p>`,
  );
}
