import { describe, expect, it } from "vitest";
import { evaluate, type LabelledLibrary, type LabelledMessage } from "../../../bench/suggestions/evaluate";
import { DEFAULT_SUGGESTION_THRESHOLD, settingsPatchSchema } from "../../../src/licenses/settings";

/**
 * The labelled set (test/fixtures/suggestions) as a regression guard: the goal of issue 24 holds
 * at the default threshold. The numbers themselves are reported by `npm run bench:suggestions`.
 */
const files = import.meta.glob<unknown>("../../fixtures/suggestions/*.json", { eager: true, import: "default" });
const library = files["../../fixtures/suggestions/library.json"] as LabelledLibrary;
const messages = files["../../fixtures/suggestions/messages.json"] as LabelledMessage[];

describe("content suggestions over the labelled set", () => {
  it("is a set of at least 200 messages over a library a license can configure", () => {
    expect(messages.length).toBeGreaterThanOrEqual(200);
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
    for (const kind of ["clear", "multi", "none", "typo", "lang"]) expect(messages.some((m) => m.kind === kind), kind).toBe(true);
    for (const m of messages) for (const tag of m.tags) expect(Object.keys(library.tagSuggestions), m.id).toContain(tag);
    expect(settingsPatchSchema.safeParse(library).success).toBe(true);
  });

  it("reaches precision ≥ 0.9 at recall ≥ 0.6 at the default threshold", () => {
    const { all } = evaluate(library, messages, { threshold: DEFAULT_SUGGESTION_THRESHOLD });
    expect(all.precision).toBeGreaterThanOrEqual(0.9);
    expect(all.recall).toBeGreaterThanOrEqual(0.6);
  });

  it("suggests nothing for nearly all of the messages that fit no tag", () => {
    const { byKind } = evaluate(library, messages, { threshold: DEFAULT_SUGGESTION_THRESHOLD });
    expect(byKind.none.falseAlarms).toBeLessThanOrEqual(2);
  });
});
