import { isLicenseNumber, isRecord, MAX_ID_LENGTH } from "./schemas/common";

/**
 * The webhook envelope, identical in v3.5 and v3.6 (docs/LIVECHAT.md §1.2):
 * `webhook_id`, `secret_key`, `action`, `organization_id` (v3.3 and older: numeric `license_id`),
 * `payload` (object; array for `auto_accesses_updated`), `additional_data`, and in v3.6 `requester`.
 */
export interface Envelope {
  webhookId: string;
  /** The shared secret echoed in every body (docs/LIVECHAT.md §1.3). Compare with `secretMatches`, never log or store it. */
  secretKey: string;
  /** The raw `action` string; `parseAction` resolves aliases. */
  action: string;
  /** `organization_id`, or `String(license_id)` for v3.3-style bodies. */
  organizationId: string;
  /** Numeric `license_id` when the body carried one. */
  licenseId?: number;
  payload: unknown;
  additionalData?: Record<string, unknown>;
  /** v3.6 configuration webhooks: who triggered the change (docs/LIVECHAT.md §1.2). */
  requester?: { user_id?: string; account_id?: string; client_id?: string };
}

/** Deepest nesting of objects/arrays accepted in a body (LiveChat payloads are < 10 levels deep). */
export const MAX_BODY_DEPTH = 128;
/** Longest `secret_key` accepted (bounds the constant-time comparison). */
export const MAX_SECRET_LENGTH = 1024;
const MAX_ACTION_LENGTH = 128;

/** Depth of nested objects/arrays, computed iteratively; stops counting once `limit` is exceeded. */
export function nestingDepth(value: unknown, limit = MAX_BODY_DEPTH): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return max;
}

function stringProblem(value: unknown, max: number): string | undefined {
  if (value === undefined || value === null) return "missing";
  if (typeof value !== "string") return "expected a string";
  if (value.length === 0) return "empty";
  if (value.length > max) return `longer than ${max} characters`;
  return undefined;
}

/** v3.6 `requester`: its id fields that are short strings (docs/LIVECHAT.md §1.2); `undefined` when not an object. */
export function pickRequester(value: unknown): Envelope["requester"] {
  if (!isRecord(value)) return undefined;
  const out: NonNullable<Envelope["requester"]> = {};
  for (const key of ["user_id", "account_id", "client_id"] as const) {
    const v = value[key];
    if (typeof v === "string" && v.length <= MAX_ID_LENGTH) out[key] = v;
  }
  return out;
}

/**
 * Validate the envelope of a parsed JSON body (docs/LIVECHAT.md §1.2). Never throws.
 *
 * Required: `webhook_id`, `secret_key`, `action` (strings), `organization_id` (string) or a
 * numeric `license_id` (then `organizationId = String(license_id)`), and `payload` (object or array).
 * Malformed optional metadata (`additional_data`, `requester`) is dropped, not fatal. The error names
 * every bad field and never echoes a value (so never the secret).
 */
export function parseEnvelope(body: unknown): { ok: true; envelope: Envelope } | { ok: false; error: string } {
  try {
    if (!isRecord(body)) return { ok: false, error: "body: expected a JSON object" };
    const problems: string[] = [];
    const check = (field: string, max: number) => {
      const problem = stringProblem(body[field], max);
      if (problem) problems.push(`${field}: ${problem}`);
    };
    check("webhook_id", MAX_ID_LENGTH);
    check("secret_key", MAX_SECRET_LENGTH);
    check("action", MAX_ACTION_LENGTH);

    const org = body.organization_id;
    const lic = body.license_id;
    const licenseId = isLicenseNumber(lic) ? lic : undefined;
    let organizationId: string | undefined;
    if (org !== undefined && org !== null) {
      const problem = stringProblem(org, MAX_ID_LENGTH);
      if (problem) problems.push(`organization_id: ${problem}`);
      else organizationId = org as string;
    } else if (lic !== undefined && lic !== null) {
      if (licenseId === undefined) problems.push("license_id: expected a positive integer");
      else organizationId = String(licenseId);
    } else {
      problems.push("organization_id: missing (or numeric license_id)");
    }

    const payload = body.payload;
    if (payload === undefined || payload === null) problems.push("payload: missing");
    else if (typeof payload !== "object") problems.push("payload: expected an object or array");

    if (problems.length === 0 && nestingDepth(body) > MAX_BODY_DEPTH) {
      problems.push(`body: nested deeper than ${MAX_BODY_DEPTH} levels`);
    }
    if (problems.length > 0) return { ok: false, error: problems.join("; ") };

    const envelope: Envelope = {
      webhookId: body.webhook_id as string,
      secretKey: body.secret_key as string,
      action: body.action as string,
      organizationId: organizationId!,
      payload,
    };
    if (licenseId !== undefined) envelope.licenseId = licenseId;
    if (isRecord(body.additional_data)) envelope.additionalData = body.additional_data;
    const requester = pickRequester(body.requester);
    if (requester) envelope.requester = requester;
    return { ok: true, envelope };
  } catch {
    // Only reachable with exotic objects (getters, proxies); JSON.parse output cannot throw here.
    return { ok: false, error: "body: unreadable" };
  }
}

