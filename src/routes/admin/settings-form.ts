import type { Settings } from "../../licenses/settings";

/**
 * The dashboard's settings form: every field as text, to and from a settings patch. The patch is
 * validated by the License DO with the zod schema of src/licenses/settings.ts; this module only
 * reshapes (and reports text it cannot read, e.g. malformed working-hours JSON).
 *
 * A save changes only what the user edited: a field posted as the current settings show it, or
 * missing from the post, stays out of the patch. So suggestions the `tag: suggestion` lines cannot
 * show exactly (a line break in one, a ':' in a tag) are never rewritten by a save of other fields.
 */

/** The form's fields, as strings (what the browser posts back). */
export interface SettingsFormValues {
  replyTimeoutSeconds: string;
  replyMessage: string;
  botName: string;
  goodMessage: string;
  badMessage: string;
  /** Empty: no review link. */
  reviewUrl: string;
  /** One `tag: suggestion` per line, several lines per tag allowed. */
  tagSuggestions: string;
  /** `on` or `off`: suggestions from what the customer writes. */
  contentSuggestions: string;
  contentSuggestionThreshold: string;
  /** One `tag: keyword, keyword` per line. */
  tagKeywords: string;
  /** JSON of the working-hours schedule; empty = always accepting chats. */
  workingHours: string;
  /** "managed" or "owner" (a select). */
  routingMode: string;
}

/** The editable fields. */
const FIELDS = [
  "replyTimeoutSeconds",
  "replyMessage",
  "botName",
  "goodMessage",
  "badMessage",
  "reviewUrl",
  "tagSuggestions",
  "contentSuggestions",
  "contentSuggestionThreshold",
  "tagKeywords",
  "workingHours",
  "routingMode",
] as const;
type Field = (typeof FIELDS)[number];

/** Fields shown in single-line inputs: browsers drop line breaks from their values. */
const INPUTS: ReadonlySet<Field> = new Set(["replyTimeoutSeconds", "botName", "reviewUrl", "contentSuggestionThreshold", "routingMode"]);

/** Form values showing `settings`. */
export function formValues(settings: Settings): SettingsFormValues {
  return {
    replyTimeoutSeconds: String(settings.replyTimeoutSeconds),
    replyMessage: settings.replyMessage,
    botName: settings.botName,
    goodMessage: settings.rating.goodMessage,
    badMessage: settings.rating.badMessage,
    reviewUrl: settings.rating.reviewUrl ?? "",
    tagSuggestions: Object.entries(settings.tagSuggestions)
      .flatMap(([tag, list]) => list.map((suggestion) => `${tag}: ${suggestion}`))
      .join("\n"),
    contentSuggestions: settings.contentSuggestions ? "on" : "off",
    contentSuggestionThreshold: String(settings.contentSuggestionThreshold),
    tagKeywords: Object.entries(settings.tagKeywords)
      .map(([tag, list]) => `${tag}: ${list.join(", ")}`)
      .join("\n"),
    workingHours: settings.workingHours ? JSON.stringify(settings.workingHours, null, 2) : "",
    routingMode: settings.routingMode,
  };
}

/** The posted form's values; a field the post does not carry is absent (and is not changed). */
export function readForm(body: Record<string, unknown>): Partial<SettingsFormValues> {
  const values: Partial<SettingsFormValues> = {};
  for (const field of FIELDS) {
    const value = body[field];
    // Browsers post line breaks as CRLF.
    if (typeof value === "string") values[field] = value.replace(/\r\n?/g, "\n");
  }
  return values;
}

/**
 * The patch a submitted form (`values` as {@link readForm} reads them) asks for, or the problems
 * that prevent reading it: only the fields the user changed (compared with how the form shows
 * `current`). An emptied review link is `null` (removes the link), an empty working-hours box
 * means "always open" (null).
 */
