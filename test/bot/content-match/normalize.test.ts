import { describe, expect, it } from "vitest";
import { stemEnglish, words } from "../../../src/bot/content-match/normalize";

describe("words", () => {
  it("lower-cases, folds accents and drops English function words and one-letter words", () => {
    expect(words("Where is MY Refund?! I don't know")).toEqual(["refund", "know"]);
    expect(words("Café crème, envío, Größe", { english: false })).toEqual(["cafe", "creme", "envio", "große"]);
  });

  it("keeps letters and digits of every script; other languages are words, not noise", () => {
    expect(words("Когда будет в наличии? 44", { english: false })).toEqual(["когда", "будет", "наличии", "44"]);
    expect(words("شكرا جزيلا")).toEqual(["شكرا", "جزيلا"]);
    expect(words("Kiedy otrzymam zwrot pieniędzy?")).toEqual(["kiedy", "otrzymam", "zwrot", "pieniedzy"]);
  });

  it("splits scripts written without spaces into overlapping pairs, so a keyword inside a sentence matches", () => {
    expect(words("返品したい")).toEqual(["返品", "品し", "した", "たい"]);
    expect(words("谢")).toEqual(["谢"]);
    expect(words("配送状況")).toContain("配送");
  });

  it("applies no English step when told not to", () => {
    expect(words("Where are my parcels?", { english: false })).toEqual(["where", "are", "my", "parcels"]);
  });

  it("never throws on odd input", () => {
    expect(words("")).toEqual([]);
    expect(words("🙂🙂 ... \u0000 \uD800")).toEqual([]);
    expect(words("x".repeat(20_000))).toHaveLength(1);
  });
});

describe("stemEnglish", () => {
  it("reduces plurals and -ed / -ing forms to a shared stem", () => {
    const same = [
      ["refunds", "refund", "refunded", "refunding"],
      ["ship", "shipped", "shipping", "ships"],
      ["arrive", "arrived", "arrives", "arriving"],
      ["size", "sizes", "sizing"],
      ["delivery", "deliveries"],
    ];
    for (const group of same) expect(new Set(group.map(stemEnglish)).size, group.join()).toBe(1);
  });

  it("leaves short words, and words with letters outside a–z, as they are", () => {
    expect(stemEnglish("bus")).toBe("bus");
    expect(stemEnglish("was")).toBe("was");
    expect(stemEnglish("größe")).toBe("größe");
    expect(stemEnglish("class")).toBe("class");
    expect(stemEnglish("status")).toBe("status");
  });
});
