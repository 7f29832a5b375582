import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { app } from "../../src/app";
import { chatStub } from "../../src/chats/stub";
import type { IncomingDelivery } from "../../src/deliveries/types";
import { router } from "../../src/handlers";
import { licenseStub } from "../../src/licenses/stub";
import { chatIdOf, isChatScoped, parseAction } from "../../src/livechat/webhooks";
import { NOT_INSTALLED } from "../../src/framework";
import { IDENTITY_KEY_WINDOW_MS, REDELIVERY_WINDOW_MS, webhookRules } from "../../src/webhooks/admit";
import {
  type Body,
  expandedSample,
  placeholderSamples,
  rawSample,
  v35ChatTransferred,
  v35IncomingCustomer,
  webhookSampleNames,
  withLicenseId,
} from "../livechat/webhooks/samples";
import type { StoredDelivery } from "../../src/deliveries";
import {
  chatDeliveries,
  incomingEvent,
  install,
  licenseDeliveries,
  post,
  SECRET,
  settled,
  uniqueOrg,
} from "./helpers";

const offs: (() => void)[] = [];
afterEach(() => offs.splice(0).forEach((off) => off()));

/** A body with the test secret and organization. */
const authentic = (body: Body, org: string): Body => ({ ...body, secret_key: SECRET, organization_id: org });

/** POST a webhook; its answer is always `accepted` (stored): what it is, processing finds out after the 200. */
async function outcome(kind: "license" | "bot", body: unknown): Promise<string> {
  const res = await post(kind, body);
  expect(res.status).toBe(200);
  return ((await res.json()) as { outcome: string }).outcome;
}

/** The newest delivery of a chat's DO (or the license's), once processed. */
async function processed(org: string, chatId: string | undefined, count = 1): Promise<StoredDelivery> {
  const [stored] = await settled(() => (chatId ? chatDeliveries(org, chatId) : licenseDeliveries(org)), count);
  return stored;
}

/** Every row of the inbox tables of a DO, as JSON text. */
async function rawRows(stub: DurableObjectStub): Promise<string> {
  return runInDurableObject(stub, (_i, state) =>
    JSON.stringify(
      ["deliveries", "delivery_dedupe", "delivery_dead_letters"].map((t) => state.storage.sql.exec(`SELECT * FROM ${t}`).toArray()),
    ),
  );
}

describe("documented samples", () => {
  const names = webhookSampleNames();

  it("has the v3.6 samples to test", () => {
    expect(names.length).toBeGreaterThan(40);
  });

  it.each(names.filter((n) => n !== "webhook.v3.6.general_format"))("%s is accepted and stored in the right DO", async (name) => {
    const org = uniqueOrg("sample");
    const body = authentic(expandedSample(name), org);
    expect(await outcome("license", body)).toBe("accepted");

    const parsed = parseAction(body.action as string, body.payload);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const chatId = isChatScoped(parsed.action) ? chatIdOf(parsed.action, body.payload) : undefined;
    const stored = chatId ? await chatDeliveries(org, chatId) : await licenseDeliveries(org);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ action: parsed.action, organizationId: org, kind: "license", webhookId: "<webhook_id>" });
    if (chatId) expect(stored[0].chatId).toBe(chatId);
  });

  it.each(placeholderSamples)("%s as published (placeholders emptied) is answered 200 and recorded as unprocessable", async (name) => {
    const org = uniqueOrg("raw");
    const body = authentic(rawSample(name), org);
    expect(await outcome("license", body)).toBe("accepted");
    // Stored where a valid one would be: its chat's DO when the chat id is readable.
    const chatId = chatIdOf(body.action as string, body.payload);
    const stored = await processed(org, chatId);
    expect(stored.status).toBe("unprocessable");
    expect(stored.note).toBe("invalid_payload");
    expect(stored.lastError).toMatch(/^(chat|event|user)\.[a-z_.]+: /);
  });

  it("the general-format template (action <action>) is answered 200 and recorded as an unknown action", async () => {
    const org = uniqueOrg("general");
    expect(await outcome("license", authentic(rawSample("webhook.v3.6.general_format"), org))).toBe("accepted");
    const stored = await processed(org, undefined);
    expect(stored).toMatchObject({ status: "unprocessable", note: "unknown_action", lastError: "unknown action <action>" });
  });

  it("auto_access_added (the docs' spelling in every auto_accesses_updated sample) is stored as auto_accesses_updated", async () => {
    const org = uniqueOrg("alias");
    expect(await outcome("license", authentic(rawSample("webhook.v3.6.auto_accesses_updated.added"), org))).toBe("accepted");
    expect((await licenseDeliveries(org))[0].action).toBe("auto_accesses_updated");
  });
});

