import * as z from "zod/mini";
import type { Config } from "../config";
import { MAX_TEXT_BYTES } from "../livechat/schemas/events";

/**
 * Per-license settings (docs/ARCHITECTURE.md: "Everything configurable per license lives in the
 * License DO, with defaults from vars, and is editable through the admin API").
 * Stored as overrides; reads merge them over the defaults.
 */

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
export type Weekday = (typeof DAYS)[number];

const time = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, "time must be HH:MM (00:00–24:00)"));
const interval = z
  .object({ start: time, end: time })
  .check(z.refine((i) => i.start < i.end, "an interval must end after it starts"));

const timezone = z.string().check(
  z.refine((tz) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, "unknown IANA time zone"),
);

/** Weekly schedule in the license's time zone; outside it the bot goes to `outsideStatus`. */
export const workingHoursSchema = z.object({
  timezone,
  days: z.partialRecord(z.enum(DAYS), z.array(interval).check(z.maxLength(6))),
  outsideStatus: z._default(z.enum(["not_accepting_chats", "offline"]), "not_accepting_chats"),
});
export type WorkingHours = z.infer<typeof workingHoursSchema>;

/** Most tags with suggestions per license. */
export const MAX_TAGS = 200;
/** Most keywords per tag. */
export const MAX_KEYWORDS = 30;
/**
 * Default content-suggestion threshold: at it, the labelled set (test/fixtures/suggestions,
 * `npm run bench:suggestions`) gets precision ≥ 0.9 (docs/SUGGESTIONS.md "Quality, measured").
 */
export const DEFAULT_SUGGESTION_THRESHOLD = 0.5;
/**
 * Largest stored settings (UTF-8 bytes of their JSON). Every Chat DO holds and parses the whole
 * snapshot per read, and storage.put fails far above this (about 2 MB).
 */
export const MAX_SETTINGS_BYTES = 32 * 1024;
/** Longest review link (characters). */
export const MAX_REVIEW_URL_LENGTH = 2000;

const text = (max: number) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));
const httpsUrl = z
  .string()
  .check(
    z.maxLength(MAX_REVIEW_URL_LENGTH, `must be at most ${MAX_REVIEW_URL_LENGTH} characters`),
    z.refine((v) => /^https?:\/\/\S+$/.test(v), "must be an http(s) URL"),
  );

/** Values of `routingMode`. */
export const ROUTING_MODES = ["managed", "owner"] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

/** Every setting with its value; what handlers read. */
export const settingsSchema = z.object({
  /** Seconds a customer may wait for an agent before the bot nudges. */
  replyTimeoutSeconds: z.number().check(z.int(), z.gte(5), z.lte(86_400)),
  /** What the bot tells a customer nobody answered in time (visible to the customer). */
  replyMessage: text(2000),
  /** Tag → canned responses the bot suggests to agents when a thread is tagged. */
  tagSuggestions: z
    .record(text(100), z.array(text(2000)).check(z.maxLength(10)))
    .check(z.refine((tags) => Object.keys(tags).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`)),
  // ── Suggestions from what the customer writes (src/bot/content-suggestions.ts) ──
  /** Suggest the tags' canned responses from the customers' messages, agents-only. */
  contentSuggestions: z.boolean(),
  /** Lowest match score suggested (src/bot/content-match/score.ts: 1 is one distinctive word, fully). */
  contentSuggestionThreshold: z.number().check(z.gte(0.05), z.lte(10)),
  /** Tag → words that mean it, in any language, matched besides its name and responses. */
  tagKeywords: z
    .record(text(100), z.array(text(100)).check(z.maxLength(MAX_KEYWORDS)))
    .check(z.refine((tags) => Object.keys(tags).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`)),
  // ── end of content suggestions ──
  rating: z.object({
    /** Agents-only suggestion after a good rating; `{reviewUrl}` is replaced with the link. */
    goodMessage: text(2000),
    /** Agents-only suggestion after a bad rating. */
    badMessage: text(2000),
    reviewUrl: z.optional(httpsUrl),
  }),
  /** Null: always accepting chats. */
  workingHours: z.nullable(workingHoursSchema),
  /** Display name of the license's bot. */
  botName: text(60),
  /**
   * Who decides the bot's routing status. `managed`: the app keeps it as `workingHours` want and
   * heals any other status, whoever set it. `owner`: the app sets it when it provisions the bot,
   * then follows what the license owner (Agent App) or LiveChat's bot working hours set, never
   * overriding it (docs/LIVECHAT.md §1.5: the bot's status decides which bot webhooks arrive).
   */
  routingMode: z.enum(ROUTING_MODES),
});
export type Settings = z.infer<typeof settingsSchema>;

