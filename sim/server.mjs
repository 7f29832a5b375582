#!/usr/bin/env node
// The local LiveChat simulator: one HTTP server for Accounts (/, /v2/token, /v2/info), the
// Configuration API and the Agent Chat API (/v3.6/…, /v3.5/…), plus its control API (/_sim/…).
// Point the Worker's LIVECHAT_ACCOUNTS_URL and LIVECHAT_API_URL at it. See sim/README.md.
//
//   node sim/server.mjs --port 8788 --dev-vars .dev.vars --worker-url http://127.0.0.1:8787
import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { authenticate } from "./lib/auth.mjs";
import { authorize, info, ooopsPage, presentedToken, revoke, token } from "./lib/accounts.mjs";
import { agentMethods } from "./lib/agent-chat.mjs";
import { configurationMethods } from "./lib/configuration.mjs";
import { matchControl } from "./lib/control.mjs";
import { Deliverer } from "./lib/delivery.mjs";
import { ApiError, OAuthError, faultApiError, faultOAuthError } from "./lib/errors.mjs";
import { Faults } from "./lib/faults.mjs";
import { accountsParams, jsonBody, readBody, sendJson } from "./lib/http.mjs";
import { ALL_SCOPES, Store, newApp } from "./lib/state.mjs";
import { Tokens } from "./lib/tokens.mjs";
import { parseDelays } from "./lib/util.mjs";
import { SUPPORTED_VERSIONS } from "./lib/webhook-catalog.mjs";
import { WebhookDispatcher } from "./lib/webhooks.mjs";
import { World } from "./lib/world.mjs";

/** Retry delays after the 1st, 2nd and 3rd failed attempt: 3 retries within about a minute (docs/LIVECHAT.md §1.4). */
export const DEFAULT_RETRY_DELAYS_MS = [5_000, 20_000, 35_000];
/** LiveChat waits about 10 s for a webhook answer (§1.4). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Access tokens live 8 h (§6.2). */
export const DEFAULT_ACCESS_TTL_S = 28_800;
/** Authorization codes are valid "a few minutes" (§6.1). */
export const DEFAULT_CODE_TTL_MS = 180_000;

/**
 * @typedef {object} SimulatorOptions
 * @property {string} [stateFile]          persist state to this JSON file (e.g. .sim-state/state.json)
 * @property {(line: string) => void} [log]  one line per request and delivery; silent when absent
 * @property {number[]} [retryDelaysMs]     default from SIM_RETRY_DELAYS_MS or 5000,20000,35000
 * @property {number} [webhookTimeoutMs]    default from SIM_WEBHOOK_TIMEOUT_MS or 10000
 * @property {number} [accessTokenTtlS]     default from SIM_TOKEN_TTL_S or 28800
 * @property {number} [codeTtlMs]           default from SIM_CODE_TTL_MS or 180000
 * @property {boolean} [strictRegion]       require `X-Region` for non-dal licenses (pre-2025 rule)
 * @property {{ client_id: string, client_secret: string, app_webhook_url?: string | null,
 *   redirect_uris?: string[], name?: string, scopes?: string }} [app]  register this app at start
 * @property {{ name: string, region?: "dal" | "fra" }} [license]  the current license (created if missing)
 */

