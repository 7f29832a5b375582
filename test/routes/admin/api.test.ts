import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../../src/chats/stub";
import { router } from "../../../src/handlers";
import { DeliveryJournal, type JournalEntry } from "../../../src/licenses/journal";
import { licenseStub } from "../../../src/licenses/stub";
import { fastRetries, incomingEvent, install, post, sample, uniqueOrg } from "../../webhooks/helpers";
import { api } from "./helpers";

const offs: (() => void)[] = [];
afterEach(() => {
  offs.splice(0).forEach((off) => off());
  vi.restoreAllMocks();
});


/** The license's journal entries once `ready` holds for them. */
async function journal(org: string, ready: (entries: JournalEntry[]) => boolean, query = ""): Promise<JournalEntry[]> {
  let entries: JournalEntry[] = [];
  await vi.waitUntil(
    async () => {
      entries = (await api<{ deliveries: JournalEntry[] }>(`/licenses/${org}/deliveries${query}`)).body.deliveries;
      return ready(entries);
    },
    { timeout: 10_000, interval: 25 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}: journal was ${JSON.stringify(entries)}`);
  });
  return entries;
}

describe("admin API: licenses and settings", () => {
  it("lists installed licenses with token expiry, reinstall flag, bot and 24 h counts", async () => {
    const org = uniqueOrg("list");
    await install(org);
    const { status, body } = await api<{ licenses: any[] }>("/licenses?limit=100");
    expect(status).toBe(200);
    const row = body.licenses.find((l) => l.organizationId === org);
    expect(row).toMatchObject({ organizationId: org, needsReinstall: false, bot: null, lastReconcile: null, last24h: {} });
    expect(row.expiresAt).toBeGreaterThan(Date.now());
    expect(row.installedAt).toBeLessThanOrEqual(Date.now());
    expect((await api("/licenses?limit=abc")).status).toBe(400);
  });

  it("shows one license (installation without tokens, settings, inbox, hourly chart data); 404 unknown, 400 malformed", async () => {
    const org = uniqueOrg("one");
    await install(org);
    const { status, body } = await api(`/licenses/${org}`);
    expect(status).toBe(200);
    expect(body.installation).toMatchObject({ installed: true, needsReinstall: false, organizationId: org });
    expect(JSON.stringify(body)).not.toMatch(/access-|refresh-/);
    expect(body.settings.replyTimeoutSeconds).toBe(120);
    expect(body.inbox).toEqual({ pending: 0, deadLetters: 0 });
    expect(body.hourly).toHaveLength(24);
    expect(body).toHaveProperty("lastReconcile", null);
    expect((await api(`/licenses/${uniqueOrg("ghost")}`)).status).toBe(404);
    expect((await api(`/licenses/${encodeURIComponent("bad org!")}`)).status).toBe(400);
    expect((await api(`/licenses/${encodeURIComponent("bad org!")}/deliveries`)).status).toBe(400);
  });

  it("reads and updates settings; invalid patches are 400 with the zod problems and change nothing", async () => {
    const org = uniqueOrg("settings");
    await install(org);
    const before = (await api(`/licenses/${org}/settings`)).body;
    expect(before.replyTimeoutSeconds).toBe(120);

    const put = await api(`/licenses/${org}/settings`, {
      method: "PUT",
      body: JSON.stringify({ replyTimeoutSeconds: 300, tagSuggestions: { refund: ["Refunds take 5 days."] }, rating: { reviewUrl: "https://example.com/r" } }),
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ replyTimeoutSeconds: 300, tagSuggestions: { refund: ["Refunds take 5 days."] }, rating: { reviewUrl: "https://example.com/r" } });
    expect(put.body.rating.goodMessage).toBe(before.rating.goodMessage);

    const bad = await api(`/licenses/${org}/settings`, {
      method: "PUT",
      body: JSON.stringify({ replyTimeoutSeconds: 1, workingHours: { timezone: "Mars/Olympus", days: {} } }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.type).toBe("invalid_settings");
    expect(bad.body.error.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^replyTimeoutSeconds: /), expect.stringMatching(/^workingHours\.timezone: unknown IANA time zone/)]),
    );
    expect((await api(`/licenses/${org}/settings`)).body.replyTimeoutSeconds).toBe(300);
    expect((await api(`/licenses/${org}/settings`, { method: "PUT", body: "{", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect((await api(`/licenses/${org}/settings`, { method: "PUT", body: "{}", headers: { "content-type": "text/plain" } })).status).toBe(415);
  });
});

describe("admin API: deliveries, dead letters, replay", () => {
  it("journals chat deliveries in the License DO (action, chat, outcome, attempts, duration); filters by status and chat", async () => {
    const org = uniqueOrg("journal");
    await install(org);
    await post("license", incomingEvent(org, "CH1", "E1"));
    await post("license", incomingEvent(org, "CH2", "E2"));
    const entries = await journal(org, (e) => e.length === 2 && e.every((d) => d.outcome === "processed"));
    expect(entries.map((e) => e.chatId).sort()).toEqual(["CH1", "CH2"]);
    expect(entries[0]).toMatchObject({ action: "incoming_event", kind: "license", outcome: "processed", attempts: 1 });
    expect(entries[0].durationMs).toBeGreaterThanOrEqual(0);
    expect((await api(`/licenses/${org}/deliveries?chat=CH1`)).body.deliveries).toHaveLength(1);
    expect((await api(`/licenses/${org}/deliveries?status=dead`)).body.deliveries).toEqual([]);
    expect((await api(`/licenses/${org}/deliveries?status=weird`)).status).toBe(400);

    const detail = await api(`/licenses/${org}/deliveries/${entries[0].deliveryId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.entry.deliveryId).toBe(entries[0].deliveryId);
    expect(detail.body.delivery).toMatchObject({ id: entries[0].deliveryId, action: "incoming_event", status: "processed" });
    expect((await api(`/licenses/${org}/deliveries/nope`)).status).toBe(404);

    const hourly = (await api(`/licenses/${org}`)).body.hourly;
    expect(hourly.at(-1).counts).toEqual({ processed: 2 });
  });

  it("delivery bodies are shown redacted (token-like strings and secret keys masked)", async () => {
    const org = uniqueOrg("redact");
    await install(org);
    await post("license", incomingEvent(org, "RD", "E1", "my token is dal:abcdefghijklmnopqrstuvwxyz"));
    const [entry] = await journal(org, (e) => e.length === 1 && e[0].outcome === "processed");
    const { body } = await api(`/licenses/${org}/deliveries/${entry.deliveryId}`);
    const text = JSON.stringify(body);
    expect(text).toContain("[redacted]");
    expect(text).not.toContain("abcdefghijklmnopqrstuvwxyz");
    expect(text).not.toContain("test-webhook-secret");
  });

  it("a failing chat delivery becomes a dead letter with its error; replay runs it through the handlers once more", async () => {
    const org = uniqueOrg("dead");
    await install(org);
    await fastRetries(chatStub(env, org, "DL"), 2);
    let healthy = false;
    const runs: string[] = [];
    offs.push(
      router.on(
        "incoming_event",
        (p, ctx) => {
          if (ctx.organizationId !== org) return;
          runs.push(`${p.event.id}#${ctx.delivery.attempt}`);
          if (!healthy) throw new Error("LiveChat said no");
        },
        { name: "test:admin-flaky" },
      ),
    );
    await post("license", incomingEvent(org, "DL", "BAD"));
    const [dead] = await journal(org, (e) => e.length === 1 && e[0].outcome === "dead");
    expect(dead).toMatchObject({ chatId: "DL", attempts: 2, error: "HandlerError: handler test:admin-flaky failed: Error: LiveChat said no" });

    const letters = (await api(`/licenses/${org}/dead-letters`)).body.deadLetters;
    expect(letters).toEqual([
      { deliveryId: dead.deliveryId, action: "incoming_event", chatId: "DL", attempts: 2, error: dead.error, deadAt: dead.updatedAt },
    ]);
    expect((await api(`/licenses/${org}`)).body.hourly.at(-1).counts).toEqual({ retry: 1, dead: 1 });

    healthy = true;
    const replay = await api(`/licenses/${org}/deliveries/${dead.deliveryId}/replay`, { method: "POST" });
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ ok: true, deliveryId: dead.deliveryId, from: "dead" });
    const [done] = await journal(org, (e) => e[0]?.outcome === "processed");
    expect(done).toMatchObject({ deliveryId: dead.deliveryId, attempts: 1 });
    expect(runs).toEqual(["BAD#1", "BAD#2", "BAD#1"]);
    expect((await api(`/licenses/${org}/dead-letters`)).body.deadLetters).toEqual([]);

    // Replaying the now processed delivery respects idempotency: its completed handler does not run again.
    const again = await api(`/licenses/${org}/deliveries/${dead.deliveryId}/replay`, { method: "POST" });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ ok: true, deliveryId: dead.deliveryId, from: "processed" });
    expect(again.body.skipHandlers).toContain("test:admin-flaky");
    await vi.waitUntil(async () => (await chatStub(env, org, "DL").delivery(dead.deliveryId))?.status === "processed", { timeout: 5_000 });
    expect(runs).toEqual(["BAD#1", "BAD#2", "BAD#1"]);
    // And LiveChat's redelivery of the same webhook is still a duplicate: stored, never run.
    expect(await (await post("license", incomingEvent(org, "DL", "BAD"))).json()).toEqual({ ok: true, outcome: "accepted" });
    await vi.waitUntil(async () => (await chatStub(env, org, "DL").recentDeliveries({ limit: 1 }))[0]?.status === "duplicate", { timeout: 5_000 });
    expect(runs).toEqual(["BAD#1", "BAD#2", "BAD#1"]);
    expect((await api(`/licenses/${org}/deliveries/unknown-id/replay`, { method: "POST" })).status).toBe(404);
  });

  it("replays a license-scoped dead letter in the License DO", async () => {
    const org = uniqueOrg("lic-dead");
    await install(org);
    const stub = licenseStub(env, org);
    await fastRetries(stub, 1);
    let healthy = false;
    let runs = 0;
    offs.push(
      router.on("tag_created", (_p, ctx) => {
        if (ctx.organizationId !== org) return;
        runs++;
        if (!healthy) throw new Error("boom");
      }),
    );
    await post("license", sample("webhook.v3.6.tag_created", org));
    const [dead] = await journal(org, (e) => e.length === 1 && e[0].outcome === "dead");
    expect(dead.chatId).toBeUndefined();
    const letters = (await api(`/licenses/${org}/dead-letters`)).body.deadLetters;
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ deliveryId: dead.deliveryId, action: "tag_created", attempts: 1 });
    expect(letters[0].error).toContain("boom");
    healthy = true;
    expect((await api(`/licenses/${org}/deliveries/${dead.deliveryId}/replay`, { method: "POST" })).status).toBe(202);
    await journal(org, (e) => e[0]?.outcome === "processed");
    expect(runs).toBe(2);
    expect((await api(`/licenses/${org}/dead-letters`)).body.deadLetters).toEqual([]);
  });

  it("a journal failure never fails a chat delivery", async () => {
    const org = uniqueOrg("journal-down");
    await install(org);
    await runInDurableObject(licenseStub(env, org), (instance) => {
      (instance as unknown as { journal: DeliveryJournal }).journal.record = () => {
        throw new Error("journal disk full");
      };
    });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await post("license", incomingEvent(org, "JD", "E1"));
    await vi.waitUntil(async () => (await chatStub(env, org, "JD").recentDeliveries())[0]?.status === "processed", { timeout: 5_000 });
    await vi.waitUntil(() => warn.mock.calls.some((c) => String(c[0]).includes("delivery journal report failed")), { timeout: 5_000 });
  });

  it("lists a chat's pending timers", async () => {
    const org = uniqueOrg("timers");
    const { status, body } = await api(`/licenses/${org}/chats/NO-TIMERS/timers`);
    expect(status).toBe(200);
    expect(body).toEqual({ timers: [] });
    expect((await api(`/licenses/${org}/chats/${encodeURIComponent("a b")}/timers`)).status).toBe(400);
  });
});

