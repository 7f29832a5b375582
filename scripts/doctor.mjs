// `npm run doctor -- --url <worker>`: checks a running deployment from outside
// (src/setup/doctor.ts, loaded by scripts/import-ts.mjs; it reads the webhook declaration of
// src/setup/declaration.ts, as `npm run setup` does).
import { runCli } from "./run-cli.mjs";

await runCli("doctor", "src/setup/doctor.ts");
