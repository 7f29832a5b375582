import { afterEach, describe, expect, it, vi } from "vitest";
import { HttpClient, parseRetryAfter, type HttpRequest } from "../../src/livechat/http";
import { LiveChatError } from "../../src/livechat/errors";
import { livechatError, mockLiveChat } from "../helpers/livechat-mock";
import { fixture } from "../helpers/fixtures";
import { captureConsole, rejectionOf, testHttp } from "./helpers";

const URL_ = "https://api.livechat.test/v3.6/agent/action/list_chats";
const TOKEN = "dal:SECRET-ACCESS-TOKEN-0123456789";

const req = (over: Partial<HttpRequest> = {}): HttpRequest => ({
  method: "POST",
  url: URL_,
  name: "agent/list_chats",
  credentials: { kind: "bearer", token: TOKEN },
  region: "dal",
  body: {},
  ...over,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("HttpClient request basics", () => {
  it("sends JSON with Authorization and X-Region, and parses the JSON reply", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/list_chats", Response.json({ ok: 1 }));
    const { http } = testHttp();
    const res = await http.request(req({ body: { limit: 5 } }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: 1 });
    const [call] = lc.calls();
    expect(call.method).toBe("POST");
    expect(call.headers.get("content-type")).toBe("application/json");
    expect(call.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(call.headers.get("x-region")).toBe("dal");
    expect(call.body).toEqual({ limit: 5 });
  });

  it("resolves an empty 200 body as undefined", async () => {
    mockLiveChat().on("POST", "/agent/action/list_chats", new Response("", { status: 200 }));
    const { http } = testHttp();
    expect((await http.request(req())).body).toBeUndefined();
  });

  it("omits X-Region when none is known and never sends a malformed one", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/list_chats", Response.json({}));
    const { http } = testHttp();
    await http.request(req({ region: undefined }));
    await http.request(req({ region: "dal\r\nX-Evil: 1" }));
    expect(lc.calls().map((c) => c.headers.get("x-region"))).toEqual([null, null]);
  });

  it("turns a non-JSON 2xx body into invalid_response, not retried", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/list_chats", new Response("<html>", { status: 200 }));
    const { http, waits } = testHttp();
    const err = await rejectionOf(http.request(req()));
    expect(err).toBeInstanceOf(LiveChatError);
    expect(err).toMatchObject({ type: "invalid_response", status: 200, retryable: false, method: "agent/list_chats" });
    expect(lc.calls()).toHaveLength(1);
    expect(waits).toEqual([]);
  });
});

