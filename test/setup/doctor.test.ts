import { env } from "cloudflare:workers";
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DOCTOR_USAGE, main, parseDoctorArgs, type DoctorIo } from "../../src/setup/doctor";
import { runSetup } from "../../src/setup/run";
import { ConfigurationApi } from "../../src/livechat/configuration";
import type { RecordedCall } from "../helpers/livechat-mock";
import { API_URL, fakeConfiguration, quietHttp } from "./fake-configuration";

// The real Worker answers the doctor's requests to its URL (SELF); LiveChat's Configuration API is
// the stateful fake. The whole command against `wrangler dev` and the simulator runs in the e2e story.
const testBindings = env as unknown as Record<"PUBLIC_URL" | "ADMIN_TOKEN" | "LIVECHAT_CLIENT_ID" | "LIVECHAT_WEBHOOK_SECRET", string>;
const WORKER = testBindings.PUBLIC_URL;
const PAT = "pat-doctor-secret-value";

function setup() {
  const fake = fakeConfiguration();
  fake.lc.on("GET", /^https:\/\/(edge|other)\.example\.test\//, (call: RecordedCall) =>
    SELF.fetch(call.url.href, { headers: call.headers, redirect: "manual" }),
  );
  const run = async (argv: string[], env: Record<string, string | undefined> = {}) => {
    const stdout: string[] = [];
    const io: DoctorIo = {
      argv,
      env: { LIVECHAT_API_URL: API_URL, LIVECHAT_PAT: PAT, LIVECHAT_ACCOUNT_ID: "acc-1", ADMIN_TOKEN: testBindings.ADMIN_TOKEN, ...env },
      stdout: (line) => stdout.push(line),
      stderr: (line) => stdout.push(line),
      http: quietHttp(),
    };
    const code = await main(io);
    const text = stdout.join("\n");
    const report = argv.includes("--json") ? JSON.parse(stdout[0]) : undefined;
    return { code, text, report, status: Object.fromEntries((report?.checks ?? []).map((c: { name: string; status: string }) => [c.name, c.status])) };
  };
  const registerAt = (url: string) =>
    runSetup({
      api: new ConfigurationApi({ apiUrl: API_URL, version: "3.6", credentials: { kind: "basic", accountId: "acc-1", token: PAT }, http: quietHttp() }),
      clientId: testBindings.LIVECHAT_CLIENT_ID,
      secret: testBindings.LIVECHAT_WEBHOOK_SECRET,
      url,
      version: "3.6",
    });
  return { fake, run, registerAt };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("npm run doctor", () => {
  it("a deployment set up as npm run setup does passes every check; no token or PAT is printed", async () => {
    const { run, registerAt } = setup();
    await registerAt(WORKER);
    const r = await run(["--url", WORKER]);
    expect(r.code, r.text).toBe(0);
    expect(r.text).toContain("✓ healthz");
    expect(r.text).toMatch(/✓ install\s+redirects to https:\/\/accounts\.livechat\.test for client test-client-id with PKCE \(S256\), back to https:\/\/edge\.example\.test\/install/);
    expect(r.text).toContain("✓ admin");
    expect(r.text).toMatch(/✓ webhooks \d+ registered for client test-client-id at https:\/\/edge\.example\.test\/webhooks\/\{license,bot\}, as declared/);
    expect(r.text).toContain("All 4 checks passed.");
    expect(r.text).not.toContain(PAT);
    expect(r.text).not.toContain(testBindings.ADMIN_TOKEN);
  });

  it("webhooks missing, at another URL or changed by hand fail with the setup command", async () => {
    const { fake, run, registerAt } = setup();
    let r = await run(["--url", WORKER, "--json"]);
    expect(r.code).toBe(1);
    expect(r.status).toEqual({ healthz: "ok", install: "ok", admin: "ok", webhooks: "fail" });
    const webhooks = r.report.checks.find((c: { name: string }) => c.name === "webhooks");
    expect(webhooks.detail).toMatch(/missing: .*license chat_deactivated.*bot incoming_chat/);
    expect(webhooks.fix).toBe(`npm run setup -- --url ${WORKER}`);

    await registerAt("https://old.example.test");
    r = await run(["--url", WORKER, "--json"]);
    expect(r.status.webhooks).toBe("fail");
    expect(r.report.checks[3].detail).toMatch(/at other URLs \(https:\/\/old\.example\.test\/webhooks\/license/);

    await registerAt(WORKER);
    fake.hooks.find((h) => h.url === `${WORKER}/webhooks/bot` && h.action === "incoming_event")!.filters = { author_type: "customer" };
    r = await run(["--url", WORKER, "--json"]);
    expect(r.status.webhooks).toBe("fail");
    expect(r.report.checks[3].detail).toMatch(/missing: bot incoming_event; not declared: bot incoming_event/);
  });

  it("the Worker sending installs back elsewhere (PUBLIC_URL), a wrong admin token and no credentials are named", async () => {
    const { run, registerAt } = setup();
    await registerAt(WORKER);
    // The Worker's PUBLIC_URL is edge.example.test; reached under another name it still sends LiveChat there.
    const elsewhere = await run(["--url", "https://other.example.test", "--json"], { ADMIN_TOKEN: "a-wrong-admin-token-0123456789-abcdef" });
    expect(elsewhere.status).toMatchObject({ healthz: "ok", install: "fail", admin: "fail" });
    expect(elsewhere.report.checks[1].detail).toBe("LiveChat would send installs back to https://edge.example.test/install, not https://other.example.test/install");
    expect(elsewhere.report.checks[1].fix).toBe('set PUBLIC_URL = "https://other.example.test" under [vars] in wrangler.toml and deploy again');
    expect(elsewhere.report.checks[2].fix).toMatch(/ADMIN_TOKEN is not the Worker's/);

    const noAuth = await run(["--url", WORKER, "--json"], { LIVECHAT_PAT: undefined, LIVECHAT_ACCOUNT_ID: undefined, ADMIN_TOKEN: undefined });
    expect(noAuth.code).toBe(1);
    expect(noAuth.status).toEqual({ healthz: "ok", install: "ok", admin: "fail", webhooks: "fail" });
    expect(noAuth.report.checks[2].detail).toBe("refuses a request without a token; not checked with one");
    expect(noAuth.report.checks[3].detail).toMatch(/not checked: no LiveChat credentials/);
  });

  it("reads its arguments: --url is required and must be a base URL", () => {
    expect(parseDoctorArgs(["--url", "https://a.test", "--webhooks-url=https://b.test", "--json"])).toEqual({
      ok: true,
      args: { url: "https://a.test", webhooksUrl: "https://b.test", json: true, help: false },
    });
    expect(parseDoctorArgs([])).toEqual({ ok: false, error: "--url <worker> is required" });
    expect(parseDoctorArgs(["--url", "https://a.test/?x=1"])).toMatchObject({ ok: false });
    expect(parseDoctorArgs(["--url", "ftp://a.test"])).toMatchObject({ ok: false });
    expect(parseDoctorArgs(["--nope"])).toMatchObject({ ok: false, error: 'unknown argument "--nope"' });
    expect(DOCTOR_USAGE).toContain("--webhooks-url");
  });
});
