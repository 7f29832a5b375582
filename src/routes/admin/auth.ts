import type { Context, MiddlewareHandler } from "hono";
import { clearHostCookie, getHostCookie, setHostCookie } from "../../http/cookies";
import { clientKey, exhausted, FLEET_KEY, spend } from "../../http/rate-limit";
import type { AppEnv } from "../../http/types";
import { randomToken, toBase64Url } from "../../licenses/crypto";
import { secretMatches } from "../../livechat/webhooks/verify";

/**
 * Admin authentication (docs/ARCHITECTURE.md: `/admin` behind `ADMIN_TOKEN`):
 *
 * - API clients send `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (both sides
 *   every byte compared without early exit: `secretMatches`, as for webhook secrets).
 * - Browsers log in once with the token through a form; the answer sets the cookie
 *   `__Host-admin` (Secure, HttpOnly, SameSite=Strict, Path=/): an expiring session signed with
 *   HMAC-SHA256 under a key derived from the token with HKDF (its own label), never the token itself. Rotating
 *   `ADMIN_TOKEN` ends every session.
 * - Unsafe methods authenticated by the cookie need the session's CSRF token (hidden form field
 *   `_csrf` or header `X-CSRF-Token`, an HMAC of the session nonce) and, when the browser sends
 *   one, a same-origin `Origin`. A bearer request needs neither (browsers never add the header).
 * - Anything else under `/admin` answers 401.
 */

/** Session cookie name; the `__Host-` prefix pins it to this origin, Secure, Path=/. */
export const SESSION_COOKIE = "__Host-admin";
/** The name without its prefix, as src/http/cookies.ts takes it. */
const COOKIE_NAME = "admin";
/** How long a login lasts. */
export const SESSION_TTL_SECONDS = 8 * 3600;
/** Form field and header that carry the CSRF token. */
export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";

/** Who is calling: a bearer client, or a browser session with its CSRF token. */
export type AdminAuth = { via: "bearer" } | { via: "session"; csrf: string; expiresAt: number };

/** Hono environment of the admin routes. */
export interface AdminEnv extends AppEnv {
  Variables: AppEnv["Variables"] & { admin: AdminAuth };
}

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** HKDF label of the session key: no other key derived from the admin token can equal it. */
const SESSION_KEY_LABEL = "livechat-edge admin session v2";

/** HMAC key for sessions, derived from the admin token with HKDF-SHA-256 under its own label (cached per isolate). */
function sessionKey(adminToken: string): Promise<CryptoKey> {
  let key = keys.get(adminToken);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", encoder.encode(adminToken), "HKDF", false, ["deriveKey"])
      .then((ikm) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(SESSION_KEY_LABEL) },
          ikm,
          { name: "HMAC", hash: "SHA-256", length: 256 },
          false,
          ["sign"],
        ),
      );
    keys.set(adminToken, key);
  }
  return key;
}

async function hmac(adminToken: string, message: string): Promise<string> {
  const sig = await crypto.subtle.sign("HMAC", await sessionKey(adminToken), encoder.encode(message));
  return toBase64Url(new Uint8Array(sig));
}

/** True when `given` is the admin token (constant time; an empty value never matches). */
export async function tokenMatches(given: string, adminToken: string): Promise<boolean> {
  return secretMatches(given, [adminToken]);
}

/** A new signed session value `v2.<expires>.<nonce>.<mac>` (the cookie's value). */
export async function createSession(adminToken: string, now = Date.now()): Promise<string> {
  const expires = Math.floor(now / 1000) + SESSION_TTL_SECONDS;
  const nonce = randomToken(18);
  return `v2.${expires}.${nonce}.${await hmac(adminToken, `session.${expires}.${nonce}`)}`;
}

