// `npm run setup`: registers the app's webhooks with LiveChat (src/setup/cli.ts).
//
// Node 20 cannot run TypeScript, so this bundles src/setup/cli.ts (and what it imports: the
// declaration reads the app's router in src/handlers.ts) with esbuild's JS API, which is in
// node_modules through wrangler, into a temporary directory, and imports it. Not inside the
// project: `npm start` and the e2e suite run setup while `wrangler dev` watches the tree, and a
// write there may make it rebuild and reload the Worker, which answers a webhook in flight with 503.
// Worker-only modules (`cloudflare:*`) resolve to an inert stub: the setup only reads the
// router's registrations, so nothing Worker-specific ever runs; constructing a stubbed class throws.
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// The bundle is self-contained (no imports but Node's), so it runs from anywhere. One directory
// per process, removed once loaded, so concurrent runs never read each other's bundle.
const outdir = mkdtempSync(join(tmpdir(), "livechat-edge-setup-"));
const outfile = join(outdir, "setup-cli.mjs");

const CLOUDFLARE_STUB = `
const unavailable = (name) => class { constructor() { throw new Error(name + " is not available in npm run setup"); } };
export const DurableObject = unavailable("DurableObject");
export const WorkerEntrypoint = unavailable("WorkerEntrypoint");
export const WorkflowEntrypoint = unavailable("WorkflowEntrypoint");
export const RpcTarget = unavailable("RpcTarget");
export const env = {};
export function waitUntil() {}
export default {};
`;

/** Bundle the CLI; esbuild errors (a missing module, a bad import) end the process with code 1. */
async function bundle() {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    fail("esbuild is missing from node_modules (it comes with wrangler): run `npm ci` first.");
  }
  try {
    await esbuild.build({
      entryPoints: [join(root, "src", "setup", "cli.ts")],
      outfile,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "silent",
      plugins: [
        {
          name: "cloudflare-stub",
          setup(build) {
            build.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, namespace: "cloudflare-stub" }));
            build.onLoad({ filter: /.*/, namespace: "cloudflare-stub" }, () => ({ contents: CLOUDFLARE_STUB, loader: "js" }));
          },
        },
      ],
    });
  } catch (error) {
    const messages = (error.errors ?? []).map((e) => `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.text}`);
    fail(`could not bundle src/setup/cli.ts:\n${messages.join("\n") || `  ${error.message}`}`);
  }
}

function readIfExists(name) {
  const path = join(root, name);
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

function fail(message) {
  rmSync(outdir, { recursive: true, force: true });
  console.error(`setup: ${message}`);
  process.exit(1);
}

await bundle();
let main;
try {
  ({ main } = await import(pathToFileURL(outfile).href));
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
process.exitCode = await main({
  argv: process.argv.slice(2),
  env: process.env,
  devVars: readIfExists(".dev.vars"),
  wranglerToml: readIfExists("wrangler.toml"),
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
});
