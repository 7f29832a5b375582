// Request-body checks that answer like LiveChat: a `validation` error naming the field
// (the batch sample's message style: "`id` is required", test/fixtures/livechat/configuration.v3.6.batch_delete_agents.response.json).
import { invalid } from "./errors.mjs";
import { isObject } from "./util.mjs";

/**
 * @param {Record<string, any>} body
 * @param {string} key
 * @returns {string}
 */
export function requireString(body, key) {
  const value = body[key];
  if (value === undefined || value === null || value === "") throw invalid(`\`${key}\` is required`);
  if (typeof value !== "string") throw invalid(`\`${key}\` must be a string`);
  return value;
}

/**
 * @param {Record<string, any>} body
 * @param {string} key
 * @returns {string | undefined}
 */
export function optionalString(body, key) {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid(`\`${key}\` must be a string`);
  return value;
}

/**
 * @param {Record<string, any>} body
 * @param {string} key
 * @returns {boolean | undefined}
 */
export function optionalBool(body, key) {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalid(`\`${key}\` must be a boolean`);
  return value;
}

/**
 * @param {Record<string, any>} body
 * @param {string} key
 * @param {{ min?: number, max?: number }} [range]
 * @returns {number | undefined}
 */
export function optionalInt(body, key, range = {}) {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value)) throw invalid(`\`${key}\` must be an integer`);
  if (range.min !== undefined && value < range.min) throw invalid(`\`${key}\` must be at least ${range.min}`);
  if (range.max !== undefined && value > range.max) throw invalid(`\`${key}\` must be at most ${range.max}`);
  return value;
}

/**
 * @template {string} T
 * @param {Record<string, any>} body
 * @param {string} key
 * @param {readonly T[]} allowed
 * @param {{ required?: boolean }} [options]
 * @returns {T | undefined}
 */
export function oneOf(body, key, allowed, options = {}) {
  const value = body[key];
  if (value === undefined || value === null) {
    if (options.required) throw invalid(`\`${key}\` is required`);
    return undefined;
  }
  if (!allowed.includes(value)) throw invalid(`\`${key}\` must be one of: ${allowed.join(", ")}`);
  return value;
}

/**
 * @param {Record<string, any>} body
 * @param {string} key
 * @param {{ required?: boolean }} [options]
 * @returns {Record<string, any> | undefined}
 */
export function optionalObject(body, key, options = {}) {
  const value = body[key];
  if (value === undefined || value === null) {
    if (options.required) throw invalid(`\`${key}\` is required`);
    return undefined;
  }
  if (!isObject(value)) throw invalid(`\`${key}\` must be an object`);
  return value;
}

/**
 * An array of strings (or undefined).
 * @param {Record<string, any>} body
 * @param {string} key
 * @returns {string[] | undefined}
 */
export function optionalStrings(body, key) {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw invalid(`\`${key}\` must be an array of strings`);
  return value;
}

/**
 * Properties to set: `{namespace: {name: value}}` (docs/LIVECHAT.md §4.4).
 * @param {unknown} value
 * @returns {Record<string, Record<string, unknown>>}
 */
export function propertiesToSet(value) {
  if (!isObject(value) || Object.keys(value).length === 0) throw invalid("`properties` is required");
  for (const [ns, values] of Object.entries(value)) {
    if (!isObject(values) || Object.keys(values).length === 0) throw invalid(`\`properties.${ns}\` must be an object of properties`);
  }
  return value;
}

/**
 * Properties to delete: `{namespace: [names]}`.
 * @param {unknown} value
 * @returns {Record<string, string[]>}
 */
export function propertiesToDelete(value) {
  if (!isObject(value) || Object.keys(value).length === 0) throw invalid("`properties` is required");
  for (const [ns, names] of Object.entries(value)) {
    if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== "string")) {
      throw invalid(`\`properties.${ns}\` must be an array of property names`);
    }
  }
  return value;
}

/**
 * Reject keys a method does not know (LiveChat answers `validation` for them).
 * @param {Record<string, any>} body
 * @param {string[]} known
 */
export function noUnknownKeys(body, known) {
  const extra = Object.keys(body).filter((k) => !known.includes(k));
  if (extra.length) throw invalid(`Unknown field \`${extra[0]}\``);
}
