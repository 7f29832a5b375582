import { describe, expect, it } from "vitest";
import { asRegion, regionFromToken } from "../../src/livechat/region";

describe("regionFromToken (docs/LIVECHAT.md §6.3)", () => {
  it.each([
    ["dal:abc", "dal"],
    ["fra:test_YTJQ6GDVgQf8kQDPw", "fra"],
    ["fra-a:x", "fra-a"],
    ["dal:with:more:colons", "dal"],
  ])("%s → %s", (token, region) => {
    expect(regionFromToken(token)).toBe(region);
  });

  it.each(["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "test_gfalskcakg2347o8326", ":abc", "", "d l:abc", "a".repeat(40) + ":x"])(
    "no region in %j",
    (token) => {
      expect(regionFromToken(token)).toBeUndefined();
    },
  );
});

describe("asRegion", () => {
  it("accepts region-like strings only", () => {
    expect(asRegion("dal")).toBe("dal");
    expect(asRegion("fra-a")).toBe("fra-a");
    expect(asRegion(42)).toBeUndefined();
    expect(asRegion("dal\r\nX: 1")).toBeUndefined();
    expect(asRegion(undefined)).toBeUndefined();
  });
});
