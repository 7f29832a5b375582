import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { mockLiveChat } from "../helpers/livechat-mock";
import { DAY_MS, DEAD_LETTER_TTL_MS, DELIVERY_RETENTION_MS } from "../../src/deliveries";
import { licenseStub } from "../../src/licenses/stub";
import { incomingEvent, install, post, sample, uniqueOrg } from "../webhooks/helpers";

// A fake clock far ahead of the real one: the DOs' storage alarms never fire by themselves, the
// tests run them (runDurableObjectAlarm) once the clock reached them.
const T0 = Date.parse("2031-01-05T09:00:00Z");
const HOUR = 3_600_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

type Stub = ReturnType<typeof chatStub>;

/** Run the DO's alarm each time the clock reaches it, up to `until`; the clock ends at `until`. Whether an alarm is left. */
async function liveUntil(stub: Stub, until: number): Promise<boolean> {
  let at: number | null = null;
  for (let i = 0; i < 1_000; i++) {
    at = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    if (at === null || at > until) break;
    vi.setSystemTime(Math.max(at, Date.now()));
    await runDurableObjectAlarm(stub);
  }
  vi.setSystemTime(until);
  return at !== null;
}

/** Every table of the DO's SQLite database with its row count, and its alarm: the storage as it is. */
async function storageOf(stub: Stub): Promise<{ tables: Record<string, number>; alarm: number | null }> {
  return runInDurableObject(stub, async (_i, state) => {
    const names = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
      .toArray()
      .map((r) => r.name);
    const tables: Record<string, number> = {};
    for (const name of names) tables[name] = state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`).one().n;
    const kv = [...(await state.storage.list()).keys()];
    if (kv.length > 0) tables["(kv)"] = kv.length;
    return { tables, alarm: await state.storage.getAlarm() };
  });
}

const rows = (s: { tables: Record<string, number> }) => Object.values(s.tables).reduce((a, b) => a + b, 0);

/** Post a chat's webhooks and process them: a new chat, a customer's message, and (optionally) its end. */
async function chatHappens(org: string, chat: string, options: { deactivate?: boolean; text?: string } = {}): Promise<Stub> {
  const stub = chatStub(env, org, chat);
  const bodies = [
    sample("webhook.v3.6.incoming_chat", org, { payload: { chat: { id: chat, thread: { id: "THREAD1", events: [] }, users: [] } } }),
    incomingEvent(org, chat, `E-${chat}`, options.text ?? "my card number is 4111"),
    ...(options.deactivate ? [sample("webhook.v3.6.chat_deactivated", org, { payload: { chat_id: chat, thread_id: "THREAD1" } })] : []),
  ];
  for (const body of bodies) expect((await post("license", body)).status).toBe(200);
  await liveUntil(stub, Date.now()); // the processing pass, due now
  return stub;
}

describe("Chat DO retention", () => {
  it("a deactivated chat quiet past DELIVERY_RETENTION_DAYS erases itself: no table, no row, no alarm", async () => {
    const org = uniqueOrg("ended");
    await install(org);
    const stub = await chatHappens(org, "ENDED", { deactivate: true, text: "secret text of a customer" });
    const before = await storageOf(stub);
    expect(before.tables.deliveries).toBe(3);
    expect(before.alarm).not.toBeNull();

    await liveUntil(stub, T0 + DELIVERY_RETENTION_MS - HOUR);
    expect((await storageOf(stub)).tables.deliveries).toBe(3);

    await liveUntil(stub, T0 + DELIVERY_RETENTION_MS + 2 * HOUR);
    expect(await storageOf(stub)).toEqual({ tables: {}, alarm: null });
  });

  it("a chat never seen deactivated goes after DEAD_LETTER_RETENTION_DAYS of quiet", async () => {
    const org = uniqueOrg("idle");
    await install(org);
    const stub = await chatHappens(org, "IDLE");
    await liveUntil(stub, T0 + DELIVERY_RETENTION_MS + 2 * HOUR);
    const between = await storageOf(stub);
    expect(between.tables.deliveries).toBe(0);
    expect(between.alarm).not.toBeNull(); // armed for the end of the quiet period
    await liveUntil(stub, T0 + DEAD_LETTER_TTL_MS + 2 * HOUR);
    expect(await storageOf(stub)).toEqual({ tables: {}, alarm: null });
  });

  it("a chat of a license that is not installed erases itself when its alarm wakes it", async () => {
    const lc = mockLiveChat();
    lc.on("POST", "/v2/token/revoke", new Response(null, { status: 200 }));
    const org = uniqueOrg("gone");
    await install(org);
    const stub = await chatHappens(org, "GONE");
    await licenseStub(env, org).uninstall();
    await liveUntil(stub, T0 + DAY_MS + HOUR); // the first prune: dedupe claims expire
    expect(await storageOf(stub)).toEqual({ tables: {}, alarm: null });
  });

  it("a webhook after the erase starts a fresh chat that works", async () => {
    const org = uniqueOrg("again");
    await install(org);
    const stub = await chatHappens(org, "AGAIN", { deactivate: true });
    await liveUntil(stub, T0 + DELIVERY_RETENTION_MS + 2 * HOUR);
    expect(rows(await storageOf(stub))).toBe(0);
    await chatHappens(org, "AGAIN", { text: "back again" });
    const list = await stub.recentDeliveries();
    expect(list.map((d) => d.status)).toEqual(["processed", "processed"]);
    expect(list.map((d) => d.action)).toEqual(["incoming_event", "incoming_chat"]);
  });

  it("months of chats leave storage only in the chats of the last days", async () => {
    const org = uniqueOrg("months");
    await install(org);
    const stubs: Stub[] = [];
    // A DO with no alarm left is not woken by anything in this test: it need not be visited again.
    let armed: Stub[] = [];
    // One chat a day for 60 days, each ended the day it started.
    for (let day = 0; day < 60; day++) {
      const now = T0 + day * DAY_MS;
      const next: Stub[] = [];
      for (const stub of armed) if (await liveUntil(stub, now)) next.push(stub);
      vi.setSystemTime(now);
      const stub = await chatHappens(org, `M${day}`, { deactivate: true });
      stubs.push(stub);
      armed = [...next, stub];
    }
    const holding: number[] = [];
    for (const [day, stub] of stubs.entries()) if (rows(await storageOf(stub)) > 0) holding.push(day);
    // The chats of about the last week hold data; every older one is gone.
    expect(holding.length).toBeLessThanOrEqual(8);
    expect(holding.every((day) => day >= 59 - 8)).toBe(true);
  }, 120_000);
});
