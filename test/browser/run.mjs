#!/usr/bin/env node
// Browser test of the install flow and the operations dashboard: the real Worker under `wrangler dev`
// and the LiveChat simulator, driven by Debian's chromium through playwright-core (docs/TOOLCHAIN.md §3.8).
//
//   node test/browser/run.mjs [--json FILE] [--headed]
//
// Installs the app in the browser (GET /install → the simulator's authorize page → back with code and
// state, bound to the browser by the sealed __Host-oauth cookie; the same callback from another
// browser is refused), seeds a dead letter (a thread_tagged webhook whose tag suggestion fails while
// the simulator's Agent Chat API answers 400), then in the browser: log in, open the license, change
// a setting, replay the dead letter, screenshot to test-results/admin.png, erase the license with its
// page's form confirmed by the typed id (the simulator then lists no bot of the app). Writes {passed, failed,
// steps} to --json. Exit code 1 on any failure.
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { generateSecrets, serialize } from "../../scripts/local-env.mjs";
import { freePort, ROOT, simCall, startWrangler, waitForWorker } from "../../scripts/local-stack.mjs";
import { startSimulator } from "../../sim/server.mjs";

const { values } = parseArgs({ options: { json: { type: "string" }, headed: { type: "boolean" } } });
const RESULTS = join(ROOT, "test-results");
const LOGS = join(RESULTS, "browser");
const SCREENSHOT = join(RESULTS, "admin.png");
const RUN_LIMIT_MS = 240_000;
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** @type {{ name: string, ok: boolean, detail: string, ms: number }[]} */
const steps = [];
let failedEarly = false;

/** Run one reported step; after a failure the remaining steps are reported as not run. */
async function step(name, fn) {
  const started = Date.now();
  if (failedEarly) {
    steps.push({ name, ok: false, detail: "not run (an earlier step failed)", ms: 0 });
    console.log(`  ✗ ${name}: not run`);
    return undefined;
  }
  try {
    const detail = (await fn()) ?? "";
    steps.push({ name, ok: true, detail: String(detail), ms: Date.now() - started });
    console.log(`  ✓ ${name}${detail ? ` — ${detail}` : ""}`);
    return detail;
  } catch (error) {
    failedEarly = true;
    steps.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error), ms: Date.now() - started });
    console.log(`  ✗ ${name}: ${error instanceof Error ? error.message : error}`);
    return undefined;
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function waitFor(what, fn, timeoutMs = 30_000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? ` (${last.message})` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function finish(code) {
  const passed = steps.filter((s) => s.ok).length;
  const failed = steps.length - passed || (code ? 1 : 0);
  if (values.json) writeFileSync(values.json, JSON.stringify({ passed, failed, steps }, null, 1));
  console.log(`browser: ${passed} passed, ${failed} failed`);
  return failed ? 1 : code;
}

mkdirSync(LOGS, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), "livechat-edge-browser-"));
const workerLog = createWriteStream(join(LOGS, "worker.log"));
const simLog = createWriteStream(join(LOGS, "sim.log"));
const secrets = { ...generateSecrets(), LIVECHAT_CLIENT_ID: "browser-client" };
let sim;
let wrangler;
let browser;

async function cleanup() {
  await browser?.close().catch(() => {});
  await wrangler?.stop().catch(() => {});
  await sim?.close().catch(() => {});
  workerLog.end();
  simLog.end();
  rmSync(dir, { recursive: true, force: true });
}

const watchdog = setTimeout(async () => {
  console.log(`browser: the run exceeded ${RUN_LIMIT_MS / 1000} s; stopping`);
  steps.push({ name: "time limit", ok: false, detail: `exceeded ${RUN_LIMIT_MS / 1000} s`, ms: RUN_LIMIT_MS });
  await cleanup();
  process.exit(finish(1));
}, RUN_LIMIT_MS);