describe("v3.5-style bodies", () => {
  it("a numeric license_id envelope is accepted; the organization is the license id", async () => {
    const licenseId = 900_000_000 + Math.floor(Math.random() * 1_000_000);
    const body = { ...withLicenseId(expandedSample("webhook.v3.6.thread_tagged"), licenseId), secret_key: SECRET };
    expect(await outcome("license", body)).toBe("accepted");
    const [stored] = await chatDeliveries(String(licenseId), "PJ0MRSHTDG");
    expect(stored).toMatchObject({ organizationId: String(licenseId), licenseId, action: "thread_tagged" });
  });

  it("incoming_customer (v3.5 only) is accepted into the License DO", async () => {
    const org = uniqueOrg("v35");
    expect(await outcome("license", authentic(v35IncomingCustomer(), org))).toBe("accepted");
    expect((await licenseDeliveries(org))[0].action).toBe("incoming_customer");
  });

  it("chat_transferred with v3.5's queued_at_us is accepted", async () => {
    const org = uniqueOrg("v35");
    expect(await outcome("license", authentic(v35ChatTransferred(), org))).toBe("accepted");
  });
});

describe("authentic but unprocessable", () => {
  it("an unknown action is answered 200, recorded with the error, and no handler runs", async () => {
    const org = uniqueOrg("unknown");
    await install(org);
    const body = authentic({ ...rawSample("webhook.v3.6.thread_tagged"), action: "thread_exploded" }, org);
    expect(await outcome("license", body)).toBe("accepted");
    const stored = await processed(org, undefined);
    expect(stored).toMatchObject({ action: "thread_exploded", status: "unprocessable", note: "unknown_action" });
    expect(stored.lastError).toBe("unknown action thread_exploded");
    expect(await licenseStub(env, org).inboxSummary()).toEqual({ pending: 0, deadLetters: 0 });
  });

  it("a payload failing its schema is answered 200 and recorded with a value-free validation error", async () => {
    const org = uniqueOrg("invalid");
    const body = authentic(rawSample("webhook.v3.6.thread_tagged"), org);
    (body.payload as Record<string, unknown>).chat_id = 12345;
    (body.payload as Record<string, unknown>).tag = "t".repeat(10_000);
    expect(await outcome("license", body)).toBe("accepted");
    const stored = await processed(org, undefined);
    expect(stored.status).toBe("unprocessable");
    expect(stored.note).toBe("invalid_payload");
    expect(stored.lastError).toContain("chat_id");
    expect(stored.lastError).not.toContain("12345");
    expect(stored.lastError!.length).toBeLessThan(400);
  });

  it("a chat-scoped webhook whose payload fails its schema is recorded in its chat's DO and journalled with its chat", async () => {
    // So that an operator's rerun (after a schema fix) runs it in the chat's order, with the chat's state.
    const org = uniqueOrg("invalid-chat");
    const body = incomingEvent(org, "PJBADEVT01", "EVBAD1");
    ((body.payload as { event: Record<string, unknown> }).event).text = 5;
    expect(await outcome("license", body)).toBe("accepted");
    const stored = await processed(org, "PJBADEVT01");
    expect(stored).toMatchObject({ status: "unprocessable", note: "invalid_payload", chatId: "PJBADEVT01" });
    expect(await licenseDeliveries(org)).toEqual([]);
    await vi.waitFor(async () =>
      expect(await licenseStub(env, org).journalEntry(stored.id)).toMatchObject({ chatId: "PJBADEVT01", outcome: "unprocessable" }),
    );
  });
});

describe("dedupe windows", () => {
  it("content-hash keys recognise redeliveries for LiveChat's retry span, identity keys for 24 h", async () => {
    // A repeated change (tag, untag, tag again) repeats its key: a window longer than the retries dropped the repeat.
    const org = uniqueOrg("ttl");
    const windows: Record<string, number> = {};
    for (const name of ["webhook.v3.6.thread_tagged", "webhook.v3.6.routing_status_set", "webhook.v3.6.incoming_event", "webhook.v3.6.incoming_chat"]) {
      const delivery: IncomingDelivery = webhookRules.describe("license", authentic(expandedSample(name), org) as never, 0);
      windows[delivery.action] = (await webhookRules.dedupe(delivery)).windowMs;
    }
    expect(windows).toEqual({
      thread_tagged: REDELIVERY_WINDOW_MS,
      routing_status_set: REDELIVERY_WINDOW_MS,
      incoming_event: IDENTITY_KEY_WINDOW_MS,
      incoming_chat: IDENTITY_KEY_WINDOW_MS,
    });
    expect(REDELIVERY_WINDOW_MS).toBe(2 * 60_000);
  });
});

