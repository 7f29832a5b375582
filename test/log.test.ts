import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger, redact, setLogLevel } from "../src/log";

afterEach(() => {
  setLogLevel("info");
  vi.restoreAllMocks();
});

describe("logger", () => {
  it("drops lines below the level and writes JSON lines at or above it", () => {
    const out = vi.spyOn(console, "log").mockImplementation(() => {});
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const log = createLogger({ component: "t" });
    log.debug("hidden");
    log.info("shown", { n: 1 });
    log.warn("careful");
    expect(out.mock.calls.map((c) => JSON.parse(c[0] as string).msg)).toEqual(["shown"]);
    expect(warn).toHaveBeenCalledTimes(1);
    setLogLevel("debug");
    log.debug("now shown");
    expect(out).toHaveBeenCalledTimes(2);
    setLogLevel("warn");
    log.info("hidden again");
    expect(out).toHaveBeenCalledTimes(2);
  });

  it("redacts secret-looking keys and tokens in values, at any depth", () => {
    const value = redact({
      secret_key: "s3cr3t",
      nested: { access_token: "x", note: "Bearer dal:abcdefgh123 was used", short: "dal:x" },
      list: ["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QtMSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"],
    });
    expect(JSON.stringify(value)).not.toMatch(/s3cr3t|abcdefgh123|eyJhbGci/);
    expect(value).toMatchObject({ secret_key: "[redacted]", nested: { access_token: "[redacted]", short: "dal:x" } });
  });

  it("leaves ids and keys without a token shape as they are, and still masks the same name twice", () => {
    const fields = { dedupe_key: "license:incoming_event:PJ0MRSHTDG:K600PKZON8:K600PKZON8_4", id: "0f0e-dal1-fra2", api_key: "k" };
    expect(redact(fields)).toEqual({ ...fields, api_key: "[redacted]" });
    expect(redact({ api_key: "again", region: "fra:abcdefgh" })).toEqual({ api_key: "[redacted]", region: "[redacted]" });
  });
});
