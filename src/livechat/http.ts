import * as z from "zod/mini";
import { createLogger, redact, type Logger } from "../log";
import { authorizationHeader, secretsOf, type Credentials } from "./auth";
import { LiveChatError, typeForStatus } from "./errors";
import { asRegion } from "./region";

/**
 * The single place that calls `fetch()` for LiveChat: per-attempt timeout, retries with
 * exponential backoff and full jitter, an overall deadline (so a Worker invocation never
 * hangs), `X-Region`, the one-off `misdirected_request` re-route, and error bodies turned into
 * {@link LiveChatError}s that never carry a credential.
 */

/** Tuning of {@link HttpClient}; every field is optional. */
export interface HttpOptions {
  /** Per attempt, including reading the body. Default 10 000 ms. */
  timeoutMs?: number;
  /** Attempts per call, the first included; a misdirected re-route does not count. Default 4. */
  maxAttempts?: number;
  /** Whole call including retries and waits. Default 25 000 ms. */
  deadlineMs?: number;
  /** First backoff cap; doubles per retry. Default 250 ms. */
  baseDelayMs?: number;
  /** Upper bound of the backoff cap. Default 5 000 ms. */
  maxDelayMs?: number;
  /** How to wait between attempts (tests inject a recorder). */
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1) (tests inject a constant). */
  random?: () => number;
  /** Clock for the deadline (tests inject a fake one advanced by `sleep`). */
  now?: () => number;
  /** Where retries and re-routes are logged; defaults to the JSON console logger. */
  logger?: Logger;
}

/** One logical call; {@link HttpClient.request} may send it several times. */
export interface HttpRequest {
  method: "GET" | "POST" | "DELETE";
  url: string;
  /** Call name used in errors and logs, e.g. "configuration/create_bot" or "accounts/token". */
  name: string;
  /** Adds the `Authorization` header; its token is scrubbed from errors. */
  credentials?: Credentials;
  /** Sent as `X-Region` (docs/LIVECHAT.md §6.3). */
  region?: string;
  /** JSON body. */
  body?: unknown;
  /** Further strings (client secret, code, refresh token…) to scrub from errors. */
  secrets?: readonly (string | undefined)[];
  /** Called when LiveChat re-routes the call with `misdirected_request` (docs/LIVECHAT.md §6.3). */
  onRegion?: (region: string) => void;
  /**
   * False for calls that must not run twice (e.g. `send_event`): they are retried only after a
   * rate limit (429 / `too_many_requests`), which rejects a request before it is processed. A 5xx,
   * timeout or dropped connection may come after LiveChat already acted, so it is left to the
   * caller, which can check first (e.g. for its `custom_id`). Default true.
   */
  idempotent?: boolean;
}

/** A successful (2xx) response; `body` is the parsed JSON, or undefined when empty. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

type Settings = Required<Omit<HttpOptions, "logger">> & { logger: Logger };

const DEFAULTS = {
  timeoutMs: 10_000,
  maxAttempts: 4,
  deadlineMs: 25_000,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
} as const;

/**
 * Fetch wrapper for LiveChat's Accounts and Web APIs.
 *
 * @example
 * const http = new HttpClient({ deadlineMs: 8_000 });
 * const { body } = await http.request({
 *   method: "POST",
 *   url: "https://api.livechatinc.com/v3.6/agent/action/list_chats",
 *   name: "agent/list_chats",
 *   credentials: { kind: "bearer", token },
 *   region: "dal",
 *   body: {},
 * });
 */
export class HttpClient {
  private readonly settings: Settings;

