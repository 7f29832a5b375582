import { describe, expect, it } from "vitest";
import { MAX_BODY_DEPTH, nestingDepth, parseEnvelope, redactEnvelope, storedBody } from "../../../src/livechat/webhooks";
import { rawSample, webhookSampleNames, withLicenseId } from "./samples";

const SECRET = "very-secret-value-0123456789";

function nested(depth: number, leaf: unknown = 1): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

describe("parseEnvelope (docs/LIVECHAT.md §1.2)", () => {
  it("reads every field of a v3.6 configuration sample, requester included", () => {
    const result = parseEnvelope(rawSample("webhook.v3.6.agent_created"));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { payload, ...rest } = result.envelope;
    expect(rest).toEqual({
      webhookId: "<webhook_id>",
      secretKey: "<secret_key>",
      action: "agent_created",
      organizationId: "390e44e6-f1e6-0368c-z6ddb-74g14508c2ex",
      additionalData: {},
      requester: {
        user_id: "user@example.com",
        account_id: "f09ba25b-8be8-4fcd-a2c8-0b1c567aec85",
        client_id: "1b4237f476826986da63022a76c35bb1",
      },
    });
    expect(payload).toMatchObject({ id: "smith@example.com" });
  });

  it("accepts every documented sample, including the array payload of auto_accesses_updated", () => {
    for (const name of webhookSampleNames()) expect(parseEnvelope(rawSample(name)).ok, name).toBe(true);
    const auto = parseEnvelope(rawSample("webhook.v3.6.auto_accesses_updated.added"));
    expect(auto.ok && Array.isArray(auto.envelope.payload)).toBe(true);
  });

  it("accepts the v3.3-style numeric license_id", () => {
    const result = parseEnvelope(withLicenseId(rawSample("webhook.v3.6.incoming_event"), 104130623));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.envelope.organizationId).toBe("104130623");
    expect(result.envelope.licenseId).toBe(104130623);
  });

  it("prefers organization_id when both are present and keeps the license id", () => {
    const result = parseEnvelope({ ...rawSample("webhook.v3.6.incoming_event"), license_id: 7 });
    expect(result.ok && [result.envelope.organizationId, result.envelope.licenseId]).toEqual(["390e44e6-f1e6-0368c-z6ddb-74g14508c2ex", 7]);
  });

  it.each([
    [null, "body: expected a JSON object"],
    [[], "body: expected a JSON object"],
    ["text", "body: expected a JSON object"],
    [{}, "webhook_id: missing; secret_key: missing; action: missing; organization_id: missing (or numeric license_id); payload: missing"],
  ])("rejects %j", (body, error) => {
    expect(parseEnvelope(body)).toEqual({ ok: false, error });
  });

  it.each([
    ["webhook_id", 5, "webhook_id: expected a string"],
    ["webhook_id", "", "webhook_id: empty"],
    ["secret_key", 12345, "secret_key: expected a string"],
    ["secret_key", "x".repeat(1025), "secret_key: longer than 1024 characters"],
    ["action", ["incoming_event"], "action: expected a string"],
    ["organization_id", 42, "organization_id: expected a string"],
    ["payload", "{}", "payload: expected an object or array"],
    ["payload", null, "payload: missing"],
    ["payload", 3, "payload: expected an object or array"],
  ])("names the bad field %s", (field, value, error) => {
    expect(parseEnvelope({ ...rawSample("webhook.v3.6.incoming_event"), [field]: value })).toEqual({ ok: false, error });
  });

  it.each([0, -1, 1.5, "104130623", Number.MAX_SAFE_INTEGER + 2])("rejects license_id %j", (licenseId) => {
    const body = withLicenseId(rawSample("webhook.v3.6.incoming_event"), licenseId as number);
    expect(parseEnvelope(body)).toEqual({ ok: false, error: "license_id: expected a positive integer" });
  });

  it("never echoes the secret in an error", () => {
    const body = { ...rawSample("webhook.v3.6.incoming_event"), secret_key: SECRET, webhook_id: 1, payload: 2 };
    const result = parseEnvelope(body);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it("drops malformed optional metadata instead of failing", () => {
    const body = { ...rawSample("webhook.v3.6.agent_created"), additional_data: "x", requester: { user_id: 5, client_id: "c" } };
    const result = parseEnvelope(body);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.envelope.additionalData).toBeUndefined();
    expect(result.envelope.requester).toEqual({ client_id: "c" });
  });

  it("rejects bodies nested deeper than the limit, iteratively", () => {
    expect(nestingDepth({ a: [{ b: 1 }] })).toBe(3);
    expect(nestingDepth(nested(10_000), Infinity)).toBe(10_000);
    const ok = { ...rawSample("webhook.v3.6.incoming_event"), payload: nested(MAX_BODY_DEPTH - 1) as object };
    expect(parseEnvelope(ok).ok).toBe(true);
    const deep = { ...rawSample("webhook.v3.6.incoming_event"), payload: nested(10_000) as object };
    expect(parseEnvelope(deep)).toEqual({ ok: false, error: `body: nested deeper than ${MAX_BODY_DEPTH} levels` });
  });
});

