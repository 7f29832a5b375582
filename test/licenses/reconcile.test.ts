import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { reconcileFleet } from "../../src/licenses/fleet";
import { licenseStub } from "../../src/licenses/stub";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { installLicense, tokenResponse } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";
import { exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import type { NamedAlarms } from "../../src/durable/alarms";
import { HEAL_DEADLINE, type LicenseReconciler } from "../../src/licenses/reconcile";
import { rawSample } from "../livechat/webhooks/samples";
import { licenseDeliveries, post } from "../webhooks/helpers";

let lc: ReturnType<typeof mockLiveChat>;
let fake: ReturnType<typeof fakeLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fake = fakeLiveChat(lc);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Install and wait until the provisioning alarm has set the bot up. */
async function installed(org: string, overrides: Record<string, unknown> = {}) {
  await installLicense(lc, org, overrides);
  const stub = licenseStub(env, org);
  await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
  return stub;
}

const count = (path: string) => lc.calls(path).length;
/** Every license in every cron run, visits within a second (tests only). */
const ONE_SLOT = { staleMs: 1000, spreadMs: 1000, callsPerSecond: 1000 };
/** LiveChat calls made since `since` (an index into the mock's calls). */
const callsSince = (since: number) => lc.calls().slice(since).map((c) => c.url.pathname.split("/").pop());

describe("license reconcile", () => {
  it("finds nothing to do when the license is in its desired state", async () => {
    const stub = await installed("org-rec-clean");
    const sets = count("/set_routing_status");
    const report = await stub.reconcile();
    expect(report).toMatchObject({ drift: [], fixed: [], failed: [] });
    expect(count("/set_routing_status")).toBe(sets);
    expect((await stub.reconcileHistory())[0]).toEqual(report);
  });

  it("heals a bot that drifted offline and re-enables license webhooks", async () => {
    const stub = await installed("org-rec-drift");
    const bot = (await stub.botInfo())!;
    fake.routing.set(bot.id, "offline");
    fake.webhooksEnabled = false;
    const report = await stub.reconcile();
    expect(report.drift).toEqual(["license webhooks disabled", "bot routing status offline, wanted accepting_chats"]);
    expect(report.fixed).toEqual(["license webhooks enabled", "bot routing status set to accepting_chats"]);
    expect(fake.routing.get(bot.id)).toBe("accepting_chats");
    expect(fake.webhooksEnabled).toBe(true);
    // The status call is made with the bot's own token (v3.6, docs/LIVECHAT.md §4.2).
    const last = lc.calls("/set_routing_status").at(-1)!;
    expect(last.headers.get("authorization")).toMatch(/^Bearer bot-jwt-/);
    expect(last.headers.get("x-region")).toBe("dal");
  });

  it("recreates a deleted bot", async () => {
    const stub = await installed("org-rec-deleted");
    const old = (await stub.botInfo())!;
    fake.bots.delete(old.id);
    fake.routing.delete(old.id);
    const report = await stub.reconcile();
    const recreated = (await stub.botInfo())!;
    expect(recreated.id).not.toBe(old.id);
    expect(report.drift).toContain(`bot ${old.id} was deleted`);
    expect(report.fixed).toContain(`bot ${recreated.id} provisioned`);
    expect(fake.routing.get(recreated.id)).toBe("accepting_chats");
  });

  it("follows working hours: outside them the bot stops accepting chats", async () => {
    const stub = await installed("org-rec-hours");
    const bot = (await stub.botInfo())!;
    const settings = await stub.updateSettings({ workingHours: { timezone: "UTC", days: {} } });
    expect(settings.ok).toBe(true);
    await vi.waitUntil(() => fake.routing.get(bot.id) === "not_accepting_chats", { timeout: 5000 }); // re-provisioned
    fake.routing.set(bot.id, "accepting_chats");
    const report = await stub.reconcile();
    expect(report.drift).toEqual(["bot routing status accepting_chats, wanted not_accepting_chats"]);
    expect(fake.routing.get(bot.id)).toBe("not_accepting_chats");
  });

  it("refreshes a token that expires within the hour and renews the bot token", async () => {
    const org = "org-rec-refresh";
    const stub = await installed(org, { expires_in: 1800 });
    lc.on("POST", "/v2/token", Response.json(tokenResponse(org, { access_token: "dal:fresh" })));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 23 * 3600_000); // bot token (24 h) now within its renewal margin
    const issued = fake.tokensIssued;
    const report = await stub.reconcile();
    expect(report.fixed).toEqual(expect.arrayContaining(["access token refreshed", "bot token renewed"]));
    expect(fake.tokensIssued).toBe(issued + 1);
  });

  it("records a failing step and still runs the others", async () => {
    const stub = await installed("org-rec-partial");
    lc.on("POST", "/agent/action/list_routing_statuses", new Response("down", { status: 400 }));
    fake.webhooksEnabled = false;
    const report = await stub.reconcile();
    expect(report.failed.map((f) => f.step)).toEqual(["routing_status"]);
    expect(report.fixed).toContain("license webhooks enabled");
  });

  it("marks a license whose token cannot be refreshed as needing reinstall and skips it", async () => {
    const org = "org-rec-revoked";
    const stub = await installed(org, { expires_in: 600 });
    lc.on("POST", "/v2/token", Response.json({ error: "invalid_grant", error_description: "revoked" }, { status: 400 }));
    const report = await stub.reconcile();
    expect(report.skipped).toBe("needs_reinstall");
    expect(report.failed[0]).toMatchObject({ step: "token" });
    expect((await stub.reconcile()).skipped).toBe("needs_reinstall");
    const fleet = await reconcileFleet(env, { reconcile: ONE_SLOT });
    expect(fleet.skippedNeedsReinstall).toBeGreaterThanOrEqual(1);
  });
});

