import { env } from "cloudflare:workers";
import { createExecutionContext, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { configNames, loadConfig, requireConfig, ConfigError, SECRET_NAMES } from "../src/config";
import { parseWranglerVars } from "../src/setup/sources";
import readme from "../README.md?raw";
import wranglerToml from "../wrangler.toml?raw";
import worker from "../src/index";
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

  it("refuses an ADMIN_TOKEN shorter than 32 characters and says how to generate one", () => {
    const base = { ...env } as Record<string, unknown>;
    const short = loadConfig({ ...base, ADMIN_TOKEN: "x".repeat(31) });
    expect(short.ok).toBe(false);
    if (short.ok) return;
    expect(short.problems).toEqual([{ name: "ADMIN_TOKEN", problem: expect.stringContaining("openssl rand -base64 32") }]);
    expect(short.problems[0].problem).toContain("at least 32 characters");
    expect(loadConfig({ ...base, ADMIN_TOKEN: "x".repeat(32) }).ok).toBe(true);
  });

  it("accepts a previous webhook secret for rotation", () => {
    const config = requireConfig({ ...env, LIVECHAT_WEBHOOK_SECRET_PREVIOUS: "old-secret" });
    expect(config.webhookSecrets).toEqual(["test-webhook-secret", "old-secret"]);
  });

  it("accepts a previous TOKEN_ENCRYPTION_KEY (decrypt only) and names a malformed one", () => {
    const previous = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
    expect(requireConfig({ ...env, TOKEN_ENCRYPTION_KEY_PREVIOUS: previous }).tokenEncryptionKeyPrevious).toBe(previous);
    expect(requireConfig(env).tokenEncryptionKeyPrevious).toBeUndefined(); // "" is unset
    const bad = loadConfig({ ...env, TOKEN_ENCRYPTION_KEY_PREVIOUS: "c2hvcnQ=" });
    expect(bad.ok ? [] : bad.problems).toEqual([
      { name: "TOKEN_ENCRYPTION_KEY_PREVIOUS", problem: "TOKEN_ENCRYPTION_KEY_PREVIOUS must be 32 random bytes, base64-encoded" },
    ]);
  });

  it("LiveChat URLs must be https, except http to a loopback host (the local simulator)", () => {
    const names = (vars: Record<string, string>) => {
      const result = loadConfig({ ...env, ...vars });
      return result.ok ? [] : result.problems.map((p) => p.name);
    };
    expect(names({ LIVECHAT_ACCOUNTS_URL: "http://accounts.livechat.com", LIVECHAT_API_URL: "http://10.0.0.5:8788" })).toEqual([
      "LIVECHAT_ACCOUNTS_URL",
      "LIVECHAT_API_URL",
    ]);
    expect(names({ LIVECHAT_API_URL: "http://127.0.0.1.example.com" })).toEqual(["LIVECHAT_API_URL"]);
    for (const url of ["http://127.0.0.1:8788", "http://localhost:8788", "http://[::1]:8788", "https://api.livechatinc.com"]) {
      expect(names({ LIVECHAT_ACCOUNTS_URL: url, LIVECHAT_API_URL: url }), url).toEqual([]);
    }
  });

  it("names a webhook secret shorter than 16 characters as weak, in /healthz too, without its value", async () => {
    expect(requireConfig(env).warnings).toEqual([]);
    const weak = { ...env, LIVECHAT_WEBHOOK_SECRET: "abc123", LIVECHAT_WEBHOOK_SECRET_PREVIOUS: "0123456789abcdef" };
    expect(requireConfig(weak).warnings.map((w) => w.name)).toEqual(["LIVECHAT_WEBHOOK_SECRET"]);
    const res = await worker.fetch(new Request("https://edge.example.test/healthz"), weak, createExecutionContext());
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ ok: true, warnings: [{ name: "LIVECHAT_WEBHOOK_SECRET" }] });
    expect(body).not.toContain("abc123");
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

describe("configuration names", () => {
  it("required are the names without a default; every secret is a name", () => {
    const names = configNames();
    expect(names.filter((n) => n.required).map((n) => n.name)).toEqual([
      "LIVECHAT_CLIENT_ID",
      "LIVECHAT_CLIENT_SECRET",
      "LIVECHAT_WEBHOOK_SECRET",
      "TOKEN_ENCRYPTION_KEY",
      "ADMIN_TOKEN",
    ]);
    for (const secret of SECRET_NAMES) expect(names.find((n) => n.name === secret)?.secret, secret).toBe(true);
  });

  it("the README's configuration table lists exactly src/config.ts's names, each as a var or secret, required ones without a default", () => {
    const rows = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (var|secret) \| ([^|]*) \| ([^|]*) \|$/gm)].map((m) => ({
      name: m[1],
      kind: m[2],
      fallback: m[3].trim(),
      what: m[4].trim(),
    }));
    const names = configNames();
    expect(rows.map((r) => r.name).sort()).toEqual(names.map((n) => n.name).sort());
    for (const row of rows) {
      const name = names.find((n) => n.name === row.name)!;
      expect(row.kind, row.name).toBe(name.secret ? "secret" : "var");
      const statedRequired = row.fallback === "—" && !row.what.startsWith("optional");
      expect(statedRequired, `${row.name}: required ${name.required}`).toBe(name.required);
    }
  });

  it("wrangler.toml [vars] holds only config vars, never a secret", () => {
    const vars = Object.keys(parseWranglerVars(wranglerToml));
    const names = configNames();
    for (const name of vars) expect(names.find((n) => n.name === name && !n.secret), name).toBeDefined();
  });
});
