#!/usr/bin/env node
// End-to-end suite: the real Worker under `wrangler dev` and the LiveChat simulator, over HTTP.
// Every step of the story (test/e2e/story.mjs) and of the faults (test/e2e/faults.mjs) is one
// reported test case; a step whose prerequisite failed fails at once and says why.
//
// The newcomer steps (test/e2e/newcomer.mjs) run `npm start` itself, after the others.
//
//   node test/e2e/run.mjs [--json FILE] [--only story|faults|hostile|newcomer]
//
// Exit code 1 on any failure. Logs of the run: test-results/e2e/{worker.log,sim.log,webhooks.json}.
import { parseArgs } from "node:util";
import { runFaults } from "./faults.mjs";
import { runHostile } from "./hostile.mjs";
import { runNewcomer } from "./newcomer.mjs";
import { createContext } from "./lib/context.mjs";
import { expect, Suite } from "./lib/harness.mjs";
import { bootStack } from "./lib/stack.mjs";
import { runStory } from "./story.mjs";

/** The shortest reply timeout the configuration accepts (src/config.ts). */
const REPLY_TIMEOUT_SECONDS = 5;
/** The simulator's webhook retries: three, within about two seconds. */
const RETRY_DELAYS_MS = [250, 600, 1_000];
/** Hard limit for the whole run; cleanup still happens. */
const RUN_LIMIT_MS = 480_000;

const { values } = parseArgs({ options: { json: { type: "string" }, only: { type: "string" } } });
const suite = new Suite();
let stack;
let extraFailures = 0;

const watchdog = setTimeout(async () => {
  console.log(`\ne2e: the run exceeded ${RUN_LIMIT_MS / 1000} s; stopping`);
  await stack?.close().catch(() => {});
  suite.finish(values.json, 1);
  process.exit(1);
}, RUN_LIMIT_MS);

let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    if (interrupted) return;
    interrupted = true;
    console.log(`\ne2e: ${sig}, cleaning up`);
    await stack?.close().catch(() => {});
    suite.finish(values.json, 1);
    process.exit(1);
  });
}

try {
  if (values.only === "newcomer") {
    suite.group("Newcomer");
    await runNewcomer(suite);
  } else {
    await runStack();
    if (!values.only) {
      suite.group("Newcomer (npm start)");
      await runNewcomer(suite);
    }
  }
} catch (err) {
  console.log(`\ne2e: the suite itself failed: ${err?.stack ?? err}`);
  extraFailures++;
} finally {
  clearTimeout(watchdog);
  await stack?.close().catch((err) => console.log(`cleanup: ${err.message}`));
}

const { failed } = suite.finish(values.json, extraFailures);
process.exit(failed ? 1 : 0);

/** Boot, the story and the faults against one stack; the stack is closed before the newcomer steps. */
async function runStack() {
  suite.group("Boot");
  await suite.step("boot", "the Worker (wrangler dev) and the LiveChat simulator start; GET /healthz is ok", async () => {
    const booted = await bootStack({ replyTimeoutSeconds: REPLY_TIMEOUT_SECONDS, retryDelaysMs: RETRY_DELAYS_MS, log: (l) => console.log(l) });
    stack = booted.stack;
    expect(booted.health.status === 200, `GET /healthz → ${booted.health.status} ${JSON.stringify(booted.health.body)}`);
    return `${JSON.stringify(booted.health.body)}`;
  });

  await suite.step("static", "GET / and the stylesheets are static assets (public/), served with public/_headers' strict headers", async () => {
    const base = stack?.workerUrl;
    expect(base, "no stack");
    const seen = [];
    for (const [path, type, marker] of [["/", "text/html", "livechat-edge"], ["/assets/admin.css", "text/css", ".badge"], ["/assets/page.css", "text/css", ".failed h1"]]) {
      const res = await fetch(`${base}${path}`);
      const text = await res.text();
      expect(res.status === 200, `GET ${path} → ${res.status} ${text.slice(0, 200)}`);
      expect((res.headers.get("content-type") ?? "").startsWith(type), `GET ${path}: content-type ${res.headers.get("content-type")}, not ${type}`);
      expect(text.includes(marker), `GET ${path} lacks ${JSON.stringify(marker)}`);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp.includes("default-src 'none'") && csp.includes("style-src 'self'"), `GET ${path}: CSP ${JSON.stringify(csp)}`);
      expect(res.headers.get("x-content-type-options") === "nosniff", `GET ${path}: no nosniff`);
      seen.push(`${path} ${res.status}`);
    }
    return seen.join(", ");
  }, { needs: ["boot"] });

  const ctx = stack ? createContext({ stack, replyTimeoutSeconds: REPLY_TIMEOUT_SECONDS }) : undefined;
  // Without a stack every step below fails as "not run" (they all need "boot").
  const run = ctx ?? /** @type {any} */ ({ replyTimeoutSeconds: REPLY_TIMEOUT_SECONDS });
  if (!values.only || values.only === "story") {
    suite.group("Story");
    await runStory(suite, run);
  }
  if (!values.only || values.only === "faults") {
    suite.group("Faults");
    if (values.only === "faults") {
      await suite.step("setup", "npm run setup registers the app's webhooks", async () => {
        const r = await run.setup("e2e-faults");
        expect(r.code === 0, `setup exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 600)}`);
        return "done";
      }, { needs: ["boot"] });
    }
    await runFaults(suite, run);
  }
  // Last on this stack: before its fix, this step left the dev server unable to answer.
  if (!values.only || values.only === "hostile") {
    suite.group("Hostile input");
    await runHostile(suite, run);
  }
  await stack?.close();
  stack = undefined;
}