describe("reconcile visits: LiveChat only for what is unknown, stale or due", () => {
  it("a healthy license costs one call an hour: get_license_webhooks_state, then nothing while it is fresh", async () => {
    const stub = await installed("org-visit-healthy");
    const since = lc.calls().length;
    const first = await runInDurableObject(stub, (i) => (i as unknown as { m: { reconciler: LicenseReconciler } }).m.reconciler.visit());
    expect(first).toMatchObject({ kind: "visit", drift: [], fixed: [], failed: [], calls: 1 });
    expect(callsSince(since)).toEqual(["get_license_webhooks_state"]);
    const again = await runInDurableObject(stub, (i) => (i as unknown as { m: { reconciler: LicenseReconciler } }).m.reconciler.visit());
    expect(again).toMatchObject({ calls: 0 });
    expect(callsSince(since)).toEqual(["get_license_webhooks_state"]);
  });

  it("the next hour's visit asks again even when it comes a little early (a visit lands within the cron's spread of the hour)", async () => {
    const stub = await installed("org-visit-hourly");
    const visit = () => runInDurableObject(stub, (i) => (i as unknown as { m: { reconciler: LicenseReconciler } }).m.reconciler.visit());
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    expect(await visit()).toMatchObject({ calls: 1 });
    // RECONCILE_STALE_SECONDS is 12 s and RECONCILE_SPREAD_SECONDS 1 s in tests: the next visit, half a second early.
    vi.setSystemTime(start + 12_000 - 500);
    const since = lc.calls().length;
    expect(await visit()).toMatchObject({ calls: 1, drift: [] });
    expect(callsSince(since)).toEqual(["get_license_webhooks_state"]);
    // Well within the hour it is still fresh.
    vi.setSystemTime(start + 12_000 + 5_000);
    expect(await visit()).toMatchObject({ calls: 0 });
  });

  it("a license webhook that arrived proves license webhooks enabled: the visit calls nothing", async () => {
    const org = "org-visit-webhook";
    const stub = await installed(org);
    const body = { ...rawSample("webhook.v3.6.bot_deleted"), secret_key: "test-webhook-secret", organization_id: org, payload: { id: "someone-else" } };
    expect((await post("license", body)).status).toBe(200);
    await vi.waitUntil(async () => (await licenseDeliveries(org)).some((d) => d.status === "processed"), { timeout: 5000 });
    const since = lc.calls().length;
    const report = await runInDurableObject(stub, (i) => (i as unknown as { m: { reconciler: LicenseReconciler } }).m.reconciler.visit());
    expect(report).toMatchObject({ calls: 0, drift: [] });
    expect(callsSince(since)).toEqual([]);
  });

  it("drift no webhook reports (license webhooks disabled) is found and fixed by the visit", async () => {
    const stub = await installed("org-visit-unreported");
    const bot = (await stub.botInfo())!;
    fake.webhooksEnabled = false;
    fake.routing.set(bot.id, "offline");
    const report = await runInDurableObject(stub, (i) => (i as unknown as { m: { reconciler: LicenseReconciler } }).m.reconciler.visit());
    expect(report.drift).toEqual(["license webhooks disabled", "bot routing status offline, wanted accepting_chats"]);
    expect(report.fixed).toEqual(["license webhooks enabled", "bot routing status set to accepting_chats"]);
    expect(fake.routing.get(bot.id)).toBe("accepting_chats");
  });

  it("owner routing mode: the visit records the status and never sets it; a deleted bot waits for the operator", async () => {
    const stub = await installed("org-visit-owner");
    await stub.updateSettings({ routingMode: "owner" });
    const bot = (await stub.botInfo())!;
    fake.webhooksEnabled = false; // nothing reported: the visit reads
    fake.routing.set(bot.id, "offline");
    const sets = count("/set_routing_status");
    const report = await runInDurableObject(stub, (i) => (i as unknown as { m: { reconciler: LicenseReconciler } }).m.reconciler.visit());
    expect(report.fixed).toEqual(["license webhooks enabled"]);
    expect(count("/set_routing_status")).toBe(sets);
    expect((await stub.botInfo())?.routingStatus).toBe("offline");
    fake.bots.delete(bot.id);
    fake.webhooksEnabled = false; // unreported again, an hour later
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 13_000); // past RECONCILE_STALE_SECONDS (12 s in tests)
    const deleted = await runInDurableObject(stub, (i) => (i as unknown as { m: { reconciler: LicenseReconciler } }).m.reconciler.visit());
    expect(deleted.drift, JSON.stringify(deleted)).toContain(`bot ${bot.id} was deleted`);
    expect((await stub.botInfo())?.id).toBe(bot.id);
    const forced = await stub.reconcile();
    expect(forced.fixed.some((f) => /^bot .* provisioned$/.test(f))).toBe(true);
    expect((await stub.botInfo())?.id).not.toBe(bot.id);
  });

  it("a working-hours switch is due on the License DO's own alarm: no visit needed", async () => {
    const stub = await installed("org-visit-hours");
    // Open for the current minute only, every day: the switch (the interval's end) lies within the minute.
    const now = new Date();
    const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
    const end = new Date(now.getTime() + 60_000);
    if (hhmm(end) === "00:00") return; // the interval would wrap midnight; nothing to learn this minute
    const days = Object.fromEntries(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].map((d) => [d, [{ start: hhmm(now), end: hhmm(end) }]]));
    await stub.updateSettings({ workingHours: { timezone: "UTC", days, outsideStatus: "not_accepting_chats" } });
    const deadlines = await runInDurableObject(stub, (i) => (i as unknown as { alarms: NamedAlarms }).alarms.list());
    const heal = deadlines.find((d) => d.name === HEAL_DEADLINE);
    expect(heal?.at).toBe(Math.floor(end.getTime() / 60_000) * 60_000);
  });
});

