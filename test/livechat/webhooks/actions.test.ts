import { describe, expect, expectTypeOf, it } from "vitest";
import {
  canonicalAction,
  isAgentUser,
  isCustomerUser,
  isDeletedEvent,
  isEventType,
  parseAction,
  parseEnvelope,
  webhookActions,
  webhookActionsV35,
  webhookActionsV36,
  type ChatEvent,
  type ParsedAction,
  type WebhookAction,
  type WebhookPayload,
} from "../../../src/livechat/webhooks";
import { fixture, fixtureNames } from "../../helpers/fixtures";
import {
  expandedSample,
  incomingEvent,
  placeholderSamples,
  rawSample,
  v35ChatTransferred,
  v35IncomingCustomer,
  webhookSampleNames,
  withLicenseId,
  type Body,
} from "./samples";

/** parseEnvelope + parseAction, as the receiver does. */
function parseBody(body: Body): ParsedAction {
  const env = parseEnvelope(body);
  if (!env.ok) throw new Error(`envelope rejected: ${env.error}`);
  return parseAction(env.envelope.action, env.envelope.payload);
}

function expectOk<A extends WebhookAction>(parsed: ParsedAction, action: A): WebhookPayload<A> {
  if (!parsed.ok) throw new Error(`${action}: ${parsed.reason}: ${parsed.error}`);
  expect(parsed.action).toBe(action);
  return parsed.payload as WebhookPayload<A>;
}

const V36_ACTIONS = [
  "incoming_chat", "chat_deactivated", "chat_access_updated", "chat_transferred", "user_added_to_chat",
  "user_removed_from_chat", "incoming_event", "event_deleted", "event_updated", "incoming_rich_message_postback",
  "chat_properties_updated", "chat_properties_deleted", "thread_properties_updated", "thread_properties_deleted",
  "event_properties_updated", "event_properties_deleted", "thread_tagged", "thread_untagged", "routing_status_set",
  "customer_session_fields_updated", "agent_created", "agent_approved", "agent_updated", "agent_suspended",
  "agent_unsuspended", "agent_deleted", "auto_accesses_updated", "bot_created", "bot_updated", "bot_deleted",
  "group_created", "group_updated", "group_deleted", "tag_created", "tag_deleted", "tag_updated",
  "events_marked_as_seen", "thread_summary_set",
];

describe("action index (docs/LIVECHAT.md §2.1)", () => {
  it("covers every v3.6 action and v3.5's incoming_customer", () => {
    expect([...webhookActionsV36].sort()).toEqual([...V36_ACTIONS].sort());
    expect([...webhookActionsV35].sort()).toEqual(
      [...V36_ACTIONS.filter((a) => a !== "event_deleted" && a !== "thread_summary_set"), "incoming_customer"].sort(),
    );
    expect(new Set(webhookActions)).toEqual(new Set([...V36_ACTIONS, "incoming_customer"]));
    expect(webhookActions).toHaveLength(39);
  });

  it("resolves the auto_access_* docs quirk and nothing from Object.prototype", () => {
    expect(canonicalAction("auto_access_added")).toBe("auto_accesses_updated");
    expect(canonicalAction("auto_access_deleted")).toBe("auto_accesses_updated");
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", ""]) {
      expect(canonicalAction(name)).toBeUndefined();
      expect(parseAction(name, {})).toMatchObject({ ok: false, reason: "unknown_action" });
    }
  });
});

