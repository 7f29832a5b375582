import { describe, expect, it } from "vitest";
import { LiveChatError, isAuthError, isRetryable, isRetryableFailure, typeForStatus } from "../../src/livechat/errors";

describe("LiveChatError", () => {
  it("carries status, type, data, method and LiveChat's message", () => {
    const e = new LiveChatError({ status: 404, type: "not_found", message: "Chat not found", method: "agent/get_chat", data: { id: "X" } });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("LiveChatError");
    expect(e.message).toBe("LiveChat agent/get_chat failed (not_found): Chat not found");
    expect(e.detail).toBe("Chat not found");
    expect(e).toMatchObject({ status: 404, type: "not_found", data: { id: "X" }, method: "agent/get_chat", retryable: false });
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      name: "LiveChatError",
      message: e.message,
      status: 404,
      type: "not_found",
      method: "agent/get_chat",
      data: { id: "X" },
      retryable: false,
    });
  });

  it("derives retryable from type and status unless told", () => {
    expect(new LiveChatError({ status: 0, type: "network", message: "x" }).retryable).toBe(true);
    expect(new LiveChatError({ status: 400, type: "internal", message: "x" }).retryable).toBe(true);
    expect(new LiveChatError({ status: 500, type: "validation", message: "x" }).retryable).toBe(true);
    expect(new LiveChatError({ status: 500, type: "internal", message: "x", retryable: false }).retryable).toBe(false);
    expect(new LiveChatError({ status: 0, type: "not_installed", message: "x" }).message).toBe("LiveChat failed (not_installed): x");
  });
});

describe("classification", () => {
  it.each([
    ["too_many_requests", 400, true],
    ["internal", 400, true],
    ["service_unavailable", 400, true],
    ["temporarily_unavailable", 400, true],
    ["server_error", 400, true],
    ["network", 0, true],
    ["timeout", 0, true],
    ["whatever", 429, true],
    ["whatever", 502, true],
    ["validation", 400, false],
    ["authentication", 401, false],
    ["misdirected_request", 421, false],
    ["chat_inactive", 400, false],
    ["invalid_grant", 400, false],
    ["invalid_response", 200, false],
  ])("%s (HTTP %i) retryable=%s", (type, status, expected) => {
    expect(isRetryableFailure(type, status)).toBe(expected);
    expect(isRetryable(new LiveChatError({ status, type, message: "m" }))).toBe(expected);
  });

  it("isRetryable is false for anything but a LiveChatError", () => {
    expect(isRetryable(new TypeError("fetch failed"))).toBe(false);
    expect(isRetryable("internal")).toBe(false);
  });

  it.each([
    ["authentication", true],
    ["authorization", true],
    ["invalid_grant", true],
    ["unauthorized_client", true],
    ["invalid_client", true],
    ["not_found", false],
    ["too_many_requests", false],
    ["access_denied", false],
  ])("isAuthError(%s) = %s", (type, expected) => {
    expect(isAuthError(new LiveChatError({ status: 401, type, message: "m" }))).toBe(expected);
  });

  it("isAuthError is false for other errors", () => {
    expect(isAuthError(Object.assign(new Error("x"), { type: "authentication" }))).toBe(false);
  });

  it("types body-less responses by status", () => {
    expect([401, 403, 404, 429, 503, 500, 502, 418].map(typeForStatus)).toEqual([
      "authentication",
      "authorization",
      "not_found",
      "too_many_requests",
      "service_unavailable",
      "internal",
      "internal",
      "http_error",
    ]);
  });
});
