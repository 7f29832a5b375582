import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sealWith } from "../../src/licenses/crypto";
import { licenseStub } from "../../src/licenses/stub";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { heldReply } from "../helpers/held-reply";
import { installLicense } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

let lc: ReturnType<typeof mockLiveChat>;
let fake: ReturnType<typeof fakeLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fake = fakeLiveChat(lc);
});
afterEach(() => vi.restoreAllMocks());

/** Install and wait until the provisioning alarm has set the bot up. */
async function provisioned(org: string) {
  await installLicense(lc, org);
  const stub = licenseStub(env, org);
  await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
  return { stub, bot: (await stub.botInfo())! };
}

describe("bot provisioning when LiveChat's answer to create_bot is lost", () => {
  it("create_bot is sent once; the provisioning retry adopts the bot LiveChat created, by name", async () => {
    const org = "org-bot-create-lost";
    // LiveChat creates the bot, but the answer is a 503 (docs/LIVECHAT.md §3.3: a repeated create_bot creates a second bot).
    lc.on("POST", "/configuration/action/create_bot", (call) => {
      const id = `bot-lost-${crypto.randomUUID().slice(0, 8)}`;
      fake.bots.set(id, { id, name: (call.body as { name: string }).name, secret: `secret-${id}` });
      return new Response("upstream unavailable", { status: 503 });
    });
    await installLicense(lc, org);
    const stub = licenseStub(env, org);
    // The provisioning alarm fails once, then retries (alarm backoff, about 1 s) and adopts the bot.
    await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 8000, interval: 50 });
    expect(lc.calls("/configuration/action/create_bot")).toHaveLength(1);
    expect(fake.bots.size).toBe(1);
    const [created] = fake.bots.values();
    expect((await stub.botInfo())?.id).toBe(created.id);
    expect(lc.calls("/configuration/action/reset_bot_secret")).toHaveLength(1);
  });
});

describe("bot token renewal racing other writes of the bot record", () => {
  it("a routing status recorded while issue_bot_token is on the wire is kept", async () => {
    const org = "org-bot-issue-vs-status";
    const { stub, bot } = await provisioned(org);
    const current = await stub.botCredentials();
    const held = heldReply();
    lc.on("POST", "/configuration/action/issue_bot_token", held.reply);
    const renewing = stub.botCredentials(current); // LiveChat rejected the token: renew
    await held.reached();
    const at = Date.now() + 1;
    expect(await stub.recordRoutingStatus({ agentId: bot.id, status: "not_accepting_chats", at })).toBe(true);
    held.release(() => Response.json({ token: "bot-jwt-renewed" }));
    expect((await renewing).token).toBe("bot-jwt-renewed");
    expect(await stub.botInfo()).toMatchObject({ id: bot.id, routingStatus: "not_accepting_chats", routingStatusAt: at });
    expect((await stub.botCredentials()).token).toBe("bot-jwt-renewed");
  });

  it("a token issued for a bot replaced meanwhile is not stored on the replacement's record", async () => {
    const org = "org-bot-issue-vs-recreate";
    const { stub, bot } = await provisioned(org);
    const current = await stub.botCredentials();
    const held = heldReply();
    lc.on("POST", "/configuration/action/issue_bot_token", held.reply);
    const renewing = stub.botCredentials(current);
    await held.reached();
    // Meanwhile the bot is replaced (as `ensure` does when LiveChat lost it): another id, its own secret, no token yet.
    const sealedSecret = await sealWith({ current: env.TOKEN_ENCRYPTION_KEY! }, "secret-2", JSON.stringify(["bot-secret", org, "bot-replacement"]));
    await runInDurableObject(stub, async (_instance, state) => {
      const stored = (await state.storage.get<{ sealedSecret: string; name: string }>("bot"))!;
      await state.storage.put("bot", { id: "bot-replacement", name: stored.name, sealedSecret, createdAt: Date.now() });
    });
    held.release(() => Response.json({ token: "bot-jwt-issued" }));
    await renewing;
    expect((await stub.botInfo())?.id).toBe("bot-replacement");
    // The old bot's token was dropped; the replacement got one issued for itself.
    expect(held.calls.map((c) => (c.body as { bot_id: string }).bot_id)).toEqual([bot.id, "bot-replacement"]);
  });

  it("a rename does not overwrite a bot token issued while update_bot is on the wire", async () => {
    const org = "org-bot-rename-vs-token";
    const { stub } = await provisioned(org);
    const current = await stub.botCredentials();
    const held = heldReply();
    lc.on("POST", "/configuration/action/update_bot", held.reply);
    expect(await stub.updateSettings({ botName: "Renamed helper" })).toMatchObject({ ok: true });
    await held.reached(); // the provisioning alarm renames the bot
    const renewed = await stub.botCredentials(current); // LiveChat rejected the token meanwhile
    expect(renewed.token).not.toBe(current.token);
    held.release(() => Response.json({}));
    await vi.waitUntil(async () => (await stub.botInfo())?.name === "Renamed helper", { timeout: 5000 });
    expect((await stub.botCredentials()).token).toBe(renewed.token);
  });
});
