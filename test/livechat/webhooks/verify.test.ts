import { describe, expect, it, vi } from "vitest";
import { secretMatches } from "../../../src/livechat/webhooks";

const CURRENT = "current-secret-3f9a7c1e0b";
const PREVIOUS = "previous-secret-8d2e44aa1c";

describe("secretMatches (docs/LIVECHAT.md §1.3)", () => {
  it("accepts the current and the previous secret", () => {
    expect(secretMatches(CURRENT, [CURRENT, PREVIOUS])).toBe(true);
    expect(secretMatches(PREVIOUS, [CURRENT, PREVIOUS])).toBe(true);
    expect(secretMatches(CURRENT, [CURRENT])).toBe(true);
  });

  it.each([
    ["a wrong secret", "wrong"],
    ["a prefix of the secret", CURRENT.slice(0, -1)],
    ["the secret plus a byte", `${CURRENT}x`],
    ["the secret with its last byte changed", `${CURRENT.slice(0, -1)}f`],
    ["the secret in another case", CURRENT.toUpperCase()],
    ["a NUL-padded secret", `${CURRENT}\u0000`],
    ["an empty string", ""],
  ])("rejects %s", (_, given) => {
    expect(secretMatches(given, [CURRENT, PREVIOUS])).toBe(false);
  });

  it("never matches an unset (empty) secret, nor with no secrets configured", () => {
    expect(secretMatches("", [CURRENT, ""])).toBe(false);
    expect(secretMatches("", [])).toBe(false);
    expect(secretMatches(CURRENT, [])).toBe(false);
    expect(secretMatches(CURRENT, ["", CURRENT])).toBe(true);
  });

  it("compares bytes, not UTF-16 units", () => {
    expect(secretMatches("zażółć", ["zażółć"])).toBe(true);
    expect(secretMatches("zazolc", ["zażółć"])).toBe(false);
  });

  it("tolerates non-string input at run time", () => {
    expect(secretMatches(undefined as unknown as string, [CURRENT])).toBe(false);
    expect(secretMatches(CURRENT, [undefined as unknown as string, CURRENT])).toBe(true);
  });
});

describe("secretMatches: the runtime's constant-time comparison", () => {
  it("compares fixed-length SHA-256 digests with crypto.subtle.timingSafeEqual, every candidate, whatever the lengths", () => {
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    try {
      for (const given of [CURRENT, "x", "y".repeat(1000), `${CURRENT}x`, ""]) {
        spy.mockClear();
        secretMatches(given, [CURRENT, PREVIOUS, "third-secret"]);
        expect(spy, given).toHaveBeenCalledTimes(3); // no short-circuit, no early exit on length
        for (const [a, b] of spy.mock.calls) {
          expect([(a as Uint8Array).byteLength, (b as Uint8Array).byteLength]).toEqual([32, 32]);
        }
      }
    } finally {
      spy.mockRestore();
    }
  });

  it("checks every accepted secret even when the first one matches (no short-circuit)", () => {
    const seen: string[] = [];
    const accepted = new Proxy([CURRENT, PREVIOUS, "third-secret"], {
      get(target, key, receiver) {
        if (typeof key === "string" && /^\d+$/.test(key)) seen.push(key);
        return Reflect.get(target, key, receiver);
      },
    });
    expect(secretMatches(CURRENT, accepted)).toBe(true);
    expect(seen).toEqual(["0", "1", "2"]);
  });

  it("keeps answering right when many one-off values pass through it (its digest cache is bounded)", () => {
    for (let i = 0; i < 50; i++) expect(secretMatches(`state-${i}`, [`state-${i}`])).toBe(true);
    expect(secretMatches(CURRENT, [CURRENT, PREVIOUS])).toBe(true);
    expect(secretMatches("state-3", [CURRENT, PREVIOUS])).toBe(false);
  });
});