describe("state-like changes repeated within minutes (not redeliveries)", () => {
  it("routing_status_set accepting → not accepting → accepting runs all three", async () => {
    // A status report is never a duplicate (src/livechat/webhooks/dedupe.ts): the License DO confirms it with LiveChat.
    const org = uniqueOrg("flap");
    await install(org);
    const seen: string[] = [];
    offs.push(router.on("routing_status_set", (p, ctx) => void (ctx.organizationId === org && seen.push(p.status))));
    const status = (value: string) =>
      authentic({ ...rawSample("webhook.v3.6.routing_status_set"), payload: { agent_id: "agent1@example.com", status: value } }, org);
    for (const value of ["accepting chats", "not accepting chats", "accepting chats"]) {
      expect(await outcome("license", status(value))).toBe("accepted");
    }
    const stored = await settled(() => licenseDeliveries(org), 3);
    expect(seen).toEqual(["accepting_chats", "not_accepting_chats", "accepting_chats"]);
    expect(stored.map((d) => d.status)).toEqual(["processed", "processed", "processed"]);
  });

  it("thread_tagged → thread_untagged → thread_tagged of one tag runs all three; a redelivery of the last does not", async () => {
    const org = uniqueOrg("retag");
    await install(org);
    const seen: string[] = [];
    offs.push(router.on(["thread_tagged", "thread_untagged"], (p, ctx) => void (ctx.organizationId === org && seen.push(`${ctx.action}:${p.tag}`))));
    const tag = (action: string) => authentic({ ...rawSample("webhook.v3.6.thread_untagged"), action }, org);
    for (const action of ["thread_tagged", "thread_untagged", "thread_tagged", "thread_tagged"]) {
      expect(await outcome("license", tag(action))).toBe("accepted");
    }
    const stored = await settled(() => chatDeliveries(org, "PJ0MRSHTDG"), 4);
    expect(seen).toEqual(["thread_tagged:bug_report", "thread_untagged:bug_report", "thread_tagged:bug_report"]);
    expect(stored.map((d) => d.status)).toEqual(["duplicate", "processed", "processed", "processed"]);
  });
});

describe("configuration changes switched back within minutes (not redeliveries)", () => {
  const cases: [string, Body["payload"][]][] = [
    ["agent_suspended/agent_unsuspended", [{ id: "smith@example.com" }]],
    ["tag_updated", [{ name: "docs_feedback", group_ids: [0, 42] }, { name: "docs_feedback", group_ids: [1] }]],
    ["group_updated", [{ id: 1, agent_priorities: { "agent@example.com": "normal" } }, { id: 1, agent_priorities: { "agent@example.com": "first" } }]],
  ];
  it.each(cases)("%s: a change, another, the first again all run; a redelivery of the last does not", async (label, payloads) => {
    const org = uniqueOrg("config-flip");
    await install(org);
    const [first, second] = label.split("/");
    // One subject, three states: A, B, A again (for the agent: suspended, unsuspended, suspended).
    const steps = second ? [[first, payloads[0]], [second, payloads[0]], [first, payloads[0]], [first, payloads[0]]] : [[first, payloads[0]], [first, payloads[1]], [first, payloads[0]], [first, payloads[0]]];
    const seen: string[] = [];
    offs.push(router.on(["agent_suspended", "agent_unsuspended", "tag_updated", "group_updated"], (_p, ctx) => void (ctx.organizationId === org && seen.push(ctx.action))));
    for (const [action, payload] of steps) {
      expect(await outcome("license", authentic({ ...rawSample(`webhook.v3.6.${action}`), action, payload }, org))).toBe("accepted");
    }
    const stored = await settled(() => licenseDeliveries(org), 4);
    expect(seen).toEqual(steps.slice(0, 3).map(([action]) => action));
    expect(stored.map((d) => d.status)).toEqual(["duplicate", "processed", "processed", "processed"]);
  });
});

describe("a configuration problem other than the webhook secrets", () => {
  it("does not make webhooks answer 500: they are stored, and /healthz names the problem", async () => {
    // REPLY_TIMEOUT_SECONDS=2 is out of range: every webhook answered 500 before, and LiveChat gave up on them.
    const broken = { ...env, REPLY_TIMEOUT_SECONDS: "2" } as Env;
    const org = uniqueOrg("misconfigured");
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("https://edge.example.test/webhooks/license", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(incomingEvent(org, "CFG", "E1")),
      }),
      broken,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, outcome: "accepted" });
    expect((await chatDeliveries(org, "CFG")).map((d) => d.action)).toEqual(["incoming_event"]);

    const health = await app.fetch(new Request("https://edge.example.test/healthz"), broken, createExecutionContext());
    expect(health.status).toBe(503);
    expect(((await health.json()) as { problems: { name: string }[] }).problems.map((p) => p.name)).toEqual(["REPLY_TIMEOUT_SECONDS"]);
  });
});

