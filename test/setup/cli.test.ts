import { afterEach, describe, expect, it, vi } from "vitest";
import wranglerToml from "../../wrangler.toml?raw";
import { main, parseArgs, resolveSetup, type CliIo } from "../../src/setup/cli";
import { parseDevVars, parseWranglerVars } from "../../src/setup/sources";
import { API_URL, fakeConfiguration, quietHttp } from "./fake-configuration";

const SECRET = "whsec-cli-0123456789";
const PAT = "pat-cli-secret-value-xyz";

function io(argv: string[], env: Record<string, string | undefined>, files: { devVars?: string; wranglerToml?: string } = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const cli: CliIo = {
    argv,
    env,
    ...files,
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    http: quietHttp(),
  };
  return { cli, stdout, stderr, all: () => [...stdout, ...stderr].join("\n") };
}

const fullEnv = {
  LIVECHAT_CLIENT_ID: "client-cli",
  LIVECHAT_WEBHOOK_SECRET: SECRET,
  LIVECHAT_API_URL: API_URL,
  PUBLIC_URL: "https://edge.example.test",
  LIVECHAT_PAT: PAT,
  LIVECHAT_ACCOUNT_ID: "acc-7",
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("parseArgs", () => {
  it("reads every option, with spaced or = values", () => {
    expect(parseArgs(["--dry-run", "--url", "https://a.test", "--version=3.5", "--prune-all", "--replace", "--json"])).toEqual({
      ok: true,
      args: { dryRun: true, url: "https://a.test", version: "3.5", pruneAll: true, replace: true, json: true, help: false },
    });
    expect(parseArgs([])).toMatchObject({ ok: true, args: { dryRun: false, pruneAll: false, json: false } });
  });

  it("rejects unknown arguments and missing values", () => {
    expect(parseArgs(["--dryrun"])).toEqual({ ok: false, error: 'unknown argument "--dryrun"' });
    expect(parseArgs(["--url"])).toEqual({ ok: false, error: "--url needs a value" });
    expect(parseArgs(["--url", "--dry-run"])).toEqual({ ok: false, error: "--url needs a value" });
    expect(parseArgs(["--json=yes"])).toEqual({ ok: false, error: "--json takes no value" });
  });
});

describe("configuration sources", () => {
  it("parses .dev.vars as scripts/local-env.mjs writes it", () => {
    const text = "# Local-only values\nLIVECHAT_CLIENT_ID=local-dev-client\nLIVECHAT_WEBHOOK_SECRET=abc=def\nPUBLIC_URL=\"http://127.0.0.1:8787\"\n\n";
    expect(parseDevVars(text)).toEqual({
      LIVECHAT_CLIENT_ID: "local-dev-client",
      LIVECHAT_WEBHOOK_SECRET: "abc=def",
      PUBLIC_URL: "http://127.0.0.1:8787",
    });
  });

  it("reads the [vars] table of the project's wrangler.toml only", () => {
    const vars = parseWranglerVars(wranglerToml);
    expect(vars).toMatchObject({ LIVECHAT_API_URL: "https://api.livechatinc.com", LIVECHAT_API_VERSION: "3.6" });
    expect(vars).not.toHaveProperty("binding");
    expect(vars).not.toHaveProperty("name");
    expect(parseWranglerVars('[vars]\nA = 3 # n\nB = \'lit\'\n[env.x.vars]\nC = "no"\n')).toEqual({ A: "3", B: "lit" });
  });
});

describe("main", () => {
  it("prints usage with --help", async () => {
    const t = io(["--help"], {});
    expect(await main(t.cli)).toBe(0);
    expect(t.stdout[0]).toMatch(/^Usage: npm run setup/);
  });

  it("exits 1 naming every missing setting, never a value", async () => {
    const t = io([], { LIVECHAT_WEBHOOK_SECRET: SECRET, LIVECHAT_PAT: PAT }, { wranglerToml });
    expect(await main(t.cli)).toBe(1);
    expect(t.stderr).toEqual([
      "setup: cannot run:",
      "  - LIVECHAT_CLIENT_ID is not set (looked in: environment, wrangler.toml [vars])",
      "  - PUBLIC_URL is not set (looked in: environment, wrangler.toml [vars])",
      "  - LIVECHAT_PAT is set but LIVECHAT_ACCOUNT_ID is not (a Personal Access Token is sent as Basic account_id:PAT)",
    ]);
    expect(t.all()).not.toContain(SECRET);
    expect(t.all()).not.toContain(PAT);
  });

  it("asks for credentials when none are set", async () => {
    const { LIVECHAT_PAT: _p, LIVECHAT_ACCOUNT_ID: _a, ...env } = fullEnv;
    const t = io([], env);
    expect(await main(t.cli)).toBe(1);
    expect(t.stderr.join("\n")).toMatch(/no LiveChat credentials: set LIVECHAT_PAT and LIVECHAT_ACCOUNT_ID .* or LIVECHAT_TOKEN/);
  });

  it("exits 1 on an unknown option", async () => {
    const t = io(["--force"], fullEnv);
    expect(await main(t.cli)).toBe(1);
    expect(t.stderr[0]).toBe('setup: unknown argument "--force"');
  });

  it("registers with a PAT (Basic), prints the plan, and never prints a secret", async () => {
    const fake = fakeConfiguration();
    const t = io([], fullEnv);
    expect(await main(t.cli)).toBe(0);
    expect(fake.lc.calls("/register_webhook").length).toBeGreaterThan(0);
    for (const call of fake.lc.calls("/register_webhook")) {
      expect(call.headers.get("authorization")).toBe(`Basic ${btoa(`acc-7:${PAT}`)}`);
      expect(call.body).toMatchObject({ secret_key: SECRET, owner_client_id: "client-cli" });
    }
    expect(t.stdout[0]).toBe(
      "Using LIVECHAT_CLIENT_ID (environment), LIVECHAT_WEBHOOK_SECRET (environment), PUBLIC_URL (environment), " +
        "LIVECHAT_API_VERSION (default), LIVECHAT_API_URL (environment), BOT_WEBHOOK_TYPE (default), auth: LIVECHAT_PAT + LIVECHAT_ACCOUNT_ID (Basic)",
    );
    expect(t.stdout).toContain("  license → https://edge.example.test/webhooks/license");
    expect(t.stdout.at(-1)).toMatch(/^Done: \d+ registered, 0 unregistered/);
    expect(t.all()).not.toContain(SECRET);
    expect(t.all()).not.toContain(PAT);

    // Second run: nothing to change.
    const again = io([], fullEnv);
    expect(await main(again.cli)).toBe(0);
    expect(again.stdout.at(-1)).toBe("Done: nothing to change.");
  });

  it("uses a Bearer token, --url and --version, falling back to .dev.vars", async () => {
    const fake = fakeConfiguration([], { version: "3.5" });
    const devVars = `LIVECHAT_CLIENT_ID=client-dev\nLIVECHAT_WEBHOOK_SECRET=${SECRET}\nLIVECHAT_API_URL=${API_URL}\n`;
    const t = io(["--dry-run", "--url", "http://127.0.0.1:9999/", "--version", "3.5"], { LIVECHAT_TOKEN: "dal:BEARER-abcdef" }, { devVars, wranglerToml });
    expect(await main(t.cli)).toBe(0);
    const [names, list] = fake.lc.calls();
    expect(names.url.href).toBe(`${API_URL}/v3.5/configuration/action/list_webhook_names`);
    expect(list.headers.get("authorization")).toBe("Bearer dal:BEARER-abcdef");
    expect(list.body).toEqual({ owner_client_id: "client-dev" });
    expect(t.stdout[0]).toContain("LIVECHAT_CLIENT_ID (.dev.vars)");
    expect(t.stdout[0]).toContain("PUBLIC_URL (--url)");
    expect(t.stdout).toContain("  bot     → http://127.0.0.1:9999/webhooks/bot");
    expect(t.stdout.at(-1)).toBe("Dry run: nothing changed.");
    expect(fake.lc.calls("/register_webhook")).toHaveLength(0);
  });

  it("--json prints one JSON document, also on failure", async () => {
    fakeConfiguration();
    const t = io(["--json", "--dry-run"], fullEnv);
    expect(await main(t.cli)).toBe(0);
    expect(t.stdout).toHaveLength(1);
    const doc = JSON.parse(t.stdout[0]);
    expect(doc.ok).toBe(true);
    expect(doc.report.dryRun).toBe(true);
    expect(doc.report.plan.add.length).toBeGreaterThan(0);
    expect(t.stdout[0]).not.toContain(SECRET);

    const bad = io(["--json", "--version", "3.1"], fullEnv);
    expect(await main(bad.cli)).toBe(1);
    expect(JSON.parse(bad.stdout[0])).toEqual({ ok: false, problems: ["the API version must be one the code supports: 3.5, 3.6"] });
  });

  it("registers the bot's behaviours as bot webhooks by default, as license webhooks with BOT_WEBHOOK_TYPE=license", async () => {
    const types = async (env: Record<string, string | undefined>) => {
      const fake = fakeConfiguration();
      const t = io(["--json"], env);
      expect(await main(t.cli)).toBe(0);
      return fake.lc.calls("/register_webhook").map((c) => `${(c.body as any).type}:${(c.body as any).action}:${(c.body as any).url}`);
    };
    const byDefault = await types(fullEnv);
    expect(byDefault).toContain("bot:incoming_event:https://edge.example.test/webhooks/bot");
    expect(byDefault).toContain("license:chat_deactivated:https://edge.example.test/webhooks/license");
    expect(byDefault).not.toContain("license:incoming_event:https://edge.example.test/webhooks/license");
    vi.restoreAllMocks();
    const licenseMode = await types({ ...fullEnv, BOT_WEBHOOK_TYPE: "license" });
    expect(licenseMode.filter((r) => r.startsWith("bot:"))).toEqual([]);
    expect(licenseMode).toContain("license:incoming_event:https://edge.example.test/webhooks/license");

    const bad = io(["--json"], { ...fullEnv, BOT_WEBHOOK_TYPE: "both" });
    expect(await main(bad.cli)).toBe(1);
    expect(JSON.parse(bad.stdout[0]).problems).toEqual(['BOT_WEBHOOK_TYPE must be "bot" or "license"']);
  });

  it("refuses API versions the code does not support (3.7)", async () => {
    const bad = io(["--json", "--version", "3.7"], fullEnv);
    expect(await main(bad.cli)).toBe(1);
    expect(JSON.parse(bad.stdout[0]).problems).toEqual(["the API version must be one the code supports: 3.5, 3.6"]);
  });

  it("exits 1 with the LiveChat error when a call fails, scrubbing the token", async () => {
    const fake = fakeConfiguration();
    fake.lc.on("POST", "/configuration/action/list_webhooks", () =>
      Response.json({ error: { type: "authentication", message: `Invalid token ${PAT}` } }, { status: 401 }),
    );
    const t = io([], fullEnv);
    expect(await main(t.cli)).toBe(1);
    expect(t.stderr[0]).toBe("setup failed:");
    expect(t.stderr[1]).toMatch(/^ {2}- list_webhooks failed: authentication \(HTTP 401\)/);
    expect(t.all()).not.toContain(PAT);
  });
});

describe("local secrets stay local", () => {
  it("refuses a webhook secret from .dev.vars for a public URL, accepts it for a local one", () => {
    const layers = [{ name: ".dev.vars", values: { LIVECHAT_CLIENT_ID: "c", LIVECHAT_WEBHOOK_SECRET: "local-secret" } }];
    const env = { LIVECHAT_TOKEN: "dal:t" };
    const remote = resolveSetup({ dryRun: true, json: false, pruneAll: false, replace: false, help: false, url: "https://edge.example.com" } as never, layers, env);
    expect(remote.ok).toBe(false);
    expect(JSON.stringify(remote)).toContain("LIVECHAT_WEBHOOK_SECRET comes from .dev.vars");
    expect(JSON.stringify(remote)).not.toContain("local-secret");
    const local = resolveSetup({ dryRun: true, json: false, pruneAll: false, replace: false, help: false, url: "http://127.0.0.1:8787" } as never, layers, env);
    expect(local.ok).toBe(true);
  });
});
