import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ratingText } from "../../src/bot/rating-reaction";
import { MAX_TEXT_BYTES } from "../../src/livechat/schemas/events";
import { licenseStub } from "../../src/licenses/stub";
import { uniqueOrg } from "../webhooks/helpers";
import {
  applyPatch,
  DEFAULT_SUGGESTION_THRESHOLD,
  defaultSettings,
  desiredRoutingStatus,
  localTime,
  MAX_KEYWORDS,
  nextRoutingSwitch,
  settingsPatchSchema,
} from "../../src/licenses/settings";

const defaults = defaultSettings({ replyTimeoutSeconds: 120 });

describe("license settings", () => {
  it("defaults the reply timeout from config", () => {
    expect(defaultSettings({ replyTimeoutSeconds: 45 }).replyTimeoutSeconds).toBe(45);
    expect(defaults.workingHours).toBeNull();
    expect(defaults.tagSuggestions).toEqual({});
  });

  it("applies a patch over the defaults, merging rating field by field", () => {
    const patch = settingsPatchSchema.parse({ replyTimeoutSeconds: 30, rating: { reviewUrl: "https://example.com/review" } });
    const next = applyPatch(defaults, patch);
    expect(next.replyTimeoutSeconds).toBe(30);
    expect(next.rating.reviewUrl).toBe("https://example.com/review");
    expect(next.rating.goodMessage).toBe(defaults.rating.goodMessage);
    expect(next.replyMessage).toBe(defaults.replyMessage);
  });

  it("rejects invalid values with paths", () => {
    const bad = settingsPatchSchema.safeParse({
      replyTimeoutSeconds: 1,
      replyMessage: "   ",
      tagSuggestions: { refund: ["x".repeat(3000)] },
      rating: { reviewUrl: "javascript:alert(1)" },
      workingHours: { timezone: "Mars/Olympus", days: { monday: [{ start: "18:00", end: "09:00" }] } },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(
      expect.arrayContaining([
        "replyTimeoutSeconds",
        "replyMessage",
        "tagSuggestions.refund.0",
        "rating.reviewUrl",
        "workingHours.timezone",
        "workingHours.days.monday.0",
      ]),
    );
  });
});

describe("content suggestion settings", () => {
  it("are on by default, at the default threshold, with no keywords: a license with tag suggestions needs nothing more", () => {
    expect(defaults).toMatchObject({ contentSuggestions: true, contentSuggestionThreshold: DEFAULT_SUGGESTION_THRESHOLD, tagKeywords: {} });
  });

  it("each replaces its own value; keywords of any language are kept as written", () => {
    const patch = settingsPatchSchema.parse({ contentSuggestions: false, tagKeywords: { sizes: ["  Größe ", "サイズ"] } });
    const next = applyPatch(defaults, patch);
    expect(next).toMatchObject({ contentSuggestions: false, contentSuggestionThreshold: DEFAULT_SUGGESTION_THRESHOLD, tagKeywords: { sizes: ["Größe", "サイズ"] } });
    expect(applyPatch(next, settingsPatchSchema.parse({ contentSuggestionThreshold: 1.5 }))).toMatchObject({ contentSuggestions: false, contentSuggestionThreshold: 1.5 });
  });

  it("rejects a threshold out of range, a non-boolean switch, empty or too many keywords, with paths", () => {
    const bad = settingsPatchSchema.safeParse({
      contentSuggestions: "yes",
      contentSuggestionThreshold: 0,
      tagKeywords: { refund: [" "], sizes: Array.from({ length: MAX_KEYWORDS + 1 }, (_, i) => `k${i}`) },
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join("."))).toEqual(
      expect.arrayContaining(["contentSuggestions", "contentSuggestionThreshold", "tagKeywords.refund.0", "tagKeywords.sizes"]),
    );
    expect(settingsPatchSchema.safeParse({ contentSuggestionThreshold: 11 }).success).toBe(false);
    expect(settingsPatchSchema.safeParse({ contentSuggestionThreshold: Number.NaN }).success).toBe(false);
  });
});

describe("working hours", () => {
  const hours = settingsPatchSchema.parse({
    workingHours: { timezone: "Europe/Warsaw", days: { monday: [{ start: "09:00", end: "17:00" }] } },
  }).workingHours!;

  it("reads local time in the license's time zone", () => {
    // 2026-11-23 is a Monday; 08:30 UTC is 09:30 in Warsaw (CET, UTC+1).
    expect(localTime(new Date("2026-11-23T08:30:00Z"), "Europe/Warsaw")).toEqual({ day: "monday", minutes: 570 });
  });

  it("knows when the schedule next switches the wanted status (the License DO's own deadline)", () => {
    // Monday 2026-11-23, Warsaw is UTC+1: opens 08:00 UTC, closes 16:00 UTC, next opening a week later.
    expect(nextRoutingSwitch(hours, new Date("2026-11-23T07:30:20Z"))).toBe(Date.parse("2026-11-23T08:00:00Z"));
    expect(nextRoutingSwitch(hours, new Date("2026-11-23T08:00:00Z"))).toBe(Date.parse("2026-11-23T16:00:00Z"));
    expect(nextRoutingSwitch(hours, new Date("2026-11-23T16:00:00Z"))).toBe(Date.parse("2026-11-30T08:00:00Z"));
    for (const at of ["2026-11-23T07:59:00Z", "2026-11-23T08:00:00Z", "2026-11-23T15:59:00Z", "2026-11-23T16:00:00Z"]) {
      const next = nextRoutingSwitch(hours, new Date(at))!;
      // The status really changes there, and not a minute before.
      expect(desiredRoutingStatus(hours, new Date(next))).not.toBe(desiredRoutingStatus(hours, new Date(next - 60_000)));
    }
    expect(nextRoutingSwitch(null, new Date())).toBeUndefined();
    expect(nextRoutingSwitch({ ...hours, days: {} }, new Date())).toBeUndefined();
  });

  it("accepts chats inside the schedule and follows outsideStatus outside it", () => {
    expect(desiredRoutingStatus(hours, new Date("2026-11-23T08:30:00Z"))).toBe("accepting_chats");
    expect(desiredRoutingStatus(hours, new Date("2026-11-23T07:30:00Z"))).toBe("not_accepting_chats"); // 08:30 local
    expect(desiredRoutingStatus(hours, new Date("2026-11-23T16:00:00Z"))).toBe("not_accepting_chats"); // 17:00 local, end exclusive
    expect(desiredRoutingStatus(hours, new Date("2026-11-24T10:00:00Z"))).toBe("not_accepting_chats"); // Tuesday
    expect(desiredRoutingStatus({ ...hours, outsideStatus: "offline" }, new Date("2026-11-24T10:00:00Z"))).toBe("offline");
  });

  it("always accepts chats without a schedule", () => {
    expect(desiredRoutingStatus(null, new Date("2026-11-24T03:00:00Z"))).toBe("accepting_chats");
  });
});

describe("settings store: review link, limits", () => {
  const store = () => licenseStub(env, uniqueOrg("store"));

  it("a review link is cleared with null (an empty string is still not a link)", async () => {
    const license = store();
    expect((await license.updateSettings({ rating: { reviewUrl: "https://example.com/review" } })).ok).toBe(true);
    const cleared = await license.updateSettings({ rating: { reviewUrl: null } });
    expect(cleared).toMatchObject({ ok: true });
    expect((await license.settings()).rating).toEqual(defaults.rating);
    expect((await license.settings()).rating).not.toHaveProperty("reviewUrl");
    expect(await license.updateSettings({ rating: { reviewUrl: "" } })).toMatchObject({ ok: false, problems: [expect.stringMatching(/^rating\.reviewUrl: /)] });
    expect(applyPatch(defaults, settingsPatchSchema.parse({ rating: { reviewUrl: null } })).rating).toEqual(defaults.rating);
  });

  it("caps the review link at 2000 characters", async () => {
    const license = store();
    const url = (length: number) => `https://r.example/${"a".repeat(length - 18)}`;
    expect((await license.updateSettings({ rating: { reviewUrl: url(2000) } })).ok).toBe(true);
    expect(await license.updateSettings({ rating: { reviewUrl: url(2001) } })).toEqual({
      ok: false,
      problems: ["rating.reviewUrl: must be at most 2000 characters"],
    });
    expect((await license.settings()).rating.reviewUrl).toBe(url(2000));
  });

  it("refuses a good-rating message that, with the link filled in, exceeds LiveChat's message size (whichever of the two changes)", async () => {
    const license = store();
    const url = `https://r.example/${"€".repeat(1300)}`; // 1318 characters, 3918 bytes in UTF-8
    const fourTimes = "Review: {reviewUrl} {reviewUrl} {reviewUrl} {reviewUrl}";
    expect((await license.updateSettings({ rating: { reviewUrl: url } })).ok).toBe(true);
    const tooLong = await license.updateSettings({ rating: { goodMessage: `${fourTimes} {reviewUrl}` } });
    expect(tooLong).toMatchObject({ ok: false, problems: [expect.stringMatching(/^rating\.goodMessage: .*16000 bytes/)] });
    expect((await license.updateSettings({ rating: { goodMessage: fourTimes } })).ok).toBe(true);
    const longerUrl = await license.updateSettings({ rating: { reviewUrl: `${url}${"€".repeat(100)}` } });
    expect(longerUrl).toMatchObject({ ok: false, problems: [expect.stringMatching(/^rating\.goodMessage: /)] });
    expect((await license.settings()).rating).toMatchObject({ goodMessage: fourTimes, reviewUrl: url });
    const text = ratingText((await license.settings()).rating, "good");
    expect(new TextEncoder().encode(text).byteLength).toBeLessThanOrEqual(MAX_TEXT_BYTES);
  });

  it("bounds the number of tags (200) and the stored size (32 KiB) with clear problems", async () => {
    const license = store();
    const tags = (count: number, text = "Sorry!") => Object.fromEntries(Array.from({ length: count }, (_, i) => [`tag-${i}`, [text]]));
    expect((await license.updateSettings({ tagSuggestions: tags(200) })).ok).toBe(true);
    expect(await license.updateSettings({ tagSuggestions: tags(201) })).toEqual({ ok: false, problems: ["tagSuggestions: at most 200 tags"] });
    const big = await license.updateSettings({ tagSuggestions: tags(100, "x".repeat(400)) }); // ~42 KB
    expect(big).toMatchObject({ ok: false, problems: [expect.stringMatching(/^settings: .*32768 bytes/)] });
    expect(Object.keys((await license.settings()).tagSuggestions)).toHaveLength(200);
  });
});
