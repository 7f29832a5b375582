// `npm run bench:steps` measures the ack's steps by editing copies of src/ (bench/ack-steps.mjs):
// each edit must still find its text, or the measurement stops when someone next needs it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

test("every edit of bench:steps still finds its text in src/", () => {
  const r = spawnSync(process.execPath, ["bench/ack-steps.mjs", "--check"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});
