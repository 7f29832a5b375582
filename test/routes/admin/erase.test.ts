import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../../src/chats/stub";
import { licenseStub } from "../../../src/licenses/stub";
import { botWorld, CUSTOMER, message, say } from "../../bot/helpers";
import { install, uniqueOrg } from "../../webhooks/helpers";
import { adminFetch, api, login, postForm } from "./helpers";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Every row and key a DO stores, as text. */
const stored = (stub: ReturnType<typeof chatStub> | ReturnType<typeof licenseStub>) =>
  runInDurableObject(stub, async (_i, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
      .toArray();
    const rows = tables.flatMap(({ name }) => state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray());
    return JSON.stringify({ rows, keys: [...(await state.storage.list())] });
  });

describe("admin API: erasure on request", () => {
  it("DELETE /licenses/:org/chats/:chat erases one chat and answers what was there", async () => {
    const world = await botWorld("erase-chat-api");
    world.chats.open("ONE");
    world.chats.open("TWO");
    await say(world, "ONE", message("ONE-E1", CUSTOMER, "erase me please"));
    await say(world, "TWO", message("TWO-E1", CUSTOMER, "keep me"));
    const { status, body } = await api(`/licenses/${world.org}/chats/ONE`, { method: "DELETE" });
    expect(status).toBe(200);
    expect(body.erased).toMatchObject({ organizationId: world.org, chatId: "ONE", deliveries: 1, deadLetters: 0 });
    expect(body.erased.bytes).toBeGreaterThan(0);
    expect(await stored(chatStub(env, world.org, "ONE"))).toBe('{"rows":[],"keys":[]}');
    expect(await stored(chatStub(env, world.org, "TWO"))).toContain("keep me");
    // Erasing it again finds nothing, and creates nothing.
    const again = await api(`/licenses/${world.org}/chats/ONE`, { method: "DELETE" });
    expect(again.body.erased).toMatchObject({ deliveries: 0, storeKeys: 0, bytes: expect.any(Number) });
    expect(await stored(chatStub(env, world.org, "ONE"))).toBe('{"rows":[],"keys":[]}');
  });

  it("DELETE /licenses/:org erases the license and answers what it erased; a second one finds it not installed", async () => {
    const world = await botWorld("erase-license-api");
    world.lc.on("DELETE", "/v2/token", Response.json({}));
    world.chats.open("C1");
    await say(world, "C1", message("C1-E1", CUSTOMER, "customer text"));
    await vi.waitUntil(async () => (await world.license.storageReport(world.org)).chatsIndexed === 1, { timeout: 10_000, interval: 20 });

    const detail = await api(`/licenses/${world.org}`);
    // No license-scoped delivery: no inbox prune is due (nextPruneAt absent).
    expect(detail.body.storage).toMatchObject({ chatsIndexed: 1, totalRows: expect.any(Number), bytes: expect.any(Number) });
    expect(detail.body.storage.oldestItemAt).toBeLessThanOrEqual(Date.now());
    const list = await api(`/licenses?limit=100`);
    expect(list.body.licenses.find((l: { organizationId: string }) => l.organizationId === world.org).storage).toMatchObject({ chats: { indexed: 1, counted: 0 }, partial: true });

    const { status, body } = await api(`/licenses/${world.org}`, { method: "DELETE" });
    expect(status).toBe(200);
    expect(body.erased).toMatchObject({ organizationId: world.org, tokens: "revoked", bot: "deleted", kv: "removed", chats: { toErase: 1 }, kept: { settings: true, tombstone: true } });
    expect(body.erased.rows.delivery_journal).toBeGreaterThan(0);
    expect(world.bots.bots.size).toBe(0);

    const after = await api(`/licenses/${world.org}`);
    expect(after.status).toBe(200);
    expect(after.body.storage.tombstone).toMatchObject({ reason: "operator", bot: "deleted" });
    const second = await api(`/licenses/${world.org}`, { method: "DELETE" });
    expect(second.status).toBe(404);
    expect(second.body.error).toMatchObject({ type: "not_installed", tombstone: { reason: "operator" } });
  });

  it("DELETE /licenses/:org of a license never installed is a 404, a malformed id a 400", async () => {
    const org = uniqueOrg("never");
    expect((await api(`/licenses/${org}`, { method: "DELETE" })).status).toBe(404);
    expect((await api(`/licenses/bad%20id`, { method: "DELETE" })).status).toBe(400);
    await install(org); // still a working license afterwards
    expect((await licenseStub(env, org).installation()).installed).toBe(true);
  });
});

