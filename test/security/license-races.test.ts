import { env } from "cloudflare:workers";
import { runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { PROCESS_DEADLINE } from "../../src/deliveries";
import type { DeliveryHost } from "../../src/framework";
import { router } from "../../src/handlers";
import { licenseStub } from "../../src/licenses/stub";
import { TokenStore } from "../../src/licenses/token-store";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { fixture } from "../helpers/fixtures";
import { heldReply } from "../helpers/held-reply";
import { installLicense, ORIGIN, rpcError, storedTokens, tokenResponse } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";
import { chatDeliveries, incomingEvent, install, settled, uniqueOrg } from "../webhooks/helpers";

/**
 * Threat (issue 21, item 12): the License DO serves other calls while it awaits LiveChat, so an
 * uninstall can interleave with a reinstall, and bot provisioning with itself or an uninstall; and
 * a Chat DO whose alarm the runtime gave up on must not wait for a new webhook.
 */

let lc: ReturnType<typeof mockLiveChat>;
let fake: ReturnType<typeof fakeLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fake = fakeLiveChat(lc);
});
afterEach(() => vi.restoreAllMocks());

const revoked = () => lc.calls("/v2/token").filter((c) => c.method === "DELETE").map((c) => c.headers.get("authorization"));
const kvTokens = (org: string) => storedTokens(org);

async function provisioned(org: string) {
  const { tokens } = await installLicense(lc, org);
  const stub = licenseStub(env, org);
  await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
  return { stub, tokens, bot: (await stub.botInfo())! };
}

describe("an uninstall racing a reinstall (12a)", () => {
  it("a confirmation on the wire while the OAuth callback reinstalls changes nothing: the new tokens stay, unrevoked", async () => {
    const org = "org-race-confirm-vs-reinstall";
    await provisioned(org);
    const held = heldReply();
    lc.on("GET", "/v2/info", held.reply);
    lc.on("POST", "/v2/token", Response.json({ error: "invalid_grant", error_description: "revoked" }, { status: 400 }));
    const hint = SELF.fetch(`${ORIGIN}/webhooks/app`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...fixture("app_webhook.application_uninstalled"), clientID: "test-client-id", organizationID: org, date: new Date().toISOString() }),
    });
    await held.reached();
    // The user reinstalls through the OAuth callback while LiveChat answers about the old grant.
    const fresh = tokenResponse(org);
    lc.on("POST", "/v2/token", Response.json(fresh));
    const page = await SELF.fetch(`${ORIGIN}/install?code=dal:reinstall-code`);
    expect(page.status).toBe(200);
    // The old grant's tokens are refused, as after a real uninstall.
    held.release(() => Response.json({ error: "unauthorized", error_description: "Invalid access token" }, { status: 401 }));
    expect(await (await hint).json()).toEqual({ ok: true, outcome: "ignored_reinstalled" });
    expect(await licenseStub(env, org).installation()).toMatchObject({ installed: true, needsReinstall: false });
    expect(await kvTokens(org)).toMatchObject({ accessToken: fresh.access_token, refreshToken: fresh.refresh_token });
    expect(revoked()).not.toContain(`Bearer ${fresh.access_token}`);
    expect(revoked()).not.toContain(`Bearer ${fresh.refresh_token}`);
  });

  it("an uninstall awaiting the bot's delete_bot call while a reinstall lands leaves the new installation whole", async () => {
    const org = "org-race-uninstall-offline-vs-reinstall";
    const { stub, bot } = await provisioned(org);
    const held = heldReply();
    lc.on("POST", "/configuration/action/delete_bot", held.reply);
    const uninstall = stub.uninstall();
    await held.reached();
    const fresh = tokenResponse(org);
    await stub.install(fresh);
    held.release(() => Response.json({})); // answered once the reinstall landed (this fake keeps the bot)
    expect(await uninstall).toBe(false);
    expect(await stub.installation()).toMatchObject({ installed: true, needsReinstall: false });
    expect(await kvTokens(org)).toMatchObject({ accessToken: fresh.access_token });
    expect(revoked()).not.toContain(`Bearer ${fresh.access_token}`);
    expect(revoked()).not.toContain(`Bearer ${fresh.refresh_token}`);
    // The bot record is kept and the reinstall's provisioning puts it back to accepting chats.
    expect((await stub.botInfo())?.id).toBe(bot.id);
    expect(await stub.tombstone()).toBeUndefined();
    lc.on("POST", "/agent/action/set_routing_status", (call) => {
      const body = call.body as { agent_id: string; status: string };
      fake.routing.set(body.agent_id, body.status);
      return Response.json({});
    });
    await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
  });
});