describe("forced reconcile (operator)", () => {
  it("POST /admin/api/licenses/:org/reconcile checks everything and answers the drift found and fixed", async () => {
    const org = "org-forced";
    const stub = await installed(org);
    const bot = (await stub.botInfo())!;
    fake.routing.set(bot.id, "offline"); // unreported: a full check finds it regardless of staleness
    const res = await exports.default.fetch(`https://edge.example.test/admin/api/licenses/${org}/reconcile`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ drift: ["bot routing status offline, wanted accepting_chats"], fixed: ["bot routing status set to accepting_chats"], failed: [] });
    expect(fake.routing.get(bot.id)).toBe("accepting_chats");
    expect((await stub.reconcileHistory())[0]).toMatchObject({ kind: "full" });
    const unknown = await exports.default.fetch("https://edge.example.test/admin/api/licenses/org-never-installed/reconcile", {
      method: "POST",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(unknown.status).toBe(404);
  });
});

describe("reconcile cron", () => {
  it("walks KV pages and has every license visit itself", async () => {
    const orgs = ["org-fleet-a", "org-fleet-b", "org-fleet-c", "org-fleet-d", "org-fleet-e"];
    for (const org of orgs) await installed(org);
    for (const org of orgs) fake.routing.set((await licenseStub(env, org).botInfo())!.id, "offline");
    fake.webhooksEnabled = false; // unreported drift: visits find it
    const report = await reconcileFleet(env, { pageSize: 2, reconcile: ONE_SLOT });
    expect(report.pages).toBeGreaterThanOrEqual(3);
    expect(report.failed).toEqual([]);
    for (const org of orgs) {
      const stub = licenseStub(env, org);
      await vi.waitUntil(async () => (await stub.reconcileHistory()).length > 0, { timeout: 5000 });
      expect(fake.routing.get((await stub.botInfo())!.id)).toBe("accepting_chats");
    }
  });

  it("runs from the Worker's scheduled handler: within one stale period (12 runs) every license is visited", async () => {
    const stub = await installed("org-fleet-scheduled");
    const before = (await stub.reconcileHistory()).length;
    // vitest.config.mts: RECONCILE_SPREAD_SECONDS=1, RECONCILE_STALE_SECONDS=12 (12 slots of 1 s).
    for (let run = 0; run < 12; run++) {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime: new Date(run * 1000), cron: "*/5 * * * *" }), env, ctx);
      await waitOnExecutionContext(ctx);
    }
    await vi.waitUntil(async () => (await stub.reconcileHistory()).length > before, { timeout: 10_000 });
    expect((await stub.reconcileHistory())[0]).toMatchObject({ kind: "visit" });
  }, 30_000);
});
