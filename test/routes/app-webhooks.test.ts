import { env } from "cloudflare:workers";
import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { licenseStub } from "../../src/licenses/stub";
import { APP_EVENT_VALUE_LENGTH } from "../../src/licenses/app-events";
import { TokenStore } from "../../src/licenses/token-store";
import { MAX_APP_WEBHOOK_BYTES } from "../../src/routes/app-webhooks";
import { fixture } from "../helpers/fixtures";
import { ORIGIN, installLicense, storedTokens } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
});
afterEach(() => vi.restoreAllMocks());

function appWebhook(name: "application_installed" | "application_uninstalled", org: string, overrides = {}) {
  return {
    ...fixture(`app_webhook.${name}`),
    clientID: "test-client-id",
    organizationID: org,
    date: new Date().toISOString(),
    ...overrides,
  };
}

/** What LiveChat says of the token after a real uninstall (the app's tokens are revoked): 401. */
const tokenRefused = () => new Response(JSON.stringify({ error: "unauthorized", error_description: "Invalid access token" }), { status: 401 });
/** ... and of the refresh token (docs/LIVECHAT.md §6.2: `invalid_grant`, expired or revoked). */
const grantRefused = () => Response.json({ error: "invalid_grant", error_description: "refresh token revoked" }, { status: 400 });

const post = (body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) =>
  SELF.fetch(`${ORIGIN}/webhooks/app`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });

/** The revocations the Worker sent to LiveChat (`DELETE /v2/token`). */
const revocations = () => lc.calls("/v2/token").filter((c) => c.method === "DELETE");

/** Whether the license still has its tokens (KV copy and License DO), and how its last App Webhook event was recorded. */
async function expectLicense(org: string, installed: boolean, lastOutcome: string) {
  const stored = await storedTokens(org);
  if (installed) expect(stored).not.toBeNull();
  else expect(stored).toBeNull();
  const stub = licenseStub(env, org);
  expect((await stub.installation()).installed).toBe(installed);
  if (lastOutcome === "uninstalled") {
    // The uninstall erased the license's records: its tombstone says what happened (src/licenses/erase.ts).
    expect(await stub.listAppEvents()).toEqual([]);
    expect(await stub.tombstone()).toMatchObject({ organizationId: org, reason: "uninstalled" });
  } else {
    expect((await stub.listAppEvents())[0]).toMatchObject({ event: "application_uninstalled", outcome: lastOutcome });
  }
}