describe("documented v3.6 samples", () => {
  const names = webhookSampleNames();

  it("finds the samples", () => {
    expect(names.length).toBeGreaterThanOrEqual(40);
  });

  it.each(names)("%s passes the envelope", (name) => {
    expect(parseEnvelope(rawSample(name)).ok).toBe(true);
  });

  it.each(names.filter((n) => n !== "webhook.v3.6.general_format"))("%s parses (placeholders filled)", (name) => {
    const parsed = parseBody(expandedSample(name));
    if (!parsed.ok) throw new Error(`${name}: ${parsed.error}`);
    expect(webhookActions).toContain(parsed.action);
  });

  it.each(names.filter((n) => !(placeholderSamples as readonly string[]).includes(n) && n !== "webhook.v3.6.general_format"))(
    "%s parses exactly as published",
    (name) => {
      expect(parseBody(rawSample(name)).ok).toBe(true);
    },
  );

  it.each(placeholderSamples)("%s as published (placeholder {}) is unprocessable, naming the field", (name) => {
    const parsed = parseBody(rawSample(name));
    expect(parsed).toMatchObject({ ok: false, reason: "invalid_payload" });
    if (parsed.ok) return;
    expect(parsed.error).toMatch(/^(event|user|chat\.thread)\./);
  });

  it("general_format is a template: a valid envelope whose action '<action>' is unknown", () => {
    const body = rawSample("webhook.v3.6.general_format");
    const env = parseEnvelope(body);
    expect(env.ok).toBe(true);
    expect(parseAction("<action>", body.payload)).toEqual({ ok: false, reason: "unknown_action", error: "unknown action <action>" });
  });

  it("lets unknown fields through", () => {
    const body = expandedSample("webhook.v3.6.incoming_event");
    body.payload.future_field = { x: 1 };
    body.payload.event.new_flag = true;
    const payload = expectOk(parseBody(body), "incoming_event");
    expect(payload.future_field).toEqual({ x: 1 });
    expect(payload.event.new_flag).toBe(true);
  });
});

describe("v3.5 bodies", () => {
  it("accepts a license_id envelope for every sample", () => {
    for (const name of webhookSampleNames().filter((n) => n !== "webhook.v3.6.general_format")) {
      const parsed = parseBody(withLicenseId(expandedSample(name)));
      expect(parsed.ok, name).toBe(true);
    }
  });

  it("parses incoming_customer and mirrors last_visit to visit", () => {
    const payload = expectOk(parseBody(v35IncomingCustomer()), "incoming_customer");
    expect(payload.customer.id).toBe("b7eff798-f8df-4364-8059-649c35c9ed0c");
    expect(payload.customer.visit?.started_at).toBe("2017-10-12T15:19:21.010200Z");
    expect(payload.customer.last_visit?.started_at).toBe("2017-10-12T15:19:21.010200Z");
  });

  it("accepts incoming_customer with a license_id envelope and a customer without type", () => {
    const body = withLicenseId(v35IncomingCustomer(), 42);
    delete body.payload.customer.type;
    expectOk(parseBody(body), "incoming_customer");
  });

  it("mirrors queued_at_us to queued_at", () => {
    const payload = expectOk(parseBody(v35ChatTransferred()), "chat_transferred");
    expect(payload.queue?.queued_at).toBe("2019-12-09T12:01:18.909000Z");
    expect(payload.queue?.queued_at_us).toBe("2019-12-09T12:01:18.909000Z");
  });

  it("accepts v3.5 users with last_visit inside incoming_chat", () => {
    const body = expandedSample("webhook.v3.6.incoming_chat");
    const customer = body.payload.chat.users[0];
    customer.last_visit = customer.visit;
    delete customer.visit;
    const payload = expectOk(parseBody(body), "incoming_chat");
    const user = payload.chat.users[0];
    expect(isCustomerUser(user) && user.visit?.referrer).toBe("http://www.google.com/");
  });
});

