import { describe, expect, it } from "vitest";
import { buildIndex } from "../../../src/bot/content-match/index";
import { rank, suggest } from "../../../src/bot/content-match/score";

const index = buildIndex([
  { tag: "refunds", texts: ["Refunds reach your card within 5 business days."], keywords: ["money back", "Rückerstattung"] },
  { tag: "delivery", texts: ["Orders ship within 2 business days; track your parcel with the link we email."], keywords: ["shipping", "package"] },
  { tag: "sizes", texts: ["Our size guide lists the measurements of every product."], keywords: ["fit", "サイズ"] },
]);
const tags = (text: string, threshold = 0.5) => suggest(index, text, { threshold, max: 3 }).map((s) => s.tag);

describe("rank", () => {
  it("scores the tags a message shares words with, best first, in units of one distinctive word", () => {
    const ranked = rank(index, "When will I get my refund? I want my money back");
    expect(ranked[0].tag).toBe("refunds");
    expect(ranked[0].score).toBeGreaterThan(1);
    expect(ranked.map((s) => s.tag)).not.toContain("sizes");
  });

  it("a word every tag holds adds less than one only a single tag holds", () => {
    const common = rank(index, "business")[0].score;
    const distinct = rank(index, "parcel")[0].score;
    expect(common).toBeLessThan(distinct);
  });

  it("counts a repeated word once", () => {
    expect(rank(index, "refund refund refund refund")[0].score).toBeCloseTo(rank(index, "refund")[0].score, 10);
  });

  it("a misspelt word counts for part of the word it resembles", () => {
    const exact = rank(index, "package")[0];
    const typo = rank(index, "pakage")[0];
    expect(typo.tag).toBe("delivery");
    expect(typo.score).toBeGreaterThan(0);
    expect(typo.score).toBeLessThan(exact.score);
  });

  it("an empty library or a message of no known word ranks nothing", () => {
    expect(rank(buildIndex([]), "refund")).toEqual([]);
    expect(rank(index, "hello there")).toEqual([]);
    expect(rank(index, "")).toEqual([]);
  });
});

describe("suggest", () => {
  it("returns the tags at or above the threshold", () => {
    expect(tags("Where is my package?")).toEqual(["delivery"]);
    expect(tags("Where is my package?", 100)).toEqual([]);
  });

  it("matches keywords in other languages, and scripts without spaces", () => {
    expect(tags("Wann bekomme ich meine Rückerstattung?")).toEqual(["refunds"]);
    expect(tags("このジャケットのサイズを教えてください")).toEqual(["sizes"]);
  });

  it("keeps only tags close to the best one, at most `max`", () => {
    const both = "my package arrived but I want my money back, refund please";
    expect(rank(index, both).map((s) => s.tag)).toEqual(["refunds", "delivery"]);
    expect(tags(both)).toEqual(["refunds"]);
    expect(suggest(index, "refund package parcel shipping money back", { threshold: 0.1, max: 1 })).toHaveLength(1);
  });
});
