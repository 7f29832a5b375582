import { afterEach, describe, expect, it, vi } from "vitest";

// Count the constant-time comparisons the admin routes make (the real implementation runs).
const compared = vi.hoisted(() => ({ calls: [] as [unknown, unknown][] }));
vi.mock("../../../src/livechat/webhooks/verify", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../../src/livechat/webhooks/verify")>();
  return {
    ...original,
    secretMatches: (given: string, accepted: readonly string[]) => {
      for (const secret of accepted) compared.calls.push([given, secret]);
      return original.secretMatches(given, accepted);
    },
  };
});

import { createSession, SESSION_COOKIE, tokenMatches, verifySession } from "../../../src/routes/admin/auth";
import { ADMIN_TOKEN, adminFetch, api, login, ORIGIN, postForm } from "./helpers";

afterEach(() => {
  compared.calls.length = 0;
});

describe("admin auth: bearer", () => {
  it("401 JSON with a WWW-Authenticate challenge without a token, for known and unknown API paths", async () => {
    for (const path of ["/licenses", "/licenses/x", "/nope"]) {
      const res = await adminFetch(`/admin/api${path}`);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(await res.json()).toEqual({ error: { type: "unauthorized", message: "Admin token required" } });
    }
  });

  it("401 for a wrong, truncated, extended or malformed bearer header; 200 for the token", async () => {
    for (const header of [
      "Bearer wrong",
      `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
      `Bearer ${ADMIN_TOKEN}x`,
      `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}`,
      ADMIN_TOKEN,
      "Bearer ",
    ]) {
      const { status } = await api("/licenses", { headers: { authorization: header } });
      expect(status, header).toBe(401);
    }
    expect((await api("/licenses")).status).toBe(200);
    expect((await api("/licenses", { headers: { authorization: `bearer   ${ADMIN_TOKEN}` } })).status).toBe(200);
  });

  it("compares the token in constant time (secretMatches, as webhook secrets), never with ===", async () => {
    await api("/licenses", { headers: { authorization: "Bearer guess-guess-guess-guess" } });
    expect(compared.calls).toContainEqual(["guess-guess-guess-guess", ADMIN_TOKEN]);
    expect(await tokenMatches("", "")).toBe(false);
    expect(await tokenMatches(ADMIN_TOKEN, ADMIN_TOKEN)).toBe(true);
  });

  it("a wrong bearer header is a 401 even next to a valid session cookie", async () => {
    const { cookie } = await login();
    const res = await adminFetch("/admin/api/licenses", { headers: { cookie, authorization: "Bearer wrong" } });
    expect(res.status).toBe(401);
  });

  it("a bearer client may POST without CSRF token (browsers never send the header by themselves)", async () => {
    const { status } = await api("/licenses/some-org/deliveries/nope/replay", { method: "POST" });
    expect(status).toBe(404);
  });
});

describe("admin auth: dashboard session", () => {
  it("everything under /admin but the login answers 401 (the login form) without a session", async () => {
    for (const path of ["/admin", "/admin/", "/admin/licenses/x", "/admin/anything/else"]) {
      const res = await adminFetch(path);
      expect(res.status, path).toBe(401);
      const html = await res.text();
      expect(html).toContain('action="/admin/login"');
    }
    const post = await adminFetch("/admin/logout", { method: "POST" });
    expect(post.status).toBe(401);
    expect((await adminFetch("/admin/login")).status).toBe(200);
  });

  it("login with the right token sets a __Host- cookie (Secure, HttpOnly, SameSite=Strict, Path=/) that is not the token", async () => {
    const { setCookie, cookie } = await login();
    expect(setCookie.startsWith(`${SESSION_COOKIE}=v2.`)).toBe(true);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).not.toMatch(/Domain=/i);
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    const res = await adminFetch("/admin", { headers: { cookie } });
    expect(res.status).toBe(200);
    // The session also works for the JSON API (reads).
    expect((await adminFetch("/admin/api/licenses", { headers: { cookie } })).status).toBe(200);
  });

  it("login with a wrong token: 401, no cookie; cross-origin login: 403", async () => {
    const wrong = await adminFetch("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: "token=nope",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(await wrong.text()).toContain("Wrong admin token.");
    const cross = await adminFetch("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    });
    expect(cross.status).toBe(403);
  });

  it("login redirects only to local dashboard paths", async () => {
    const go = (next: string) =>
      adminFetch("/admin/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
        body: new URLSearchParams({ token: ADMIN_TOKEN, next }).toString(),
      });
    expect((await go("/admin/licenses/abc")).headers.get("location")).toBe("/admin/licenses/abc");
    expect((await go("https://evil.example/")).headers.get("location")).toBe("/admin");
    expect((await go("//evil.example/admin")).headers.get("location")).toBe("/admin");
  });

  it("rejects tampered, expired and foreign sessions", async () => {
    const { cookie } = await login();
    const [name, value] = cookie.split("=");
    const parts = value.split(".");
    const tampered = [parts[0], String(Number(parts[1]) + 3600), parts[2], parts[3]].join(".");
    const expired = await createSession(ADMIN_TOKEN, Date.now() - 9 * 3600_000);
    const foreign = await createSession("another-admin-token-value");
    for (const v of [tampered, expired, foreign, "v1.1.2", "garbage"]) {
      const res = await adminFetch("/admin", { headers: { cookie: `${name}=${v}` } });
      expect(res.status, v).toBe(401);
    }
    expect(await verifySession(value, ADMIN_TOKEN)).toMatchObject({ csrf: expect.any(String) });
    expect(await verifySession(value, "rotated-admin-token-0000")).toBeUndefined();
  });

  it("signs sessions with an HKDF-SHA-256 key under its own label, not a plain hash of the token", async () => {
    const { cookie } = await login();
    const [, expires, nonce, mac] = cookie.split("=")[1].split(".");
    const enc = new TextEncoder();
    const sign = async (key: CryptoKey) =>
      btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(`session.${expires}.${nonce}`)))))
        .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const ikm = await crypto.subtle.importKey("raw", enc.encode(ADMIN_TOKEN), "HKDF", false, ["deriveKey"]);
    const hkdf = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: enc.encode("livechat-edge admin session v2") },
      ikm,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign"],
    );
    expect(mac).toBe(await sign(hkdf));
    const hashed = await crypto.subtle.digest("SHA-256", enc.encode(`livechat-edge admin session v1\0${ADMIN_TOKEN}`));
    expect(mac).not.toBe(await sign(await crypto.subtle.importKey("raw", hashed, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])));
  });

  it("form posts need the session's CSRF token and a same-origin Origin", async () => {
    const { cookie, csrf } = await login();
    const other = await login();
    const path = "/admin/licenses/csrf-org/deliveries/nope/replay";
    expect((await postForm(path, cookie, {})).status).toBe(403);
    expect((await postForm(path, cookie, { _csrf: "forged" })).status).toBe(403);
    expect((await postForm(path, cookie, { _csrf: other.csrf })).status).toBe(403); // another session's token
    expect((await postForm(path, cookie, { _csrf: csrf }, { origin: "https://evil.example" })).status).toBe(403);
    expect((await postForm(path, cookie, { _csrf: csrf }, { origin: "null" })).status).toBe(403);
    const ok = await postForm(path, cookie, { _csrf: csrf });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/admin/licenses/csrf-org?notice=replay_not_found");
    // The header form works for API calls made with the session.
    const viaHeader = await adminFetch("/admin/api/licenses/csrf-org/deliveries/nope/replay", {
      method: "POST",
      headers: { cookie, origin: ORIGIN, "x-csrf-token": csrf },
    });
    expect(viaHeader.status).toBe(404);
    const noHeader = await adminFetch("/admin/api/licenses/csrf-org/deliveries/nope/replay", { method: "POST", headers: { cookie } });
    expect(noHeader.status).toBe(403);
  });

  it("logout clears the cookie", async () => {
    const { cookie, csrf } = await login();
    const res = await postForm("/admin/logout", cookie, { _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login");
    expect(res.headers.get("set-cookie")).toMatch(/^__Host-admin=; Max-Age=0; Path=\/;.*Secure/);
  });

  it("pages carry a strict CSP (no script, no inline style: the one stylesheet is a static asset) and are never cached", async () => {
    const { cookie } = await login();
    const res = await adminFetch("/admin", { headers: { cookie } });
    expect(res.headers.get("content-security-policy")).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain('<link rel="stylesheet" href="/assets/admin.css"/>');
    expect(html).not.toMatch(/<script|<style|style="|src="http/);
  });
});