  constructor(options: HttpOptions = {}) {
    this.settings = {
      timeoutMs: positive(options.timeoutMs, DEFAULTS.timeoutMs),
      maxAttempts: Math.max(1, Math.floor(positive(options.maxAttempts, DEFAULTS.maxAttempts))),
      deadlineMs: positive(options.deadlineMs, DEFAULTS.deadlineMs),
      baseDelayMs: positive(options.baseDelayMs, DEFAULTS.baseDelayMs),
      maxDelayMs: positive(options.maxDelayMs, DEFAULTS.maxDelayMs),
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      logger: options.logger ?? createLogger({ component: "livechat" }),
    };
  }

  /**
   * Send `req`, retrying retryable failures, and resolve with the 2xx response.
   * Throws {@link LiveChatError} (never anything carrying a credential) otherwise.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const s = this.settings;
    const secrets = collectSecrets(req);
    const deadline = s.now() + s.deadlineMs;
    let region = asRegion(req.region);
    let rerouted = false;
    let attempt = 0;
    for (;;) {
      attempt += 1;
      const remaining = deadline - s.now();
      let error: LiveChatError;
      try {
        return await this.once(req, region, Math.min(s.timeoutMs, remaining), secrets);
      } catch (e) {
        if (!(e instanceof LiveChatError)) throw e;
        error = e;
      }
      // docs/LIVECHAT.md §6.3: "on misdirected_request use the region from the error as X-Region";
      // once per call, and not counted as a backoff retry.
      const corrected = error.type === "misdirected_request" ? asRegion(error.data?.region) : undefined;
      if (corrected && corrected !== region && !rerouted && deadline - s.now() > 0) {
        rerouted = true;
        attempt -= 1;
        s.logger.info("livechat region corrected", { method: req.name, region: corrected, previous: region ?? null });
        region = corrected;
        try {
          req.onRegion?.(corrected);
        } catch {
          s.logger.warn("livechat onRegion callback failed", { method: req.name });
        }
        continue;
      }
      if (!error.retryable || attempt >= s.maxAttempts) throw error;
      if (req.idempotent === false && !(error.status === 429 || error.type === "too_many_requests")) throw error;
      const wait = error.retryAfterMs ?? this.backoff(attempt);
      // Stop when the wait would pass the deadline: a retry after it could not finish anyway.
      if (s.now() + wait >= deadline) throw error;
      s.logger.warn("livechat retry", {
        method: req.name,
        attempt,
        error_type: error.type,
        status: error.status,
        wait_ms: wait,
      });
      await s.sleep(wait);
    }
  }

  /** {@link request}, then validate the body with `schema` (type "invalid_response" when it does not match). */
  async requestParsed<S extends z.ZodMiniType>(req: HttpRequest, schema: S): Promise<z.infer<S>> {
    const response = await this.request(req);
    return parseBody(schema, response, req.name);
  }

  /** Full jitter: a uniform wait in [0, min(maxDelay, base·2^(retry-1))). */
  private backoff(retry: number): number {
    const { baseDelayMs, maxDelayMs, random } = this.settings;
    const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
    return Math.floor(Math.min(Math.max(random(), 0), 1) * cap);
  }

