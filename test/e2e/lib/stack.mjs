// Boots what the end-to-end suite talks to: the LiveChat simulator (in process, short retry
// delays), the webhook proxy (test/e2e/lib/proxy.mjs) and the real Worker under `wrangler dev`
// on free ports, with its own generated secrets (a temporary env file, so the repository's
// .dev.vars is never read) and its own local state directory. `close()` always cleans up.
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { startSimulator } from "../../../sim/server.mjs";
import { generateSecrets, serialize } from "../../../scripts/local-env.mjs";
import { freePort, ROOT, startWrangler, waitForWorker } from "../../../scripts/local-stack.mjs";
import { WebhookProxy } from "./proxy.mjs";

/** Where the run's logs go (git-ignored): worker.log, sim.log, webhooks.json. */
export const LOG_DIR = join(ROOT, "test-results", "e2e");

/**
 * @param {{ replyTimeoutSeconds: number, retryDelaysMs: number[], log: (line: string) => void }} options
 */
export async function bootStack({ replyTimeoutSeconds, retryDelaysMs, log }) {
  mkdirSync(LOG_DIR, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), "livechat-edge-e2e-"));
  const simLog = createWriteStream(join(LOG_DIR, "sim.log"));
  const workerLog = createWriteStream(join(LOG_DIR, "worker.log"));
  /** Every simulator log line with its time: API calls made by the Worker, deliveries. */
  const simLines = [];

  const stack = {
    dir,
    /** @type {Awaited<ReturnType<typeof startSimulator>> | undefined} */
    sim: undefined,
    /** @type {WebhookProxy | undefined} */
    proxy: undefined,
    /** @type {ReturnType<typeof startWrangler> | undefined} */
    wrangler: undefined,
    workerUrl: "",
    secrets: generateSecrets(),
    simLines,
    /** When wrangler dev reloaded the Worker after it was ready (a rebuild): in-flight requests get its 503. */
    reloads: [],
    async close() {
      await this.wrangler?.stop().catch(() => {});
      await this.sim?.close().catch(() => {});
      await this.proxy?.close().catch(() => {});
      if (this.proxy) writeFileSync(join(LOG_DIR, "webhooks.json"), JSON.stringify(this.proxy.attempts, null, 1));
      simLog.end();
      workerLog.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  stack.secrets.LIVECHAT_CLIENT_ID = "e2e-client";

  try {
    const port = await freePort();
    stack.workerUrl = `http://127.0.0.1:${port}`;
    stack.proxy = await new WebhookProxy(stack.workerUrl).start();
    stack.sim = await startSimulator({
      port: 0,
      retryDelaysMs,
      webhookTimeoutMs: 8_000,
      log: (line) => {
        simLines.push({ at: Date.now(), line });
        simLog.write(`${new Date().toISOString()} ${line}\n`);
      },
      app: {
        client_id: stack.secrets.LIVECHAT_CLIENT_ID,
        client_secret: stack.secrets.LIVECHAT_CLIENT_SECRET,
        name: "livechat-edge (e2e)",
        app_webhook_url: `${stack.proxy.url}/webhooks/app`,
        redirect_uris: [`${stack.workerUrl}/install`],
      },
    });

    const envFile = join(dir, "worker.env");
    writeFileSync(
      envFile,
      serialize({
        ...stack.secrets,
        PUBLIC_URL: stack.workerUrl,
        LIVECHAT_ACCOUNTS_URL: stack.sim.url,
        LIVECHAT_API_URL: stack.sim.url,
        REPLY_TIMEOUT_SECONDS: String(replyTimeoutSeconds),
      }),
      { mode: 0o600 },
    );
    stack.wrangler = startWrangler({ port, persistTo: join(dir, "state"), envFile, inspectorPort: await freePort(), output: "pipe" });
    // Each line of the Worker's output with the time it arrived (to line it up with sim.log).
    for (const stream of [stack.wrangler.child.stdout, stack.wrangler.child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        workerLog.write(`${new Date().toISOString()} ${line}\n`);
        if (line.includes("Reloading local server")) stack.reloads.push(Date.now());
      });
    }
    const t0 = Date.now();
    const health = await waitForWorker(stack.workerUrl, { timeoutMs: 60_000, exited: stack.wrangler.exited });
    log(`  Worker ${stack.workerUrl} (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s), simulator ${stack.sim.url}, webhook proxy ${stack.proxy.url}; logs in test-results/e2e/`);
    return { stack, health };
  } catch (err) {
    await stack.close();
    throw err;
  }
}
