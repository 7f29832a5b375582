import { Hono } from "hono/tiny";
import { clearHostCookie, getHostCookie, setHostCookie } from "../http/cookies";
import { withConfig } from "../http/config-middleware";
import { resultPage } from "../http/page";
import { clientKey, retryAfterSeconds, spend } from "../http/rate-limit";
import type { AppEnv } from "../http/types";
import { AccountsClient } from "../livechat/accounts";
import { LiveChatError } from "../livechat/errors";
import { createLogger } from "../log";
import { sealingKeys } from "../licenses/crypto";
import { consumeAuthorization, STATE_COOKIE, STATE_TTL_SECONDS, startAuthorization } from "../licenses/oauth-state";
import { licenseStub } from "../licenses/stub";

/** What the page says for each error code LiveChat's authorize step may send back (docs/LIVECHAT.md §6.2). */
const AUTHORIZE_ERRORS: Record<string, string> = {
  access_denied: "The authorization was denied. Start the installation again to grant the app access.",
  invalid_scope: "The app asked for access this account cannot grant. An owner or administrator of the license can install it.",
  unauthorized_client: "LiveChat did not accept this app's authorization request.",
  invalid_request: "LiveChat did not accept this app's authorization request.",
  temporarily_unavailable: "LiveChat could not complete the authorization right now. Start the installation again in a moment.",
  server_error: "LiveChat could not complete the authorization right now. Start the installation again in a moment.",
  too_many_redirects: "Too many installation attempts in a short time. Wait a minute, then start the installation again.",
};
const AUTHORIZE_ERROR_OTHER = "LiveChat reported an error during the authorization. Start the installation again.";

/**
 * `GET /install`: the app's Direct installation URL (docs/LIVECHAT.md §7 / CHWH "Step 2").
 *
 * - no `code`: start the flow — redirect to LiveChat's authorize page with a one-shot
 *   `state` and a PKCE S256 challenge (docs/LIVECHAT.md §6.1 / OAUTH), both kept in a sealed
 *   `__Host-oauth` cookie of this browser (src/licenses/oauth-state.ts): nothing is stored;
 * - `code` + `state` (we started the flow): only in the browser holding the matching cookie, for the
 *   same redirect URI; the cookie is cleared whatever the outcome;
 * - `code` alone (LiveChat's Marketplace started the flow): exchange it (§6.2) as before;
 * - `error`: LiveChat reported a denied or failed authorization; nothing is stored.
 *
 * Every request counts against the client's `INSTALL_LIMITER` (a person installs once): past it,
 * 429 with `Retry-After`, before anything else, so a flood costs neither LiveChat calls nor storage.
 */
export const install = new Hono<AppEnv>().get("/install", withConfig("html"), async (c) => {
  const config = c.var.config;
  const log = createLogger({ route: "install" });
  const redirectUri = `${config.publicUrl ?? new URL(c.req.url).origin}/install`;
  const { code, state, error } = c.req.query();

  if (!(await spend(c.env.INSTALL_LIMITER, "install", clientKey(c.req.raw)))) {
    log.warn("install attempts from one client over the limit");
    c.header("Retry-After", String(retryAfterSeconds()));
    return resultPage(c, {
      title: "Too many installation attempts",
      message: "Too many installation attempts from your network in a short time. Wait a minute, then start the installation again.",
      status: 429,
    });
  }

  if (error) {
    const known = Object.hasOwn(AUTHORIZE_ERRORS, error);
    log.warn("authorization denied", { error: known ? error : "unknown" });
    return resultPage(c, {
      title: "The app was not installed",
      // A fixed text per code: anyone can send a link with any `error_description`, so none is shown.
      message: known ? AUTHORIZE_ERRORS[error] : AUTHORIZE_ERROR_OTHER,
      status: error === "access_denied" ? 403 : 400,
    });
  }

  if (!code) {
    const started = await startAuthorization(sealingKeys(config), redirectUri);
    // Lax, not Strict: LiveChat's redirect back is a cross-site top-level navigation.
    setHostCookie(c, STATE_COOKIE, started.cookie, { httpOnly: true, sameSite: "Lax", maxAge: STATE_TTL_SECONDS });
    const authorize = new URL(`${config.accountsUrl}/`);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: config.clientId,
      redirect_uri: redirectUri,
      state: started.state,
      code_challenge: started.codeChallenge,
      code_challenge_method: "S256",
    }).toString();
    c.header("Cache-Control", "no-store");
    return c.redirect(authorize.toString(), 302);
  }

  // With a state we started the flow, so this browser must hold its cookie (fresh, same redirect
  // URI), and the verifier goes with the exchange. The cookie is single-use: cleared on every
  // outcome. Without a state, LiveChat's Marketplace started the flow (no PKCE then).
  let codeVerifier: string | undefined;
  if (state !== undefined) {
    const cookie = getHostCookie(c, STATE_COOKIE);
    clearHostCookie(c, STATE_COOKIE);
    const pending = await consumeAuthorization(sealingKeys(config), cookie, state, redirectUri);
    if (!pending) {
      log.warn("install with a state this browser did not start, or an expired one", { cookie: cookie ? "present" : "absent" });
      return resultPage(c, {
        title: "This installation link has expired",
        message: "This browser did not start this installation, or it was started too long ago. Start the installation again.",
        status: 400,
      });
    }
    codeVerifier = pending.verifier;
  }

  const accounts = new AccountsClient({
    accountsUrl: config.accountsUrl,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
  });
  let tokens;
  try {
    tokens = await accounts.exchangeCode({ code, redirectUri, codeVerifier });
  } catch (err) {
    const type = err instanceof LiveChatError ? err.type : "network";
    // LiveChat refused the code (400), or could not be reached / failed itself (502): worth trying again soon.
    const upstream = !(err instanceof LiveChatError) || err.retryable;
    log.warn("code exchange failed", { error: type, upstream });
    return resultPage(c, {
      title: "The app was not installed",
      message: upstream
        ? `LiveChat could not complete the authorization (${type}). Start the installation again in a moment.`
        : `LiveChat did not accept the authorization (${type}). Start the installation again.`,
      status: upstream ? 502 : 400,
    });
  }

  let installation;
  try {
    installation = await licenseStub(c.env, tokens.organization_id).install(tokens);
  } catch (err) {
    // The browser pop-up gets a page, not the JSON of the generic error handler; the cause goes to the log.
    log.error("install failed after the code exchange", { organization_id: tokens.organization_id, error: err });
    return resultPage(c, {
      title: "The app was not installed",
      message: "The authorization succeeded but could not be stored. Start the installation again.",
      status: 500,
    });
  }
  log.info("installed", { organization_id: tokens.organization_id, region: installation.region });
  return resultPage(c, {
    title: "livechat-edge is installed",
    message: `The app is installed for organization ${tokens.organization_id}. You can close this window.`,
    status: 200,
    closePopup: true,
  });
});
