import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { DAY_MS, DELIVERY_RETENTION_MS } from "../../src/deliveries";
import { ChatIndex, MAX_INDEXED_CHATS } from "../../src/licenses/chat-index";
import { licenseStub } from "../../src/licenses/stub";
import { botWorld, CUSTOMER, message, say, type World } from "../bot/helpers";
import { livechatError } from "../helpers/livechat-mock";
import { install } from "../webhooks/helpers";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

type AnyStub = ReturnType<typeof licenseStub> | ReturnType<typeof chatStub>;

/** Every table, every row, every storage key and the alarm of a DO: its storage as it is, not as the code says. */
function storageOf(stub: AnyStub) {
  return runInDurableObject(stub, async (_i, state) => {
    const names = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
      .toArray()
      .map((r) => r.name);
    const rows: Record<string, unknown[]> = {};
    for (const name of names) {
      const all = state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray();
      if (all.length > 0) rows[name] = all;
    }
    const keys = Object.fromEntries(await state.storage.list());
    return { tables: names, rows, keys, alarm: await state.storage.getAlarm(), text: JSON.stringify({ rows, keys }) };
  });
}

/** What an erased DO holds: no table, no row, no key, no alarm. */
const NOTHING = { tables: [], rows: {}, keys: {}, alarm: null, text: '{"rows":{},"keys":{}}' };

/** Run the License DO's alarm while it is due (erasing chats, a batch per pass). */
async function runLicenseDue(org: string): Promise<void> {
  const stub = licenseStub(env, org);
  for (let i = 0; i < 50; i++) {
    const at = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    if (at === null || at > Date.now()) return;
    await runDurableObjectAlarm(stub);
  }
}

