import { describe, expect, it } from "vitest";
import { chatObjectName } from "../../src/chats/stub";

describe("chatObjectName", () => {
  it("keeps the name every LiveChat id pair always had (a UUID organization, an alphanumeric chat)", () => {
    expect(chatObjectName("390e44e6-f1e6-4e3a-9b8c-74f14508c2e0", "PJ0MRSHTDG")).toBe("390e44e6-f1e6-4e3a-9b8c-74f14508c2e0:PJ0MRSHTDG");
    expect(chatObjectName("12345", "Q1")).toBe("12345:Q1");
  });

  it("gives different pairs different names, whatever ':' and '%' they hold", () => {
    const parts = ["", "a", "b", ":", "%", "a:b", "b:c", "a%3Ab", "a%253Ab", "%3A", "%25", "::", "a:", ":b", "a%"];
    const names = new Map<string, string>();
    for (const org of parts) {
      for (const chat of parts) {
        const name = chatObjectName(org, chat);
        const pair = JSON.stringify([org, chat]);
        expect(names.get(name) ?? pair, `${pair} shares ${name}`).toBe(pair);
        names.set(name, pair);
      }
    }
    expect(names.size).toBe(parts.length ** 2);
  });

  it("escapes reversibly: splitting at the one ':' and unescaping gives the pair back", () => {
    for (const [org, chat] of [["a:b", "c"], ["a", "b:c"], ["%3A", ":"], ["50%", "x%25y"]]) {
      const name = chatObjectName(org, chat);
      const sides = name.split(":");
      expect(sides).toHaveLength(2);
      expect(sides.map((s) => s.replaceAll("%3A", ":").replaceAll("%25", "%"))).toEqual([org, chat]);
    }
  });
});