  /** One attempt: transport failures become "network"/"timeout", non-2xx bodies LiveChat errors. */
  private async once(req: HttpRequest, region: string | undefined, timeoutMs: number, secrets: string[]): Promise<HttpResponse> {
    if (timeoutMs <= 0) throw timeoutError(req.name, 0);
    const headers = new Headers({ Accept: "application/json" });
    if (req.credentials) headers.set("Authorization", authorizationHeader(req.credentials));
    if (region) headers.set("X-Region", region);
    let body: string | undefined;
    if (req.body !== undefined) {
      headers.set("Content-Type", "application/json");
      body = JSON.stringify(req.body);
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    try {
      const response = await untilAborted(
        fetch(req.url, { method: req.method, headers, body, signal: controller.signal }),
        controller.signal,
      );
      status = response.status;
      responseHeaders = response.headers;
      text = await untilAborted(response.text(), controller.signal);
    } catch (e) {
      if (controller.signal.aborted) throw timeoutError(req.name, timeoutMs);
      const reason = e instanceof Error ? e.message : String(e);
      throw new LiveChatError({ status: 0, type: "network", method: req.name, message: scrub(reason, secrets) });
    } finally {
      clearTimeout(timer);
    }

    const parsed = parseJson(text);
    if (status >= 200 && status < 300) {
      if (!parsed.ok) {
        throw new LiveChatError({ status, type: "invalid_response", method: req.name, message: "response body is not JSON" });
      }
      return { status, headers: responseHeaders, body: parsed.value };
    }
    throw errorFromBody(status, parsed.ok ? parsed.value : undefined, responseHeaders, req.name, secrets, this.settings.now());
  }
}

/** Validate a response body; a mismatch names paths and issue codes only, never values. */
export function parseBody<S extends z.ZodMiniType>(schema: S, response: HttpResponse, method: string): z.infer<S> {
  const result = schema.safeParse(response.body);
  if (result.success) return result.data;
  const where = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.code}`)
    .join("; ");
  throw new LiveChatError({
    status: response.status,
    type: "invalid_response",
    method,
    message: `response does not match the expected shape (${where})`,
  });
}

/**
 * Turn an error response into a {@link LiveChatError}. Understands the Web API body
 * `{"error":{"type","message","data"}}` (docs/LIVECHAT.md §3.6) and the Accounts body
 * `{"error":"<code>","error_description":"…"}` (docs/LIVECHAT.md §6.2); anything else is typed by status.
 */
function errorFromBody(
  status: number,
  body: unknown,
  headers: Headers,
  method: string,
  secrets: string[],
  now: number,
): LiveChatError {
  const retryAfterMs = parseRetryAfter(headers.get("Retry-After"), now);
  const error = isRecord(body) ? body.error : undefined;
  if (isRecord(error) && typeof error.type === "string") {
    return new LiveChatError({
      status,
      type: error.type,
      message: scrub(typeof error.message === "string" ? error.message : error.type, secrets),
      data: isRecord(error.data) ? scrubData(error.data, secrets) : undefined,
      method,
      retryAfterMs,
    });
  }
  if (typeof error === "string" && isRecord(body)) {
    const description = typeof body.error_description === "string" ? body.error_description : error;
    const data: Record<string, unknown> = {};
    for (const key of ["sub_error", "request_id"]) if (typeof body[key] === "string") data[key] = body[key];
    return new LiveChatError({
      status,
      type: error,
      message: scrub(description, secrets),
      data: Object.keys(data).length ? scrubData(data, secrets) : undefined,
      method,
      retryAfterMs,
    });
  }
  return new LiveChatError({ status, type: typeForStatus(status), message: `HTTP ${status}`, method, retryAfterMs, untyped: true });
}

function timeoutError(method: string, timeoutMs: number): LiveChatError {
  return new LiveChatError({ status: 0, type: "timeout", method, message: `no response within ${timeoutMs} ms` });
}

/** `Retry-After` as delta-seconds or HTTP-date, in ms from `now`; undefined when absent or malformed. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function collectSecrets(req: HttpRequest): string[] {
  const all = [...(req.credentials ? secretsOf(req.credentials) : []), ...(req.secrets ?? [])];
  // Longest first, so a header containing a token is replaced whole.
  return [...new Set(all.filter((v): v is string => typeof v === "string" && v.length >= 4))].sort((a, b) => b.length - a.length);
}

/** Remove every known secret, then anything token-shaped (log.ts `redact`). */
function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("[redacted]");
  return redact(out) as string;
}

function scrubData(data: Record<string, unknown>, secrets: readonly string[]): Record<string, unknown> {
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return scrub(value, secrets);
    if (Array.isArray(value)) return value.map(walk);
    if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return redact(walk(data)) as Record<string, unknown>;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Settle with `promise`, or reject as soon as `signal` aborts (even if `promise` never settles). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error("aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : fallback;
}
