import { exports } from "cloudflare:workers";
import { fromAnyClient } from "../../helpers/client";

export const ORIGIN = "https://edge.example.test";
/** ADMIN_TOKEN of the test Worker (vitest.config.mts). */
export const ADMIN_TOKEN = "test-admin-token-0123456789-abcdefghij";

/** A request to the Worker under /admin, from a fresh client address (the admin limits count per client). */
export function adminFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`${ORIGIN}${path}`, { redirect: "manual", ...init, headers: fromAnyClient(init.headers) });
}

/** A JSON API call with the bearer token. */
export async function api<T = any>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T; res: Response }> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${ADMIN_TOKEN}`);
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const res = await adminFetch(`/admin/api${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, res };
}

/** Log in through the form; returns the cookie header to send back and the session's CSRF token. */
export async function login(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await adminFetch("/admin/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
    body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
  });
  if (res.status !== 303) throw new Error(`login answered ${res.status}`);
  const setCookie = res.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0];
  const page = await adminFetch("/admin", { headers: { cookie } });
  const html = await page.text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!csrf) throw new Error("no CSRF token on the dashboard");
  return { cookie, csrf, setCookie };
}

/** POST a dashboard form with the session. */
export function postForm(path: string, cookie: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return adminFetch(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie, ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}