/** A license with a provisioned bot, custom settings and `count` chats in which a customer wrote a secret. */
async function busyLicense(label: string, count: number): Promise<{ world: World; chatIds: string[]; secret: string }> {
  const world = await botWorld(label);
  await world.license.updateSettings({ botName: "Kept Bot" });
  const secret = `SECRET-${crypto.randomUUID()}`;
  const chatIds = Array.from({ length: count }, (_, i) => `ERASE${i}`);
  for (const chatId of chatIds) {
    world.chats.open(chatId);
    await say(world, chatId, message(`${chatId}-E1`, CUSTOMER, `${secret} in ${chatId}`));
  }
  // The Chat DOs report to the license's journal in the background; the chat index is fed from it.
  await vi.waitUntil(
    async () =>
      (await runInDurableObject(world.license, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM license_chats").one().n)) === count,
    { timeout: 10_000, interval: 20 },
  );
  return { world, chatIds, secret };
}

describe("uninstall erase", () => {
  it("an operator's erase deletes the bot at LiveChat, revokes the tokens and leaves no row of the license anywhere but a tombstone and the settings, then nothing", async () => {
    const { world, chatIds, secret } = await busyLicense("erase-op", 3);
    const { org, lc, bots } = world;
    lc.on("DELETE", "/v2/token", Response.json({}));
    expect(bots.bots.size).toBe(1);
    for (const chatId of chatIds) expect((await storageOf(chatStub(env, org, chatId))).text).toContain(secret);

    const answer = await world.license.eraseOnRequest();
    expect(answer).toMatchObject({ ok: true, bot: "deleted", chatsToErase: 3, tombstone: { organizationId: org, reason: "operator", bot: "deleted" } });
    if (!answer.ok) throw new Error("not erased");
    expect(Object.keys(answer.wiped.rows)).toEqual(expect.arrayContaining(["delivery_journal"]));
    // The bot is gone at LiveChat, both tokens revoked, the KV index entry removed.
    expect(bots.bots.size).toBe(0);
    expect(lc.calls("/v2/token").filter((c) => c.method === "DELETE")).toHaveLength(2);
    expect((await env.TOKENS.list({ prefix: `license:${org}` })).keys).toEqual([]);

    await runLicenseDue(org); // the chats' erase, on the alarm
    for (const chatId of chatIds) expect(await storageOf(chatStub(env, org, chatId))).toEqual(NOTHING);
    const license = await storageOf(licenseStub(env, org));
    expect(license.text).not.toContain(secret);
    expect(Object.keys(license.keys).sort()).toEqual(["settings", "tombstone"]);
    expect(Object.keys(license.rows)).toEqual(["alarm_deadlines"]); // the final erase, and nothing else
    expect(await world.license.tombstone()).toMatchObject({ chats: { erased: 3, failed: 0 } });

    // The retention period later: the settings and the tombstone go too, every table, and the alarm.
    vi.setSystemTime(Date.now() + DELIVERY_RETENTION_MS + 1);
    await runLicenseDue(org);
    expect(await storageOf(licenseStub(env, org))).toEqual(NOTHING);
  });

  it("a confirmed uninstall (LiveChat revoked the grant) says in the tombstone that the bot could not be deleted", async () => {
    const { world, chatIds, secret } = await busyLicense("erase-revoked", 2);
    world.lc.on("POST", "/configuration/action/delete_bot", livechatError(401, "authentication", "Invalid access token"));
    world.lc.on("POST", "/agent/action/set_routing_status", livechatError(401, "authentication", "Invalid access token"));
    world.lc.on("DELETE", "/v2/token", livechatError(401, "authentication", "revoked"));
    expect(await world.license.uninstall()).toBe(true);
    expect(await world.license.tombstone()).toMatchObject({ reason: "uninstalled", bot: "grant_revoked" });
    await runLicenseDue(world.org);
    for (const chatId of chatIds) expect((await storageOf(chatStub(env, world.org, chatId))).text).not.toContain(secret);
    expect((await storageOf(world.license)).text).not.toContain(secret);
  });

  it("a reinstall within the retention period keeps the settings and drops the tombstone; after the erase it starts clean and works", async () => {
    const { world } = await busyLicense("erase-reinstall", 1);
    world.lc.on("DELETE", "/v2/token", Response.json({}));
    await world.license.eraseOnRequest();
    await runLicenseDue(world.org);
    await install(world.org);
    expect(await world.license.tombstone()).toBeUndefined();
    expect((await world.license.settings()).botName).toBe("Kept Bot");

    // Erased again, and the retention period passes: a reinstall starts from the defaults.
    await world.license.eraseOnRequest();
    vi.setSystemTime(Date.now() + DELIVERY_RETENTION_MS + 1);
    await runLicenseDue(world.org);
    await install(world.org);
    expect((await world.license.settings()).botName).not.toBe("Kept Bot");
    const bot = await world.license.provisionBot();
    expect(world.bots.bots.has(bot.id)).toBe(true);
    world.chats.open("AFTER");
    await say(world, "AFTER", message("AFTER-E1", CUSTOMER, "hello again"));
    const [delivery] = await chatStub(env, world.org, "AFTER").recentDeliveries();
    expect(delivery).toMatchObject({ action: "incoming_event", status: "processed" });
  });
});

describe("chat index", () => {
  it("a license with 1,000,000 chats over a year indexes only the chats of the retention window, never more than its cap", async () => {
    await runInDurableObject(licenseStub(env, `index-${crypto.randomUUID()}`), async (_i, state) => {
      const windowMs = 15 * DAY_MS;
      const index = new ChatIndex(state.storage, { windowMs: () => windowMs });
      const T0 = Date.parse("2031-01-01T00:00:00Z");
      const total = 1_000_000;
      const hours = 365 * 24;
      let next = 0;
      let most = 0;
      for (let hour = 0; hour < hours; hour++) {
        // ~114 new chats an hour, each reported a few times by its Chat DO's processing passes.
        const upTo = Math.round(((hour + 1) * total) / hours);
        const ids: string[] = [];
        for (; next < upTo; next++) ids.push(`C${next}`);
        const at = T0 + hour * 3_600_000;
        index.note(ids, at);
        index.note(ids.slice(0, 20), at + 600_000);
        if (hour % 24 === 23) most = Math.max(most, index.count());
      }
      expect(next).toBe(total);
      // 15 days of ~2,740 chats a day (and up to a day before the daily prune): ~44,000, whatever the year's total.
      expect(most).toBeLessThanOrEqual(Math.ceil((total / 365) * 17));
      expect(most).toBeLessThan(MAX_INDEXED_CHATS);
      expect(state.storage.sql.databaseSize).toBeLessThan(8 * 1024 * 1024);

      // The cap holds even when the window would allow more.
      const capped = new ChatIndex(state.storage, { windowMs: () => 365 * DAY_MS, max: 1_000 });
      capped.note(["X1", "X2"], T0 + 400 * DAY_MS);
      expect(capped.count()).toBe(1_000);
      expect(capped.take(2_000)).toEqual(expect.arrayContaining(["X1", "X2"]));
    });
  }, 120_000);
});
