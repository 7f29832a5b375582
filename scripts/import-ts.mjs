// Loads a TypeScript module of src/ into a Node script (`npm run setup`, `deploy`, `doctor`).
//
// Node 20 cannot run TypeScript, so this bundles the module (and what it imports) with esbuild's
// JS API, which is in node_modules through wrangler, into a temporary directory, and imports it.
// Not inside the project: `npm start` and the e2e suite run setup while `wrangler dev` watches the
// tree, and a write there may make it rebuild and reload the Worker, which answers a webhook in
// flight with 503. Worker-only modules (`cloudflare:*`) resolve to an inert stub: these scripts
// only read the app's modules (the setup reads the router's registrations), so nothing
// Worker-specific ever runs; constructing a stubbed class throws.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const CLOUDFLARE_STUB = `
const unavailable = (name) => class { constructor() { throw new Error(name + " is not available in a Node script"); } };
export const DurableObject = unavailable("DurableObject");
export const WorkerEntrypoint = unavailable("WorkerEntrypoint");
export const WorkflowEntrypoint = unavailable("WorkflowEntrypoint");
export const RpcTarget = unavailable("RpcTarget");
export const env = {};
export function waitUntil() {}
export default {};
`;

/**
 * Bundle and import `entry` (a path relative to the repository root, e.g. "src/setup/cli.ts").
 * Throws an Error naming the file and line of each esbuild error (a missing module, a bad import).
 * @param {string} entry
 * @returns {Promise<any>} the module's exports
 */
export async function importTs(entry) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    throw new Error("esbuild is missing from node_modules (it comes with wrangler): run `npm ci` first.");
  }
  // The bundle is self-contained (no imports but Node's), so it runs from anywhere. One directory
  // per call, removed once loaded, so concurrent runs never read each other's bundle.
  const outdir = mkdtempSync(join(tmpdir(), "livechat-edge-script-"));
  const outfile = join(outdir, "module.mjs");
  try {
    try {
      await esbuild.build({
        entryPoints: [join(root, entry)],
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
      throw new Error(`could not bundle ${entry}:\n${messages.join("\n") || `  ${error.message}`}`);
    }
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
