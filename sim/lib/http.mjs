// HTTP plumbing for the simulator's node:http server: bodies in, JSON / HTML / redirects out.
import { ApiError } from "./errors.mjs";

/** Largest request body accepted (LiveChat's upload limit, ERR `entity_too_large`). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Read the whole request body.
 * @param {import("node:http").IncomingMessage} req
 * @returns {Promise<Buffer>}
 */
export async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError("entity_too_large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Parse a JSON body; an empty body is `{}`. Anything else that is not a JSON object is
 * LiveChat's `validation` "Wrong format of request".
 * @param {Buffer} raw
 * @returns {Record<string, any>}
 */
export function jsonBody(raw) {
  const text = raw.toString("utf8").trim();
  if (!text) return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError("validation", "Wrong format of request");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ApiError("validation", "Wrong format of request");
  return value;
}

/**
 * Parameters of an Accounts request: query string, then a JSON or form-encoded body on top
 * (the docs post form data, GAPI declares JSON, the JS SDK uses the query string: docs/LIVECHAT.md §6.2).
 * @param {URL} url
 * @param {Buffer} raw
 * @param {string | undefined} contentType
 * @returns {Record<string, string>}
 */
export function accountsParams(url, raw, contentType) {
  /** @type {Record<string, string>} */
  const params = Object.fromEntries(url.searchParams);
  const text = raw.toString("utf8").trim();
  if (!text) return params;
  if ((contentType ?? "").includes("application/json") || text.startsWith("{")) {
    const body = JSON.parse(text);
    for (const [k, v] of Object.entries(body ?? {})) if (v !== undefined && v !== null) params[k] = String(v);
  } else {
    for (const [k, v] of new URLSearchParams(text)) params[k] = v;
  }
  return params;
}

/**
 * @param {import("node:http").ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * @param {import("node:http").ServerResponse} res
 * @param {number} status
 * @param {string} body
 * @param {string} [type]
 */
export function sendText(res, status, body, type = "text/plain; charset=utf-8") {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * @param {import("node:http").ServerResponse} res
 * @param {string} location
 */
export function redirect(res, location) {
  res.writeHead(302, { location, "cache-control": "no-store", "content-length": 0 });
  res.end();
}

/** Escape text for HTML. */
export const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/**
 * A minimal HTML page.
 * @param {string} title
 * @param {string} bodyHtml
 */
export function page(title, bodyHtml) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${bodyHtml}</body></html>`;
}
