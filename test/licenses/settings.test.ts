import { describe, expect, it } from "vitest";
import { applyPatch, defaultSettings, desiredRoutingStatus, localTime, settingsPatchSchema } from "../../src/licenses/settings";

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

describe("working hours", () => {
  const hours = settingsPatchSchema.parse({
    workingHours: { timezone: "Europe/Warsaw", days: { monday: [{ start: "09:00", end: "17:00" }] } },
  }).workingHours!;

  it("reads local time in the license's time zone", () => {
    // 2026-11-23 is a Monday; 08:30 UTC is 09:30 in Warsaw (CET, UTC+1).
    expect(localTime(new Date("2026-11-23T08:30:00Z"), "Europe/Warsaw")).toEqual({ day: "monday", minutes: 570 });
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
