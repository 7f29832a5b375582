/**
 * Structured JSON logging: one line per call, with fields that can never carry secrets.
 * Keys that look like credentials are replaced before serialisation, so a careless
 * `log.info("x", { body })` still cannot leak a token (docs/ARCHITECTURE.md "Secrets stay secret").
 */

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (e.g. organization and chat ids). */
  child(fields: LogFields): Logger;
}

const SECRET_KEY = /(secret|token|password|authorization|code_verifier|verifier|^code$|api_?key|cookie)/i;
const TOKENISH = /\b(?:[a-z]{3}(?:-[a-z])?:)?[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b|\b(?:dal|fra)(?:-[a-z])?:[A-Za-z0-9_-]{6,}/g;

/** Field names already tested against {@link SECRET_KEY}: log lines repeat the same few dozen names. */
const secretKeyNames = new Map<string, boolean>();

function isSecretKeyName(key: string): boolean {
  let secret = secretKeyNames.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    if (secretKeyNames.size < 1_000) secretKeyNames.set(key, secret);
  }
  return secret;
}

/**
 * Whether {@link TOKENISH} could match: a JWT has dots, a LiveChat token a `dal`/`fra` region
 * prefix. Most logged strings (ids, dedupe keys) have neither and skip the regex scan.
 */
function mayHoldToken(text: string): boolean {
  return text.length >= 10 && (text.includes(".") || text.includes("dal") || text.includes("fra"));
}

/** Deep copy of `value` with secret-looking keys and bearer/JWT-looking strings masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[deep]";
  // Shorter strings cannot hold a token (the shortest pattern, `dal:` + 6, is 10 characters).
  if (typeof value === "string") return mayHoldToken(value) ? value.replace(TOKENISH, "[redacted]") : value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKeyName(k) ? "[redacted]" : redact(v, depth + 1);
    return out;
  }
  return value;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let minimum: LogLevel = "info";

/** Set the lowest level written, for every logger of this isolate (config `LOG_LEVEL`). */
export function setLogLevel(level: LogLevel): void {
  minimum = level;
}

/**
 * Create a logger writing JSON lines to the console (Workers Logs / `wrangler tail`).
 *
 * @example
 * const log = createLogger({ organization_id: org });
 * log.info("webhook", { action, outcome: "accepted", duration_ms: 3 });
 */
export function createLogger(base: LogFields = {}): Logger {
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    // Routine per-delivery detail is `debug`: dropped unless LOG_LEVEL asks for it, because a
    // log line costs more than the rest of an ack (measured with `npm run bench`).
    if (RANK[level] < RANK[minimum]) return;
    const line = JSON.stringify(redact({ level, msg, ...base, ...fields }));
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}
