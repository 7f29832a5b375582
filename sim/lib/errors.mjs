// Error shapes of the two LiveChat surfaces the simulator imitates.
//
// Web APIs (Configuration, Agent Chat): {"error":{"type","message","data"?}} (docs/LIVECHAT.md §3.6 / C36 "Errors").
// Accounts (OAuth): {"error":"<code>","error_description":"…"} (docs/LIVECHAT.md §6.2 / GAPI, TRB).
// LiveChat does not document HTTP statuses for v3.x errors; the mapping below is the simulator's
// choice (see README "Deviations").

/** Default message per error type, from LiveChat's ERRORS table (ERR, src/constants/index.js). */
const DEFAULT_MESSAGES = {
  authentication: "Authentication error",
  authorization: "Authorization error",
  already_exists: "Already exists",
  chat_inactive: "No active chat thread",
  entity_too_large: "Upload limit exceeded (10MB).",
  group_not_found: "Group not found",
  internal: "Internal server error",
  limit_reached: "Limit reached",
  license_not_found: "License not found",
  misdirected_request: "Wrong region",
  not_found: "Not found",
  request_timeout: "Request timed out",
  service_unavailable: "Service unavailable",
  too_many_requests: "Too many requests",
  unsupported_version: "Unsupported version",
  validation: "Wrong format of request",
};

/** HTTP status the simulator answers with, per error type. */
const STATUS = {
  authentication: 401,
  authorization: 403,
  already_exists: 409,
  chat_inactive: 400,
  entity_too_large: 413,
  group_not_found: 404,
  internal: 500,
  limit_reached: 400,
  license_not_found: 404,
  misdirected_request: 421,
  not_found: 404,
  request_timeout: 504,
  service_unavailable: 503,
  too_many_requests: 429,
  unsupported_version: 400,
  validation: 400,
};

/** Error type LiveChat would name for a bare HTTP status (used by injected faults). */
const TYPE_FOR_STATUS = {
  400: "validation",
  401: "authentication",
  403: "authorization",
  404: "not_found",
  413: "entity_too_large",
  421: "misdirected_request",
  429: "too_many_requests",
  500: "internal",
  503: "service_unavailable",
  504: "request_timeout",
};

/** A Web API error: serialised as `{"error":{"type","message","data"?}}`. */
export class ApiError extends Error {
  /**
   * @param {string} type LiveChat error type, e.g. "validation"
   * @param {string} [message] defaults to LiveChat's message for the type
   * @param {{ status?: number, data?: Record<string, unknown> }} [options]
   */
  constructor(type, message, options = {}) {
    super(message ?? DEFAULT_MESSAGES[type] ?? type);
    this.type = type;
    this.status = options.status ?? STATUS[type] ?? 400;
    this.data = options.data;
  }

  toBody() {
    return { error: { type: this.type, message: this.message, ...(this.data ? { data: this.data } : {}) } };
  }
}

/** An Accounts (OAuth) error: serialised as `{"error","error_description"}`. */
export class OAuthError extends Error {
  /**
   * @param {string} code OAuth error code, e.g. "invalid_grant"
   * @param {string} description
   * @param {number} [status]
   */
  constructor(code, description, status = 400) {
    super(description);
    this.code = code;
    this.status = status;
  }

  toBody() {
    return { error: this.code, error_description: this.message };
  }
}

/** Shorthand for a `validation` error. */
export const invalid = (message) => new ApiError("validation", message);
/** Shorthand for a `not_found` error. */
export const notFound = (message) => new ApiError("not_found", message);
/** Shorthand for an `authorization` error. */
export const forbidden = (message) => new ApiError("authorization", message);

/**
 * The Web API error an injected fault with this status produces.
 * @param {number} status
 * @param {string} [type]
 * @param {string} [message]
 * @param {Record<string, unknown>} [data]
 */
export function faultApiError(status, type, message, data) {
  const t = type ?? TYPE_FOR_STATUS[status] ?? "internal";
  return new ApiError(t, message, { status, data });
}

/**
 * The Accounts error an injected fault with this status produces (429 → temporarily_unavailable,
 * 5xx → server_error, GAPI's codes).
 * @param {number} status
 * @param {string} [code]
 * @param {string} [message]
 */
export function faultOAuthError(status, code, message) {
  const c = code ?? (status === 429 ? "temporarily_unavailable" : status >= 500 ? "server_error" : "invalid_request");
  const text =
    message ??
    (status === 429
      ? "Too many requests"
      : "The authorization server encountered an unexpected condition that prevented it from fulfilling the request.");
  return new OAuthError(c, text, status);
}
