// Pieces shared by `npm start` (scripts/start.mjs) and the end-to-end suite (test/e2e/run.mjs):
// free ports, the Worker under `wrangler dev` in its own process group, waiting for /healthz,
// `npm run setup` against a LiveChat (real or simulated), and the simulator's install command.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Environment every wrangler run gets: no Request.cf fetch (docs/TOOLCHAIN.md G9), no telemetry. */
export const WRANGLER_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** Whether something already listens on 127.0.0.1:port. */
export function portInUse(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}

/** Whether a URL points at this machine (127.0.0.0/8, localhost, ::1). */
export function isLoopbackUrl(value) {
  try {
    const host = new URL(value).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
  } catch {
    return false;
  }
}

/**
 * Start `wrangler dev` for this repository's Worker in its own process group (so stopping it
 * also stops workerd). stdin is never shared: a background process group reading the terminal
 * would be stopped by the kernel.
 *
 * @param {object} options
 * @param {number} options.port
 * @param {string} options.persistTo                  local KV / Durable Object state directory
 * @param {string} [options.envFile]                  vars and secrets (replaces .dev.vars)
 * @param {Record<string, string>} [options.vars]     `--var NAME:value` overrides (non-secret values only: visible in `ps`)
 * @param {number} [options.inspectorPort]
 * @param {string} [options.logLevel]
 * @param {"inherit" | "pipe"} [options.output]       inherit: the terminal; pipe: read child.stdout/stderr
 */
export function startWrangler({ port, persistTo, envFile, vars = {}, inspectorPort, logLevel, output = "inherit" }) {
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, "--show-interactive-dev-session=false"];
  if (envFile) args.push("--env-file", envFile);
  if (inspectorPort) args.push("--inspector-port", String(inspectorPort));
  if (logLevel) args.push("--log-level", logLevel);
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const child = spawn(join(ROOT, "node_modules", ".bin", "wrangler"), args, {
    cwd: ROOT,
    env: { ...process.env, ...WRANGLER_ENV, FORCE_COLOR: "0" },
    stdio: ["ignore", output, output],
    detached: true,
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let stopping;
  return {
    child,
    /** Resolves with {code, signal} once wrangler has exited. */
    exited,
    /** Stop wrangler and workerd: SIGTERM to the process group, SIGKILL after `graceMs`. */
    stop(graceMs = 5_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        signalGroup(child.pid, "SIGTERM");
        const timer = setTimeout(() => signalGroup(child.pid, "SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
        signalGroup(child.pid, "SIGKILL"); // anything of the group still alive (workerd)
      })();
      return stopping;
    },
  };
}

function signalGroup(pid, signal) {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * Wait until `GET <url>/healthz` answers (any status: 503 names configuration problems).
 * Rejects when `timeoutMs` passes or the process exits first.
 * @param {string} url
 * @param {{ timeoutMs?: number, exited?: Promise<{code: number | null, signal: string | null}> }} [options]
 */
export async function waitForWorker(url, { timeoutMs = 60_000, exited } = {}) {
  let gone;
  exited?.then((e) => (gone = e));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`wrangler dev exited (code ${gone.code ?? gone.signal}) before the Worker answered`);
    try {
      // Generous: a first answer can take seconds on a loaded machine, and an abandoned request may wedge the dev proxy.
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(15_000) });
      const body = await res.json().catch(() => ({}));
      return { status: res.status, body };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the Worker did not answer ${url}/healthz within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Run a Node script of this repository and collect its output.
 * @param {string[]} args           e.g. ["scripts/setup.mjs", "--url", url]
 * @param {Record<string, string | undefined>} [env]  added to process.env
 * @param {number} [timeoutMs]
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
export function runNode(args, env = {}, timeoutMs = 60_000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * `npm run setup` (scripts/setup.mjs) against a simulator: a PAT of `license` authenticates.
 * Every value is passed in the environment, so .dev.vars is not consulted.
 * With `replace`, every webhook is registered again (`--replace`): the way to hand LiveChat a new
 * webhook secret when the old registrations do not carry the secret's mark.
 * @param {{ simUrl: string, workerUrl: string, license: string, clientId: string, webhookSecret: string, json?: boolean, replace?: boolean }} o
 */
export async function setupAgainstSimulator({ simUrl, workerUrl, license, clientId, webhookSecret, json = false, replace = false }) {
  const pat = await simCall(simUrl, "POST", `/_sim/licenses/${encodeURIComponent(license)}/pats`, {});
  return runNode(["scripts/setup.mjs", "--url", workerUrl, ...(json ? ["--json"] : []), ...(replace ? ["--replace"] : [])], {
    LIVECHAT_PAT: pat.token,
    LIVECHAT_ACCOUNT_ID: pat.account_id,
    LIVECHAT_TOKEN: undefined,
    LIVECHAT_API_URL: simUrl,
    LIVECHAT_CLIENT_ID: clientId,
    LIVECHAT_WEBHOOK_SECRET: webhookSecret,
  });
}

/**
 * The real install through the Worker (GET /install → authorize → /install?code&state), as the
 * simulator's CLI does it: `node sim/cli.mjs install --license L --worker URL --json`.
 * @returns {Promise<{ ok: boolean, result?: any, output: string }>}
 */
export async function installThroughWorker({ simUrl, workerUrl, license }) {
  const r = await runNode(["sim/cli.mjs", "install", "--license", license, "--worker", workerUrl, "--sim", simUrl, "--json"]);
  let result;
  try {
    result = JSON.parse(r.stdout);
  } catch {
    // not JSON: an error message on stderr
  }
  return { ok: r.code === 0 && result?.status === 200, result, output: (r.stdout + r.stderr).trim() };
}

/**
 * Call the simulator's control API over HTTP.
 * @param {string} simUrl
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
export async function simCall(simUrl, method, path, body) {
  const res = await fetch(`${simUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) throw new Error(`simulator ${method} ${path}: ${res.status} ${data?.error?.type ?? ""} ${data?.error?.message ?? text}`);
  return data;
}
