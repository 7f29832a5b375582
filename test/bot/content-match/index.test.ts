import { describe, expect, it } from "vitest";
import { buildIndex, IndexCache, LABEL_WEIGHT } from "../../../src/bot/content-match/index";

const library = [
  { tag: "refunds", texts: ["Refunds take 5 days.", "Your refund was issued."], keywords: ["money back"] },
  { tag: "delivery", texts: ["Orders ship in 2 days."] },
];

describe("buildIndex", () => {
  it("makes one document per tag: name and keywords weigh LABEL_WEIGHT, each response word 1", () => {
    const index = buildIndex(library);
    const [refunds, delivery] = index.docs;
    expect(refunds.tag).toBe("refunds");
    // "refunds" (name) + "Refunds", "refund" (texts) share the stem "refund".
    expect(refunds.terms.get("refund")).toBe(LABEL_WEIGHT + 2);
    expect(refunds.terms.get("money")).toBe(LABEL_WEIGHT);
    expect(delivery.terms.get("ship")).toBe(1);
    expect(index.df.get("day")).toBe(2);
    expect(index.df.get("refund")).toBe(1);
    expect(index.averageLength).toBe((refunds.length + delivery.length) / 2);
    expect(index.byLength.get(6)).toContain("refund");
  });

  it("without the English step keeps words as written (lower-cased, accents folded)", () => {
    const index = buildIndex(library, { english: false });
    expect(index.docs[0].terms.get("refunds")).toBe(LABEL_WEIGHT + 1);
    expect(index.docs[0].terms.has("your")).toBe(true);
  });

  it("an empty library is an empty index", () => {
    expect(buildIndex([])).toMatchObject({ docs: [], averageLength: 0 });
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
    expect(second.docs.map((d) => d.tag)).toEqual(["refunds", "delivery", "sizes"]);
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
