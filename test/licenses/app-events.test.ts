import { describe, expect, it } from "vitest";
import { APP_EVENT_PAYLOAD_FIELDS, APP_EVENT_VALUE_LENGTH, boundedPayload } from "../../src/licenses/app-events";
import { fixture } from "../helpers/fixtures";

describe("boundedPayload", () => {
  it("keeps the documented payloads as they are", () => {
    for (const name of ["application_installed", "payment_activated", "payment_collected"]) {
      const { payload } = fixture(`app_webhook.${name}`) as { payload: Record<string, unknown> };
      expect(boundedPayload(payload)).toEqual({ payload, truncated: false });
    }
  });

  it("drops nested values, cuts long strings and caps the number of fields, and says so", () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i]));
    const { payload, truncated } = boundedPayload({ nested: { a: 1 }, list: [1], long: "x".repeat(10_000), ...many });
    expect(truncated).toBe(true);
    expect(payload).not.toHaveProperty("nested");
    expect(payload).not.toHaveProperty("list");
    expect(payload.long).toBe(`${"x".repeat(APP_EVENT_VALUE_LENGTH)}…`);
    expect(Object.keys(payload)).toHaveLength(APP_EVENT_PAYLOAD_FIELDS);
  });

  it("keeps a `__proto__` key as plain data", () => {
    const { payload } = boundedPayload(JSON.parse('{"__proto__":"p","applicationID":"a"}'));
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.keys(payload)).toEqual(["__proto__", "applicationID"]);
  });
});