/** The composed simulator: state, tokens, world, webhooks, faults, and the request handler. */
export class Simulator {
  /** @param {SimulatorOptions} options */
  constructor(options = {}) {
    const env = process.env;
    this.logLine = options.log;
    this.strictRegion = options.strictRegion ?? env.SIM_STRICT_REGION === "1";
    this.allScopes = ALL_SCOPES;
    this.url = "http://127.0.0.1";
    this.store = new Store({ stateFile: options.stateFile });
    this.deliverer = new Deliverer({
      retryDelaysMs: options.retryDelaysMs ?? parseDelays(env.SIM_RETRY_DELAYS_MS, DEFAULT_RETRY_DELAYS_MS),
      timeoutMs: options.webhookTimeoutMs ?? Number(env.SIM_WEBHOOK_TIMEOUT_MS ?? DEFAULT_WEBHOOK_TIMEOUT_MS),
      log: (line) => this.log(line),
    });
    this.dispatcher = new WebhookDispatcher({ store: this.store, deliverer: this.deliverer });
    this.tokens = new Tokens(this.store, {
      accessTtlS: options.accessTokenTtlS ?? Number(env.SIM_TOKEN_TTL_S ?? DEFAULT_ACCESS_TTL_S),
      codeTtlMs: options.codeTtlMs ?? Number(env.SIM_CODE_TTL_MS ?? DEFAULT_CODE_TTL_MS),
    });
    this.world = new World({ store: this.store, dispatcher: this.dispatcher });
    this.faults = new Faults();
    if (options.license) {
      this.store.ensureLicense(options.license.name, { region: options.license.region });
      this.store.state.current_license = options.license.name;
    }
    this.store.ensureLicense(this.store.state.current_license);
    if (options.app) this.store.state.apps[options.app.client_id] = newApp({ ...this.store.app(options.app.client_id), ...options.app });
    this.store.changed();
  }

  /** @param {string} line */
  log(line) {
    this.logLine?.(line);
  }

  /**
   * Handle one HTTP request.
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   */
  async handle(req, res) {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", this.url);
    const path = url.pathname;
    const accounts = path === "/" || path.startsWith("/v2/") || path === "/ooops";
    try {
      if (path.startsWith("/_sim/")) return await this.control(req, res, method, url);
      const fault = this.faults.take(method, path);
      if (fault) {
        this.log(`fault ${fault.id} on ${method} ${path}`);
        if (fault.delay_ms) await sleep(fault.delay_ms);
        if (fault.reset) return void req.socket.destroy();
        if (fault.status) {
          throw accounts ? faultOAuthError(fault.status, fault.type, fault.message) : faultApiError(fault.status, fault.type, fault.message, fault.data);
        }
      }
      const raw = await readBody(req);
      if (accounts) return this.accounts(req, res, method, url, raw);
      const api = /^\/v(\d+\.\d+)\/(configuration|agent)\/action\/([a-z0-9_]+)$/.exec(path);
      if (!api) throw new ApiError("not_found", `No route for ${method} ${path}`);
      const [, version, kind, name] = api;
      if (!SUPPORTED_VERSIONS.includes(version)) throw new ApiError("unsupported_version", `Unsupported version ${version}`);
      if (method !== "POST") throw new ApiError("validation", "Only POST is allowed", { status: 405 });
      const body = jsonBody(raw);
      const result = kind === "agent" ? this.agentCall(req, version, name, body) : this.configurationCall(req, version, name, body);
      sendJson(res, 200, result);
      this.log(`${method} ${path} 200`);
    } catch (err) {
      this.fail(res, method, path, err, accounts);
    } finally {
      if (method !== "GET") this.store.changed();
    }
  }

  /**
   * @param {import("node:http").IncomingMessage} req
   * @param {string} version
   * @param {string} name
   * @param {Record<string, any>} body
   */
  agentCall(req, version, name, body) {
    const run = Object.hasOwn(agentMethods, name) ? agentMethods[name] : undefined;
    if (!run) throw new ApiError("not_found", `Unknown method ${name}`);
    const requester = authenticate(this, req.headers, version);
    return run({ world: this.world, requester, version }, body);
  }

  /**
   * @param {import("node:http").IncomingMessage} req
   * @param {string} version
   * @param {string} name
   * @param {Record<string, any>} body
   */
  configurationCall(req, version, name, body) {
    const method = Object.hasOwn(configurationMethods, name) ? configurationMethods[name] : undefined;
    if (!method) throw new ApiError("not_found", `Unknown method ${name}`);
    const requester = method.anonymous ? undefined : authenticate(this, req.headers, version);
    return method.run({ world: this.world, tokens: this.tokens, requester, version }, body);
  }