/**
 * A partial update, validated field by field (nested objects replace as a whole except `rating`).
 * `rating.reviewUrl: null` removes the link.
 */
export const settingsPatchSchema = z.partial(
  z.object({
    ...settingsSchema.shape,
    rating: z.partial(z.object({ ...settingsSchema.shape.rating.shape, reviewUrl: z.nullable(httpsUrl) })),
  }),
);
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

/** Defaults for a license that changed nothing; the reply timeout comes from REPLY_TIMEOUT_SECONDS. */
export function defaultSettings(config: Pick<Config, "replyTimeoutSeconds">): Settings {
  return {
    replyTimeoutSeconds: config.replyTimeoutSeconds,
    replyMessage: "Thanks for your patience! Everyone is busy right now, but an agent will be with you shortly.",
    tagSuggestions: {},
    contentSuggestions: true,
    contentSuggestionThreshold: DEFAULT_SUGGESTION_THRESHOLD,
    tagKeywords: {},
    rating: {
      goodMessage: "The customer rated this chat as good. Consider asking them for a review: {reviewUrl}",
      badMessage: "The customer rated this chat as bad. Consider asking what went wrong and how to make it right.",
    },
    workingHours: null,
    botName: "Assistant",
    routingMode: "managed",
  };
}

/** Apply a validated patch to current settings. */
export function applyPatch(current: Settings, patch: SettingsPatch): Settings {
  return {
    ...current,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    rating: mergeRating(current.rating, patch.rating),
  } as Settings;
}

type RatingPatch = NonNullable<SettingsPatch["rating"]>;

/** `patch` over `rating`, field by field; a null review link removes the link. */
function mergeRating(rating: RatingPatch, patch: RatingPatch | undefined): RatingPatch {
  const merged = { ...rating, ...stripUndefined(patch ?? {}) };
  // No default link exists, so dropping the key is "no link" both as an override and merged.
  if (merged.reviewUrl === null) delete merged.reviewUrl;
  return merged;
}

/**
 * The rating suggestion for `score` as configured: what the bot sends (src/bot/rating-reaction.ts)
 * and what validation measures. In the good message `{reviewUrl}` becomes the link; without a
 * configured link, each sentence or line holding the placeholder is dropped with the space or
 * line break after it.
 */
export function ratingMessage(rating: Settings["rating"], score: "good" | "bad"): string {
  if (score === "bad") return rating.badMessage;
  const url = rating.reviewUrl;
  // A replacer function: a replacement string would expand `$&`, `$'`… found in the URL.
  if (url) return rating.goodMessage.replaceAll("{reviewUrl}", () => url);
  // Split into sentence, separator, sentence…: a separator is a line break (with the blanks
  // around it) or the blanks after a sentence's end.
  const parts = rating.goodMessage.split(/(\s*\n\s*|(?<=[.!?])\s+)/);
  let kept = "";
  for (let i = 0; i < parts.length; i += 2) {
    if (!parts[i].includes("{reviewUrl}")) kept += parts[i] + (parts[i + 1] ?? "");
  }
  return kept.trim() || "The customer rated this chat as good.";
}

/**
 * What the field schemas cannot see: limits of the settings as a whole. Each rating message, as
 * the bot renders it (with the review link, however often the message names it), must fit one
 * LiveChat message (MAX_TEXT_BYTES; rendered by {@link ratingMessage}, as the bot sends it, so
 * the two cannot disagree), and the stored overrides must stay within MAX_SETTINGS_BYTES.
 */
