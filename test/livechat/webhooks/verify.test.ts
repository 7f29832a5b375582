import { describe, expect, it } from "vitest";
import { constantTimeEqual, secretMatches } from "../../../src/livechat/webhooks";

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

/** An array whose index reads are counted, to prove the comparison reads every byte. */
function counted(bytes: number[]): { view: ArrayLike<number>; reads: Set<number>; count: () => number } {
  const reads = new Set<number>();
  let count = 0;
  const view = new Proxy(bytes, {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) {
        reads.add(Number(key));
        count++;
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return { view, reads, count: () => count };
}

const bytes = (s: string) => [...new TextEncoder().encode(s)];

describe("constantTimeEqual", () => {
  it("is plain equality on its result", () => {
    expect(constantTimeEqual(bytes("abc"), bytes("abc"))).toBe(true);
    expect(constantTimeEqual(bytes("abc"), bytes("abd"))).toBe(false);
    expect(constantTimeEqual(bytes("abc"), bytes("ab"))).toBe(false);
    expect(constantTimeEqual(bytes(""), bytes(""))).toBe(true);
    expect(constantTimeEqual([0], [])).toBe(false); // a trailing 0 byte is not "missing"
  });

  it("reads every byte of both inputs whether they differ first, last or nowhere (no early exit)", () => {
    const secret = bytes(CURRENT);
    const cases = {
      equal: bytes(CURRENT),
      differsFirst: bytes(`X${CURRENT.slice(1)}`),
      differsLast: bytes(`${CURRENT.slice(0, -1)}X`),
      totallyDifferent: bytes("#".repeat(CURRENT.length)),
    };
    const readCounts = new Set<number>();
    for (const [name, given] of Object.entries(cases)) {
      const a = counted(given);
      const b = counted(secret);
      const result = constantTimeEqual(a.view, b.view);
      expect(result, name).toBe(name === "equal");
      expect(a.reads.size, name).toBe(given.length);
      expect(b.reads.size, name).toBe(secret.length);
      readCounts.add(a.count() + b.count());
    }
    expect(readCounts.size).toBe(1); // the same work for every input of the same length
  });

  it("does not stop at a length mismatch: it runs to the longer length", () => {
    const short = counted(bytes("abc"));
    const long = counted(bytes(CURRENT));
    expect(constantTimeEqual(short.view, long.view)).toBe(false);
    expect(long.reads.size).toBe(CURRENT.length);
    expect(short.reads.size).toBe(3);
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
});
