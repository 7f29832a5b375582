/**
 * Build the Worker bundle exactly as `wrangler deploy` would (docs/TOOLCHAIN.md §3.4: `--dry-run
 * --outdir`), once as configured and once with `--minify`, and measure it: raw, minified and
 * gzip sizes, and the largest contributors from esbuild's metafile.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/**
 * `wrangler deploy --dry-run` of the tree at `root` into `outdir`: as wrangler.toml configures it,
 * or with `--minify`. Returns what wrangler reports it would upload.
 */
export function wranglerBuild(root, outdir, minify) {
  const args = ["wrangler", "deploy", "--dry-run", "--outdir", outdir, "--metafile", join(outdir, "meta.json")];
  if (minify) args.push("--minify");
  const r = spawnSync(join(root, "node_modules/.bin/wrangler"), args.slice(1), {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  });
  if (r.status !== 0) throw new Error(`wrangler build failed:\n${r.stdout}\n${r.stderr}`);
  const upload = r.stdout.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
  return { upload: upload ? { kib: Number(upload[1]), gzipKib: Number(upload[2]) } : undefined };
}

/**
 * The committed tree at `ref` (git archive) in `dir`, with the checkout's node_modules linked in:
 * a build of it does not depend on uncommitted work in the same checkout.
 */
export function exportTree(root, dir, ref = "HEAD") {
  mkdirSync(dir);
  const r = spawnSync("sh", ["-c", `git archive --format=tar "${ref}" | tar -x -C "${dir}"`], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git archive ${ref} failed: ${r.stderr}`);
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** "node_modules/zod/v4/core/schemas.js" → "zod (v4/core)"; "src/livechat/x.ts" → "src/livechat". */
function groupOf(input) {
  const nm = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/);
  if (nm) {
    const [, pkg, rest] = nm;
    const dir = rest.split("/").slice(0, -1);
    const sub = pkg === "zod" ? dir.slice(0, 2).join("/") : dir.slice(0, 1).join("/");
    return sub ? `${pkg} (${sub})` : pkg;
  }
  const src = input.match(/(?:^|\/)(src\/.*)$/);
  if (src) {
    const parts = src[1].split("/");
    return parts.length > 2 ? `${parts[0]}/${parts[1]}/` : parts.join("/");
  }
  return input.replace(/^(\.\.\/)+/, "");
}

function packageOf(input) {
  const nm = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (nm) return nm[1];
  if (/(?:^|\/)src\//.test(input)) return "src (livechat-edge)";
  return "other (wrangler/unenv shims)";
}

function contributors(metaPath, command) {
  const meta = JSON.parse(readFileSync(metaPath, "utf8"));
  const key = Object.keys(meta.outputs).find((k) => k.endsWith(".js") && !k.endsWith(".map"));
  const inputs = Object.entries(meta.outputs[key].inputs).map(([path, v]) => [path, v.bytesInOutput]);
  const sum = (fn) => {
    const m = new Map();
    for (const [p, b] of inputs) m.set(fn(p), (m.get(fn(p)) ?? 0) + b);
    return [...m].filter(([, b]) => b > 0).sort((a, b) => b[1] - a[1]);
  };
  return {
    byPackage: sum(packageOf).map(([name, bytes]) => ({ name, bytes })),
    byGroup: sum(groupOf).map(([name, bytes]) => ({ name, bytes })),
    topFiles: inputs
      .filter(([, b]) => b > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([p, bytes]) => ({ name: p.replace(/^(\.\.\/)+/, "").replace(/^.*node_modules\//, ""), bytes })),
    output: command,
  };
}

/**
 * Build both variants into `tmp`. `configMinify` is wrangler.toml's `minify` (what a deploy
 * uploads); the budget applies to that artifact.
 */
export function buildAndMeasure(root, tmp, configMinify) {
  const t0 = performance.now();
  const rawDir = join(tmp, "app");
  const minDir = join(tmp, "app-min");
  const raw = wranglerBuild(root, rawDir, false);
  const buildMs = performance.now() - t0;
  const min = wranglerBuild(root, minDir, true);
  const rawJs = readFileSync(join(rawDir, "index.js"));
  const minJs = readFileSync(join(minDir, "index.js"));
  const gz = (b) => gzipSync(b).length; // default level, as wrangler reports it
  const sizes = {
    raw_bytes: rawJs.length,
    raw_gzip_bytes: gz(rawJs),
    minified_bytes: minJs.length,
    minified_gzip_bytes: gz(minJs),
    wrangler_reported: { raw: raw.upload, minified: min.upload },
  };
  const deployed = configMinify ? "minified" : "raw";
  return {
    scriptPath: join(configMinify ? minDir : rawDir, "index.js"),
    buildMs: Math.round(buildMs),
    deployed,
    deployedGzipBytes: configMinify ? sizes.minified_gzip_bytes : sizes.raw_gzip_bytes,
    sizes,
    contributors: {
      raw: contributors(join(rawDir, "meta.json"), "wrangler deploy --dry-run"),
      minified: contributors(join(minDir, "meta.json"), "wrangler deploy --dry-run --minify"),
    },
  };
}
