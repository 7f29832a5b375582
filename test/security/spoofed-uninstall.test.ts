import { env } from "cloudflare:workers";
import { listDurableObjectIds, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { reconcileFleet } from "../../src/licenses/fleet";
import type { LicenseGrant } from "../../src/licenses/grant";
import { licenseStub } from "../../src/licenses/stub";
import { TokenStore } from "../../src/licenses/token-store";
import { UNINSTALL_CHECK_INTERVAL_MS } from "../../src/licenses/uninstall-check";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { fixture } from "../helpers/fixtures";
import { heldReply } from "../helpers/held-reply";
import { installLicense, ORIGIN, storedTokens } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

/**
 * Threat (issue 21, item 1): App Webhooks carry no secret and the client id is public
 * (docs/LIVECHAT.md §7), so anyone can post `application_uninstalled` for any license, as often as
 * they like, hoping one confirmation meets an edge's HTML 403 or a transient refusal.
 */

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fakeLiveChat(lc);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const spoof = (org: string, date = new Date()) =>
  SELF.fetch(`${ORIGIN}/webhooks/app`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...fixture("app_webhook.application_uninstalled"), clientID: "test-client-id", organizationID: org, date: date.toISOString() }),
  });

const outcome = async (res: Response) => ((await res.json()) as { outcome: string }).outcome;
const refreshes = () => lc.calls("/v2/token").filter((c) => c.method === "POST");
const revocations = () => lc.calls("/v2/token").filter((c) => c.method === "DELETE");
const kvTokens = (org: string) => storedTokens(org);

const htmlForbidden = () => new Response("<html><body><h1>403 Forbidden</h1>cloudflare</body></html>", { status: 403, headers: { "content-type": "text/html" } });
const jsonForbidden = () => Response.json({ error: "access_denied", error_description: "try again later" }, { status: 403 });
const tokenRefused = () => Response.json({ error: "unauthorized", error_description: "Invalid access token" }, { status: 401 });
const grantRefused = () => Response.json({ error: "invalid_grant", error_description: "refresh token revoked" }, { status: 400 });

/** Installed, provisioned, and the License DO idle. */
async function installed(org: string) {
  const { tokens } = await installLicense(lc, org);
  const stub = licenseStub(env, org);
  await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
  lc.reset();
  fakeLiveChat(lc);
  return { stub, tokens };
}

