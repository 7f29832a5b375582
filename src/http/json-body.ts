/** Largest webhook body accepted (bytes). LiveChat payloads are a few KiB; 1 MiB leaves room for big chats. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A body that could not be read as JSON, with the precise 4xx to answer. */
export interface BodyRejection {
  status: 400 | 413 | 415;
  type: "payload_too_large" | "unsupported_media_type" | "invalid_json";
  message: string;
}

/** Strict UTF-8: invalid bytes are a 400, not U+FFFD. Reusable: a non-streaming decode() starts afresh. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export type JsonBody = { ok: true; value: unknown; text: string; bytes: number } | ({ ok: false } & BodyRejection);

/**
 * Read a JSON request body, cheapest checks first: declared size (413), content type (415),
 * actual size while streaming (413, for bodies without or with a lying Content-Length), UTF-8
 * and JSON (400). Shared by every JSON endpoint so they answer bad input the same way.
 *
 * @example
 * const body = await readJsonBody(c.req.raw);
 * if (!body.ok) return c.json({ error: { type: body.type, message: body.message } }, body.status);
 */
export async function readJsonBody(request: Request, limit = MAX_BODY_BYTES): Promise<JsonBody> {
  const declared = request.headers.get("content-length");
  if (declared !== null && !(Number(declared) <= limit)) return tooLarge(limit);
  // docs/LIVECHAT.md §1.1: LiveChat sends Content-Type: application/json.
  if (!isJsonContentType(request.headers.get("content-type"))) {
    return { ok: false, status: 415, type: "unsupported_media_type", message: "Content-Type must be application/json" };
  }
  // With a declared length (checked above) HTTP framing bounds the body, so it is read in one
  // piece (cheaper than the streaming read on every ack, `npm run bench:profile`); only a body
  // without one (chunked) is streamed and cut off at the limit. An in-process caller whose stream
  // outgrows its declared length is still answered 413, after the read.
  const bytes = declared !== null ? new Uint8Array(await request.arrayBuffer()) : await readCapped(request, limit);
  if (!bytes || bytes.byteLength > limit) return tooLarge(limit);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return invalid("Body is not valid UTF-8");
  }
  try {
    return { ok: true, value: JSON.parse(text), text, bytes: bytes.byteLength };
  } catch {
    return invalid(text.trim() === "" ? "Body is empty" : "Body is not valid JSON");
  }
}

/** `application/json`, optionally with `charset=utf-8` (any case, optionally quoted). */
export function isJsonContentType(value: string | null): boolean {
  if (!value) return false;
  const [type, ...params] = value.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((p) => {
    if (p === "") return true;
    const [name, raw = ""] = p.split("=").map((s) => s.trim());
    return name !== "charset" || ["utf-8", "utf8"].includes(raw.replace(/^"(.*)"$/, "$1"));
  });
}

/**
 * How much more of a streamed body over its cap is read and dropped before the stream is
 * cancelled: a body read in part and then cancelled breaks `wrangler dev` for the requests after
 * it (docs/TOOLCHAIN.md G17), reading on costs no memory, and this bounds what it costs.
 */
export const DRAIN_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The body's bytes, or undefined once more than `max` bytes arrived (nothing more is kept, so a
 * body without Content-Length, e.g. chunked, cannot make the Worker buffer more than `max`; the
 * rest is drained, up to {@link DRAIN_MAX_BYTES}, then cancelled).
 */
export async function readCapped(request: Request, max: number): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      // Read on and drop the rest (the stream's end reads no value and stops the loop), up to
      // DRAIN_MAX_BYTES, then cancel (docs/TOOLCHAIN.md G17); a client gone meanwhile gets its 413 too.
      try {
        for (let left = DRAIN_MAX_BYTES; left > 0; left -= (await reader.read()).value?.byteLength ?? left);
        await reader.cancel();
      } catch {}
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function tooLarge(limit: number): JsonBody {
  return { ok: false, status: 413, type: "payload_too_large", message: `Body exceeds ${limit} bytes` };
}

function invalid(message: string): JsonBody {
  return { ok: false, status: 400, type: "invalid_json", message };
}
