// The benchmark's results in README.md and docs/BENCHMARK.md are what bench/readme-table.mjs makes
// of bench/results/latest.json: a new recording must be written into both (`--write`).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const table = (...args) => spawnSync(process.execPath, ["bench/readme-table.mjs", ...args], { cwd: ROOT, encoding: "utf8" });

test("README.md and docs/BENCHMARK.md hold the results of bench/results/latest.json", () => {
  const r = table("--check");
  assert.equal(r.status, 0, r.stderr);
});

test("a results file they do not show is noticed", () => {
  const dir = mkdtempSync(join(tmpdir(), "livechat-edge-bench-results-"));
  try {
    const results = JSON.parse(readFileSync(join(ROOT, "bench/results/latest.json"), "utf8"));
    results.commit = "0000000deadbeef";
    const file = join(dir, "other.json");
    writeFileSync(file, JSON.stringify(results));
    const r = table("--check", file);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /README\.md: its benchmark results differ/);
    assert.match(r.stderr, /docs\/BENCHMARK\.md: its benchmark results differ/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