describe("typed errors", () => {
  it("carries LiveChat's type, message and data (docs/LIVECHAT.md §3.6 body)", async () => {
    mockLiveChat().on("POST", "/agent/action/list_chats", Response.json(fixture("agent.v3.6.error.misdirected_request"), { status: 421 }));
    const { http } = testHttp();
    // Region already "dal" = the one in the error: nothing to re-route to.
    const err = await rejectionOf(http.request(req({ region: "dal" })));
    expect(err).toBeInstanceOf(LiveChatError);
    expect(err.name).toBe("LiveChatError");
    expect(err.type).toBe("misdirected_request");
    expect(err.status).toBe(421);
    expect(err.detail).toBe("Wrong region");
    expect(err.data).toEqual({ region: "dal" });
    expect(err.method).toBe("agent/list_chats");
    expect(err.retryable).toBe(false);
    expect(err.message).toBe("LiveChat agent/list_chats failed (misdirected_request): Wrong region");
  });

  it("fails at once on a non-retryable error", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/list_chats", livechatError(400, "validation", "Wrong format of request"));
    const { http, waits } = testHttp();
    const err = await rejectionOf(http.request(req()));
    expect(err).toMatchObject({ type: "validation", status: 400, retryable: false });
    expect(lc.calls()).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("types a body-less error response by its status", async () => {
    mockLiveChat().on(
      "POST",
      "/agent/action/list_chats",
      new Response("<h1>Bad gateway</h1>", { status: 502 }),
      new Response("nope", { status: 404 }),
    );
    const { http } = testHttp({ maxAttempts: 1 });
    expect(await rejectionOf(http.request(req()))).toMatchObject({ type: "internal", status: 502, retryable: true });
    expect(await rejectionOf(http.request(req()))).toMatchObject({ type: "not_found", status: 404, retryable: false });
  });

  it("reads the Accounts error body {error, error_description} (docs/LIVECHAT.md §6.2)", async () => {
    mockLiveChat().on(
      "POST",
      "/v2/token",
      Response.json({ error: "invalid_grant", error_description: "refresh token expired", request_id: "r-1" }, { status: 400 }),
    );
    const { http } = testHttp();
    const err = await rejectionOf(
      http.request({ method: "POST", url: "https://accounts.livechat.test/v2/token", name: "accounts/token", body: {} }),
    );
    expect(err).toMatchObject({ type: "invalid_grant", detail: "refresh token expired", data: { request_id: "r-1" }, retryable: false });
  });
});

describe("region: X-Region and misdirected_request (docs/LIVECHAT.md §6.3)", () => {
  it("retries once with the region from the error, without counting it as a retry or waiting", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/agent/action/list_chats",
      livechatError(421, "misdirected_request", "Wrong region", { region: "fra" }),
      Response.json({ ok: true }),
    );
    const { http, waits } = testHttp({ maxAttempts: 1 });
    const regions: string[] = [];
    const res = await http.request(req({ region: "dal", onRegion: (r) => regions.push(r) }));
    expect(res.body).toEqual({ ok: true });
    expect(lc.calls().map((c) => c.headers.get("x-region"))).toEqual(["dal", "fra"]);
    expect(regions).toEqual(["fra"]);
    expect(waits).toEqual([]);
  });

  it("re-routes at most once per call", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/agent/action/list_chats",
      livechatError(421, "misdirected_request", "Wrong region", { region: "fra" }),
      livechatError(421, "misdirected_request", "Wrong region", { region: "dal" }),
    );
    const { http } = testHttp();
    const err = await rejectionOf(http.request(req({ region: "dal" })));
    expect(err.type).toBe("misdirected_request");
    expect(lc.calls().map((c) => c.headers.get("x-region"))).toEqual(["dal", "fra"]);
  });

  it("adds X-Region when the first call had none", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/agent/action/list_chats",
      livechatError(421, "misdirected_request", "Wrong region", { region: "fra" }),
      Response.json({}),
    );
    const { http } = testHttp();
    await http.request(req({ region: undefined }));
    expect(lc.calls().map((c) => c.headers.get("x-region"))).toEqual([null, "fra"]);
  });

  it("does not retry a misdirected_request without a usable region", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/list_chats", livechatError(421, "misdirected_request", "Wrong region"));
    const { http } = testHttp();
    expect((await rejectionOf(http.request(req()))).type).toBe("misdirected_request");
    expect(lc.calls()).toHaveLength(1);
  });

  it("still allows backoff retries after a re-route", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/agent/action/list_chats",
      livechatError(421, "misdirected_request", "Wrong region", { region: "fra" }),
      livechatError(503, "service_unavailable"),
      Response.json({ done: 1 }),
    );
    const { http, waits } = testHttp({ maxAttempts: 2 });
    expect((await http.request(req())).body).toEqual({ done: 1 });
    expect(lc.calls().map((c) => c.headers.get("x-region"))).toEqual(["dal", "fra", "fra"]);
    expect(waits).toEqual([125]);
  });
});