const s = /** @type {Record<string, any>} */ ({});
console.log("Install flow and admin dashboard in chromium");
try {
  await step("boot: the LiveChat simulator and the Worker under wrangler dev", async () => {
    const port = await freePort();
    s.worker = `http://127.0.0.1:${port}`;
    sim = await startSimulator({
      port: 0,
      retryDelaysMs: [200, 500, 1_000],
      log: (line) => simLog.write(`${new Date().toISOString()} ${line}\n`),
      app: {
        client_id: secrets.LIVECHAT_CLIENT_ID,
        client_secret: secrets.LIVECHAT_CLIENT_SECRET,
        name: "livechat-edge (browser test)",
        app_webhook_url: `${s.worker}/webhooks/app`,
        redirect_uris: [`${s.worker}/install`],
      },
    });
    const envFile = join(dir, "worker.env");
    writeFileSync(
      envFile,
      serialize({
        ...secrets,
        PUBLIC_URL: s.worker,
        LIVECHAT_ACCOUNTS_URL: sim.url,
        LIVECHAT_API_URL: sim.url,
        REPLY_TIMEOUT_SECONDS: "600",
      }),
      { mode: 0o600 },
    );
    wrangler = startWrangler({ port, persistTo: join(dir, "state"), envFile, output: "pipe", logLevel: "warn" });
    wrangler.child.stdout.pipe(workerLog);
    wrangler.child.stderr.pipe(workerLog);
    const health = await waitForWorker(s.worker, { exited: wrangler.exited, timeoutMs: 90_000 });
    expect(health.status === 200, `GET /healthz → ${health.status} ${JSON.stringify(health.body)}`);
    return `${s.worker}, simulator ${sim.url}`;
  });

  /** The admin JSON API with the bearer token. */
  const adminApi = async (method, path, body) => {
    const res = await fetch(`${s.worker}/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${secrets.ADMIN_TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(data)}`);
    return data;
  };

  await step("browser: install through GET /install → the simulator's authorize page → back, bound to this browser by its __Host-oauth cookie", async () => {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: !values.headed, args: CHROMIUM_ARGS });
    const context = await browser.newContext();
    const installer = await context.newPage();
    /** @type {string[]} */
    const hops = [];
    installer.on("request", (r) => r.isNavigationRequest() && hops.push(r.url()));
    let stateCookie;
    installer.on("response", async (r) => {
      if (new URL(r.url()).pathname === "/install" && !new URL(r.url()).searchParams.has("code")) stateCookie = await r.headerValue("set-cookie");
    });
    const result = await installer.goto(`${s.worker}/install`);
    expect(result?.status() === 200, `the install result page answered ${result?.status()}: ${(await installer.textContent("body"))?.slice(0, 200)}`);
    expect((await installer.textContent("h1"))?.includes("is installed"), `no success page: ${(await installer.textContent("body"))?.slice(0, 200)}`);
    const authorize = hops.find((u) => u.startsWith(sim.url));
    const callback = hops.find((u) => u.startsWith(`${s.worker}/install?`) && new URL(u).searchParams.has("code"));
    expect(authorize && new URL(authorize).searchParams.get("code_challenge_method") === "S256", `no PKCE authorize hop: ${hops.join(" → ")}`);
    const state = new URL(authorize).searchParams.get("state");
    expect(callback && new URL(callback).searchParams.get("state") === state, `the simulator did not carry state back: ${hops.join(" → ")}`);
    expect(stateCookie?.startsWith("__Host-oauth=") && /HttpOnly/i.test(stateCookie) && /Secure/i.test(stateCookie) && /SameSite=Lax/i.test(stateCookie), `state cookie ${stateCookie}`);
    expect(!stateCookie.includes(state), "the state cookie shows the state in clear");
    const left = (await context.cookies()).map((c) => c.name);
    expect(!left.includes("__Host-oauth"), `the state cookie was not cleared after the callback (cookies: ${left.join(", ")})`);
    // The same callback URL in another browser (no cookie): refused before any code exchange.
    const other = await browser.newContext();
    const replay = await (await other.newPage()).goto(callback);
    expect(replay?.status() === 400, `a callback replayed in another browser answered ${replay?.status()}`);
    await other.close();
    await context.close();
    return `${hops.length} hops; state carried through; cookie set, then cleared; replay elsewhere → 400`;
  });

  await step("seed: the installed license's bot accepts chats", async () => {
    const { licenses } = await waitFor("the license in the admin API", async () => {
      const page = await adminApi("GET", "/licenses");
      return page.licenses.length === 1 ? page : undefined;
    });
    s.org = licenses[0].organizationId;
    await waitFor("the bot to accept chats", async () => (await adminApi("GET", `/licenses/${s.org}`)).bot?.routingStatus === "accepting_chats", 45_000);
    return `organization ${s.org}`;
  });

  await step("seed: a thread_tagged delivery fails every attempt and becomes a dead letter", async () => {
    await adminApi("PUT", `/licenses/${s.org}/settings`, { tagSuggestions: { refund: ["Refunds take 5 business days."] } });
    const chat = await simCall(sim.url, "POST", "/_sim/chats", { license: "demo", text: "I want my money back" });
    s.chat = chat.chat_id;
    // Every Agent Chat API call fails (400, not retried by the client) until the fault is removed.
    await simCall(sim.url, "POST", "/_sim/faults", { match: "/agent/action/", status: 400, type: "validation", message: "injected by the browser test", count: null });
    // The tag suggestion is a bot behaviour: LiveChat sends it as a bot webhook (docs/LIVECHAT.md §1.5).
    const res = await fetch(`${s.worker}/webhooks/bot`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        webhook_id: crypto.randomUUID(),
        secret_key: secrets.LIVECHAT_WEBHOOK_SECRET,
        action: "thread_tagged",
        organization_id: s.org,
        payload: { chat_id: chat.chat_id, thread_id: chat.thread_id, tag: "refund" },
        additional_data: { chat_properties: {}, chat_presence_user_ids: [] },
      }),
    });
    expect(res.status === 200, `webhook answered ${res.status}`);
    const letters = await waitFor(
      "the dead letter (5 attempts with backoff)",
      async () => {
        const { deadLetters } = await adminApi("GET", `/licenses/${s.org}/dead-letters`);
        return deadLetters.length === 1 ? deadLetters : undefined;
      },
      60_000,
      500,
    );
    s.deliveryId = letters[0].deliveryId;
    await simCall(sim.url, "DELETE", "/_sim/faults");
    return `${letters[0].action} in chat ${letters[0].chatId}: ${letters[0].error.slice(0, 120)}`;
  });

  let page;
  const cspViolations = [];
  await step("browser: /admin answers with the login form; logging in with the admin token opens the overview", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    const first = await page.goto(`${s.worker}/admin`);
    expect(first?.status() === 401, `GET /admin without a session → ${first?.status()}`);
    await page.fill("#token", "wrong-token-wrong-token");
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${s.worker}/admin/login` && r.request().method() === "POST"),
      page.click("button[type=submit]"),
    ]);
    await page.waitForLoadState();
    expect(refused.status() === 401, `a wrong token → ${refused.status()}`);
    expect((await page.textContent("body"))?.includes("Wrong admin token."), "a wrong token was not refused");
    await page.fill("#token", secrets.ADMIN_TOKEN);
    await Promise.all([page.waitForURL(`${s.worker}/admin`), page.click("button[type=submit]")]);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "__Host-admin");
    expect(session, `no session cookie (cookies: ${cookies.map((c) => c.name).join(", ")})`);
    expect(session.httpOnly && session.secure && session.sameSite === "Strict", `cookie flags ${JSON.stringify(session)}`);
    expect(session.value !== secrets.ADMIN_TOKEN && !session.value.includes(secrets.ADMIN_TOKEN), "the cookie holds the token");
    expect(await page.isVisible(`a[href="/admin/licenses/${s.org}"]`), "the license is not listed");
    return `cookie ${session.name} (HttpOnly, Secure, SameSite=Strict)`;
  });

  await step("browser: the license page shows the bot, the 24-hour chart and the dead letter", async () => {
    await Promise.all([page.waitForURL(`**/admin/licenses/${s.org}`), page.click(`a[href="/admin/licenses/${s.org}"]`)]);
    expect((await page.textContent("#bot"))?.includes("accepting_chats"), "the bot card does not show accepting_chats");
    expect((await page.locator("svg.chart g").count()) === 24, "the chart does not have 24 hourly bars");
    expect((await page.locator("svg.chart rect.b-dead").count()) >= 1, "the chart shows no dead delivery");
    const row = page.locator("table.dead-letters tbody tr");
    expect((await row.count()) === 1, `expected one dead letter, saw ${await row.count()}`);
    expect((await row.textContent())?.includes("thread_tagged"), "the dead letter is not the thread_tagged delivery");
    return "bot accepting_chats; 24 bars; 1 dead letter";
  });

  await step("browser: change a setting through the form (reply timeout 600 → 300 s)", async () => {
    await page.fill("#replyTimeoutSeconds", "300");
    await Promise.all([page.waitForURL(/notice=saved/), page.click("form.settings button[type=submit]")]);
    expect((await page.textContent(".notice"))?.includes("Settings saved."), "no 'Settings saved.' notice");
    expect((await page.inputValue("#replyTimeoutSeconds")) === "300", "the form does not show 300");
    const settings = await adminApi("GET", `/licenses/${s.org}/settings`);
    expect(settings.replyTimeoutSeconds === 300, `the API says ${settings.replyTimeoutSeconds}`);
    return "replyTimeoutSeconds = 300 (API agrees)";
  });

  await step("browser: replay the dead letter; it runs through the handlers and the suggestion reaches the chat", async () => {
    await Promise.all([page.waitForURL(/notice=replayed/), page.click(`table.dead-letters button[data-delivery="${s.deliveryId}"]`)]);
    expect((await page.textContent(".notice"))?.includes("Delivery queued again"), "no replay notice");
    const entry = await waitFor("the replayed delivery to be processed", async () => {
      const { deliveries } = await adminApi("GET", `/licenses/${s.org}/deliveries?chat=${s.chat}`);
      const found = deliveries.find((d) => d.deliveryId === s.deliveryId);
      return found?.outcome === "processed" ? found : undefined;
    });
    const transcript = await simCall(sim.url, "GET", `/_sim/chats/${s.chat}/transcript?format=text`);
    expect(JSON.stringify(transcript).includes("Refunds take 5 business days."), "the tag suggestion is not in the chat");
    await page.reload();
    expect((await page.textContent("#dead-letters + p"))?.includes("No dead letters."), "the dead letter is still listed");
    return `processed after replay in ${entry.durationMs} ms; suggestion posted`;
  });

  await step("browser: screenshot of the license page; no CSP violation", async () => {
    await page.goto(`${s.worker}/admin/licenses/${s.org}`);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(cspViolations.length === 0, `CSP violations: ${cspViolations.join(" | ")}`);
    return SCREENSHOT;
  });

  await step("browser: erase the license from its page: a wrong id erases nothing; the organization id erases it and the simulator lists no bot of the app", async () => {
    await page.fill("#storage input[name=confirm]", "not-this-license");
    await Promise.all([page.waitForURL(/\/erase$/), page.click("#storage button")]);
    expect((await page.textContent("h1")) === "Nothing erased", `after a wrong id: ${await page.textContent("main")}`);
    expect((await adminApi("GET", `/licenses/${s.org}`)).installation.installed === true, "a wrong id erased the license");
    await page.goto(`${s.worker}/admin/licenses/${s.org}`);
    await page.fill("#storage input[name=confirm]", s.org);
    await Promise.all([page.waitForURL(/\/erase$/), page.click("#storage button")]);
    const erased = JSON.parse((await page.textContent("pre")) ?? "{}");
    expect(erased.bot === "deleted" && erased.tokens === "revoked", `erased: ${JSON.stringify(erased)}`);
    const license = await simCall(sim.url, "GET", "/_sim/licenses/demo");
    const bots = license.bots.filter((b) => b.owner_client_id === secrets.LIVECHAT_CLIENT_ID);
    expect(bots.length === 0, `the simulator still lists ${bots.map((b) => b.id).join(", ")}`);
    expect(cspViolations.length === 0, `CSP violations: ${cspViolations.join(" | ")}`);
    return `bot ${erased.bot}, tokens ${erased.tokens}, ${erased.chats.toErase} chat(s) to erase; no bot of the app in the simulator`;
  });

} finally {
  clearTimeout(watchdog);
  await cleanup();
}
process.exit(finish(0));
