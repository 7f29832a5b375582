import { describe, expect, it } from "vitest";
import { nearTerms, oneEditApart } from "../../../src/bot/content-match/fuzzy";

describe("oneEditApart", () => {
  it("accepts one insertion, deletion, substitution or swap of neighbours", () => {
    expect(oneEditApart("refund", "refund")).toBe(true);
    expect(oneEditApart("refnud", "refund")).toBe(true); // swap
    expect(oneEditApart("pakage", "package")).toBe(true); // a letter dropped
    expect(oneEditApart("paypall", "paypal")).toBe(true); // one added
    expect(oneEditApart("crad", "card")).toBe(true);
    expect(oneEditApart("stok", "stock")).toBe(true);
  });

  it("rejects two edits", () => {
    expect(oneEditApart("refnd", "refunds")).toBe(false);
    expect(oneEditApart("abcdef", "badcef")).toBe(false);
    expect(oneEditApart("parcel", "parcle")).toBe(true);
    expect(oneEditApart("parcel", "pracle")).toBe(false);
  });
});

describe("nearTerms", () => {
  const byLength = new Map<number, string[]>([
    [5, ["refun", "sizes"]],
    [6, ["refund", "return"]],
    [7, ["package"]],
  ]);

  it("finds the library words one edit away from a long enough word", () => {
    expect(nearTerms("refnud", byLength)).toEqual(["refund"]);
    expect(nearTerms("pakage", byLength)).toEqual(["package"]);
    expect(nearTerms("retrun", byLength)).toEqual(["return"]);
  });

  it("does not look up short words: one edit turns most of them into other words", () => {
    expect(nearTerms("siz", byLength)).toEqual([]);
    expect(nearTerms("refu", byLength)).toEqual([]);
  });
});
