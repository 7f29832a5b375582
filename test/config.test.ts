import { env } from "cloudflare:workers";
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loadConfig, requireConfig, ConfigError } from "../src/config";
import { fixtureNames } from "./helpers/fixtures";

describe("config", () => {
  it("parses the test bindings into a typed config", () => {
    const config = requireConfig(env);
    expect(config.clientId).toBe("test-client-id");
    expect(config.webhookSecrets).toEqual(["test-webhook-secret"]);
    expect(config.replyTimeoutSeconds).toBe(120);
    expect(config.apiVersion).toBe("3.6");
  });

  it("names every missing or malformed variable and never echoes a value", () => {
    const result = loadConfig({
      LIVECHAT_CLIENT_ID: "id",
      LIVECHAT_CLIENT_SECRET: "",
      TOKEN_ENCRYPTION_KEY: "c2hvcnQ=",
      ADMIN_TOKEN: "tooshort",
      LIVECHAT_API_URL: "ftp:/nope",
      REPLY_TIMEOUT_SECONDS: "soon",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const names = result.problems.map((p) => p.name).sort();
    expect(names).toEqual([
      "ADMIN_TOKEN",
      "LIVECHAT_API_URL",
      "LIVECHAT_CLIENT_SECRET",
      "LIVECHAT_WEBHOOK_SECRET",
      "REPLY_TIMEOUT_SECONDS",
      "TOKEN_ENCRYPTION_KEY",
    ]);
    const text = JSON.stringify(result.problems);
    for (const value of ["c2hvcnQ=", "tooshort", "ftp:/nope", "soon"]) expect(text).not.toContain(value);
  });

  it("accepts a previous webhook secret for rotation", () => {
    const config = requireConfig({ ...env, LIVECHAT_WEBHOOK_SECRET_PREVIOUS: "old-secret" });
    expect(config.webhookSecrets).toEqual(["test-webhook-secret", "old-secret"]);
  });

  it("throws a ConfigError from requireConfig", () => {
    expect(() => requireConfig({})).toThrow(ConfigError);
  });

  it("healthz reports ok with the test config", async () => {
    const res = await SELF.fetch("https://edge.example.test/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });

  it("bundles the shared LiveChat examples as fixtures", () => {
    expect(fixtureNames("webhook.v3.6.").length).toBeGreaterThan(30);
  });
});

describe("log level", () => {
  it("defaults to info, accepts a level, and names a bad one", () => {
    expect(requireConfig(env).logLevel).toBe("info");
    expect(requireConfig({ ...env, LOG_LEVEL: "debug" }).logLevel).toBe("debug");
    const bad = loadConfig({ ...env, LOG_LEVEL: "loud" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems).toEqual([{ name: "LOG_LEVEL", problem: "LOG_LEVEL must be debug, info, warn or error" }]);
    requireConfig(env); // back to the test default for the rest of the isolate
  });
});