describe("retries with exponential backoff and full jitter", () => {
  it.each([
    ["too_many_requests", 429],
    ["internal", 500],
    ["service_unavailable", 503],
    ["internal", 400], // the LiveChat type alone makes it retryable
  ])("retries %s (HTTP %i) then succeeds", async (type, status) => {
    const lc = mockLiveChat().on("POST", "/agent/action/list_chats", livechatError(status, type), Response.json({ fine: true }));
    const { http, waits } = testHttp();
    expect((await http.request(req())).body).toEqual({ fine: true });
    expect(lc.calls()).toHaveLength(2);
    expect(waits).toEqual([125]);
  });

  it("retries any 5xx even with an unknown error type", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/list_chats", livechatError(504, "gateway_hiccup"), Response.json({}));
    const { http } = testHttp();
    await http.request(req());
    expect(lc.calls()).toHaveLength(2);
  });

  it("retries network errors", async () => {
    let n = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => {
      if (++n === 1) throw new TypeError("Network connection lost.");
      return Response.json({ ok: 1 });
    });
    const { http, waits } = testHttp();
    expect((await http.request(req())).body).toEqual({ ok: 1 });
    expect(n).toBe(2);
    expect(waits).toEqual([125]);
  });

  it("is bounded by maxAttempts, doubling the jitter window each time", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/list_chats", livechatError(500, "internal", "boom"));
    const { http, waits } = testHttp(); // default maxAttempts 4, base 250, random 0.5
    const err = await rejectionOf(http.request(req()));
    expect(err).toMatchObject({ type: "internal", retryable: true });
    expect(lc.calls()).toHaveLength(4);
    expect(waits).toEqual([125, 250, 500]);
  });

  it("caps the backoff window at maxDelayMs and uses the jitter source", async () => {
    mockLiveChat().on("POST", "/agent/action/list_chats", livechatError(503, "service_unavailable"));
    const { http, waits } = testHttp({ maxAttempts: 8, random: () => 0.999, deadlineMs: 10 ** 9 });
    await rejectionOf(http.request(req()));
    expect(waits).toEqual([249, 499, 999, 1998, 3996, 4995, 4995]);
    const zero = testHttp({ random: () => 0 });
    await rejectionOf(zero.http.request(req()));
    expect(zero.waits).toEqual([0, 0, 0]);
  });

  it("is bounded by the deadline: stops when the next wait would pass it", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/list_chats", livechatError(503, "service_unavailable"));
    // Waits 0.5·1000 = 500, then 0.5·2000 = 1000 → 500 + 1000 ≥ 1200: give up after 2 attempts.
    const { http, waits } = testHttp({ maxAttempts: 10, baseDelayMs: 1000, deadlineMs: 1200 });
    const err = await rejectionOf(http.request(req()));
    expect(err.type).toBe("service_unavailable");
    expect(lc.calls()).toHaveLength(2);
    expect(waits).toEqual([500]);
  });

  it("gives later attempts only the time left before the deadline", async () => {
    let attempts = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(
      (_input, init) =>
        new Promise((_, reject) => {
          attempts += 1;
          init!.signal!.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
    );
    // Real clock: per-attempt timeout 10 s but the whole call may take only 60 ms.
    const http = new HttpClient({ timeoutMs: 10_000, deadlineMs: 60, logger: silentLogger(), sleep: async () => {} });
    const started = Date.now();
    const err = await rejectionOf(http.request(req()));
    expect(err.type).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(attempts).toBeGreaterThanOrEqual(1);
  });

  it("respects Retry-After (seconds) when present", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/agent/action/list_chats",
      new Response(JSON.stringify({ error: { type: "too_many_requests", message: "slow down" } }), {
        status: 429,
        headers: { "Retry-After": "3" },
      }),
      Response.json({}),
    );
    const { http, waits } = testHttp();
    await http.request(req());
    expect(waits).toEqual([3000]);
    expect(lc.calls()).toHaveLength(2);
  });

  it("gives up at once when Retry-After passes the deadline, exposing it on the error", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/agent/action/list_chats",
      new Response(JSON.stringify({ error: { type: "too_many_requests", message: "slow down" } }), {
        status: 429,
        headers: { "Retry-After": "120" },
      }),
    );
    const { http, waits } = testHttp();
    const err = await rejectionOf(http.request(req()));
    expect(err).toMatchObject({ type: "too_many_requests", retryAfterMs: 120_000 });
    expect(lc.calls()).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("logs each retry without secrets", async () => {
    mockLiveChat().on("POST", "/agent/action/list_chats", livechatError(500, "internal"), Response.json({}));
    const { http, logs } = testHttp();
    await http.request(req());
    expect(logs).toEqual([
      {
        level: "warn",
        msg: "livechat retry",
        fields: { method: "agent/list_chats", attempt: 1, error_type: "internal", status: 500, wait_ms: 125 },
      },
    ]);
  });
});

