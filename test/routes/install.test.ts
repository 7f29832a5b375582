import { env } from "cloudflare:workers";
import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sha256Base64Url } from "../../src/licenses/crypto";
import { startAuthorization } from "../../src/licenses/oauth-state";
import { licenseKey, TokenStore } from "../../src/licenses/token-store";
import { licenseStub } from "../../src/licenses/stub";
import { ORIGIN, installLicense, storedTokens, tokenResponse } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";
import { fromAnyClient } from "../helpers/client";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const store = () => new TokenStore(env.TOKENS, { current: env.TOKEN_ENCRYPTION_KEY! });

/** GET a path of the Worker from a fresh client (the install limit counts per client). */
const get = (path: string, headers: HeadersInit = {}) => SELF.fetch(`${ORIGIN}${path}`, { redirect: "manual", headers: fromAnyClient(headers) });

/** Start the flow: the authorize URL the Worker redirected to, and the state cookie as a browser sends it back. */
async function startInstall(): Promise<{ url: URL; cookie: string; setCookie: string }> {
  const res = await get("/install");
  expect(res.status).toBe(302);
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { url: new URL(res.headers.get("location")!), cookie: setCookie.split(";")[0], setCookie };
}

describe("GET /install without code", () => {
  it("redirects to LiveChat's authorize page with a one-shot state and PKCE S256, kept in a sealed __Host- cookie, nothing stored", async () => {
    const put = vi.spyOn(env.TOKENS, "put");
    const { url, cookie, setCookie } = await startInstall();
    expect(url.origin).toBe("https://accounts.livechat.test");
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("client_id")).toBe("test-client-id");
    expect(url.searchParams.get("redirect_uri")).toBe(`${ORIGIN}/install`);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    const state = url.searchParams.get("state")!;
    expect(state).toMatch(/^[\w-]{32}$/);
    expect(put).not.toHaveBeenCalled();
    expect((await env.TOKENS.list({ prefix: "oauth-state:" })).keys).toEqual([]);
    expect(setCookie).toMatch(/^__Host-oauth=v1\./); // sealed: neither state nor verifier readable
    expect(setCookie).toMatch(/; Max-Age=600/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toContain(state);
  });
});

