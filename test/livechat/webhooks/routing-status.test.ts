import { describe, expect, it } from "vitest";
import { normalizeRoutingStatus } from "../../../src/livechat/webhooks";

describe("normalizeRoutingStatus (docs/LIVECHAT.md §2.3 routing_status_set vs §4.3 set_routing_status)", () => {
  it.each([
    ["accepting chats", "accepting_chats"],
    ["accepting_chats", "accepting_chats"],
    ["not accepting chats", "not_accepting_chats"],
    ["not_accepting_chats", "not_accepting_chats"],
    ["offline", "offline"],
    ["Accepting Chats", "accepting_chats"],
    ["NOT_ACCEPTING_CHATS", "not_accepting_chats"],
    ["  accepting   chats ", "accepting_chats"],
    ["not-accepting-chats", "not_accepting_chats"],
    ["Offline", "offline"],
  ])("%j → %s", (input, expected) => {
    expect(normalizeRoutingStatus(input)).toBe(expected);
  });

  it.each(["", "online", "accepting", "accepting chats now", "away", "accepting\u0000chats", "x".repeat(10_000)])("%j → undefined", (input) => {
    expect(normalizeRoutingStatus(input)).toBeUndefined();
  });

  it("tolerates non-strings at run time", () => {
    expect(normalizeRoutingStatus(5 as unknown as string)).toBeUndefined();
    expect(normalizeRoutingStatus(undefined as unknown as string)).toBeUndefined();
  });
});
