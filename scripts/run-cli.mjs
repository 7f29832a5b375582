// Runs one of the TypeScript command lines in src/setup/ (`npm run setup`, `npm run doctor`) from
// Node: loads it through scripts/import-ts.mjs and hands it the process and the project's files.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { importTs } from "./import-ts.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function readIfExists(name) {
  const path = join(root, name);
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/**
 * Import `modulePath`'s `main` and run it with this process's arguments, environment,
 * `.dev.vars` and `wrangler.toml`; its answer becomes the exit code.
 * @param {string} name        the command's name, prefixed to a load error
 * @param {string} modulePath  e.g. "src/setup/cli.ts"
 */
export async function runCli(name, modulePath) {
  let main;
  try {
    ({ main } = await importTs(modulePath));
  } catch (error) {
    console.error(`${name}: ${error.message}`);
    process.exit(1);
  }
  process.exitCode = await main({
    argv: process.argv.slice(2),
    env: process.env,
    devVars: readIfExists(".dev.vars"),
    wranglerToml: readIfExists("wrangler.toml"),
    stdout: (line) => console.log(line),
    stderr: (line) => console.error(line),
  });
}
