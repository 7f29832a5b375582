import { env } from "cloudflare:workers";
import { createExecutionContext, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { fromAnyClient } from "../helpers/client";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { installLicense, ORIGIN } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";
import { captureConsole } from "../livechat/helpers";
import { incomingEvent, SECRET } from "../webhooks/helpers";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fakeLiveChat(lc);
});
afterEach(() => vi.restoreAllMocks());

/** The Worker's answer to `path` under other configuration values. */
async function fetchWith(vars: Partial<Env>, path: string): Promise<Response> {
  const request = new Request(`${ORIGIN}${path}`, { headers: fromAnyClient() });
  return worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, { ...env, ...vars }, createExecutionContext());
}

describe("threat: the smaller doors (issue 21 item 10)", () => {
  it("a reinstall revokes the superseded refresh token too, so a leaked copy of it mints nothing", async () => {
    const org = `org-reinstall-${crypto.randomUUID()}`;
    const first = await installLicense(lc, org);
    await installLicense(lc, org);
    const revoked = lc.calls("/v2/token").filter((c) => c.method === "DELETE").map((c) => c.headers.get("authorization"));
    expect(revoked).toEqual(expect.arrayContaining([`Bearer ${first.tokens.access_token}`, `Bearer ${first.tokens.refresh_token}`]));
  });

  it("refuses a LiveChat URL over plain http to another host (tokens and the client secret would travel in clear)", async () => {
    const res = await fetchWith({ LIVECHAT_ACCOUNTS_URL: "http://accounts.example.net" }, "/healthz");
    expect(res.status).toBe(503);
    expect(JSON.stringify(await res.json())).toContain("LIVECHAT_ACCOUNTS_URL must use https");
    expect((await fetchWith({ LIVECHAT_ACCOUNTS_URL: "http://127.0.0.1:8788", LIVECHAT_API_URL: "http://127.0.0.1:8788" }, "/healthz")).status).toBe(200);
  });

  it("an /install link cannot put its own words on the app's page (error_description is never shown)", async () => {
    const lure = "Your subscription lapsed: pay at evil.example to keep your chats";
    const res = await SELF.fetch(`${ORIGIN}/install?error=access_denied&error_description=${encodeURIComponent(lure)}`, { headers: fromAnyClient() });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain("evil.example");
  });

  it("a weak webhook secret is named (never shown) in /healthz", async () => {
    const res = await fetchWith({ LIVECHAT_WEBHOOK_SECRET: "hunter2" }, "/healthz");
    const body = await res.text();
    expect(JSON.parse(body).warnings).toEqual([expect.objectContaining({ name: "LIVECHAT_WEBHOOK_SECRET" })]);
    expect(body).not.toContain("hunter2");
  });

  it("the 500 path logs through the redacting logger: no token from an error message reaches the log", async () => {
    const token = "dal:U2VjcmV0QWNjZXNzVG9rZW5Gb3JUZXN0";
    const failing = { idFromName: (n: string) => n, get: () => ({ append: () => Promise.reject(new Error(`refused ${token}`)) }) };
    const broken = { ...env, CHATS: failing, LICENSES: failing } as unknown as Env;
    const request = new Request(`${ORIGIN}/webhooks/license`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(incomingEvent("org-500", "C500", "E500")),
    });
    const lines = captureConsole();
    const result = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, broken, createExecutionContext());
    expect(result.status).toBe(500);
    expect(lines.join("\n")).toContain("unhandled error");
    expect(lines.join("\n")).not.toContain(token);
    expect(lines.join("\n")).not.toContain(SECRET);
  });
});