/** The session's CSRF token, or undefined when the value is not a valid, unexpired session. */
export async function verifySession(
  value: string | undefined,
  adminToken: string,
  now = Date.now(),
): Promise<{ csrf: string; expiresAt: number } | undefined> {
  if (!value || value.length > 200) return undefined;
  const [version, expires, nonce, mac] = value.split(".");
  if (version !== "v2" || !/^\d{1,12}$/.test(expires ?? "") || !nonce || !mac) return undefined;
  const expected = await hmac(adminToken, `session.${expires}.${nonce}`);
  if (!secretMatches(mac, [expected])) return undefined;
  if (Number(expires) * 1000 <= now) return undefined;
  return { csrf: await hmac(adminToken, `csrf.${nonce}`), expiresAt: Number(expires) * 1000 };
}

/** Set the session cookie for a successful login. */
export async function startSession(c: Context<AdminEnv>): Promise<void> {
  setHostCookie(c, COOKIE_NAME, await createSession(c.var.config.adminToken), { httpOnly: true, sameSite: "Strict", maxAge: SESSION_TTL_SECONDS });
}

/** Clear the session cookie. */
export function endSession(c: Context<AdminEnv>): void {
  clearHostCookie(c, COOKIE_NAME);
}

/**
 * True when the request's `Origin` (if any) is this Worker's: the request URL's origin or
 * `PUBLIC_URL`'s. A missing `Origin` passes (non-browser clients); `null` does not.
 */
export function sameOrigin(c: Context<AdminEnv>): boolean {
  const origin = c.req.header("origin");
  if (origin === undefined) return c.req.header("sec-fetch-site") === undefined || c.req.header("sec-fetch-site") === "same-origin";
  const allowed = new Set([new URL(c.req.url).origin]);
  if (c.var.config.publicUrl) allowed.add(new URL(c.var.config.publicUrl).origin);
  return allowed.has(origin);
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Rate-limit names (src/http/rate-limit.ts) of the admin doors: per client, and fleet-wide failures. */
export const ADMIN_LIMIT = "admin";
export const ADMIN_FAILURES = "admin-failures";

/**
 * Require an admin: a valid bearer token or session cookie (plus CSRF for unsafe methods with a
 * session). `unauthorized` renders the 401 (JSON for the API, the login page for HTML),
 * `tooMany` the 429 once a client used up its failed attempts (ADMIN_LIMITER, then refused before
 * comparing for the rest of the window) or every client together did (ADMIN_FAILURES). Only
 * failures count: an operator's scripts with the right token are never throttled.
 */
export function requireAdmin(
  unauthorized: (c: Context<AdminEnv>) => Response | Promise<Response>,
  tooMany: (c: Context<AdminEnv>) => Response | Promise<Response>,
): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const adminToken = c.var.config.adminToken;
    const header = c.req.header("authorization");
    if (header !== undefined) {
      const client = clientKey(c.req.raw);
      if (exhausted(ADMIN_LIMIT, client)) return tooMany(c);
      // A bearer header is judged alone: a wrong one is a 401 even with a valid cookie.
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match || !(await tokenMatches(match[1], adminToken))) {
        const withinClient = await spend(c.env.ADMIN_LIMITER, ADMIN_LIMIT, client);
        const withinFleet = await spend(c.env.ADMIN_FAILURES, ADMIN_FAILURES, FLEET_KEY);
        return withinClient && withinFleet ? unauthorized(c) : tooMany(c);
      }
      c.set("admin", { via: "bearer" });
      return next();
    }
    const session = await verifySession(getHostCookie(c, COOKIE_NAME), adminToken);
    if (!session) return unauthorized(c);
    if (!SAFE.has(c.req.method)) {
      if (!sameOrigin(c)) return forbidden(c, "cross-origin request refused");
      const given = c.req.header(CSRF_HEADER) ?? (await formField(c, CSRF_FIELD));
      if (!given || !secretMatches(given, [session.csrf])) return forbidden(c, "missing or invalid CSRF token");
    }
    c.set("admin", { via: "session", ...session });
    return next();
  };
}

/** A form field of a urlencoded or multipart body (hono caches the parsed body for the handler). */
async function formField(c: Context<AdminEnv>, name: string): Promise<string | undefined> {
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  try {
    const value = (await c.req.parseBody())[name];
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

function forbidden(c: Context<AdminEnv>, message: string): Response {
  return c.json({ error: { type: "forbidden", message } }, 403);
}
