import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { NamedAlarms } from "../../src/durable/alarms";
import { licenseStub } from "../../src/licenses/stub";
import { CONFIRM_DELAY_MS } from "../../src/licenses/reconcile";
import { advance, botWorld, webhook, type World } from "../bot/helpers";
import { post } from "../webhooks/helpers";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Run the License DO's alarm until nothing is due (license deliveries, provisioning, heals). */
async function runLicenseDue(org: string): Promise<void> {
  const stub = licenseStub(env, org);
  for (let i = 0; i < 50; i++) {
    const due = await runInDurableObject(stub, (instance) =>
      (instance as unknown as { alarms: NamedAlarms }).alarms.list().some((d) => d.at <= Date.now()),
    );
    if (!due) return;
    await runDurableObjectAlarm(stub);
  }
  throw new Error("deadlines keep coming due");
}

/** A license webhook as LiveChat sends it, processed by the License DO. */
async function licenseWebhook(w: World, action: string, payload: Record<string, unknown>): Promise<void> {
  const res = await post("license", webhook(action, w.org, payload));
  expect(res.status).toBe(200);
  await runLicenseDue(w.org);
}

/** A provisioned bot world whose install-time provisioning (on the alarm) has run. */
async function world(label: string): Promise<World> {
  const w = await botWorld(label);
  await runLicenseDue(w.org);
  return w;
}

const SPELLING: Record<string, string> = { accepting_chats: "accepting chats", not_accepting_chats: "not accepting chats", offline: "offline" };

/** The license owner sets the bot's status in the Agent App: LiveChat changes it and reports it (webhook spelling). */
async function ownerSets(w: World, status: string): Promise<void> {
  w.bots.routing.set(w.bot.id, status);
  await licenseWebhook(w, "routing_status_set", { agent_id: w.bot.id, status: SPELLING[status] });
  advance(CONFIRM_DELAY_MS);
  await runLicenseDue(w.org);
}

const setRoutingCalls = (w: World) => w.lc.calls("/agent/action/set_routing_status").map((c) => (c.body as { status: string }).status);

describe("routingMode managed (the default): the app heals its bot's routing status", () => {
  it("a routing_status_set reporting drift is healed at once, with one LiveChat call", async () => {
    const w = await world("managed-heal");
    const before = setRoutingCalls(w).length;
    // The license owner switches the bot offline in the Agent App.
    await ownerSets(w, "offline");
    expect(setRoutingCalls(w).slice(before)).toEqual(["accepting_chats"]);
    expect(await w.license.botRoutingStatus()).toMatchObject({ status: "accepting_chats", acceptingChats: true });
    const [report] = await w.license.reconcileHistory();
    expect(report).toMatchObject({ drift: ["bot routing status offline, wanted accepting_chats"], fixed: ["bot routing status set to accepting_chats"] });
    // The status it set comes back as a webhook: confirmed with one read, nothing set.
    const reads = w.lc.calls("/agent/action/list_routing_statuses").length;
    await licenseWebhook(w, "routing_status_set", { agent_id: w.bot.id, status: "accepting chats" });
    advance(CONFIRM_DELAY_MS);
    await runLicenseDue(w.org);
    expect(setRoutingCalls(w).slice(before)).toHaveLength(1);
    expect(w.lc.calls("/agent/action/list_routing_statuses").length).toBe(reads + 1);
  });

  it("another agent's status changes nothing", async () => {
    const w = await world("managed-other");
    const before = setRoutingCalls(w).length;
    await licenseWebhook(w, "routing_status_set", { agent_id: "agent@example.com", status: "not accepting chats" });
    expect(setRoutingCalls(w).slice(before)).toEqual([]);
  });

  it("bot_deleted for its bot provisions a new bot at once, accepting chats", async () => {
    const w = await world("managed-deleted");
    const getBot = () => w.lc.calls("/configuration/action/get_bot").filter((c) => (c.body as { id: string }).id === w.bot.id).length;
    const lookups = getBot();
    w.bots.bots.delete(w.bot.id); // deleted in LiveChat
    await licenseWebhook(w, "bot_deleted", { id: w.bot.id });
    const info = await w.license.botInfo();
    expect(info?.id).not.toBe(w.bot.id);
    expect(info?.deletedAt).toBeUndefined();
    expect(w.lc.calls("/configuration/action/create_bot")).toHaveLength(2);
    // A bot reported deleted is not looked up again before it is replaced.
    expect(getBot()).toBe(lookups);
    expect(await w.license.botRoutingStatus()).toMatchObject({ agentId: info!.id, acceptingChats: true });
  });

  it("bot_deleted for another bot changes nothing", async () => {
    const w = await world("managed-deleted-other");
    await licenseWebhook(w, "bot_deleted", { id: "someone-elses-bot" });
    expect((await w.license.botInfo())?.id).toBe(w.bot.id);
    expect(w.lc.calls("/configuration/action/create_bot")).toHaveLength(1);
  });
});

describe("routingMode owner: the app never overrides the status", () => {
  it("follows what the owner sets: recorded, not healed; the bot stops acting while offline", async () => {
    const w = await world("owner-follow");
    expect((await w.license.updateSettings({ routingMode: "owner" })).ok).toBe(true);
    await runLicenseDue(w.org); // the settings change re-runs provisioning: the known status is left alone
    const before = setRoutingCalls(w).length;
    await ownerSets(w, "offline");
    expect(setRoutingCalls(w).slice(before)).toEqual([]);
    expect(await w.license.botRoutingStatus()).toMatchObject({ status: "offline", acceptingChats: false });
    // The scheduled reconcile records the status and changes nothing.
    await w.license.reconcile();
    expect(setRoutingCalls(w).slice(before)).toEqual([]);
    // Switched back and forth: each report repeats an earlier body exactly, and each one counts.
    for (const status of ["accepting_chats", "offline", "accepting_chats", "not_accepting_chats", "accepting_chats"]) {
      await ownerSets(w, status);
      expect(await w.license.botRoutingStatus()).toMatchObject({ status, acceptingChats: status === "accepting_chats" });
    }
    expect(setRoutingCalls(w).slice(before)).toEqual([]);
  });

  it("a late report of an older status is corrected by LiveChat's answer", async () => {
    const w = await world("owner-late");
    await w.license.updateSettings({ routingMode: "owner" });
    await runLicenseDue(w.org);
    w.bots.routing.set(w.bot.id, "accepting_chats");
    // A retried "offline" from before the owner switched back arrives last.
    await licenseWebhook(w, "routing_status_set", { agent_id: w.bot.id, status: "offline" });
    expect((await w.license.botRoutingStatus()).status).toBe("offline");
    advance(CONFIRM_DELAY_MS);
    await runLicenseDue(w.org);
    expect(await w.license.botRoutingStatus()).toMatchObject({ status: "accepting_chats", acceptingChats: true });
  });

  it("bot_deleted is recorded and shown, no bot is created", async () => {
    const w = await world("owner-deleted");
    await w.license.updateSettings({ routingMode: "owner" });
    await runLicenseDue(w.org);
    w.bots.bots.delete(w.bot.id);
    await licenseWebhook(w, "bot_deleted", { id: w.bot.id });
    const info = await w.license.botInfo();
    expect(info).toMatchObject({ id: w.bot.id });
    expect(info?.deletedAt).toBeTypeOf("number");
    expect(await w.license.botRoutingStatus()).toMatchObject({ acceptingChats: false });
    expect(w.lc.calls("/configuration/action/create_bot")).toHaveLength(1);
  });
});