describe("GET /install with code and state", () => {
  it("exchanges the code with the PKCE verifier and stores the grant encrypted; the state cookie is cleared", async () => {
    const org = "org-install-pkce";
    const { url, cookie } = await startInstall();
    const tokens = tokenResponse(org);
    lc.on("POST", "/v2/token", Response.json(tokens));
    const res = await get(`/install?code=dal%3Acode-1&state=${url.searchParams.get("state")}`, { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/^__Host-oauth=; Max-Age=0/);
    const html = await res.text();
    expect(html).toContain("installed");
    expect(html).toContain("window.close");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");

    const [call] = lc.calls("/v2/token");
    const body = call.body as Record<string, string>;
    expect(body.grant_type).toBe("authorization_code");
    expect(body.code).toBe("dal:code-1");
    expect(body.client_id).toBe("test-client-id");
    expect(body.client_secret).toBe("test-client-secret");
    expect(body.redirect_uri).toBe(`${ORIGIN}/install`);
    expect(await sha256Base64Url(body.code_verifier)).toBe(url.searchParams.get("code_challenge"));

    const raw = await env.TOKENS.get(licenseKey(org));
    expect(raw).not.toBeNull();
    expect(raw).not.toContain(tokens.access_token);
    expect(raw).not.toContain(tokens.refresh_token);
    expect(raw).not.toContain("access-");
    const record = await storedTokens(org);
    expect(record).toMatchObject({ organizationId: org, accessToken: tokens.access_token, region: "dal" });
    expect(record!.scopes).toEqual(["chats--all:ro", "chats--all:rw"]);
    expect((await licenseStub(env, org).installation()).installed).toBe(true);
  });

  it("accepts a state only once: the browser's cookie is gone after the callback", async () => {
    const { url, cookie } = await startInstall();
    const state = url.searchParams.get("state")!;
    lc.on("POST", "/v2/token", Response.json(tokenResponse("org-once")));
    const first = await get(`/install?code=c1&state=${state}`, { cookie });
    expect(first.status).toBe(200);
    // The browser applies the cleared cookie: the same callback again carries none.
    expect(first.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    const again = await get(`/install?code=c2&state=${state}`);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain("expired");
    expect(lc.calls("/v2/token")).toHaveLength(1);
  });

  it("rejects a state without this browser's cookie, with another flow's cookie, or a tampered cookie, without exchanging", async () => {
    const { url, cookie } = await startInstall();
    const other = await startInstall();
    const state = url.searchParams.get("state")!;
    expect((await get(`/install?code=c&state=${state}`)).status).toBe(400); // another browser: no cookie
    expect((await get(`/install?code=c&state=${state}`, { cookie: other.cookie })).status).toBe(400); // another flow's cookie
    const [name, value] = cookie.split("=");
    const tampered = `${name}=${value.slice(0, -2)}${value.endsWith("A") ? "B" : "A"}${value.slice(-1)}`;
    expect((await get(`/install?code=c&state=${state}`, { cookie: tampered })).status).toBe(400);
    const res = await get(`/install?code=c&state=${"x".repeat(32)}`, { cookie });
    expect(res.status).toBe(400);
    const bad = await get(`/install?code=c&state=${encodeURIComponent("<script>")}`, { cookie });
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain("<script>");
    expect(lc.calls("/v2/token")).toHaveLength(0);
  });

  it("rejects a cookie started for another redirect URI", async () => {
    const started = await startAuthorization({ current: env.TOKEN_ENCRYPTION_KEY! }, "https://elsewhere.example/install");
    const res = await get(`/install?code=c&state=${started.state}`, { cookie: `__Host-oauth=${started.cookie}` });
    expect(res.status).toBe(400);
    const same = await startAuthorization({ current: env.TOKEN_ENCRYPTION_KEY! }, `${ORIGIN}/install`);
    lc.on("POST", "/v2/token", Response.json(tokenResponse("org-install-same-redirect")));
    expect((await get(`/install?code=c&state=${same.state}`, { cookie: `__Host-oauth=${same.cookie}` })).status).toBe(200);
    expect(lc.calls("/v2/token")).toHaveLength(1);
  });

  it("rejects an expired state", async () => {
    const { url, cookie } = await startInstall();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 11 * 60_000);
    const res = await get(`/install?code=c&state=${url.searchParams.get("state")}`, { cookie });
    expect(res.status).toBe(400);
    expect(lc.calls("/v2/token")).toHaveLength(0);
  });
});

describe("GET /install from the Marketplace (code without state)", () => {
  it("exchanges without a verifier", async () => {
    const { res } = await installLicense(lc, "org-marketplace");
    expect(res.status).toBe(200);
    const body = lc.calls("/v2/token")[0].body as Record<string, string>;
    expect(body.code_verifier).toBeUndefined();
  });

  it("replaces the tokens idempotently on reinstall and revokes the old access and refresh tokens", async () => {
    const org = "org-reinstall";
    const first = await installLicense(lc, org);
    lc.on("DELETE", "/v2/token", Response.json({}));
    const second = await installLicense(lc, org);
    expect(second.res.status).toBe(200);
    const record = await storedTokens(org);
    expect(record!.accessToken).toBe(second.tokens.access_token);
    const revoked = () => lc.calls("/v2/token").filter((c) => c.method === "DELETE").map((c) => c.headers.get("authorization"));
    expect(revoked()).toEqual([`Bearer ${first.tokens.access_token}`, `Bearer ${first.tokens.refresh_token}`]);
    expect(first.tokens.access_token).not.toBe(second.tokens.access_token);
    // Installing the same grant again changes nothing and revokes nothing.
    lc.on("POST", "/v2/token", Response.json(second.tokens));
    await get(`/install?code=same`);
    expect((await storedTokens(org))!.accessToken).toBe(second.tokens.access_token);
    expect(revoked()).toHaveLength(2);
  });
});

describe("GET /install failures", () => {
  it("shows denied consent with 403 and stores nothing", async () => {
    const res = await get(`/install?error=access_denied&error_description=${encodeURIComponent("User <b>denied</b>")}`);
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain("The authorization was denied.");
    expect(html).not.toContain("denied&#60;/b"); // error_description is never shown
    expect(lc.calls("/v2/token")).toHaveLength(0); // no exchange (other tests' background alarms may call other endpoints)
  });

  it("never reflects error_description or an unknown error code into the page (fixed text per code)", async () => {
    const lure = "Your license is suspended, call +1 555 0100 to restore it";
    const known = await get(`/install?error=server_error&error_description=${encodeURIComponent(lure)}`);
    expect(known.status).toBe(400);
    const knownHtml = await known.text();
    expect(knownHtml).toContain("LiveChat could not complete the authorization right now.");
    expect(knownHtml).not.toContain("555 0100");
    const unknown = await get(`/install?error=${encodeURIComponent(lure)}&error_description=x`);
    expect(unknown.status).toBe(400);
    const unknownHtml = await unknown.text();
    expect(unknownHtml).toContain("LiveChat reported an error during the authorization.");
    expect(unknownHtml).not.toContain("555 0100");
    const proto = await get(`/install?error=__proto__`);
    expect(await proto.text()).toContain("LiveChat reported an error during the authorization.");
  });

  it("shows LiveChat failing the exchange itself (5xx) as 502, asking to try again, and stores nothing", async () => {
    lc.on("POST", "/v2/token", Response.json({ error: "internal_error" }, { status: 503 }));
    const res = await get(`/install?code=unlucky`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("again in a moment");
    expect(await storedTokens("390e44e6-f1e6-0368c-z6ddb-74g14508c2ex")).toBeNull();
  });

  it("shows a storage failure after the exchange as a page (500), not the JSON error", async () => {
    lc.on("POST", "/v2/token", Response.json(tokenResponse("org-install-storage-fails")));
    vi.spyOn(env.TOKENS, "put").mockRejectedValue(new Error("KV PUT failed: 429 Too Many Requests"));
    const res = await get(`/install?code=fine`);
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("could not be stored");
  });

  it("links every failure page back to /install to start again; the success page has no such link", async () => {
    const again = '<a href="/install">Start the installation again</a>';
    expect(await (await get(`/install?error=access_denied`)).text()).toContain(again);
    expect(await (await get(`/install?error=made_up`)).text()).toContain(again);
    lc.on("POST", "/v2/token", Response.json({ error: "invalid_grant" }, { status: 400 }));
    expect(await (await get(`/install?code=stale-again`)).text()).toContain(again);
    const { res } = await installLicense(lc, "org-install-no-retry-link");
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain(again);
  });

  it("shows a failed exchange with 400 and stores nothing", async () => {
    lc.on("POST", "/v2/token", Response.json({ error: "invalid_grant", error_description: "code expired" }, { status: 400 }));
    const res = await get(`/install?code=stale`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("invalid_grant");
    const listed = await store().list();
    expect(listed.licenses.map((l) => l.organizationId)).not.toContain("390e44e6-f1e6-0368c-z6ddb-74g14508c2ex");
  });
});
