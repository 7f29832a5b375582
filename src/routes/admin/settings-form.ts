import type { Settings } from "../../licenses/settings";

/**
 * The dashboard's settings form: every field as text, to and from a settings patch. The patch is
 * validated by the License DO with the zod schema of src/licenses/settings.ts; this module only
 * reshapes (and reports text it cannot read, e.g. malformed working-hours JSON).
 */

/** The form's fields, as strings (what the browser posts back). */
export interface SettingsFormValues {
  replyTimeoutSeconds: string;
  replyMessage: string;
  botName: string;
  goodMessage: string;
  badMessage: string;
  reviewUrl: string;
  /** One `tag: suggestion` per line; several lines per tag allowed. */
  tagSuggestions: string;
  /** JSON of the working-hours schedule; empty = always accepting chats. */
  workingHours: string;
}

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
      .flatMap(([tag, list]) => list.map((s) => `${tag}: ${s}`))
      .join("\n"),
    workingHours: settings.workingHours ? JSON.stringify(settings.workingHours, null, 2) : "",
  };
}

/** The posted form's values (missing fields are empty). */
export function readForm(body: Record<string, unknown>): SettingsFormValues {
  const text = (name: string) => (typeof body[name] === "string" ? (body[name] as string).replace(/\r\n/g, "\n") : "");
  return {
    replyTimeoutSeconds: text("replyTimeoutSeconds"),
    replyMessage: text("replyMessage"),
    botName: text("botName"),
    goodMessage: text("goodMessage"),
    badMessage: text("badMessage"),
    reviewUrl: text("reviewUrl"),
    tagSuggestions: text("tagSuggestions"),
    workingHours: text("workingHours"),
  };
}

/**
 * The patch a submitted form asks for, or the problems that prevent reading it. Every field is
 * sent (the form shows them all); an empty review link is left out (it cannot be unset), an
 * empty working-hours box means "always open" (null).
 */
export function formPatch(
  values: SettingsFormValues,
  current?: Settings,
): { ok: true; patch: Record<string, unknown> } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const timeout = values.replyTimeoutSeconds.trim();
  const tagSuggestions: Record<string, string[]> = {};
  for (const [i, line] of values.tagSuggestions.split("\n").entries()) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) {
      problems.push(`tagSuggestions: line ${i + 1} must read "tag: suggestion"`);
      continue;
    }
    const tag = line.slice(0, colon).trim();
    (tagSuggestions[tag] ??= []).push(line.slice(colon + 1).trim());
  }
  let workingHours: unknown = null;
  if (values.workingHours.trim() !== "") {
    try {
      workingHours = JSON.parse(values.workingHours);
    } catch {
      problems.push("workingHours: not valid JSON");
    }
  }
  if (problems.length) return { ok: false, problems };
  const reviewUrl = values.reviewUrl.trim();
  const patch: Record<string, unknown> = {
    replyTimeoutSeconds: /^\d+$/.test(timeout) ? Number(timeout) : timeout,
    replyMessage: values.replyMessage,
    botName: values.botName,
    rating: { goodMessage: values.goodMessage, badMessage: values.badMessage, ...(reviewUrl ? { reviewUrl } : {}) },
    tagSuggestions,
    workingHours,
  };
  // Send only what changed: a bot name or working-hours change makes the license re-provision its bot.
  if (current) {
    for (const key of Object.keys(patch)) {
      const was = (current as unknown as Record<string, unknown>)[key];
      const now = key === "rating" ? { ...current.rating, ...(patch.rating as object) } : patch[key];
      if (JSON.stringify(was) === JSON.stringify(now)) delete patch[key];
    }
  }
  return { ok: true, patch };
}
