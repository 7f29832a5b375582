// A newcomer's first hour with `npm start` (scripts/start.mjs), run as the user would run it, in a
// state directory of its own (LOCAL_STATE_DIR: .dev.vars, .wrangler/state, .sim-state), on free
// ports: the first start, a start after .dev.vars was deleted to "reset" (local state made with
// other secrets), and a start with a configuration problem.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ROOT } from "../../scripts/local-stack.mjs";
import { expect } from "./lib/harness.mjs";

/** The last line of both banners. */
const READY = /Ctrl-C stops the Worker and the simulator\.\n─+\n/;
/** What start.mjs prints when the configuration is incomplete. */
const CONFIG_PROBLEM = /then restart: Ctrl-C and npm start again/;

/**
 * Run `npm start`'s script until it has said its piece (`until` matched its output), then stop it
 * with Ctrl-C (SIGINT). While it runs, `during(ports)` may look at the simulator.
 * @returns {Promise<{ output: string, code: number | null, seen: unknown }>}
 */
async function startOnce(stateDir, ports, { until = READY, timeoutMs = 120_000, during } = {}) {
  const child = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOCAL_STATE_DIR: stateDir,
      PORT: String(ports.worker),
      SIM_PORT: String(ports.sim),
      INSPECTOR_PORT: String(ports.inspector),
      SIM_QUIET: "1",
      FORCE_COLOR: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const said = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    const onData = (d) => {
      output += d;
      if (until.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}) before it was ready`));
    });
  });
  let seen;
  try {
    await said;
    if (during) seen = await during(ports);
  } catch (err) {
    throw Object.assign(err, { message: `${err.message}\n--- output ---\n${output.slice(-3000)}` });
  } finally {
    child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
  return { output, code: child.exitCode, seen };
}

/** Every webhook the simulator sent and how each attempt was answered. */
async function webhookAnswers(ports) {
  const res = await fetch(`http://127.0.0.1:${ports.sim}/_sim/deliveries`);
  const deliveries = await res.json();
  return deliveries.flatMap((d) => d.attempts.map((a) => `${d.action}:${a.status}`));
}

const tail = (text) => text.trim().split("\n").slice(-12).join("\n");

/** @param {import("./lib/harness.mjs").Suite} suite */
export async function runNewcomer(suite) {
  const stateDir = mkdtempSync(join(tmpdir(), "livechat-edge-newcomer-"));
  // The same ports each time, as a user's `npm start` has: the webhooks' URLs stay the same.
  const ports = { worker: await freePort(), sim: await freePort(), inspector: await freePort() };
  try {
    await suite.step("first-start", "npm start on a fresh clone: secrets generated, webhooks registered, app installed, then the Try it list", async () => {
      const { output } = await startOnce(stateDir, ports);
      expect(output.includes("Generated .dev.vars"), `no .dev.vars generated:\n${tail(output)}`);
      expect(output.includes("livechat-edge is installed"), `not installed:\n${tail(output)}`);
      expect(output.includes("Try it in another terminal"), `no Try it list:\n${tail(output)}`);
      return "installed; Try it list printed";
    });

    await suite.step(
      "reset-start",
      "npm start after .dev.vars was deleted: the webhooks get the new secret, the app is reinstalled, webhooks are answered 200",
      async () => {
        unlinkSync(join(stateDir, ".dev.vars"));
        const { output, seen } = await startOnce(stateDir, ports, { during: webhookAnswers });
        expect(output.includes("A new .dev.vars was generated"), `the old local state was not noticed:\n${tail(output)}`);
        expect(/registered with another LIVECHAT_WEBHOOK_SECRET/.test(output), `setup did not replace the webhooks:\n${tail(output)}`);
        expect(!/Decryption failed|install failed/.test(output), `the install failed:\n${output.split("\n").filter((l) => /Decryption failed|install failed/.test(l)).join("\n").slice(0, 1500)}`);
        expect(output.includes("livechat-edge is installed") && output.includes("Try it in another terminal"), `not installed:\n${tail(output)}`);
        const answers = /** @type {string[]} */ (seen);
        expect(answers.length > 0, "the simulator sent no webhook after the install");
        expect(answers.every((a) => a.endsWith(":200")), `webhooks not all answered 200: ${answers.join(", ")}`);
        return `webhooks answered: ${answers.join(", ")}`;
      },
      { needs: ["first-start"] },
    );

    await suite.step("config-problem", "npm start with a bad .dev.vars: names the problem, says to restart, no Try it list", async () => {
      const vars = join(stateDir, ".dev.vars");
      writeFileSync(vars, readFileSync(vars, "utf8").replace(/^ADMIN_TOKEN=.*$/m, "ADMIN_TOKEN=short"), { mode: 0o600 });
      const { output } = await startOnce(stateDir, ports, { until: CONFIG_PROBLEM });
      expect(output.includes("ADMIN_TOKEN"), `the problem is not named:\n${tail(output)}`);
      expect(!output.includes("Try it in another terminal"), "the Try it list was printed");
      expect(!output.includes("reloads it"), "still claims wrangler dev reloads .dev.vars");
      return "problem named; restart advised";
    });
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