describe("admin API: what a license stores, with its chats", () => {
  it("sums rows and bytes of the License DO and every indexed Chat DO, with the oldest item and the earliest next prune; the overview says it counted no chat", async () => {
    const world = await botWorld("storage-totals");
    for (const chatId of ["S1", "S2", "S3"]) {
      world.chats.open(chatId);
      await say(world, chatId, message(`${chatId}-E1`, CUSTOMER, `hello from ${chatId}`));
    }
    await vi.waitUntil(async () => (await world.license.storageReport(world.org, { countChats: false })).chatsIndexed === 3, { timeout: 10_000, interval: 20 });
    const chats = await Promise.all(["S1", "S2", "S3"].map((id) => chatStub(env, world.org, id).storageReport()));
    expect(chats.every((c) => c.totalRows > 0 && c.nextPruneAt !== undefined && c.oldestItemAt !== undefined)).toBe(true);

    const { body } = await api(`/licenses/${world.org}`);
    const own = body.storage;
    expect(own.total).toMatchObject({
      rows: own.totalRows + chats.reduce((n, c) => n + c.totalRows, 0),
      bytes: own.bytes + chats.reduce((n, c) => n + c.bytes, 0),
      oldestItemAt: Math.min(own.oldestItemAt, ...chats.map((c) => c.oldestItemAt!)),
      nextPruneAt: Math.min(...[own.nextPruneAt, ...chats.map((c) => c.nextPruneAt!)].filter((at) => at !== undefined)),
      chats: { indexed: 3, counted: 3, unreachable: 0 },
      partial: false,
    });
    // The overview counts no chat (it asks every listed license at once): the License DO's own figures, partial.
    const row = (await api(`/licenses?limit=100`)).body.licenses.find((l: { organizationId: string }) => l.organizationId === world.org);
    expect(row.storage).toMatchObject({ rows: own.totalRows, bytes: own.bytes, chats: { indexed: 3, counted: 0 }, partial: true });

    // An erased chat leaves the index and the totals at once.
    await api(`/licenses/${world.org}/chats/S1`, { method: "DELETE" });
    expect((await api(`/licenses/${world.org}`)).body.storage.total.chats).toMatchObject({ indexed: 2, counted: 2 });
    // Counting an erased chat creates nothing in it.
    expect(await chatStub(env, world.org, "S1").storageReport()).toMatchObject({ totalRows: 0, keys: 0 });
    const tables = await runInDurableObject(chatStub(env, world.org, "S1"), (_i, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'").toArray(),
    );
    expect(tables).toEqual([]);
  });
});

describe("dashboard: erasure confirmed by the typed id", () => {
  it("the license page's Erase form erases nothing with a wrong id, and with the license's id erases it and shows what was erased", async () => {
    const world = await botWorld("erase-page");
    world.lc.on("DELETE", "/v2/token", Response.json({}));
    world.chats.open("P1");
    await say(world, "P1", message("P1-E1", CUSTOMER, "page customer text"));
    const { cookie, csrf } = await login();
    const page = await (await adminFetch(`/admin/licenses/${world.org}`, { headers: { cookie } })).text();
    expect(page).toContain('id="storage"');
    expect(page).toContain(`action="/admin/licenses/${world.org}/erase"`);
    expect(page).toContain('name="confirm"');

    const wrong = await postForm(`/admin/licenses/${world.org}/erase`, cookie, { _csrf: csrf, confirm: "someone-else" });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain("Nothing erased");
    expect((await postForm(`/admin/licenses/${world.org}/erase`, cookie, { _csrf: csrf })).status).toBe(400); // nothing typed
    expect((await postForm(`/admin/licenses/${world.org}/erase`, cookie, { confirm: world.org })).status).toBe(403); // no CSRF token
    expect((await world.license.installation()).installed).toBe(true);
    expect(world.bots.bots.size).toBe(1);

    const done = await postForm(`/admin/licenses/${world.org}/erase`, cookie, { _csrf: csrf, confirm: world.org });
    expect(done.status).toBe(200);
    const shown = (await done.text()).replaceAll("&quot;", '"');
    expect(shown).toContain('"bot": "deleted"');
    expect(shown).toContain('"tokens": "revoked"');
    expect(shown).toMatch(/"toErase": 1/);
    expect(world.bots.bots.size).toBe(0);
    expect((await world.license.installation()).installed).toBe(false);

    // The license page now shows the tombstone, and no Erase form; erasing again erases nothing.
    const after = await (await adminFetch(`/admin/licenses/${world.org}`, { headers: { cookie } })).text();
    expect(after).toContain("operator, bot deleted");
    expect(after).not.toContain(`action="/admin/licenses/${world.org}/erase"`);
    expect((await postForm(`/admin/licenses/${world.org}/erase`, cookie, { _csrf: csrf, confirm: world.org })).status).toBe(404);
  });

  it("the chat page's Erase form, confirmed by the chat's id, erases that chat only", async () => {
    const world = await botWorld("erase-chat-page");
    world.chats.open("K1");
    world.chats.open("K2");
    await say(world, "K1", message("K1-E1", CUSTOMER, "erase this one"));
    await say(world, "K2", message("K2-E1", CUSTOMER, "keep this one"));
    const { cookie, csrf } = await login();
    const page = await (await adminFetch(`/admin/licenses/${world.org}/chats/K1`, { headers: { cookie } })).text();
    expect(page).toContain(`action="/admin/licenses/${world.org}/chats/K1/erase"`);

    expect((await postForm(`/admin/licenses/${world.org}/chats/K1/erase`, cookie, { _csrf: csrf, confirm: world.org })).status).toBe(400);
    expect(await stored(chatStub(env, world.org, "K1"))).toContain("erase this one");

    const done = await postForm(`/admin/licenses/${world.org}/chats/K1/erase`, cookie, { _csrf: csrf, confirm: "K1" });
    expect(done.status).toBe(200);
    expect((await done.text()).replaceAll("&quot;", '"')).toContain('"deliveries": 1');
    expect(await stored(chatStub(env, world.org, "K1"))).toBe('{"rows":[],"keys":[]}');
    expect(await stored(chatStub(env, world.org, "K2"))).toContain("keep this one");
  });
});
