/**
 * The one error type every LiveChat call throws. It carries LiveChat's own error `type`
 * (Web API, docs/LIVECHAT.md §3.6 / §4.3) or the OAuth error code (Accounts, docs/LIVECHAT.md §6.2),
 * plus our own "network" / "timeout" / "invalid_response". Never a token: messages and `data`
 * are scrubbed of the credentials used for the call before the error is built.
 */

/** LiveChat Web API error types worth another attempt (docs/LIVECHAT.md §3.6, §4.3 "request_timeout"). */
const RETRYABLE_TYPES = new Set([
  "too_many_requests",
  "internal",
  "service_unavailable",
  "request_timeout",
  // Accounts OAuth codes (docs/LIVECHAT.md §6.2: temporarily_unavailable is HTTP 429; server_error 500).
  "temporarily_unavailable",
  "server_error",
  // Ours: transport failures.
  "network",
  "timeout",
]);

/** Error types meaning "these credentials are no good" (docs/LIVECHAT.md §3.6, §6.2, §7 uninstall signals). */
const AUTH_TYPES = new Set(["authentication", "authorization", "invalid_grant", "unauthorized_client", "invalid_client"]);

/** Fields of a {@link LiveChatError}; `message` is LiveChat's message (or ours), already scrubbed. */
export interface LiveChatErrorInit {
  status: number;
  type: string;
  message: string;
  data?: Record<string, unknown>;
  method?: string;
  retryable?: boolean;
  retryAfterMs?: number;
  /** The response carried no error body of LiveChat's (e.g. an HTML page from a proxy): `type` is inferred from the status. */
  untyped?: boolean;
}

/**
 * A failed LiveChat call. `status` is the HTTP status (0 when no response arrived);
 * `type` is LiveChat's error type, the OAuth error code, or "network" / "timeout" /
 * "invalid_response"; `detail` is LiveChat's own message; `method` names the call, e.g.
 * "configuration/create_bot" or "accounts/token".
 *
 * @example
 * try { await api.getChat({ chat_id }); }
 * catch (e) { if (e instanceof LiveChatError && e.type === "not_found") return undefined; throw e; }
 */
export class LiveChatError extends Error {
  readonly status: number;
  readonly type: string;
  readonly data?: Record<string, unknown>;
  readonly retryable: boolean;
  readonly method?: string;
  /** LiveChat's (or our) message without the method/type prefix. */
  readonly detail: string;
  /** Parsed `Retry-After` of the response, when it had one. */
  readonly retryAfterMs?: number;
  /**
   * True when no LiveChat error body came with the status (an HTML 403 from an edge, an empty
   * 401): `type` is guessed from the status, so the answer says nothing LiveChat decided.
   */
  readonly untyped: boolean;

  constructor(init: LiveChatErrorInit) {
    const where = init.method ? `LiveChat ${init.method}` : "LiveChat";
    super(`${where} failed (${init.type}): ${init.message}`);
    this.name = "LiveChatError";
    this.status = init.status;
    this.type = init.type;
    this.detail = init.message;
    if (init.data !== undefined) this.data = init.data;
    if (init.method !== undefined) this.method = init.method;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    this.untyped = init.untyped ?? false;
    this.retryable = init.retryable ?? isRetryableFailure(init.type, init.status);
  }

  /** What `JSON.stringify` and structured logs see (Error's own `message` is not enumerable). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      type: this.type,
      method: this.method,
      data: this.data,
      retryable: this.retryable,
    };
  }
}

/**
 * Whether a failure with this LiveChat type / HTTP status is worth retrying: rate limits,
 * LiveChat-side failures, any 5xx or 429, network errors and timeouts (docs/LIVECHAT.md §3.6, §6.2).
 */
export function isRetryableFailure(type: string, status: number): boolean {
  return RETRYABLE_TYPES.has(type) || status === 429 || status >= 500;
}

/** True when `e` is a {@link LiveChatError} that another attempt could fix. */
export function isRetryable(e: unknown): boolean {
  return e instanceof LiveChatError && e.retryable;
}

/**
 * True when `e` says the credentials are invalid, expired, revoked or lack a scope
 * (`authentication`, `authorization`, `invalid_grant`, `unauthorized_client`, `invalid_client`):
 * refresh the token, or treat the license as uninstalled (docs/LIVECHAT.md §7 "other uninstall signals").
 */
export function isAuthError(e: unknown): e is LiveChatError {
  return e instanceof LiveChatError && AUTH_TYPES.has(e.type);
}

/**
 * An error type for a response whose body carried none (e.g. an HTML 502 from a proxy).
 * docs/LIVECHAT.md §3.6: v3.x status codes are undocumented, so this only fills the gap.
 */
export function typeForStatus(status: number): string {
  if (status === 401) return "authentication";
  if (status === 403) return "authorization";
  if (status === 404) return "not_found";
  if (status === 429) return "too_many_requests";
  if (status === 503) return "service_unavailable";
  if (status >= 500) return "internal";
  return "http_error";
}
