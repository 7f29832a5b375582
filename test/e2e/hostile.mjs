// Hostile input against the Worker under `wrangler dev` itself: what a unit test inside workerd
// cannot see, because only the dev server's proxy in front of the Worker reacts to it.
import { request } from "node:http";
import { expect } from "./lib/harness.mjs";

/** Over the webhook cap (1 MiB, src/http/json-body.ts) by 1 MiB, sent in 64 KiB chunks. */
const OVERSIZE_BYTES = 2 * 1024 * 1024;
/** Rounds of (oversized body, next request): one round alone did not always break the dev server before the fix. */
const ROUNDS = 3;
/** How long the request after each 413 may take before it counts as stuck. */
const NEXT_TIMEOUT_MS = 15_000;

/**
 * @param {import("./lib/harness.mjs").Suite} suite
 * @param {{ stack: { workerUrl: string } }} ctx
 */
export async function runHostile(suite, ctx) {
  await suite.step("oversize-chunked", "hostile: a chunked webhook body over the size cap is answered 413, and the next request is served (docs/TOOLCHAIN.md G17)", async () => {
    const seen = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const big = await postChunked(`${ctx.stack.workerUrl}/webhooks/license`, OVERSIZE_BYTES);
      const next = await getText(`${ctx.stack.workerUrl}/healthz`, NEXT_TIMEOUT_MS);
      seen.push(`${big.status ?? big.error} then ${next.status ?? next.error}`);
      expect(big.status === 413, `round ${round}: the oversized body got ${big.status ?? big.error} ${big.body ?? ""}, not 413; rounds: ${seen.join(", ")}`);
      expect(next.status === 200, `round ${round}: GET /healthz after the 413 got ${next.status ?? next.error} ${(next.body ?? "").slice(0, 200)}; rounds: ${seen.join(", ")}`);
    }
    return `${ROUNDS} rounds: ${seen.join(", ")}`;
  }, { needs: ["boot"] });
}

/** POST `size` bytes with Transfer-Encoding: chunked (no Content-Length); resolves with the answer or the socket error. */
function postChunked(url, size) {
  return new Promise((resolve) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", (err) => resolve({ error: err.message }));
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

/** GET on a fresh connection, given up after `timeoutMs`. */
async function getText(url, timeoutMs) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { error: err.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : err.message };
  }
}
