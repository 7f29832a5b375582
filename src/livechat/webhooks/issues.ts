/**
 * Short, log-safe summaries of validation issues: `path: problem`, at most a few issues, capped
 * in length. Input values are never printed (only their JSON type), so a payload cannot smuggle
 * a secret or a huge string into logs or the delivery record through an error message.
 */

/** The subset of a zod issue this module reads (structural, so it works for nested union errors). */
export interface IssueLike {
  code?: string;
  path?: readonly PropertyKey[];
  message?: string;
  expected?: unknown;
  input?: unknown;
  values?: readonly unknown[];
  origin?: string;
  minimum?: unknown;
  maximum?: unknown;
  errors?: readonly (readonly IssueLike[])[];
  issues?: readonly IssueLike[];
}

/** Longest summary returned by {@link summarizeIssues}. */
export const MAX_SUMMARY_LENGTH = 300;
const MAX_ISSUES = 3;
const MAX_SEGMENT = 40;

/** JSON type name of a value, for "expected X, got Y" (never the value itself). */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Path segments are payload keys (record keys included): clip them and drop control characters. */
function segment(key: PropertyKey): string {
  const text = typeof key === "symbol" ? "(symbol)" : String(key);
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  return clean.length > MAX_SEGMENT ? `${clean.slice(0, MAX_SEGMENT)}…` : clean;
}

/** `chat.thread.events[0].id`; `(payload)` for the root. */
export function formatPath(path: readonly PropertyKey[] | undefined, root = "payload"): string {
  if (!path || path.length === 0) return `(${root})`;
  let out = "";
  for (const key of path.slice(0, 12)) {
    out += typeof key === "number" ? `[${key}]` : `${out ? "." : ""}${segment(key)}`;
  }
  return path.length > 12 ? `${out}…` : out;
}

function deepestPath(issues: readonly IssueLike[]): number {
  let max = -1;
  for (const issue of issues) max = Math.max(max, issue.path?.length ?? 0);
  return max;
}

/** For a union, report the alternative that got furthest (longest issue path); the first on ties. */
function bestUnionBranch(issue: IssueLike): readonly IssueLike[] | undefined {
  let best: readonly IssueLike[] | undefined;
  let bestDepth = -1;
  for (const branch of issue.errors ?? []) {
    const depth = deepestPath(branch);
    if (branch.length > 0 && depth > bestDepth) {
      best = branch;
      bestDepth = depth;
    }
  }
  return best;
}

function describe(issue: IssueLike): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? "required" : `expected ${String(issue.expected)}, got ${jsonTypeOf(issue.input)}`;
    case "invalid_value": {
      const values = (issue.values ?? []).slice(0, 5).map((v) => JSON.stringify(v) ?? String(v));
      return `expected ${values.join(" | ")}`;
    }
    case "too_small":
      return issue.origin === "string" && issue.minimum === 1 ? "must not be empty" : `too small (minimum ${String(issue.minimum)})`;
    case "too_big":
      return `too big (maximum ${String(issue.maximum)}${issue.origin === "string" ? " characters" : ""})`;
    case "invalid_format":
      return "invalid format";
    case "invalid_key":
      return "invalid key";
    case "invalid_element":
      return "invalid element";
    case "invalid_union":
      return "matches none of the allowed shapes";
    case "custom":
      return issue.message && issue.message !== "Invalid input" ? issue.message : "invalid";
    default:
      return "invalid";
  }
}

/** Issues flattened to leaves, expanding union alternatives and record-key issues. */
function leaves(issues: readonly IssueLike[], prefix: readonly PropertyKey[], out: { path: PropertyKey[]; issue: IssueLike }[], depth = 0): void {
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path ?? [])];
    const nested = issue.code === "invalid_union" ? bestUnionBranch(issue) : issue.issues;
    if (nested && nested.length > 0 && depth < 8) leaves(nested, path, out, depth + 1);
    else out.push({ path, issue });
  }
}

/**
 * A one-line summary of validation issues: `"event.text: required; chat.id: expected string, got number"`,
 * at most three issues (`(+N more)`), at most {@link MAX_SUMMARY_LENGTH} characters.
 */
export function summarizeIssues(issues: readonly IssueLike[], root = "payload"): string {
  const flat: { path: PropertyKey[]; issue: IssueLike }[] = [];
  leaves(issues, [], flat);
  if (flat.length === 0) return `${root}: invalid`;
  const parts = flat.slice(0, MAX_ISSUES).map(({ path, issue }) => `${formatPath(path, root)}: ${describe(issue)}`);
  let text = parts.join("; ");
  if (flat.length > MAX_ISSUES) text += ` (+${flat.length - MAX_ISSUES} more)`;
  return text.length > MAX_SUMMARY_LENGTH ? `${text.slice(0, MAX_SUMMARY_LENGTH - 1)}…` : text;
}
