import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { lazySchema } from "../../src/durable/lazy-schema";
import { chatDeliveries, incomingEvent, post, settled, uniqueOrg } from "../webhooks/helpers";

const tables = (storage: DurableObjectStorage) =>
  storage.sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .toArray()
    .map((r) => r.name);

describe("lazySchema", () => {
  it("runs the DDL before the first statement, and only once", async () => {
    const stub = chatStub(env, uniqueOrg("lazy"), "LAZY");
    await runInDurableObject(stub, async (_instance, state) => {
      // Without IF NOT EXISTS: a second run of the DDL would throw "table already exists".
      const sql = lazySchema(state.storage, "CREATE TABLE lazy_probe (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
      expect(tables(state.storage)).not.toContain("lazy_probe");
      sql().exec("INSERT INTO lazy_probe (k, v) VALUES ('a', 1)");
      sql().exec("INSERT INTO lazy_probe (k, v) VALUES ('b', 2)");
      expect(sql().exec<{ n: number }>("SELECT COUNT(*) AS n FROM lazy_probe").one().n).toBe(2);
    });
  });

  it("a Chat DO that accepted and processed a delivery no handler acted on has no chat store or timer tables", async () => {
    // Not installed: the delivery is stored and processed (outcome not_installed), no handler runs.
    const org = uniqueOrg("lazy-chat");
    const res = await post("license", incomingEvent(org, "LAZYCHAT", "E1"));
    expect(res.status).toBe(200);
    await settled(() => chatDeliveries(org, "LAZYCHAT"), 1);
    const names = await runInDurableObject(chatStub(env, org, "LAZYCHAT"), async (_instance, state) => tables(state.storage));
    expect(names).toEqual(expect.arrayContaining(["deliveries", "delivery_dedupe", "alarm_deadlines"]));
    expect(names).not.toContain("chat_kv");
    expect(names).not.toContain("chat_timers");
  });
});