/** Any spelling of `secret_key` that {@link redactEnvelope} drops (`u` folds e.g. the Kelvin sign as `toLowerCase` does). */
const SECRET_KEY_TEXT = /secret_key/giu;
/** A `\u` escape of an ASCII letter or `_`: the only way a key could spell `secret_key` unseen by {@link SECRET_KEY_TEXT}. */
const ESCAPED_LETTER = /\\u00[4-7][0-9a-f]/i;

/**
 * The webhook body to store: its JSON text as received, without the envelope's `secret_key`
 * member, or any other `secret_key` at any depth (docs/ARCHITECTURE.md "Secrets stay secret").
 * `body` is `text` parsed, with a string `secret_key` (the envelope was checked). Cut out of the
 * text, not serialised again: in a LiveChat body the only `secret_key` is the envelope's, written
 * plainly. Any other (a nested one, a message quoting the name, a duplicate key, an escaped
 * spelling) takes the slow way: the body copied without them ({@link redactEnvelope}) and serialised.
 *
 * @example
 * storedBody('{"webhook_id":"w","secret_key":"s","action":"a"}', parsed) // '{"webhook_id":"w","action":"a"}'
 */
export function storedBody(text: string, body: Record<string, unknown>): string {
  SECRET_KEY_TEXT.lastIndex = 0;
  const first = SECRET_KEY_TEXT.exec(text);
  const only = first !== null && SECRET_KEY_TEXT.exec(text) === null;
  if (only && text.startsWith('"secret_key"', first.index - 1) && !ESCAPED_LETTER.test(text)) {
    const cut = withoutMember(text, first.index - 1);
    if (cut !== undefined) return cut;
  }
  return JSON.stringify(redactEnvelope(body));
}

/**
 * A stored body (`storedBody`) with `organization_id` set: for a body that named its license only
 * by `license_id` and was routed by the organization that id maps to, so that its processing reads
 * the same license. The member is added last, so it wins over an `organization_id: null`.
 */
export function withOrganizationId(stored: string, organizationId: string): string {
  const end = stored.lastIndexOf("}");
  return `${stored.slice(0, end)},"organization_id":${JSON.stringify(organizationId)}${stored.slice(end)}`;
}

const isSpace = (code: number) => code === 32 || code === 10 || code === 13 || code === 9;

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/**
 * `text` without the object member whose key starts at `keyStart` and whose value is a string, with
 * one comma next to it; undefined when the text there is not shaped so (then the caller serialises).
 */
function withoutMember(text: string, keyStart: number): string | undefined {
  let i = skipSpace(text, keyStart + 12); // after the quoted key
  if (text.charCodeAt(i) !== 58 /* : */) return undefined;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) !== 34 /* " */) return undefined;
  for (i++; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 92 /* \ */) i++;
    else if (code === 34) break;
  }
  if (i >= text.length) return undefined;
  const after = skipSpace(text, i + 1);
  if (text.charCodeAt(after) === 44 /* , */) return text.slice(0, keyStart) + text.slice(skipSpace(text, after + 1));
  let before = keyStart - 1;
  while (before >= 0 && isSpace(text.charCodeAt(before))) before--;
  const prev = text.charCodeAt(before);
  if (prev === 44) return text.slice(0, before) + text.slice(after);
  if (prev === 123 /* { */) return text.slice(0, keyStart) + text.slice(after);
  return undefined;
}

/**
 * A deep copy of a webhook body without any `secret_key` (at any depth, any letter case), for
 * storing deliveries. Iterative, so arbitrarily deep bodies cannot overflow the stack; keys such
 * as `__proto__` are copied as plain data. Never throws.
 */
export function redactEnvelope(body: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  if (!isRecord(body)) return root;
  const stack: [source: object, target: Record<string, unknown> | unknown[]][] = [[body, root]];
  while (stack.length > 0) {
    const [source, target] = stack.pop()!;
    const entries: [string | number, unknown][] = Array.isArray(source)
      ? source.map((v, i) => [i, v])
      : Object.entries(source);
    for (const [key, value] of entries) {
      if (typeof key === "string" && key.toLowerCase() === "secret_key") continue;
      let copy: unknown = value;
      if (typeof value === "object" && value !== null) {
        copy = Array.isArray(value) ? new Array(value.length) : {};
        stack.push([value, copy as Record<string, unknown> | unknown[]]);
      }
      Object.defineProperty(target, key, { value: copy, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}
