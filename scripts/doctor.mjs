// `npm run doctor -- --url <worker>`: checks a running deployment from outside
// (src/setup/doctor.ts, loaded by scripts/import-ts.mjs; it reads the webhook declaration of
// src/setup/declaration.ts, as `npm run setup` does).
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
  ({ main } = await importTs("src/setup/doctor.ts"));
} catch (error) {
  console.error(`doctor: ${error.message}`);
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
