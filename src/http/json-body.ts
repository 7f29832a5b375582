import type { Context } from "hono";

/** Largest webhook body accepted (LiveChat bodies are a few KiB; incoming_chat with events more). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A body that could not be read as JSON, with the precise 4xx to answer. */
export interface BodyRejection {
  status: 400 | 413 | 415;
  type: "payload_too_large" | "unsupported_media_type" | "invalid_json";
  message: string;
}

export type JsonBody = { ok: true; value: unknown; bytes: number } | ({ ok: false } & BodyRejection);

/**
 * Read a JSON request body, cheapest checks first: declared size (413), content type (415),
 * actual size while streaming (413, for bodies without or with a lying Content-Length), JSON (400).
 *
 * @example
 * const body = await readJsonBody(c);
 * if (!body.ok) return c.json({ error: { type: body.type, message: body.message } }, body.status);
 */
export async function readJsonBody(c: Context, limit = MAX_BODY_BYTES): Promise<JsonBody> {
  const declared = Number(c.req.header("content-length") ?? NaN);
  if (declared > limit) return tooLarge(limit);
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    return { ok: false, status: 415, type: "unsupported_media_type", message: "Content-Type must be application/json" };
  }
  const bytes = await readCapped(c.req.raw, limit);
  if (!bytes) return tooLarge(limit);
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(bytes)), bytes: bytes.byteLength };
  } catch {
    return { ok: false, status: 400, type: "invalid_json", message: "Body is not valid JSON" };
  }
}

function tooLarge(limit: number): JsonBody {
  return { ok: false, status: 413, type: "payload_too_large", message: `Body exceeds ${limit} bytes` };
}

/** The whole body, or null as soon as it grows past `limit` (the rest is not read). */
async function readCapped(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