describe("bot provisioning (12b)", () => {
  it("is single-flight: concurrent runs send create_bot once and the license gets one bot", async () => {
    const org = "org-race-provision-twice";
    const held = heldReply();
    lc.on("POST", "/configuration/action/create_bot", held.reply);
    const stub = licenseStub(env, org);
    await stub.install(tokenResponse(org)); // schedules provisioning on the alarm
    await held.reached();
    const runs = [stub.provisionBot(), stub.provisionBot()].map((p) => p.then((b) => b.id, (e: Error) => e.message));
    // Give both RPCs time to reach the DO before LiveChat answers.
    await new Promise((resolve) => setTimeout(resolve, 100));
    held.release(() => {
      const id = `bot-once-${crypto.randomUUID().slice(0, 8)}`;
      fake.bots.set(id, { id, name: "x", secret: `secret-${id}` });
      return Response.json({ id, secret: `secret-${id}` });
    });
    const ids = await Promise.all(runs);
    expect(held.calls).toHaveLength(1);
    expect(fake.bots.size).toBe(1);
    expect(new Set(ids)).toEqual(new Set([(await stub.botInfo())!.id]));
  });

  it("an uninstall while create_bot is on the wire leaves no orphan bot: the new bot is deleted at LiveChat and forgotten", async () => {
    const org = "org-race-provision-vs-uninstall";
    const held = heldReply();
    lc.on("POST", "/configuration/action/create_bot", held.reply);
    const stub = licenseStub(env, org);
    await stub.install(tokenResponse(org));
    await held.reached();
    const uninstall = stub.uninstall();
    await new Promise((resolve) => setTimeout(resolve, 100));
    let created = "";
    held.release(() => {
      created = `bot-orphan-${crypto.randomUUID().slice(0, 8)}`;
      fake.bots.set(created, { id: created, name: "x", secret: `secret-${created}` });
      return Response.json({ id: created, secret: `secret-${created}` });
    });
    expect(await uninstall).toBe(true);
    expect(created).not.toBe("");
    expect(await stub.installation()).toMatchObject({ installed: false });
    expect(await stub.botInfo()).toBeNull();
    expect(fake.bots.has(created)).toBe(false);
    // Provisioning stays stopped: nothing re-creates a bot for the uninstalled license.
    expect((await rpcError(stub.provisionBot())).message).toMatch(/not_installed/);
    expect(lc.calls("/configuration/action/create_bot")).toHaveLength(1);
  });
});


describe("a Chat DO whose alarm the runtime gave up on (12c)", () => {
  const offs: (() => void)[] = [];
  afterEach(() => offs.splice(0).forEach((off) => off()));

  it("LiveChat's redelivery, posted to the Worker and recorded as a duplicate, arms the alarm again: the stuck event runs", async () => {
    const org = uniqueOrg("rearm");
    await install(org);
    let healthy = false;
    const ran: string[] = [];
    offs.push(
      router.on(
        "incoming_event",
        (p, ctx) => {
          if (ctx.organizationId !== org) return;
          // Until healthy: a failure that asks for a minute's wait (the delivery stays at the head of the queue).
          if (!healthy) throw Object.assign(new Error("LiveChat rate limit"), { retryAfterMs: 60_000 });
          ran.push(p.event.id);
        },
        { name: "test:rearm" },
      ),
    );
    const webhook = (body: unknown) =>
      SELF.fetch(`${ORIGIN}/webhooks/license`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

    expect((await webhook(incomingEvent(org, "REARM", "FIRST"))).status).toBe(200);
    await vi.waitUntil(async () => ((await chatDeliveries(org, "REARM"))[0]?.attempts ?? 0) >= 1, { timeout: 5_000, interval: 20 });
    // Its retry came due a minute ago, the alarm failed its retries and the runtime gave up on it:
    // the wake-up is overdue, no alarm is set, the delivery still waits.
    const chat = chatStub(env, org, "REARM");
    await runInDurableObject(chat, async (instance, state) => {
      state.storage.sql.exec("UPDATE deliveries SET next_attempt_at = 0");
      const { alarms } = (instance as unknown as { deliveries: DeliveryHost }).deliveries;
      await alarms.schedule(PROCESS_DEADLINE, Date.now() - 60_000);
      await state.storage.deleteAlarm();
    });
    expect(await runInDurableObject(chat, (_i, state) => state.storage.getAlarm())).toBeNull();
    healthy = true;

    expect((await webhook(incomingEvent(org, "REARM", "FIRST"))).status).toBe(200); // LiveChat's redelivery
    const deliveries = await settled(() => chatDeliveries(org, "REARM"), 2, 5_000);
    expect(deliveries.map((d) => d.status).sort()).toEqual(["duplicate", "processed"]);
    expect(ran).toEqual(["FIRST"]);
  });
});