describe("nesting", () => {
  it("a deep but bounded unknown field is accepted and stored; an absurdly deep one is a 400 naming the problem", async () => {
    const org = uniqueOrg("deep");
    const body = authentic(rawSample("webhook.v3.6.thread_tagged"), org);
    let deep: unknown = "leaf";
    for (let i = 0; i < 100; i++) deep = { d: deep };
    body.payload.extra = deep;
    expect(await outcome("license", body)).toBe("accepted");
    const [stored] = await chatDeliveries(org, body.payload.chat_id);
    expect(JSON.stringify(stored.payload)).toContain('"leaf"');

    const text = JSON.stringify({ ...body, payload: { ...body.payload, extra: "@" } }).replace('"@"', `${"[".repeat(10_000)}${"]".repeat(10_000)}`);
    const res = await post("license", text);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/nested deeper than/);
  });
});

describe("installation", () => {
  it("a webhook for an organization without the app is recorded, acknowledged, and processed as not_installed", async () => {
    const org = uniqueOrg("stranger");
    let called = 0;
    offs.push(router.on("incoming_event", (_p, ctx) => void (ctx.organizationId === org && called++)));
    expect(await outcome("license", incomingEvent(org, "C1", "E1"))).toBe("accepted");
    const [stored] = await settled(() => chatDeliveries(org, "C1"), 1);
    expect(stored).toMatchObject({ status: "not_installed", note: NOT_INSTALLED });
    expect(called).toBe(0);
  });
});

describe("idempotency", () => {
  it("a redelivered webhook is stored every time and processed once; the others are recorded as its duplicates", async () => {
    const org = uniqueOrg("dup");
    await install(org);
    const seen: string[] = [];
    offs.push(router.on("incoming_event", (p, ctx) => void (ctx.organizationId === org && seen.push(p.event.id))));
    const body = incomingEvent(org, "C1", "E1");
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => outcome("license", body)));
    expect(outcomes).toEqual(["accepted", "accepted", "accepted", "accepted", "accepted"]);
    // A retry from another registration of the same webhook (other webhook_id) is the same event.
    expect(await outcome("license", { ...body, webhook_id: "another-registration" })).toBe("accepted");
    const first = await settled(() => chatDeliveries(org, "C1"), 6);
    expect(await outcome("license", body)).toBe("accepted"); // also after processing
    const all = await settled(() => chatDeliveries(org, "C1"), 7);
    expect(seen).toEqual(["E1"]);
    const original = all.find((d) => d.status === "processed")!;
    expect(all.filter((d) => d.status === "processed")).toHaveLength(1);
    expect(all.filter((d) => d.status === "duplicate").map((d) => d.note)).toEqual(Array(6).fill(`duplicate of ${original.id}`));
    expect(first.length).toBe(6);
  });

  it("the same event on the license and the bot endpoint are two deliveries", async () => {
    const org = uniqueOrg("kinds");
    const body = incomingEvent(org, "C1", "E1");
    expect(await outcome("license", body)).toBe("accepted");
    expect(await outcome("bot", body)).toBe("accepted");
    expect((await chatDeliveries(org, "C1")).map((d) => d.kind).sort()).toEqual(["bot", "license"]);
  });
});

describe("secrets at rest", () => {
  it("stored deliveries never contain secret_key, wherever it appears in the body", async () => {
    const org = uniqueOrg("secret");
    const chatBody = incomingEvent(org, "SC", "E1");
    (chatBody.payload as Record<string, any>).event.secret_key = SECRET;
    chatBody.additional_data = { chat_properties: { secret_key: SECRET }, chat_presence_user_ids: [] };
    expect(await outcome("license", chatBody)).toBe("accepted");
    const unknown = authentic({ ...rawSample("webhook.v3.6.tag_created"), action: "mystery" }, org);
    (unknown.payload as Record<string, unknown>).nested = { deeper: { Secret_Key: SECRET } };
    expect(await outcome("license", unknown)).toBe("accepted");
    expect(await outcome("license", authentic(rawSample("webhook.v3.6.agent_deleted"), org))).toBe("accepted");
    await settled(() => licenseDeliveries(org), 2);
    await settled(() => chatDeliveries(org, "SC"), 1);

    const chatRows = await rawRows(chatStub(env, org, "SC"));
    const licenseRows = await rawRows(licenseStub(env, org));
    expect(chatRows).toContain("E1");
    expect(licenseRows).toContain("mystery");
    for (const rows of [chatRows, licenseRows]) {
      expect(rows).not.toContain(SECRET);
      expect(rows.toLowerCase()).not.toContain("secret_key");
    }
  });
});
