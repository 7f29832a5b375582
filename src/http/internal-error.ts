import { createLogger } from "../log";

const log = createLogger({ component: "http" });

/**
 * The answer to an unexpected failure (a bug or a storage outage): 500 with a generic message,
 * so LiveChat retries a webhook. The log line goes through the redacting logger and carries the
 * error's class and message only (token-like strings masked), never a request body, which may
 * hold secrets.
 */
export function internalError(path: string, error: unknown): Response {
  const err = error instanceof Error ? error : new Error(String(error));
  log.error("unhandled error", { path, error: err.name, detail: err.message });
  return Response.json({ error: { type: "internal", message: "Internal error" } }, { status: 500 });
}
