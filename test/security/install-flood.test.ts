import { env } from "cloudflare:workers";
import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fixture } from "../helpers/fixtures";
import { anyClientIp } from "../helpers/client";
import { ORIGIN, tokenResponse } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

/**
 * Threat (issue 21, item 2): anonymous requests that write storage (the free plan allows 1,000 KV
 * writes a day) or spend the app's LiveChat quota and client secret: a flood of `GET /install`
 * and `GET /install?code=…` from one client.
 */

/** The limit of INSTALL_LIMITER in wrangler.toml. */
const INSTALL_LIMIT = 30;

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
});
afterEach(() => vi.restoreAllMocks());

const from = (ip: string, path: string, headers: Record<string, string> = {}) =>
  SELF.fetch(`${ORIGIN}${path}`, { redirect: "manual", headers: { "cf-connecting-ip": ip, ...headers } });

/** Start a flood well inside one limiter window (60 s, aligned to the minute locally), so it is counted in one. */
async function awayFromWindowEdge() {
  const into = Date.now() % 60_000;
  if (into > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - into + 100));
}

describe("anonymous /install floods", () => {
  it("starting the flow writes nothing to storage, and one client gets 429 with Retry-After past the limit", async () => {
    await awayFromWindowEdge();
    const put = vi.spyOn(env.TOKENS, "put");
    const ip = anyClientIp();
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < INSTALL_LIMIT + 10; i++) {
      const res = await from(ip, "/install");
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
      else await res.arrayBuffer();
    }
    expect(put).not.toHaveBeenCalled();
    expect((await env.TOKENS.list()).keys.filter((k) => !k.name.startsWith("license:"))).toEqual([]);
    // The limiter counts per location and window, approximately; never more than the limit pass.
    expect(statuses.filter((s) => s === 302).length).toBeLessThanOrEqual(INSTALL_LIMIT);
    expect(statuses.slice(-10)).toEqual(Array(10).fill(429));
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited!.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(await limited!.text()).toContain("Too many installation attempts");
    // Another client is not affected.
    expect((await from(anyClientIp(), "/install")).status).toBe(302);
  });

  it("codes from one client reach LiveChat's token endpoint (with our client secret) at most the limit's number of times", async () => {
    lc.on("POST", "/v2/token", Response.json({ error: "unauthorized_client", error_description: "bad code" }, { status: 400 }));
    await awayFromWindowEdge();
    const ip = anyClientIp();
    const statuses = new Set<number>();
    for (let i = 0; i < INSTALL_LIMIT + 10; i++) {
      const res = await from(ip, `/install?code=guess-${i}`);
      statuses.add(res.status);
      await res.arrayBuffer();
    }
    expect(lc.calls("/v2/token").length).toBeLessThanOrEqual(INSTALL_LIMIT);
    expect(statuses).toEqual(new Set([400, 429]));
  });

  it("a state replayed from another browser (no cookie) is refused without any exchange", async () => {
    const started = await from(anyClientIp(), "/install");
    const state = new URL(started.headers.get("location")!).searchParams.get("state")!;
    lc.on("POST", "/v2/token", Response.json(tokenResponse("org-sec-stolen-state")));
    const res = await from(anyClientIp(), `/install?code=dal:victims-code&state=${state}`);
    expect(res.status).toBe(400);
    expect(lc.calls("/v2/token")).toHaveLength(0);
  });

  it("webhooks are never limited by client address (LiveChat sends them from shared addresses)", async () => {
    const ip = anyClientIp();
    for (let i = 0; i < INSTALL_LIMIT + 10; i++) {
      const res = await SELF.fetch(`${ORIGIN}/webhooks/app`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
        body: JSON.stringify({ ...fixture("app_webhook.application_installed"), clientID: "test-client-id", organizationID: `org-sec-flood-${i}` }),
      });
      expect(res.status).toBe(200);
    }
    const wrongSecret = { ...fixture("webhook.v3.6.incoming_chat"), secret_key: "not-the-secret" };
    for (let i = 0; i < INSTALL_LIMIT + 10; i++) {
      const res = await SELF.fetch(`${ORIGIN}/webhooks/license`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
        body: JSON.stringify(wrongSecret),
      });
      expect(res.status).toBe(401);
    }
  });
});
