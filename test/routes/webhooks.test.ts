import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { DRAIN_MAX_BYTES, isJsonContentType, readCapped } from "../../src/http/json-body";
import { MAX_WEBHOOK_BODY_BYTES, serveWebhook, webhookKindOf } from "../../src/routes/webhooks";
import { chatDeliveries, incomingEvent, licenseDeliveries, ORIGIN, post, sample, SECRET, settled, uniqueOrg } from "../webhooks/helpers";

afterEach(() => vi.restoreAllMocks());

/** Every console line written while `fn` runs. */
async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  for (const level of ["log", "warn", "error", "info"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  }
  const result = await fn();
  return { result, lines };
}

async function errorOf(res: Response) {
  const body = (await res.json()) as { ok: boolean; error: { type: string; message: string } };
  expect(body.ok).toBe(false);
  return body.error;
}

describe("POST /webhooks/{license,bot}: transport", () => {
  it("accepts a valid webhook on both endpoints", async () => {
    const org = uniqueOrg();
    for (const kind of ["license", "bot"] as const) {
      const res = await post(kind, incomingEvent(org, "CHAT", `E-${kind}`));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, outcome: "accepted" });
    }
  });

  it("413 when Content-Length exceeds the limit, before reading anything else", async () => {
    const res = await exports.default.fetch(`${ORIGIN}/webhooks/license`, {
      method: "POST",
      headers: { "content-type": "text/plain", "content-length": String(MAX_WEBHOOK_BODY_BYTES + 1) },
      body: "x".repeat(MAX_WEBHOOK_BODY_BYTES + 1),
    });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).type).toBe("payload_too_large");
  });

  /** A chunked-like body (no Content-Length) of 64 KiB chunks, endless unless `total` is given; counts what was pulled. */
  function streamedRequest(total = Infinity) {
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    const seen = { sent: 0, cancelled: false };
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (seen.sent >= total) return controller.close();
        seen.sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        seen.cancelled = true;
      },
    });
    const request = new Request(`${ORIGIN}/webhooks/license`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(request.headers.get("content-length")).toBeNull();
    return { request, seen, chunk: chunk.byteLength };
  }

  it("413 for a streamed body without Content-Length that grows past the limit; an endless one is cancelled after a bounded drain", async () => {
    const { request, seen, chunk } = streamedRequest();
    const ctx = createExecutionContext();
    const res = await app.fetch(request, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(413);
    expect(seen.cancelled).toBe(true);
    expect(seen.sent).toBeLessThanOrEqual(MAX_WEBHOOK_BODY_BYTES + DRAIN_MAX_BYTES + 2 * chunk);
  });

  it("a streamed body a little over the limit is read to its end before the 413, not cancelled part-way (docs/TOOLCHAIN.md G17)", async () => {
    const total = MAX_WEBHOOK_BODY_BYTES * 2;
    const { request, seen } = streamedRequest(total);
    const res = await app.fetch(request, env, createExecutionContext());
    expect(res.status).toBe(413);
    expect(seen.sent).toBe(total);
    expect(seen.cancelled).toBe(false);
  });

  it("413, not a 5xx, for a stream that outgrows its declared Content-Length (an in-process caller)", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_WEBHOOK_BODY_BYTES * 2) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await exports.default.fetch(`${ORIGIN}/webhooks/license`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "100" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).type).toBe("payload_too_large");
  });

  it("a body of exactly the limit is read (and judged on its JSON)", async () => {
    const org = uniqueOrg();
    const base = JSON.stringify(incomingEvent(org, "BIG", "E-big"));
    const padded = base.slice(0, -1) + `,"pad":"${"p".repeat(MAX_WEBHOOK_BODY_BYTES - base.length - 9)}"}`;
    expect(new TextEncoder().encode(padded).byteLength).toBe(MAX_WEBHOOK_BODY_BYTES);
    const res = await post("license", padded);
    expect(res.status).toBe(200);
  });

  it.each([
    ["missing", undefined],
    ["text/plain", "text/plain"],
    ["form", "application/x-www-form-urlencoded"],
    ["json-ish", "application/jsonp"],
    ["latin1 charset", "application/json; charset=iso-8859-1"],
  ])("415 for a %s content type", async (_label, type) => {
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    const res = await exports.default.fetch(`${ORIGIN}/webhooks/license`, {
      method: "POST",
      headers,
      body: new Blob([JSON.stringify(incomingEvent(uniqueOrg(), "C", "E"))]).stream(),
    });
    expect(res.status).toBe(415);
    expect(await errorOf(res)).toEqual({ type: "unsupported_media_type", message: "Content-Type must be application/json" });
  });

  it("checks the content type before reading the body: bad JSON with a bad type is a 415", async () => {
    const res = await post("license", "{not json", { headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(415);
  });

  it("content type: application/json with a utf-8 charset in any spelling is fine", () => {
    for (const ok of ["application/json", "Application/JSON", "application/json; charset=utf-8", 'application/json;charset="UTF-8"', "application/json; charset=utf8"]) {
      expect(isJsonContentType(ok)).toBe(true);
    }
    for (const bad of [null, "", "text/json", "application/json+x", "application/json; charset=utf-16"]) {
      expect(isJsonContentType(bad)).toBe(false);
    }
  });

  it.each([
    ["empty", "", "Body is empty"],
    ["truncated", '{"webhook_id":"x", "secret_key"', "Body is not valid JSON"],
    ["not JSON", "hello", "Body is not valid JSON"],
  ])("400 for an %s body", async (_label, body, message) => {
    const res = await post("license", body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ type: "invalid_json", message });
  });

  it("400 for a body that is not UTF-8", async () => {
    const res = await exports.default.fetch(`${ORIGIN}/webhooks/license`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ type: "invalid_json", message: "Body is not valid UTF-8" });
  });

  it("400 naming the envelope fields that are wrong", async () => {
    const org = uniqueOrg();
    const cases: [unknown, RegExp][] = [
      [[1, 2], /body: expected a JSON object/],
      [{ ...incomingEvent(org, "C", "E"), webhook_id: undefined }, /webhook_id: missing/],
      [{ ...incomingEvent(org, "C", "E"), action: 42 }, /action: expected a string/],
      [{ ...incomingEvent(org, "C", "E"), organization_id: undefined }, /organization_id: missing/],
      [{ ...incomingEvent(org, "C", "E"), payload: "text" }, /payload: expected an object or array/],
    ];
    for (const [body, pattern] of cases) {
      const res = await post("license", body);
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.type).toBe("invalid_envelope");
      expect(error.message).toMatch(pattern);
    }
  });

  it("401 for a wrong, missing or empty secret, with a generic answer and no secret in the log", async () => {
    const org = uniqueOrg();
    const bodies = [
      { ...incomingEvent(org, "C", "E"), secret_key: "wrong-secret" },
      { ...incomingEvent(org, "C", "E"), secret_key: `${SECRET}x` }, // the right secret as a prefix
      { ...incomingEvent(org, "C", "E"), secret_key: SECRET.slice(0, -1) }, // a prefix of the right secret
      { ...incomingEvent(org, "C", "E"), secret_key: undefined },
      { ...incomingEvent(org, "C", "E"), secret_key: "" },
    ];
    const { result, lines } = await captureLogs(() => Promise.all(bodies.map((b) => post("license", b))));
    for (const res of result) {
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toEqual({ type: "unauthorized", message: "Missing or invalid webhook secret" });
    }
    const webhookLines = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "webhook");
    expect(webhookLines).toHaveLength(bodies.length);
    for (const line of webhookLines) {
      expect(line).toMatchObject({ outcome: "rejected", status: 401, reason: "unauthorized", organization_id: org, action: "incoming_event" });
      expect(line.detail).toBeUndefined();
    }
    for (const line of lines) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain("wrong-secret");
    }
  });

  it("accepts the previous secret during a rotation, and still the current one", async () => {
    const rotated = { ...env, LIVECHAT_WEBHOOK_SECRET: "new-secret", LIVECHAT_WEBHOOK_SECRET_PREVIOUS: SECRET };
    const org = uniqueOrg();
    const send = async (secret: string, id: string) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request(`${ORIGIN}/webhooks/license`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...incomingEvent(org, "ROT", id), secret_key: secret }),
        }),
        rotated,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res.status;
    };
    expect(await send(SECRET, "E1")).toBe(200);
    expect(await send("new-secret", "E2")).toBe(200);
    expect(await send("other", "E3")).toBe(401);
  });

  it("500 naming the problem when the Worker is not configured (not a bad-input answer)", async () => {
    const broken = { ...env, LIVECHAT_WEBHOOK_SECRET: "" };
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${ORIGIN}/webhooks/license`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(incomingEvent(uniqueOrg(), "C", "E")),
      }),
      broken,
      ctx,
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { type: string; problems: { name: string }[] } };
    expect(body.error.type).toBe("configuration");
    expect(body.error.problems.map((p) => p.name)).toContain("LIVECHAT_WEBHOOK_SECRET");
  });

  it("the Worker entry serves exactly POST /webhooks/license and /webhooks/bot itself (query ignored), the rest through the router", () => {
    const req = (path: string, method = "POST") => new Request(`${ORIGIN}${path}`, { method });
    expect(webhookKindOf(req("/webhooks/license"))).toBe("license");
    expect(webhookKindOf(req("/webhooks/bot?x=1"))).toBe("bot");
    for (const other of ["/webhooks/license/", "/webhooks/licensex", "/webhooks", "/", "/admin/webhooks/license", "/x?/webhooks/bot"]) {
      expect(webhookKindOf(req(other))).toBeUndefined();
    }
    expect(webhookKindOf(req("/webhooks/license", "GET"))).toBeUndefined();
    expect(webhookKindOf(req("/webhooks/license", "PUT"))).toBeUndefined();
  });

  /** Serve one license webhook with every DO's append failing with `error`; its answer and log lines. */
  function serveWithFailingInbox(error: Error, eventId: string, text?: string) {
    const failing = {
      idFromName: (name: string) => name,
      get: () => ({ append: () => Promise.reject(error) }),
    };
    const broken = { ...env, CHATS: failing, LICENSES: failing } as unknown as Env;
    return captureLogs(() =>
      serveWebhook(
        "license",
        new Request(`${ORIGIN}/webhooks/license`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(incomingEvent(uniqueOrg(), "FAILCHAT", eventId, text)),
        }),
        broken,
      ),
    );
  }

  it("500 'internal' when the inbox fails (LiveChat retries), logging the error but never the body or secret", async () => {
    const { result: res, lines } = await serveWithFailingInbox(new Error("storage unavailable"), "E-fail", "private words");
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { type: "internal", message: "Internal error" } });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { level: "error", msg: "unhandled error", component: "http", path: "/webhooks/license", error: "Error", detail: "storage unavailable" },
    ]);
    expect(lines.join("\n")).not.toContain(SECRET);
    expect(lines.join("\n")).not.toContain("private words");
  });

  it("the 500's log line goes through the redacting logger: a token in the error's message is masked", async () => {
    const token = "dal:Zk9wTnRkX2Fjd2Vzc190b2tlbg";
    const { result: res, lines } = await serveWithFailingInbox(new Error(`upstream refused Bearer ${token}`), "E-fail-2");
    expect(res.status).toBe(500);
    expect(lines.join("\n")).not.toContain(token);
    expect(JSON.parse(lines[0]).detail).toBe("upstream refused Bearer [redacted]");
  });

  it("the entry answers a misconfigured Worker with the same 500 as the router", async () => {
    const broken = { ...env, LIVECHAT_WEBHOOK_SECRET: "" };
    const res = await serveWebhook(
      "bot",
      new Request(`${ORIGIN}/webhooks/bot`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
      broken,
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { type: string; problems: { name: string }[] } };
    expect(body.error.type).toBe("configuration");
    expect(body.error.problems.map((p) => p.name)).toContain("LIVECHAT_WEBHOOK_SECRET");
  });

  it("GET is not a webhook route", async () => {
    const res = await exports.default.fetch(`${ORIGIN}/webhooks/license`);
    expect(res.status).toBe(404);
  });
});

describe("the per-delivery log line", () => {
  it("one JSON line per delivery, written by its processing: organization, action, chat, dedupe key, outcome, durations; never the secret", async () => {
    const org = uniqueOrg();
    const { lines } = await captureLogs(async () => {
      await post("license", incomingEvent(org, "LOGCHAT", "E1"));
      await post("license", incomingEvent(org, "LOGCHAT", "E1"));
      await post("license", sample("webhook.v3.6.incoming_event", org, { action: "no_such_action" }));
      await post("license", "nope");
      await settled(() => chatDeliveries(org, "LOGCHAT"), 2);
      await settled(() => licenseDeliveries(org), 1);
    });
    const webhook = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "webhook" && (l.organization_id === org || l.outcome === "rejected"));
    expect(webhook.map((l) => l.outcome).sort()).toEqual(["duplicate", "not_installed", "rejected", "unprocessable"]);
    const first = webhook.find((l) => l.outcome === "not_installed");
    expect(first).toMatchObject({
      level: "info",
      component: "chat",
      kind: "license",
      organization_id: org,
      action: "incoming_event",
      chat_id: "LOGCHAT",
      dedupe_key: "license:incoming_event:LOGCHAT:THREAD1:E1",
      attempt: 1,
    });
    expect(typeof first.duration_ms).toBe("number");
    expect(typeof first.lag_ms).toBe("number");
    expect(webhook.find((l) => l.outcome === "duplicate")).toMatchObject({ note: `duplicate of ${first.delivery_id}` });
    expect(webhook.find((l) => l.outcome === "unprocessable")).toMatchObject({
      note: "unknown_action",
      error: "unknown action no_such_action",
      action: "no_such_action",
    });
    expect(webhook.find((l) => l.outcome === "rejected")).toMatchObject({ level: "warn", status: 400, reason: "invalid_json" });
    for (const line of lines) expect(line).not.toContain(SECRET);
  });
});

describe("readCapped", () => {
  it("returns all bytes up to the cap and undefined past it", async () => {
    const req = (n: number) => new Request(`${ORIGIN}/`, { method: "POST", body: new Uint8Array(n).fill(65) });
    expect((await readCapped(req(10), 10))?.byteLength).toBe(10);
    expect(await readCapped(req(11), 10)).toBeUndefined();
    expect((await readCapped(new Request(`${ORIGIN}/`), 10))?.byteLength).toBe(0);
  });
});