describe("redactEnvelope", () => {
  it("removes secret_key at every depth and in any case, without touching the input", () => {
    const body = {
      ...rawSample("webhook.v3.6.incoming_event"),
      secret_key: SECRET,
      payload: { chat_id: "c", nested: [{ secret_key: SECRET, keep: 1 }, { deeper: { SECRET_KEY: SECRET } }] },
    };
    const copy = redactEnvelope(body);
    expect(JSON.stringify(copy)).not.toContain(SECRET);
    expect(copy).toEqual({
      webhook_id: "<webhook_id>",
      action: "incoming_event",
      organization_id: "390e44e6-f1e6-0368c-z6ddb-74g14508c2ex",
      payload: { chat_id: "c", nested: [{ keep: 1 }, { deeper: {} }] },
      additional_data: { chat_properties: {}, chat_presence_user_ids: [] },
    });
    expect(body.secret_key).toBe(SECRET);
    expect((body.payload.nested[0] as Record<string, unknown>).secret_key).toBe(SECRET);
  });

  it("copies __proto__ keys as data, never as a prototype", () => {
    const body = JSON.parse(`{"secret_key":"s","payload":{"__proto__":{"polluted":true},"x":1}}`);
    const copy = redactEnvelope(body) as { payload: Record<string, unknown> };
    expect(Object.getPrototypeOf(copy.payload)).toBe(Object.prototype);
    expect((copy.payload as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(copy.payload)).toEqual(["__proto__", "x"]);
    expect(JSON.parse(JSON.stringify(copy))).toEqual(JSON.parse(`{"payload":{"__proto__":{"polluted":true},"x":1}}`));
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("handles 10k-level nesting without recursion", () => {
    const body = { secret_key: "s", payload: nested(10_000, { secret_key: "inner" }) };
    const copy = redactEnvelope(body);
    expect(copy.secret_key).toBeUndefined();
    expect(nestingDepth(copy, Infinity)).toBe(10_002); // body + 10k levels + the leaf
    let node: unknown = copy.payload;
    while (typeof node === "object" && node !== null && !("secret_key" in node) && Object.keys(node).length > 0) {
      node = Array.isArray(node) ? node[0] : (node as { a: unknown }).a;
    }
    expect(node).toEqual({});
  });
});

describe("storedBody", () => {
  /** A body as LiveChat writes it: compact JSON, the envelope's secret among its members. */
  const text = (value: Record<string, unknown>) => JSON.stringify(value);

  it("cuts the envelope's secret_key member out of the text as received, wherever it stands", () => {
    const payload = rawSample("webhook.v3.6.incoming_event").payload;
    const bodies = [
      { webhook_id: "w", secret_key: SECRET, action: "incoming_event", organization_id: "o", payload },
      { secret_key: SECRET, webhook_id: "w", payload },
      { webhook_id: "w", payload, secret_key: SECRET },
      { secret_key: SECRET },
      { webhook_id: "w", secret_key: 'with "quotes" and \\ backslash', payload },
    ];
    for (const body of bodies) {
      const stored = storedBody(text(body), body);
      const { secret_key: _secret, ...rest } = body;
      expect(stored).toBe(JSON.stringify(rest)); // the same text, not serialised again
      expect(stored).not.toContain("secret_key");
    }
    const spaced = '{ "webhook_id" : "w" ,\n "secret_key" : "s3cret" ,\n "payload" : {} }';
    expect(JSON.parse(storedBody(spaced, JSON.parse(spaced)))).toEqual({ webhook_id: "w", payload: {} });
  });

  it("drops secret_key at any depth, in any letter case or spelling, like redactEnvelope", () => {
    const kelvin = "secret_\u212Aey"; // the Kelvin sign lower-cases to "k"
    const body = {
      secret_key: SECRET,
      payload: { chat_id: "c", list: [{ Secret_Key: SECRET, keep: 1 }], deep: { [kelvin]: SECRET } },
      additional_data: { SECRET_KEY: SECRET },
    };
    const stored = storedBody(text(body), body);
    expect(stored).not.toContain(SECRET);
    expect(JSON.parse(stored)).toEqual({ payload: { chat_id: "c", list: [{ keep: 1 }], deep: {} }, additional_data: {} });
    // An escaped spelling of the envelope's key, and a duplicate key whose last value JSON.parse keeps.
    for (const raw of ['{"secret\\u005fkey":"s3cret","payload":{}}', '{"secret_key":"decoy","payload":{},"secret_key":"s3cret"}']) {
      const stored = storedBody(raw, JSON.parse(raw));
      expect(stored).not.toContain("s3cret");
      expect(JSON.parse(stored)).toEqual({ payload: {} });
    }
  });

  it("keeps a message that only quotes the name", () => {
    const body = { secret_key: SECRET, payload: { event: { text: 'my "secret_key" is hunter2' } } };
    expect(JSON.parse(storedBody(text(body), body))).toEqual({ payload: body.payload });
  });
});
