import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { reconcileFleet } from "../../src/licenses/fleet";
import { licenseStub } from "../../src/licenses/stub";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { installLicense, tokenResponse } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

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
    expect(report.drift).toEqual(["bot routing status offline, wanted accepting_chats", "license webhooks disabled"]);
    expect(report.fixed).toEqual(["bot routing status set to accepting_chats", "license webhooks enabled"]);
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
    const fleet = await reconcileFleet(env, { spreadMs: 0 });
    expect(fleet.skippedNeedsReinstall).toBeGreaterThanOrEqual(1);
  });
});

describe("reconcile cron", () => {
  it("walks KV pages and has every license reconcile itself", async () => {
    const orgs = ["org-fleet-a", "org-fleet-b", "org-fleet-c", "org-fleet-d", "org-fleet-e"];
    for (const org of orgs) await installed(org);
    for (const org of orgs) fake.routing.set((await licenseStub(env, org).botInfo())!.id, "offline");
    const report = await reconcileFleet(env, { pageSize: 2, spreadMs: 0 });
    expect(report.pages).toBeGreaterThanOrEqual(3);
    expect(report.failed).toEqual([]);
    for (const org of orgs) {
      const stub = licenseStub(env, org);
      await vi.waitUntil(async () => (await stub.reconcileHistory()).length > 0, { timeout: 5000 });
      expect(fake.routing.get((await stub.botInfo())!.id)).toBe("accepting_chats");
    }
  });

  it("runs from the Worker's scheduled handler", async () => {
    const stub = await installed("org-fleet-scheduled");
    const before = (await stub.reconcileHistory()).length;
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    await vi.waitUntil(async () => (await stub.reconcileHistory()).length > before, { timeout: 70_000 });
  }, 80_000);
});