  /**
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   * @param {string} method
   * @param {URL} url
   * @param {Buffer} raw
   */
  accounts(req, res, method, url, raw) {
    const path = url.pathname;
    if (method === "GET" && path === "/") return authorize(this, url, res);
    if (method === "GET" && path === "/ooops") return ooopsPage(url, res);
    let result;
    if (path === "/v2/token" && method === "POST") {
      let params;
      try {
        params = accountsParams(url, raw, req.headers["content-type"]);
      } catch {
        throw new OAuthError("invalid_request", "Invalid HTTP body encoding");
      }
      result = token(this, params);
    } else if (path === "/v2/token" && method === "DELETE") {
      result = revoke(this, presentedToken(req.headers, url));
    } else if (path === "/v2/info" && method === "GET") {
      result = info(this, presentedToken(req.headers, url));
    } else {
      throw new OAuthError("invalid_request", `No route for ${method} ${path}`, 404);
    }
    sendJson(res, 200, result);
    this.log(`${method} ${path} 200`);
  }

  /**
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   * @param {string} method
   * @param {URL} url
   */
  async control(req, res, method, url) {
    const body = method === "GET" || method === "DELETE" ? {} : jsonBody(await readBody(req));
    sendJson(res, 200, await this.controlCall(method, url.pathname + url.search, body));
    if (method !== "GET") this.log(`${method} ${url.pathname} (control) 200`);
  }

  /**
   * Run a control route in process (what `startSimulator(...).control.call` exposes).
   * @param {string} method
   * @param {string} pathAndQuery  e.g. "/_sim/chats?license=demo"
   * @param {Record<string, any>} [body]
   */
  async controlCall(method, pathAndQuery, body = {}) {
    const url = new URL(pathAndQuery, this.url);
    const route = matchControl(method, url.pathname);
    if (!route) throw new ApiError("not_found", `No control route ${method} ${url.pathname}`);
    if ("allowed" in route) throw new ApiError("validation", `Use ${route.allowed.join(" or ")} for ${url.pathname}`, { status: 405 });
    const result = await route.handler(this, { method, url, params: route.params, body });
    this.store.changed();
    return result;
  }

  /**
   * Answer an error in the format of the surface that was called.
   * @param {import("node:http").ServerResponse} res
   * @param {string} method
   * @param {string} path
   * @param {unknown} err
   * @param {boolean} accounts
   */
  fail(res, method, path, err, accounts) {
    if (res.headersSent || res.destroyed) return;
    let status;
    let body;
    if (err instanceof OAuthError || err instanceof ApiError) {
      status = err.status;
      body = err.toBody();
    } else {
      this.log(`internal error on ${method} ${path}: ${err instanceof Error ? err.stack : String(err)}`);
      const e = accounts ? new OAuthError("server_error", "Internal server error", 500) : new ApiError("internal");
      status = e.status;
      body = e.toBody();
    }
    // Accounts always answers in the OAuth shape, also for errors raised by shared plumbing.
    if (accounts && err instanceof ApiError) body = { error: err.type, error_description: err.message };
    sendJson(res, status, body);
    this.log(`${method} ${path} ${status} ${JSON.stringify(body)}`);
  }
}

/**
 * Start the simulator.
 *
 * @example
 * const sim = await startSimulator({ app: { client_id: "c1", client_secret: "s1" } });
 * await fetch(`${sim.url}/_sim/chats`, { method: "POST", body: JSON.stringify({ text: "hi" }) });
 * await sim.close();
 *
 * @param {SimulatorOptions & { port?: number, host?: string }} [options]
 */
export async function startSimulator(options = {}) {
  const { port = 0, host = "127.0.0.1", ...rest } = options;
  const sim = new Simulator(rest);
  const server = createServer((req, res) => void sim.handle(req, res));
  await new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolveListen(undefined));
  });
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  sim.url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  return {
    url: sim.url,
    /** The live state (apps, licenses, tokens, webhooks). */
    get state() {
      return sim.store.state;
    },
    /** The control API in process: `control.call("POST", "/_sim/chats", { text: "hi" })`. */
    control: { call: sim.controlCall.bind(sim) },
    simulator: sim,
    async close() {
      sim.deliverer.close();
      sim.store.saveNow();
      await new Promise((resolveClose) => {
        server.close(() => resolveClose(undefined));
        server.closeAllConnections();
      });
    },
  };
}

