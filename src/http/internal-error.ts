/**
 * The answer to an unexpected failure (a bug or a storage outage): 500 with a generic message,
 * so LiveChat retries a webhook. The log line carries the error's class and message only, never
 * a request body, which may hold secrets.
 */
export function internalError(path: string, error: unknown): Response {
  const err = error instanceof Error ? error : new Error(String(error));
  console.error(JSON.stringify({ msg: "unhandled error", path, error: err.name, detail: err.message }));
  return Response.json({ error: { type: "internal", message: "Internal error" } }, { status: 500 });
}
