// `npm start`: local secrets on first run, then the Worker under wrangler dev with local
// KV and Durable Objects persisted in .wrangler/state.
import { spawn } from "node:child_process";
import { ensureLocalEnv } from "./local-env.mjs";

const vars = ensureLocalEnv();
const port = process.env.PORT ?? "8787";
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const dev = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", port, "--persist-to", ".wrangler/state"], {
  stdio: "inherit",
  env,
});
console.log(`\nlivechat-edge on http://127.0.0.1:${port}  (admin token: see ADMIN_TOKEN in .dev.vars)`);
void vars;
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => dev.kill(sig));
dev.on("exit", (code) => process.exit(code ?? 0));
