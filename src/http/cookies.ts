import type { Context } from "hono";
import { tryDecodeURIComponent } from "hono/utils/url";

/**
 * `__Host-` cookies (this origin only, Secure, Path=/), written and read exactly as hono/cookie's
 * helpers do with `prefix: "host"`, without the signed-cookie code that module brings along.
 */

/** Cookie value characters (RFC 6265 cookie-octet plus space, as hono accepts them). */
const VALUE = /^[ !#-:<-[\]-~]*$/;
const trim = (text: string) => text.replace(/^[ \t]+|[ \t]+$/g, "");

/** The URI-decoded value of the request's first well-formed `__Host-<name>` cookie. */
export function getHostCookie(c: Context, name: string): string | undefined {
  const header = c.req.raw.headers.get("Cookie");
  if (!header) return undefined;
  const key = `__Host-${name}`;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || trim(pair.slice(0, eq)) !== key) continue;
    let value = trim(pair.slice(eq + 1));
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (VALUE.test(value)) return tryDecodeURIComponent(value);
  }
  return undefined;
}

/** Appends `Set-Cookie: __Host-<name>=<value>; Max-Age=…; Path=/; [HttpOnly; ]Secure[; SameSite=…]`. */
export function setHostCookie(c: Context, name: string, value: string, options: { maxAge: number; httpOnly?: boolean; sameSite?: "Strict" | "Lax" }): void {
  let cookie = `__Host-${name}=${encodeURIComponent(value)}; Max-Age=${options.maxAge | 0}; Path=/`;
  if (options.httpOnly) cookie += "; HttpOnly";
  cookie += "; Secure";
  if (options.sameSite) cookie += `; SameSite=${options.sameSite}`;
  c.header("Set-Cookie", cookie, { append: true });
}

/** Tells the browser to drop `__Host-<name>` (an empty value that expires at once). */
export function clearHostCookie(c: Context, name: string): void {
  setHostCookie(c, name, "", { maxAge: 0 });
}
