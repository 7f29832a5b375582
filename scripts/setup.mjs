// `npm run setup`: registers the app's webhooks with LiveChat (src/setup/cli.ts, loaded by
// scripts/import-ts.mjs; the declaration reads the app's router in src/handlers.ts).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { importTs } from "./import-ts.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function readIfExists(name) {
  const path = join(root, name);
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

let main;
try {
  ({ main } = await importTs("src/setup/cli.ts"));
} catch (error) {
  console.error(`setup: ${error.message}`);
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