describe("events (docs/LIVECHAT.md §4.4)", () => {
  const eventFixtures = fixtureNames("event.v3.6.");

  it.each(eventFixtures)("%s parses inside incoming_event", (name) => {
    const event = fixture<Body>(name);
    const payload = expectOk(parseBody(incomingEvent(event)), "incoming_event");
    expect(payload.event.id).toBe(event.id);
    expect(payload.event.type).toBe(event.type);
  });

  it("narrows known types and keeps deleted stubs and unknown types apart", () => {
    const message = expectOk(parseBody(incomingEvent(fixture("event.v3.6.message"))), "incoming_event").event;
    expect(isEventType(message, "message")).toBe(true);
    if (isEventType(message, "message")) expect(message.text).toBe("hello there");

    const deleted = expectOk(parseBody(incomingEvent(fixture("event.v3.6.deleted_event"))), "incoming_event").event;
    expect(deleted.type).toBe("message");
    expect(isDeletedEvent(deleted)).toBe(true);
    expect(isEventType(deleted, "message")).toBe(false);

    const future = expectOk(parseBody(incomingEvent({ id: "E1", type: "hologram", author_id: "a", beam: 1 })), "incoming_event").event;
    expect(future.type).toBe("hologram");
    expect(future.beam).toBe(1);
    for (const t of ["message", "file", "system_message"] as const) expect(isEventType(future, t)).toBe(false);
  });

  it("reads a rating system message (docs/LIVECHAT.md §5)", () => {
    const event = { ...fixture<Body>("event.v3.6.system_message"), system_message_type: "rating.chat_rated", text_vars: { customer: "Jane", score: "good" } };
    const parsed = expectOk(parseBody(incomingEvent(event)), "incoming_event").event;
    expect(isEventType(parsed, "system_message") && parsed.text_vars?.score).toBe("good");
  });

  it("rejects a known type missing what the code reads, with the path", () => {
    const { text: _t, ...noText } = fixture<Body>("event.v3.6.message");
    expect(parseBody(incomingEvent(noText))).toEqual({ ok: false, reason: "invalid_payload", error: "event.text: required" });
    expect(parseBody(incomingEvent({ ...fixture<Body>("event.v3.6.message"), author_id: 7 }))).toEqual({
      ok: false,
      reason: "invalid_payload",
      error: "event.author_id: expected string, got number",
    });
    expect(parseBody(incomingEvent({ type: "message", text: "x", author_id: "a" }))).toMatchObject({ ok: false, error: "event.id: required" });
  });

  it("validates events inside incoming_chat threads", () => {
    const body = expandedSample("webhook.v3.6.incoming_chat");
    body.payload.chat.thread.events[1].text = 5;
    expect(parseBody(body)).toEqual({
      ok: false,
      reason: "invalid_payload",
      error: "chat.thread.events[1].text: expected string, got number",
    });
  });
});

