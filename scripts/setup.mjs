// `npm run setup`: registers the app's webhooks with LiveChat (src/setup/cli.ts, loaded by
// scripts/import-ts.mjs; the declaration reads the app's router in src/handlers.ts).
import { runCli } from "./run-cli.mjs";

await runCli("setup", "src/setup/cli.ts");
