import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BOT_NOT_ACCEPTING } from "../../src/framework";
import { router } from "../../src/handlers";
import type { LicenseBot } from "../../src/licenses/bot";
import { licenseStub } from "../../src/licenses/stub";
import { fixture } from "../helpers/fixtures";
import { mockLiveChat } from "../helpers/livechat-mock";
import { type Body, rawSample } from "../livechat/webhooks/samples";
import { chatDeliveries, incomingEvent, install, licenseDeliveries, post, SECRET, settled, uniqueOrg } from "../webhooks/helpers";

const offs: (() => void)[] = [];
afterEach(() => {
  offs.splice(0).forEach((off) => off());
  vi.restoreAllMocks();
});

/** An installed organization whose bot (id `botId`) exists, as bot provisioning leaves it. */
async function orgWithBot(botId: string): Promise<string> {
  const org = uniqueOrg("bot");
  await install(org);
  const lc = mockLiveChat();
  lc.on("POST", "/configuration/action/list_bots", Response.json([]));
  lc.on("POST", "/configuration/action/create_bot", Response.json({ id: botId, secret: "bot-secret" }));
  // The install's own provisioning alarm may have created the bot first: ensure() then checks it.
  lc.on("POST", "/configuration/action/get_bot", Response.json({ ...fixture("configuration.v3.6.get_bot.response"), id: botId, name: "Edge bot" }));
  lc.on("POST", "/configuration/action/update_bot", Response.json({}));
  await runInDurableObject(licenseStub(env, org), (instance) => (instance as unknown as { m: { bot: LicenseBot } }).m.bot.ensure(org, "Edge bot"));
  vi.restoreAllMocks();
  return org;
}

function routingStatusSet(org: string, agentId: string, status: string) {
  return { ...rawSample("webhook.v3.6.routing_status_set"), secret_key: SECRET, organization_id: org, payload: { agent_id: agentId, status } };
}

describe("bot webhooks act only while the bot accepts chats (docs/LIVECHAT.md §1.5)", () => {
  it("tracks routing_status_set into the License DO and gates bot deliveries on it", async () => {
    const org = await orgWithBot("bot-gate-1");
    // The app's own bot behaviours look the messages' author up (src/chats/users.ts, get_chat).
    mockLiveChat().on(
      "POST",
      "/agent/action/get_chat",
      Response.json({ id: "G1", users: [{ id: "customer-1", type: "customer" }], thread: { id: "THREAD1", active: true, events: [] } }),
    );
    const seen: string[] = [];
    offs.push(router.on("incoming_event", (p, ctx) => void (ctx.organizationId === org && seen.push(`${ctx.kind}:${p.event.id}`))));
    const license = licenseStub(env, org);
    expect(await license.botRoutingStatus()).toEqual({ agentId: "bot-gate-1", acceptingChats: false });

    // Not accepting (no status known yet): bot deliveries are recorded as skipped; license ones run.
    await post("bot", incomingEvent(org, "G1", "E1"));
    await post("license", incomingEvent(org, "G1", "E1"));
    let list = await settled(() => chatDeliveries(org, "G1"), 2);
    expect(list.find((d) => d.kind === "bot")).toMatchObject({ status: "skipped", note: BOT_NOT_ACCEPTING });
    expect(seen).toEqual(["license:E1"]);

    // The bot's routing status arrives (webhook spelling with a space), via the bot endpoint.
    await post("bot", routingStatusSet(org, "bot-gate-1", "accepting chats"));
    await settled(() => licenseDeliveries(org), 1);
    expect(await license.botRoutingStatus()).toMatchObject({ agentId: "bot-gate-1", status: "accepting_chats", acceptingChats: true });

    await post("bot", incomingEvent(org, "G1", "E2"));
    list = await settled(() => chatDeliveries(org, "G1"), 3);
    expect(list[0]).toMatchObject({ kind: "bot", status: "processed" });
    expect(seen).toEqual(["license:E1", "bot:E2"]);

    // Another agent's status does not touch the bot's.
    await post("license", routingStatusSet(org, "agent@example.com", "not accepting chats"));
    await settled(() => licenseDeliveries(org), 2);
    expect((await license.botRoutingStatus()).acceptingChats).toBe(true);

    // The bot going offline closes the gate again.
    await post("license", routingStatusSet(org, "bot-gate-1", "offline"));
    await settled(() => licenseDeliveries(org), 3);
    await post("bot", incomingEvent(org, "G1", "E3"));
    list = await settled(() => chatDeliveries(org, "G1"), 4);
    expect(list[0]).toMatchObject({ kind: "bot", status: "skipped" });
    expect(seen).toEqual(["license:E1", "bot:E2"]);
  });

  it("without a provisioned bot, bot deliveries are skipped", async () => {
    const org = uniqueOrg("nobot");
    await install(org);
    const handler = vi.fn();
    offs.push(router.on("thread_tagged", handler, { kind: "bot" }));
    const body: Body = { ...rawSample("webhook.v3.6.thread_tagged"), secret_key: SECRET, organization_id: org };
    await post("bot", body);
    const [delivery] = await settled(() => chatDeliveries(org, body.payload.chat_id), 1);
    expect(delivery).toMatchObject({ status: "skipped", note: BOT_NOT_ACCEPTING });
    expect(handler).not.toHaveBeenCalled();
  });
});
