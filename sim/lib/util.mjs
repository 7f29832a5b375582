// Small helpers shared by every simulator module: identifiers, timestamps, cloning.
import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
const MIXED_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A random string of `length` characters from `alphabet`.
 * @param {number} length
 * @param {string} alphabet
 */
export function randomString(length, alphabet) {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Chat and thread ids look like LiveChat's: 10 upper-case alphanumerics ("PJ0MRSHTDG"). */
export const chatId = () => randomString(10, UPPER_ALNUM);
/** Registered webhook ids look like the docs' sample ("pqi8oasdjahuakndw9nsad9na"). */
export const webhookId = () => randomString(25, LOWER_ALNUM);
/** 32 hex characters: bot ids, bot secrets, client ids (LiveChat's shape). */
export const hex32 = () => randomBytes(16).toString("hex");
/** An opaque token body, url-safe. */
export const opaque = (bytes = 18) => randomBytes(bytes).toString("base64url");
/** Marketplace application ids are short ("aPbNnrwZg"). */
export const applicationId = () => randomString(9, MIXED_ALNUM);
/** UUID v4: organization, account and customer ids. */
export const uuid = () => randomUUID();
/** A license number like 104130623. */
export const licenseNumber = () => 100_000_000 + randomInt(899_999_999);

let lastMicros = 0;

/**
 * Current time as LiveChat writes it: RFC 3339, UTC, microseconds ("2020-05-07T07:11:28.288340Z").
 * Strictly increasing within the process, so events keep their order when sorted by time.
 */
export function nowMicros() {
  let micros = Date.now() * 1000;
  if (micros <= lastMicros) micros = lastMicros + 1;
  lastMicros = micros;
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // 2020-05-07T07:11:28.288Z
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, "0")}Z`;
}

/** RFC 3339 with an explicit offset, as App Webhooks write `date` ("2020-09-14T15:29:53+00:00"). */
export function nowWithOffset() {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

/**
 * A deep copy of JSON-shaped data (payloads are snapshotted when a webhook is queued).
 * @template T
 * @param {T} value
 * @returns {T}
 */
export const clone = (value) => structuredClone(value);

/** SHA-256 of a string, hex. */
export const sha256hex = (text) => createHash("sha256").update(text).digest("hex");

/**
 * True for a plain object (not an array, not null).
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parse a comma-separated list of integers ("1000,5000,20000").
 * @param {string | undefined} text
 * @param {number[]} fallback
 */
export function parseDelays(text, fallback) {
  if (!text) return fallback;
  const values = text.split(",").map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isFinite(v) || v < 0)) throw new Error(`invalid delay list "${text}"`);
  return values;
}
