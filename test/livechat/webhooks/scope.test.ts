import { describe, expect, it } from "vitest";
import { chatIdOf, chatScopedActions, isChatScoped, parseAction, webhookActions, type WebhookAction } from "../../../src/livechat/webhooks";
import { expandedSample, rawSample, v35IncomingCustomer, webhookSampleNames } from "./samples";

const CHAT = "PJ0MRSHTDG";

/** One documented body per chat-scoped action, and where its chat id lives (docs/LIVECHAT.md §2.3). */
const chatScopedSamples: Record<string, string> = {
  incoming_chat: "chat.id",
  chat_deactivated: "chat_id",
  chat_access_updated: "id",
  chat_transferred: "chat_id",
  user_added_to_chat: "chat_id",
  user_removed_from_chat: "chat_id",
  incoming_event: "chat_id",
  event_deleted: "chat_id",
  event_updated: "chat_id",
  incoming_rich_message_postback: "chat_id",
  chat_properties_updated: "chat_id",
  chat_properties_deleted: "chat_id",
  thread_properties_updated: "chat_id",
  thread_properties_deleted: "chat_id",
  event_properties_updated: "chat_id",
  event_properties_deleted: "chat_id",
  thread_tagged: "chat_id",
  thread_untagged: "chat_id",
  events_marked_as_seen: "chat_id",
  thread_summary_set: "chat_id",
  customer_session_fields_updated: "active_chat.chat_id",
};

describe("chat scope", () => {
  it("classifies every action", () => {
    expect([...chatScopedActions].sort()).toEqual(Object.keys(chatScopedSamples).sort());
    for (const action of webhookActions) expect(isChatScoped(action), action).toBe(action in chatScopedSamples);
  });

  it.each(Object.entries(chatScopedSamples))("chatIdOf(%s) reads %s", (action) => {
    const body = expandedSample(`webhook.v3.6.${action}`);
    expect(chatIdOf(action, body.payload)).toBe(CHAT);
    // and the parsed payload agrees (the route may call it with either)
    const parsed = parseAction(action, body.payload);
    expect(parsed.ok && chatIdOf(action, parsed.payload)).toBe(CHAT);
  });

  it("is undefined for license-level actions", () => {
    const licenseLevel = webhookSampleNames().filter((n) => {
      const action = rawSample(n).action as string;
      return !(action in chatScopedSamples);
    });
    expect(licenseLevel.length).toBeGreaterThan(10);
    for (const name of licenseLevel) {
      const body = rawSample(name);
      expect(chatIdOf(body.action, body.payload), name).toBeUndefined();
    }
    expect(chatIdOf("incoming_customer", v35IncomingCustomer().payload)).toBeUndefined();
    expect(chatIdOf("routing_status_set", { chat_id: CHAT })).toBeUndefined();
  });

  it("is undefined for unknown actions and bad ids", () => {
    expect(chatIdOf("incoming_hologram", { chat_id: CHAT })).toBeUndefined();
    expect(chatIdOf("__proto__", { chat_id: CHAT })).toBeUndefined();
    for (const bad of [undefined, null, 5, "", ["x"], { id: "x" }, "x".repeat(513)]) {
      expect(chatIdOf("incoming_event", { chat_id: bad })).toBeUndefined();
    }
    for (const payload of [null, undefined, [], "PJ0MRSHTDG", 3, { chat: "PJ0MRSHTDG" }]) {
      expect(chatIdOf("incoming_chat", payload)).toBeUndefined();
      expect(chatIdOf("incoming_event", payload)).toBeUndefined();
    }
  });

  it("customer_session_fields_updated without an active chat has no chat id", () => {
    const body = rawSample("webhook.v3.6.customer_session_fields_updated");
    delete body.payload.active_chat;
    expect(parseAction(body.action, body.payload).ok).toBe(true);
    expect(chatIdOf(body.action, body.payload)).toBeUndefined();
  });

  it("typed: isChatScoped takes a WebhookAction", () => {
    const action: WebhookAction = "incoming_event";
    expect(isChatScoped(action)).toBe(true);
  });
});