describe("payload details", () => {
  it("incoming_chat: users, thread, rating properties", () => {
    const payload = expectOk(parseBody(expandedSample("webhook.v3.6.incoming_chat")), "incoming_chat");
    expect(payload.chat.id).toBe("PJ0MRSHTDG");
    expect(payload.chat.thread.id).toBe("K600PKZON8");
    expect(payload.chat.users.map((u) => u.type)).toEqual(["customer", "agent"]);
    expect(payload.chat.users.filter(isAgentUser).map((u) => u.id)).toEqual(["smith@example.com"]);
    expect(payload.chat.properties?.rating?.score).toBe(0);
  });

  it("incoming_chat: missing users default to []; unknown user types still parse", () => {
    const body = expandedSample("webhook.v3.6.incoming_chat");
    delete body.payload.chat.users;
    expect(expectOk(parseBody(body), "incoming_chat").chat.users).toEqual([]);
    body.payload.chat.users = [{ id: "x", type: "supervisor_bot" }];
    const user = expectOk(parseBody(body), "incoming_chat").chat.users[0];
    expect(isAgentUser(user) || isCustomerUser(user)).toBe(false);
  });

  it("thread_properties_updated carries the rating (docs/LIVECHAT.md §5)", () => {
    const body = rawSample("webhook.v3.6.thread_properties_updated");
    body.payload.properties = fixture<Body>("properties.rating").properties;
    const payload = expectOk(parseBody(body), "thread_properties_updated");
    expect(payload.properties.rating?.score).toBe(0);
    expect(payload.properties.rating?.comment).toBe("Action completed");
    body.payload.properties.rating.score = "1";
    expect(expectOk(parseBody(body), "thread_properties_updated").properties.rating?.score).toBe(1);
    body.payload.properties.rating.score = "good";
    expect(parseBody(body)).toMatchObject({ ok: false, error: expect.stringContaining("properties.rating.score") });
  });

  it("thread_properties_deleted lists names per namespace", () => {
    const body = rawSample("webhook.v3.6.thread_properties_deleted");
    body.payload.properties = { rating: ["score", "comment"] };
    expect(expectOk(parseBody(body), "thread_properties_deleted").properties.rating).toEqual(["score", "comment"]);
  });

  it("routing_status_set normalises the documented spelling", () => {
    const payload = expectOk(parseBody(rawSample("webhook.v3.6.routing_status_set")), "routing_status_set");
    expect(payload.status).toBe("accepting_chats");
    const body = rawSample("webhook.v3.6.routing_status_set");
    body.payload.status = "not accepting chats";
    expect(expectOk(parseBody(body), "routing_status_set").status).toBe("not_accepting_chats");
    body.payload.status = "away";
    expect(parseBody(body)).toEqual({
      ok: false,
      reason: "invalid_payload",
      error: "status: expected accepting chats, not accepting chats or offline",
    });
  });

  it("auto_accesses_updated: array payload under the documented and the quirk name", () => {
    for (const name of fixtureNames("webhook.v3.6.auto_accesses_updated")) {
      const body = rawSample(name);
      expect(body.action).toBe("auto_access_added");
      const quirk = expectOk(parseBody(body), "auto_accesses_updated");
      expect(Array.isArray(quirk)).toBe(true);
      const proper = expectOk(parseBody({ ...body, action: "auto_accesses_updated" }), "auto_accesses_updated");
      expect(proper.map((c) => c.id)).toEqual(body.payload.map((c: Body) => c.id));
    }
    const single = parseAction("auto_accesses_updated", { id: "a", status: "deleted" });
    expect(single.ok && single.payload).toEqual([{ id: "a", status: "deleted" }]);
  });

  it("object-only actions reject arrays; the array action rejects non-arrays of records", () => {
    expect(parseAction("incoming_event", [])).toEqual({ ok: false, reason: "invalid_payload", error: "(payload): expected object, got array" });
    expect(parseAction("auto_accesses_updated", [{ status: "added" }])).toMatchObject({ ok: false, error: "[0].id: required" });
  });

  it("thread_summary_set (3.6) and event_deleted (3.6)", () => {
    const summary = expectOk(parseBody(rawSample("webhook.v3.6.thread_summary_set")), "thread_summary_set");
    expect(summary.summary.status).toBe("ok");
    expect(expectOk(parseBody(rawSample("webhook.v3.6.event_deleted")), "event_deleted").event_id).toBe("K600PKZON8_4");
  });

  it("group ids are integers", () => {
    expect(parseAction("group_deleted", { id: "42" })).toEqual({ ok: false, reason: "invalid_payload", error: "id: expected number, got string" });
    expect(parseAction("group_deleted", { id: 4.5 })).toMatchObject({ ok: false, reason: "invalid_payload" });
  });
});

describe("validation errors", () => {
  it("are short, name paths, never echo values", () => {
    const secretish = "s3cr3t-value-that-must-not-appear";
    const parsed = parseAction("thread_tagged", { chat_id: secretish.length, thread_id: [secretish], tag: { secretish } });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toBe("chat_id: expected string, got number; thread_id: expected string, got array; tag: expected string, got object");
    expect(parsed.error).not.toContain(secretish);
  });

  it("cap many issues and clip hostile keys", () => {
    const hostileKey = `ns\n${"k".repeat(10_000)}`;
    const parsed = parseAction("chat_properties_updated", { chat_id: "c", properties: { [hostileKey]: 1, b: 2, c: 3, d: 4, e: 5 } });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.length).toBeLessThanOrEqual(300);
    expect(parsed.error).toContain("(+2 more)");
    expect(parsed.error).not.toContain("\n");
  });
});

describe("types", () => {
  it("infers payload types per action", () => {
    expectTypeOf<WebhookPayload<"incoming_event">["event"]>().toEqualTypeOf<ChatEvent>();
    expectTypeOf<WebhookPayload<"routing_status_set">["status"]>().toEqualTypeOf<"accepting_chats" | "not_accepting_chats" | "offline">();
    expectTypeOf<WebhookPayload<"thread_tagged">["tag"]>().toEqualTypeOf<string>();
    const parsed = parseAction("incoming_event", {});
    if (parsed.ok && parsed.action === "incoming_event") expectTypeOf(parsed.payload.chat_id).toEqualTypeOf<string>();
  });
});