function settingsProblems(settings: Settings, stored: SettingsPatch): string[] {
  const problems: string[] = [];
  const encoder = new TextEncoder();
  for (const score of ["good", "bad"] as const) {
    const bytes = encoder.encode(ratingMessage(settings.rating, score)).byteLength;
    if (bytes > MAX_TEXT_BYTES) {
      problems.push(`rating.${score}Message: ${bytes} bytes with the review link filled in; at most ${MAX_TEXT_BYTES} bytes`);
    }
  }
  const size = encoder.encode(JSON.stringify(stored)).byteLength;
  if (size > MAX_SETTINGS_BYTES) {
    problems.push(`settings: ${size} bytes as stored; at most ${MAX_SETTINGS_BYTES} bytes`);
  }
  return problems;
}

/** Settings persisted in the License DO's storage. */
export class SettingsStore {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly defaults: () => Settings,
  ) {}

  /** Current settings: stored overrides over the defaults. */
  async get(): Promise<Settings> {
    const stored = await this.storage.get<SettingsPatch>("settings");
    return stored ? applyPatch(this.defaults(), stored) : this.defaults();
  }

  /**
   * Validate and store a patch. Returns the new settings, or the validation problems
   * (path + message) when the patch is rejected.
   */
  async update(patch: unknown): Promise<{ ok: true; settings: Settings } | { ok: false; problems: string[] }> {
    const parsed = settingsPatchSchema.safeParse(patch);
    if (!parsed.success) {
      return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join(".") || "settings"}: ${i.message}`) };
    }
    const stored = (await this.storage.get<SettingsPatch>("settings")) ?? {};
    const merged: SettingsPatch = { ...stored, ...stripUndefined(parsed.data) };
    if (parsed.data.rating) merged.rating = mergeRating(stored.rating ?? {}, parsed.data.rating);
    // Checked here, on the result, so every writer (API, dashboard form, scripts) meets the limits.
    const settings = applyPatch(this.defaults(), merged);
    const problems = settingsProblems(settings, merged);
    if (problems.length) return { ok: false, problems };
    await this.storage.put("settings", merged);
    return { ok: true, settings };
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The weekday and minutes since midnight of `at` in `timezone`. */
export function localTime(at: Date, timezone: string): { day: Weekday; minutes: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: timezone,
    weekday: "long",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return { day: get("weekday").toLowerCase() as Weekday, minutes: Number(get("hour")) * 60 + Number(get("minute")) };
}

/**
 * The routing status the bot should have at `at`: `accepting_chats` without a schedule or
 * inside it, the schedule's `outsideStatus` otherwise.
 */
export function desiredRoutingStatus(hours: WorkingHours | null, at: Date): "accepting_chats" | "not_accepting_chats" | "offline" {
  if (!hours) return "accepting_chats";
  const { day, minutes } = localTime(at, hours.timezone);
  const open = (hours.days[day] ?? []).some((i) => minutes >= toMinutes(i.start) && minutes < toMinutes(i.end));
  return open ? "accepting_chats" : hours.outsideStatus;
}

const WEEK_MINUTES = 7 * 1440;

/**
 * When the working hours next switch the wanted routing status after `at` (ms), or undefined
 * without a schedule: the nearest interval start or end, in the license's time zone. Computed
 * from the local weekday and minute, so across a daylight-saving change it may be an hour off;
 * the deadline at that time re-checks and re-arms itself.
 *
 * @example
 * nextRoutingSwitch({ timezone: "UTC", days: { monday: [{ start: "09:00", end: "17:00" }] }, outsideStatus: "offline" }, new Date("2026-12-07T08:30:00Z"));
 * // Date.parse("2026-12-07T09:00:00Z") (a Monday)
 */
export function nextRoutingSwitch(hours: WorkingHours | null, at: Date): number | undefined {
  if (!hours) return undefined;
  const { day, minutes } = localTime(at, hours.timezone);
  const now = DAYS.indexOf(day) * 1440 + minutes;
  let soonest: number | undefined;
  for (const [i, name] of DAYS.entries()) {
    for (const interval of hours.days[name] ?? []) {
      for (const boundary of [toMinutes(interval.start), toMinutes(interval.end)]) {
        const ahead = (((i * 1440 + boundary - now) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES || WEEK_MINUTES;
        if (soonest === undefined || ahead < soonest) soonest = ahead;
      }
    }
  }
  return soonest === undefined ? undefined : at.getTime() - (at.getTime() % 60_000) + soonest * 60_000;
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}
