import { describe, expect, it } from "vitest";
import { chatSchema, chatSummarySchema, threadSchema } from "../../../src/livechat/schemas/chat";
import { eventInputSchema } from "../../../src/livechat/schemas/agent-chat-requests";
import { eventSchema } from "../../../src/livechat/schemas/events";
import { userSchema } from "../../../src/livechat/schemas/users";
import { propertiesSchema } from "../../../src/livechat/schemas/common";
import { fixture, fixtureNames } from "../../helpers/fixtures";

describe("shared structures vs the documented samples (docs/LIVECHAT.md §4.4)", () => {
  it.each(fixtureNames("event.v3.6."))("%s parses as an event", (name) => {
    const parsed = eventSchema.parse(fixture(name));
    expect(parsed).toEqual(fixture(name)); // loose: nothing dropped
  });

  it("system messages have no author_id", () => {
    const e = eventSchema.parse(fixture("event.v3.6.system_message"));
    expect(e.author_id).toBeUndefined();
    expect(e.system_message_type).toBe("routing.assigned");
  });

  it.each(["user.v3.6.agent", "user.v3.6.customer"])("%s parses as a user", (name) => {
    expect(userSchema.parse(fixture(name))).toEqual(fixture(name));
  });

  it("parses the chat, thread and chat summary structures", () => {
    expect(chatSchema.parse(fixture("structure.v3.6.chat"))).toEqual(fixture("structure.v3.6.chat"));
    expect(threadSchema.parse(fixture("structure.v3.6.thread")).tags).toEqual(["sales"]);
    const summary = chatSummarySchema.parse(fixture("structure.v3.6.chat_summary"));
    expect(summary.last_thread_summary?.id).toBe("QA37PVJ75B");
    expect(summary.last_event_per_type?.system_message.event?.type).toBe("system_message");
    expect(propertiesSchema.parse(fixture("structure.v3.6.properties").properties)).toBeTruthy();
  });

  it("rejects what the code relies on being there", () => {
    expect(eventSchema.safeParse({ type: "message" }).success).toBe(false); // no id
    expect(eventSchema.safeParse({ id: "x" }).success).toBe(false); // no type
    expect(userSchema.safeParse({ id: "x" }).success).toBe(false);
    expect(chatSchema.safeParse({ id: "x", users: [{ id: 1, type: "agent" }] }).success).toBe(false);
    expect(threadSchema.safeParse({ id: "t", events: [{ id: "e" }] }).success).toBe(false);
    expect(propertiesSchema.safeParse({ ns: "flat" }).success).toBe(false);
  });

  it("send_event input: message fields typed, visibility restricted", () => {
    expect(eventInputSchema.safeParse(fixture("agent.v3.6.send_event_preview.request").event).success).toBe(true);
    expect(eventInputSchema.safeParse({ type: "message", text: "x", visibility: "everyone" }).success).toBe(false);
    expect(eventInputSchema.safeParse({ type: "custom", content: { a: 1 } }).success).toBe(true);
  });
});