describe("spoofed application_uninstalled", () => {
  it("a flood racing an edge's HTML 403 asks LiveChat once and leaves the license installed (unconfirmed, not gone)", async () => {
    const org = "org-sec-spoof-html-403";
    const { stub, tokens } = await installed(org);
    const held = heldReply();
    lc.on("GET", "/v2/info", held.reply);
    const first = spoof(org);
    await held.reached();
    const flood = await Promise.all(Array.from({ length: 40 }, () => spoof(org)));
    held.release(htmlForbidden);
    expect(await outcome(await first)).toBe("unconfirmed");
    expect(new Set(await Promise.all(flood.map(outcome)))).toEqual(new Set(["throttled"]));
    expect(lc.calls("/v2/info")).toHaveLength(1);
    expect(refreshes()).toHaveLength(0); // an HTML page is not LiveChat's word: not even the refresh token is tried
    expect(revocations()).toHaveLength(0);
    expect(await kvTokens(org)).toMatchObject({ accessToken: tokens.access_token });
    expect(await stub.installation()).toMatchObject({ installed: true, needsReinstall: false });
    // The flood is not in the event log either: one record per confirmation.
    expect((await stub.listAppEvents()).filter((e) => e.event === "application_uninstalled")).toHaveLength(1);
  });

  it("a transient refusal of the access token is not enough: the refresh token must be refused too", async () => {
    const org = "org-sec-spoof-transient-403";
    const { stub, tokens } = await installed(org);
    lc.on("GET", "/v2/info", jsonForbidden());
    lc.on("POST", "/v2/token", new Response("bad gateway", { status: 502 }));
    expect(await outcome(await spoof(org))).toBe("unconfirmed");
    expect(refreshes()).toHaveLength(1);
    expect(revocations()).toHaveLength(0);
    expect(await kvTokens(org)).toMatchObject({ accessToken: tokens.access_token });
    expect(await stub.installation()).toMatchObject({ installed: true, needsReinstall: false });
  });

  it("a refused access token whose refresh still works refutes the hint", async () => {
    const org = "org-sec-spoof-refresh-works";
    const { stub } = await installed(org);
    lc.on("GET", "/v2/info", tokenRefused());
    lc.on("POST", "/v2/token", Response.json({ ...fixture("accounts.token.authorization_code.response"), organization_id: org, access_token: "dal:after-refresh" }));
    expect(await outcome(await spoof(org))).toBe("ignored_grant_alive");
    expect(revocations()).toHaveLength(0);
    expect(await stub.installation()).toMatchObject({ installed: true, needsReinstall: false });
  });

  it("an unconfirmed hint is asked again by the cron's visit until LiveChat refutes it", async () => {
    const org = "org-sec-spoof-retry-refuted";
    const { stub } = await installed(org);
    lc.on("GET", "/v2/info", htmlForbidden());
    expect(await outcome(await spoof(org))).toBe("unconfirmed");
    expect(await outcome(await spoof(org))).toBe("throttled");
    // The cron's visit within the throttle window asks nothing.
    await stub.reconcile();
    expect(lc.calls("/v2/info")).toHaveLength(1);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + UNINSTALL_CHECK_INTERVAL_MS + 1000);
    lc.on("GET", "/v2/info", Response.json({ ...fixture("accounts.info.response"), organization_id: org }));
    const report = await stub.reconcile();
    expect(report.skipped).toBeUndefined();
    expect(lc.calls("/v2/info")).toHaveLength(2);
    expect(await stub.installation()).toMatchObject({ installed: true });
    // Refuted: the next visit asks nothing.
    vi.setSystemTime(Date.now() + UNINSTALL_CHECK_INTERVAL_MS + 1000);
    await stub.reconcile();
    expect(lc.calls("/v2/info")).toHaveLength(2);
  });

  it("an unconfirmed hint is asked again by the cron's visit until LiveChat confirms it", async () => {
    const org = "org-sec-spoof-retry-confirmed";
    const { stub, tokens } = await installed(org);
    lc.on("GET", "/v2/info", new Response("unavailable", { status: 503 }));
    expect(await outcome(await spoof(org))).toBe("unconfirmed");

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + UNINSTALL_CHECK_INTERVAL_MS + 1000);
    lc.on("GET", "/v2/info", tokenRefused());
    lc.on("POST", "/v2/token", grantRefused());
    const report = await stub.reconcile();
    expect(report.skipped).toBe("not_installed");
    expect(await stub.installation()).toMatchObject({ installed: false });
    expect(await kvTokens(org)).toBeNull();
    expect(revocations().map((c) => c.headers.get("authorization"))).toContain(`Bearer ${tokens.access_token}`);
  });

  it("the cron retries an unconfirmed hint on a license that meanwhile needs a reinstall, and LiveChat's refusal uninstalls it", async () => {
    const org = "org-sec-spoof-retry-needs-reinstall";
    const { stub, tokens } = await installed(org);
    // The hint was checked longer ago than the throttle: the cron's next visit may ask again.
    const sent = new Date();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - UNINSTALL_CHECK_INTERVAL_MS - 1000);
    lc.on("GET", "/v2/info", new Response("unavailable", { status: 503 }));
    expect(await outcome(await spoof(org, sent))).toBe("unconfirmed");
    vi.useRealTimers();

    // Then LiveChat refuses the grant on a refresh: the license waits for its reinstall.
    lc.on("POST", "/v2/token", grantRefused());
    await runInDurableObject(stub, (instance) =>
      (instance as unknown as { m: { grant: LicenseGrant } }).m.grant.refresh().then(
        () => expect.unreachable("the refresh was refused"),
        (err: Error) => expect(err.message).toMatch(/invalid_grant/),
      ),
    );
    expect(await stub.installation()).toMatchObject({ installed: true, needsReinstall: true });
    const listed = (await new TokenStore(env.TOKENS, { current: env.TOKEN_ENCRYPTION_KEY! }).list({ limit: 1000 })).licenses.find((l) => l.organizationId === org);
    expect(listed).toMatchObject({ needsReinstall: true, uninstallPending: true });

    // The cron visits it nonetheless, asks again, and LiveChat's word (the grant refused) uninstalls it.
    lc.on("GET", "/v2/info", tokenRefused());
    const fleet = await reconcileFleet(env, { reconcile: { staleMs: 1000, spreadMs: 1000, callsPerSecond: 1000 } });
    expect(fleet.failed).not.toContain(org);
    await vi.waitUntil(async () => !(await stub.installation()).installed, { timeout: 5000 });
    expect(await kvTokens(org)).toBeNull();
    expect(revocations().map((c) => c.headers.get("authorization"))).toContain(`Bearer ${tokens.access_token}`);
  });

  it("an App Webhook for an organization that is not installed is answered 200 and creates nothing", async () => {
    const before = (await listDurableObjectIds(env.LICENSES)).length;
    for (const event of ["application_uninstalled", "application_installed", "payment_collected"]) {
      const res = await SELF.fetch(`${ORIGIN}/webhooks/app`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...fixture("app_webhook.application_uninstalled"), event, clientID: "test-client-id", organizationID: `org-sec-never-installed-${event}` }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, outcome: "ignored_not_installed" });
    }
    expect((await listDurableObjectIds(env.LICENSES)).length).toBe(before);
    expect(lc.calls()).toHaveLength(0);
  });
});
