#!/usr/bin/env node
// Tests of the Node scripts (scripts/, bench/readme-table.mjs) with node:test, each file *.test.mjs here, as .ci/run runs
// them: prints every result and the totals; with --json FILE, FILE gets {"passed":N,"failed":N}.
//
//   node test/scripts/run.mjs [--json FILE]
import { readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { json: { type: "string" } } });
const here = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(here)
  .filter((f) => f.endsWith(".test.mjs"))
  .map((f) => join(here, f));

let passed = 0;
let failed = 0;
const stream = run({ files, concurrency: 1 });
stream.on("test:pass", (t) => {
  if (t.details?.type !== "suite") passed++;
});
stream.on("test:fail", (t) => {
  if (t.details?.type !== "suite") failed++;
});
stream.compose(spec).pipe(process.stdout);
await new Promise((resolve) => stream.once("end", resolve));
if (files.length === 0) failed++;
console.log(`${passed} passed, ${failed} failed`);
if (values.json) writeFileSync(values.json, JSON.stringify({ passed, failed }));
process.exitCode = failed ? 1 : 0;
