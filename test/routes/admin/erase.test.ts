import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../../src/chats/stub";
import { licenseStub } from "../../../src/licenses/stub";
import { botWorld, CUSTOMER, message, say } from "../../bot/helpers";
import { install, uniqueOrg } from "../../webhooks/helpers";
import { api } from "./helpers";

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
    await vi.waitUntil(async () => (await world.license.storageReport()).chatsIndexed === 1, { timeout: 10_000, interval: 20 });

    const detail = await api(`/licenses/${world.org}`);
    // No license-scoped delivery: no inbox prune is due (nextPruneAt absent).
    expect(detail.body.storage).toMatchObject({ chatsIndexed: 1, totalRows: expect.any(Number), bytes: expect.any(Number) });
    expect(detail.body.storage.oldestItemAt).toBeLessThanOrEqual(Date.now());
    const list = await api(`/licenses?limit=100`);
    expect(list.body.licenses.find((l: { organizationId: string }) => l.organizationId === world.org).storage).toMatchObject({ chats: 1 });

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
