import { describe, expect, it } from "vitest";
import { buildIndex, IndexCache, LABEL_WEIGHT } from "../../../src/bot/content-match/index";

const library = [
  { tag: "refunds", texts: ["Refunds take 5 days.", "Your refund was issued."], keywords: ["money back"] },
  { tag: "delivery", texts: ["Orders ship in 2 days."] },
];

describe("buildIndex", () => {
  it("makes one document per tag: name and keywords weigh LABEL_WEIGHT, each response word 1", () => {
    const index = buildIndex(library);
    expect(index.tags).toEqual(["refunds", "delivery"]);
    // "refunds" (name) + "Refunds", "refund" (texts) share the stem "refund"; only the first tag has it.
    expect(index.postings.get("refund")).toEqual([[0, LABEL_WEIGHT + 2]]);
    expect(index.postings.get("money")).toEqual([[0, LABEL_WEIGHT]]);
    expect(index.postings.get("ship")).toEqual([[1, 1]]);
    expect(index.postings.get("day")).toEqual([
      [0, 1],
      [1, 1],
    ]);
    // refund 7, money 5, back 5, take 1, day 1, issu(ed) 1 | delivery 5, order 1, ship 1, day 1
    expect(index.lengths).toEqual([20, 8]);
    expect(index.averageLength).toBe(14);
    expect(index.byLength.get(6)).toContain("refund");
  });

  it("without the English step keeps words as written (lower-cased, accents folded)", () => {
    const index = buildIndex(library, { english: false });
    expect(index.postings.get("refunds")).toEqual([[0, LABEL_WEIGHT + 1]]);
    expect(index.postings.has("your")).toBe(true);
  });

  it("an empty library is an empty index", () => {
    expect(buildIndex([])).toMatchObject({ tags: [], lengths: [], averageLength: 0 });
  });
});

describe("IndexCache", () => {
  it("builds once per library and license, again when the library changes", () => {
    const cache = new IndexCache();
    const first = cache.get("org-1", library);
    expect(cache.get("org-1", structuredClone(library))).toBe(first);
    const edited = [...library, { tag: "sizes", texts: ["See the size guide."] }];
    const second = cache.get("org-1", edited);
    expect(second).not.toBe(first);
    expect(second.tags).toEqual(["refunds", "delivery", "sizes"]);
    expect(cache.get("org-1", edited)).toBe(second);
    expect(cache.get("org-2", library)).not.toBe(first);
  });

  it("forgets the least recently used license beyond its capacity", () => {
    const cache = new IndexCache(2);
    const a = cache.get("a", library);
    cache.get("b", library);
    expect(cache.get("a", library)).toBe(a);
    cache.get("c", library); // b goes, a was used last
    expect(cache.get("a", library)).toBe(a);
    const b = cache.get("b", library);
    expect(cache.get("b", library)).toBe(b);
  });
});