/**
 * LIVECHAT_CLIENT_ID and LIVECHAT_CLIENT_SECRET from the Worker's .dev.vars.
 * @param {string} file
 */
function readDevVars(file) {
  /** @type {Record<string, string>} */
  const vars = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: process.env.SIM_PORT ?? "8788" },
      host: { type: "string", default: process.env.SIM_HOST ?? "127.0.0.1" },
      state: { type: "string" },
      persist: { type: "boolean", default: false },
      "dev-vars": { type: "string" },
      "worker-url": { type: "string", default: process.env.SIM_WORKER_URL },
      "client-id": { type: "string", default: process.env.SIM_CLIENT_ID },
      "client-secret": { type: "string", default: process.env.SIM_CLIENT_SECRET },
      "app-webhook-url": { type: "string", default: process.env.SIM_APP_WEBHOOK_URL },
      "redirect-uri": { type: "string", multiple: true },
      license: { type: "string", default: process.env.SIM_LICENSE },
      region: { type: "string", default: "dal" },
      "strict-region": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(`Usage: node sim/server.mjs [--port 8788] [--host 127.0.0.1] [--persist | --state FILE]
  [--dev-vars .dev.vars] [--worker-url http://127.0.0.1:8787]
  [--client-id ID --client-secret SECRET] [--app-webhook-url URL] [--redirect-uri URL ...]
  [--license demo] [--region dal|fra] [--strict-region] [--quiet]
Env: SIM_RETRY_DELAYS_MS=5000,20000,35000  SIM_WEBHOOK_TIMEOUT_MS=10000  SIM_TOKEN_TTL_S=28800  SIM_CODE_TTL_MS=180000`);
    return;
  }
  let clientId = values["client-id"];
  let clientSecret = values["client-secret"];
  const devVars = values["dev-vars"];
  if (devVars) {
    if (!existsSync(devVars)) throw new Error(`${devVars} not found (run \`npm start\` once to generate it)`);
    const vars = readDevVars(devVars);
    clientId ??= vars.LIVECHAT_CLIENT_ID;
    clientSecret ??= vars.LIVECHAT_CLIENT_SECRET;
  }
  const worker = values["worker-url"]?.replace(/\/+$/, "");
  const app =
    clientId && clientSecret
      ? {
          client_id: clientId,
          client_secret: clientSecret,
          app_webhook_url: values["app-webhook-url"] ?? (worker ? `${worker}/webhooks/app` : null),
          redirect_uris: values["redirect-uri"] ?? (worker ? [`${worker}/install`] : []),
        }
      : undefined;
  const region = values.region === "fra" ? "fra" : "dal";
  const sim = await startSimulator({
    port: Number(values.port),
    host: values.host,
    stateFile: values.state ? resolve(values.state) : values.persist ? resolve(".sim-state/state.json") : undefined,
    strictRegion: values["strict-region"],
    log: values.quiet ? undefined : (line) => console.log(`[sim] ${line}`),
    app,
    ...(values.license ? { license: { name: values.license, region } } : {}),
  });
  console.log(`LiveChat simulator on ${sim.url}`);
  console.log(`  Worker env: LIVECHAT_ACCOUNTS_URL=${sim.url}  LIVECHAT_API_URL=${sim.url}`);
  console.log(app ? `  app ${app.client_id}${app.app_webhook_url ? `, app webhooks → ${app.app_webhook_url}` : ""}` : "  no app registered yet: node sim/cli.mjs app register --client-id … --client-secret …");
  console.log(`  current license: ${sim.state.current_license}`);
  const stop = async () => {
    await sim.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