export function formPatch(
  values: Partial<SettingsFormValues>,
  current?: Settings,
): { ok: true; patch: Record<string, unknown> } | { ok: false; problems: string[] } {
  const shown = current ? formValues(current) : undefined;
  /** The field's posted text when the user changed it. */
  const edited = (field: Field): string | undefined => {
    const posted = comparable(field, values);
    return posted === undefined || (shown && posted === comparable(field, shown)) ? undefined : values[field];
  };

  const problems: string[] = [];
  const patch: Record<string, unknown> = {};
  const rating: Record<string, unknown> = {};
  const timeout = edited("replyTimeoutSeconds")?.trim();
  if (timeout !== undefined) patch.replyTimeoutSeconds = /^\d+$/.test(timeout) ? Number(timeout) : timeout;
  for (const field of ["replyMessage", "botName", "routingMode"] as const) {
    const value = edited(field);
    if (value !== undefined) patch[field] = value;
  }
  for (const field of ["goodMessage", "badMessage"] as const) {
    const value = edited(field);
    if (value !== undefined) rating[field] = value;
  }
  const reviewUrl = edited("reviewUrl");
  if (reviewUrl !== undefined) rating.reviewUrl = reviewUrl.trim() || null;
  const tags = edited("tagSuggestions");
  if (tags !== undefined) {
    const read = tagLines(tags, "tagSuggestions", "suggestion");
    if (Array.isArray(read)) problems.push(...read);
    else patch.tagSuggestions = read;
  }
  const onOff = edited("contentSuggestions");
  if (onOff !== undefined) patch.contentSuggestions = onOff === "on" ? true : onOff === "off" ? false : onOff;
  const threshold = edited("contentSuggestionThreshold")?.trim();
  if (threshold !== undefined) patch.contentSuggestionThreshold = /^\d+(\.\d+)?$/.test(threshold) ? Number(threshold) : threshold;
  const keywords = edited("tagKeywords");
  if (keywords !== undefined) {
    const read = tagLines(keywords, "tagKeywords", "keyword, keyword");
    if (Array.isArray(read)) problems.push(...read);
    else {
      patch.tagKeywords = Object.fromEntries(
        Object.entries(read).map(([tag, lines]) => [tag, lines.flatMap((line) => line.split(",").map((k) => k.trim())).filter(Boolean)]),
      );
    }
  }
  const hours = edited("workingHours");
  if (hours !== undefined) {
    try {
      patch.workingHours = hours.trim() === "" ? null : JSON.parse(hours);
    } catch {
      problems.push("workingHours: not valid JSON");
    }
  }
  if (problems.length) return { ok: false, problems };
  // Send only what changed in value too (reformatted JSON is no change): a bot name or
  // working-hours change makes the license re-provision its bot.
  if (current) {
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    for (const key of Object.keys(patch)) if (same(patch[key], current[key as keyof Settings])) delete patch[key];
    for (const key of Object.keys(rating)) if (same(rating[key] ?? undefined, current.rating[key as keyof Settings["rating"]])) delete rating[key];
  }
  if (Object.keys(rating).length) patch.rating = rating;
  return { ok: true, patch };
}

/**
 * A field's text as the browser posts it back, for comparisons: single-line inputs lose line
 * breaks (textareas' CRLF are LF already, see {@link readForm}).
 */
function comparable(field: Field, values: Partial<SettingsFormValues>): string | undefined {
  const value = values[field];
  return value !== undefined && INPUTS.has(field) ? value.replace(/[\r\n]/g, "") : value;
}

/**
 * `tag: text` lines of `field` (split at the first ':'; blank lines ignored; a tag's lines in
 * order); the problems when unreadable, naming the line's expected `shape`.
 */
function tagLines(text: string, field: Field, shape: string): Record<string, string[]> | string[] {
  const problems: string[] = [];
  // A Map: a tag is free text, and a plain object already "has" `constructor`, `toString`…
  const tags = new Map<string, string[]>();
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) {
      problems.push(`${field}: line ${i + 1} must read "tag: ${shape}"`);
      continue;
    }
    const tag = line.slice(0, colon).trim();
    const suggestion = line.slice(colon + 1).trim();
    const list = tags.get(tag);
    if (list) list.push(suggestion);
    else tags.set(tag, [suggestion]);
  }
  return problems.length ? problems : Object.fromEntries(tags);
}