describe("delivery journal: ordering and retention", () => {
  it("keeps the latest report per delivery even when reports arrive out of order", async () => {
    const stub = licenseStub(env, uniqueOrg("order"));
    await runInDurableObject(stub, (_i, state) => {
      const j = new DeliveryJournal(state.storage);
      const base = { deliveryId: "d1", chatId: "C", action: "incoming_event", kind: "license", receivedAt: 1 };
      j.record({ ...base, outcome: "dead", attempt: 3, at: 1000 });
      j.record({ ...base, outcome: "retry", attempt: 2, at: 1000 });
      j.record({ ...base, outcome: "retry", attempt: 1, at: 900 });
      expect(j.get("d1")).toMatchObject({ outcome: "dead", attempts: 3 });
      j.markReplayed("d1", 999); // a report arrived since the operator read the entry: no change
      expect(j.get("d1")?.outcome).toBe("dead");
      j.markReplayed("d1", 1000);
      expect(j.get("d1")).toMatchObject({ outcome: "pending", attempts: 0, note: "replayed" });
      j.record({ ...base, outcome: "processed", attempt: 1, at: 2000 });
      expect(j.get("d1")).toMatchObject({ outcome: "processed", attempts: 1 });
    });
  });

  it("keeps N deliveries however often each was reported (retries update, they do not use up the bound)", async () => {
    const stub = licenseStub(env, uniqueOrg("retention-retries"));
    await runInDurableObject(stub, (_i, state) => {
      let at = Date.now();
      const j = new DeliveryJournal(state.storage, { keep: 5 });
      for (const id of ["d0", "d1", "d2"]) {
        for (let attempt = 1; attempt <= 5; attempt++) {
          j.record({ deliveryId: id, chatId: "C", action: "a", kind: "license", outcome: attempt < 5 ? "retry" : "dead", attempt, receivedAt: at, at: at++ });
        }
      }
      expect(j.size()).toBe(3);
      expect(j.list({ limit: 100 }).map((e) => [e.deliveryId, e.outcome])).toEqual([["d2", "dead"], ["d1", "dead"], ["d0", "dead"]]);
      for (let i = 3; i < 9; i++) j.record({ deliveryId: `d${i}`, action: "a", kind: "license", outcome: "processed", attempt: 1, receivedAt: at, at: at++ });
      expect(j.list({ limit: 100 }).map((e) => e.deliveryId)).toEqual(["d8", "d7", "d6", "d5", "d4"]);
    });
  });

  it("is bounded: the newest N entries per license and 48 hours of hourly counters", async () => {
    const stub = licenseStub(env, uniqueOrg("retention"));
    await runInDurableObject(stub, (_i, state) => {
      let now = Date.now();
      const j = new DeliveryJournal(state.storage, { keep: 5, now: () => now });
      const old = now - 50 * 3600_000;
      j.record({ deliveryId: "old", action: "a", kind: "license", outcome: "processed", attempt: 1, receivedAt: old, at: old });
      for (let i = 0; i < 12; i++) {
        j.record({ deliveryId: `d${i}`, action: "a", kind: "license", outcome: i % 2 ? "processed" : "dead", attempt: 1, receivedAt: now, at: now });
      }
      expect(j.size()).toBe(5);
      expect(j.list({ limit: 100 }).map((e) => e.deliveryId)).toEqual(["d11", "d10", "d9", "d8", "d7"]);
      const hours = state.storage.sql.exec<{ hour: number }>("SELECT hour FROM delivery_journal_hourly").toArray();
      expect(hours.every((h) => h.hour >= now - 48 * 3600_000)).toBe(true);
      expect(j.hourly(24).at(-1)?.counts).toEqual({ processed: 6, dead: 6 });
      now += 30 * 3600_000;
      expect(j.hourly(24).every((h) => Object.keys(h.counts).length === 0)).toBe(true);
    });
  });
});