describe("POST /webhooks/app", () => {
  it("application_uninstalled revokes and deletes the license's tokens once LiveChat refuses both the access and the refresh token", async () => {
    const org = "org-app-uninstall";
    const { tokens } = await installLicense(lc, org);
    lc.on("GET", "/v2/info", tokenRefused());
    lc.on("POST", "/v2/token", grantRefused());
    lc.on("DELETE", "/v2/token", Response.json({}));
    const res = await post(appWebhook("application_uninstalled", org));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, outcome: "uninstalled" });
    expect(revocations().map((c) => c.headers.get("authorization") ?? c.url.searchParams.get("code"))).toEqual(
      expect.arrayContaining([expect.stringContaining(tokens.access_token)]),
    );
    await expectLicense(org, false, "uninstalled");
  });

  it("still deletes the tokens when revocation fails", async () => {
    const org = "org-app-uninstall-revoke-fails";
    await installLicense(lc, org);
    lc.on("GET", "/v2/info", tokenRefused());
    lc.on("POST", "/v2/token", grantRefused());
    lc.on("DELETE", "/v2/token", new Response("down", { status: 503 }));
    expect((await post(appWebhook("application_uninstalled", org))).status).toBe(200);
    await expectLicense(org, false, "uninstalled");
  });

  it("asks LiveChat before acting: an uninstall refuted by a working token (a spoof: App Webhooks carry no secret) changes nothing", async () => {
    const org = "org-app-uninstall-spoofed";
    const { tokens } = await installLicense(lc, org);
    lc.on("GET", "/v2/info", Response.json({ ...fixture("accounts.info.response"), access_token: tokens.access_token, organization_id: org }));
    const res = await post(appWebhook("application_uninstalled", org));
    expect(await res.json()).toEqual({ ok: true, outcome: "ignored_grant_alive" });
    const info = lc.calls("/v2/info");
    expect(info).toHaveLength(1);
    expect(info[0].headers.get("authorization")).toBe(`Bearer ${tokens.access_token}`);
    expect(revocations()).toHaveLength(0); // nothing revoked
    await expectLicense(org, true, "ignored_grant_alive");
  });

  it("keeps the tokens when LiveChat cannot confirm an uninstall (outage), and says so", async () => {
    const org = "org-app-uninstall-unconfirmed";
    await installLicense(lc, org);
    lc.on("GET", "/v2/info", new Response("down", { status: 503 }));
    const res = await post(appWebhook("application_uninstalled", org));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, outcome: "unconfirmed" });
    expect(lc.calls("/v2/info").length).toBeGreaterThanOrEqual(1);
    await expectLicense(org, true, "unconfirmed");
  });

  it("uninstalls when the access token has expired and the refresh is rejected (the grant is gone)", async () => {
    const org = "org-app-uninstall-refresh-rejected";
    await installLicense(lc, org, { expires_in: 0 }); // expired: /v2/info would refuse it for that alone
    lc.on("POST", "/v2/token", grantRefused());
    lc.on("DELETE", "/v2/token", Response.json({}));
    const res = await post(appWebhook("application_uninstalled", org));
    expect(await res.json()).toEqual({ ok: true, outcome: "uninstalled" });
    expect(lc.calls("/v2/info")).toHaveLength(0);
    await expectLicense(org, false, "uninstalled");
  });

  it("ignores an uninstall dated before the current installation", async () => {
    const org = "org-app-stale-uninstall";
    await installLicense(lc, org);
    const res = await post(appWebhook("application_uninstalled", org, { date: "2020-09-14T15:29:49+02:00" }));
    expect(await res.json()).toEqual({ ok: true, outcome: "ignored_stale" });
    expect((await licenseStub(env, org).installation()).installed).toBe(true);
  });

  it("records application_installed for an installed license", async () => {
    const org = "org-app-installed";
    await installLicense(lc, org);
    const res = await post(appWebhook("application_installed", org));
    expect(await res.json()).toEqual({ ok: true, outcome: "recorded" });
    expect((await licenseStub(env, org).listAppEvents())[0]).toMatchObject({ event: "application_installed", licenseId: 104130623 });
  });

  it("ignores events for other client ids with 200", async () => {
    const org = "org-app-other-client";
    await installLicense(lc, org);
    const res = await post({ ...appWebhook("application_uninstalled", org), clientID: "someone-else" });
    expect(await res.json()).toEqual({ ok: true, outcome: "ignored" });
    expect((await licenseStub(env, org).installation()).installed).toBe(true);
  });

  it("stores a bounded copy of an odd payload, so no sender can grow the license's event log past what storage takes", async () => {
    // App Webhooks are unauthenticated (docs/LIVECHAT.md §7): two posts of ~1 MB each must not wedge the log.
    const org = "org-app-huge-payload";
    await installLicense(lc, org);
    const huge = { applicationID: "aPbNnrwZg", blob: "x".repeat(60_000), nested: { deep: ["y".repeat(1000)] } };
    for (let i = 0; i < 3; i++) {
      const res = await post(appWebhook("application_installed", org, { payload: huge }));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, outcome: "recorded" });
    }
    const normal = await post(appWebhook("application_installed", org));
    expect(await normal.json()).toEqual({ ok: true, outcome: "recorded" });
    const events = await licenseStub(env, org).listAppEvents();
    expect(events).toHaveLength(4);
    expect(events[0]).toMatchObject({ payload: { applicationID: "aPbNnrwZg" } });
    expect(events[1].payload?.applicationID).toBe("aPbNnrwZg");
    expect(events[1].payload).not.toHaveProperty("nested");
    expect(String(events[1].payload?.blob).length).toBeLessThanOrEqual(APP_EVENT_VALUE_LENGTH + 1);
    expect(events[1].payloadTruncated).toBe(true);
    expect(JSON.stringify(events).length).toBeLessThan(16_000);
  });

  it("refuses over-long envelope fields with 400 instead of storing them", async () => {
    const org = "org-app-long-fields";
    await installLicense(lc, org);
    for (const overrides of [{ event: "e".repeat(65) }, { organizationID: "o".repeat(513) }, { userID: "u".repeat(513) }, { date: "d".repeat(65) }]) {
      const res = await post(appWebhook("application_installed", org, overrides));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { type: "invalid_app_webhook" } });
    }
    expect(await licenseStub(env, org).listAppEvents()).toEqual([]);
  });

  it("answers precise 4xx for bad input", async () => {
    expect((await post("{nope")).status).toBe(400);
    expect((await post({ event: "application_installed" })).status).toBe(400);
    expect((await post("{}", { "content-type": "text/plain" })).status).toBe(415);
    expect((await post(JSON.stringify({ pad: "x".repeat(MAX_APP_WEBHOOK_BYTES) }))).status).toBe(413);
  });
});