describe("timeouts", () => {
  /** A fetch that never answers; it rejects only when the request's signal aborts. */
  function hangingFetch() {
    const signals: AbortSignal[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(
      (_input, init) =>
        new Promise((_, reject) => {
          const signal = init!.signal!;
          signals.push(signal);
          signal.addEventListener("abort", () => reject(new DOMException("The operation was aborted", "AbortError")));
        }),
    );
    return signals;
  }

  it("aborts each attempt after timeoutMs and retries, typed as timeout", async () => {
    const signals = hangingFetch();
    const { http, waits } = testHttp({ timeoutMs: 20, maxAttempts: 2 });
    const err = await rejectionOf(http.request(req()));
    expect(err).toBeInstanceOf(LiveChatError);
    expect(err).toMatchObject({ type: "timeout", status: 0, retryable: true, method: "agent/list_chats" });
    expect(err.detail).toBe("no response within 20 ms");
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(waits).toEqual([125]);
  });

  it("times out even when fetch ignores the abort signal", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(() => new Promise<Response>(() => {}));
    const { http } = testHttp({ timeoutMs: 15, maxAttempts: 1 });
    expect((await rejectionOf(http.request(req()))).type).toBe("timeout");
  });

  it("times out a body that never finishes", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(new ReadableStream({ start() {} }), { status: 200 }));
    const { http } = testHttp({ timeoutMs: 15, maxAttempts: 1 });
    expect((await rejectionOf(http.request(req()))).type).toBe("timeout");
  });
});

describe("tokens never leak", () => {
  const basic = { kind: "basic", accountId: "acc-1", token: "dal:PAT-SECRET-987654321" } as const;
  const basicEncoded = btoa("acc-1:dal:PAT-SECRET-987654321");

  it("scrubs credentials LiveChat echoes into message and data, from errors and console", async () => {
    const lines = captureConsole();
    mockLiveChat().on(
      "POST",
      "/agent/action/list_chats",
      livechatError(401, "authentication", `Invalid access token ${TOKEN}`, { token: TOKEN, note: `got ${TOKEN}` }),
      livechatError(500, "internal", `oops Basic ${basicEncoded} / ${basic.token}`, { header: `Basic ${basicEncoded}` }),
    );
    const http = new HttpClient({ sleep: async () => {}, maxAttempts: 1 }); // default console logger
    const e1 = await rejectionOf(http.request(req()));
    const e2 = await rejectionOf(http.request(req({ credentials: basic })));
    for (const err of [e1, e2]) {
      expect(err).toBeInstanceOf(LiveChatError);
      const text = `${err.message} ${err.detail} ${JSON.stringify(err)} ${String(err)} ${err.stack ?? ""}`;
      for (const secret of [TOKEN, "SECRET-ACCESS-TOKEN", basic.token, "PAT-SECRET", basicEncoded]) {
        expect(text).not.toContain(secret);
      }
    }
    expect(e1.detail).toBe("Invalid access token [redacted]");
    expect(JSON.parse(JSON.stringify(e1))).toMatchObject({ type: "authentication", status: 401, method: "agent/list_chats" });
    expect(lines.join("\n")).not.toContain("SECRET");
  });

  it("scrubs network error text and explicit secrets, and logs retries without them", async () => {
    const lines = captureConsole();
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => {
      throw new TypeError(`connect failed for ${TOKEN} with code abc-SECRET-CODE`);
    });
    const http = new HttpClient({ sleep: async () => {}, maxAttempts: 2 });
    const err = await rejectionOf(http.request(req({ secrets: ["abc-SECRET-CODE"] })));
    expect(err.type).toBe("network");
    const text = `${err.message} ${JSON.stringify(err)}`;
    expect(text).not.toContain("SECRET");
    expect(lines.some((l) => l.includes("livechat retry"))).toBe(true);
    expect(lines.join("\n")).not.toContain("SECRET");
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

function silentLogger() {
  const noop = () => {};
  const logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => logger };
  return logger;
}

describe("onRegion callback", () => {
  it("a throwing callback does not fail the re-routed call", async () => {
    mockLiveChat().on(
      "POST",
      "/agent/action/list_chats",
      livechatError(421, "misdirected_request", "Wrong region", { region: "fra" }),
      Response.json({ ok: 1 }),
    );
    const { http, logs } = testHttp();
    const res = await http.request(
      req({
        onRegion: () => {
          throw new Error("store down");
        },
      }),
    );
    expect(res.body).toEqual({ ok: 1 });
    expect(logs.map((l) => l.msg)).toEqual(["livechat region corrected", "livechat onRegion callback failed"]);
  });
});
