/**
 * What every bench run does to a target before measuring it, shared by `npm run bench` and
 * `npm run bench:profile`: storage on tmpfs, installing organizations, priming chats.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { orgIds, POOL } from "./bodies.mjs";

/** Organizations installed before the load: half, so the rest exercise `not_installed`. */
export const INSTALLED_ORGS = POOL.orgs / 2;
/** The path every load drives. */
export const WEBHOOK_PATH = "/webhooks/license";
/** The webhook secret the generated bodies carry and the Worker is configured with. */
export const WEBHOOK_SECRET = "bench-webhook-secret-0123456789abcdef";

/** The Worker's secrets and LiveChat URLs for a bench run, with LiveChat mocked at `mockUrl`. */
export function appBindings(mockUrl) {
  return {
    LIVECHAT_CLIENT_ID: "bench-client-id",
    LIVECHAT_CLIENT_SECRET: "bench-client-secret",
    LIVECHAT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    LIVECHAT_WEBHOOK_SECRET_PREVIOUS: "",
    LIVECHAT_ACCOUNTS_URL: mockUrl,
    LIVECHAT_API_URL: mockUrl,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ADMIN_TOKEN: randomBytes(24).toString("hex"),
  };
}

/**
 * Durable Object and KV storage on tmpfs: Miniflare keeps each DO in its own SQLite file and
 * syncs every commit; on this VM's disk that made DO creation and writes I/O-bound (baseline (b)
 * ≈ 115 req/s on ext4 against ≈ 2.9k on tmpfs), measuring the disk rather than the Worker.
 * Production storage is neither, so the bench compares code paths on equal, fast storage.
 * The caller removes the directory when it disposes of the target. The name carries this
 * process's pid, so that storage an interrupted run left behind (2,000 SQLite files are ~0.5 GB
 * of RAM on tmpfs) is removed by the next run instead of weighing on it.
 */
export function storageRoot(name) {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  removeStaleStorage(base);
  return mkdtempSync(join(base, `livechat-edge-bench-${name}-${process.pid}-`));
}

const STORAGE_NAME = /^livechat-edge-bench-[a-z]+-(\d+)-[^.]+(\.stdout)?$/;

function removeStaleStorage(base) {
  for (const entry of readdirSync(base)) {
    const pid = Number(STORAGE_NAME.exec(entry)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(join(base, entry), { recursive: true, force: true });
    process.stderr.write(`[bench] removed ${entry}, left by an interrupted run (pid ${pid})\n`);
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM"; // exists, but not ours to signal
  }
}

/**
 * Install the first {@link INSTALLED_ORGS} organizations through the real /install flow (code → mock
 * /v2/token). `fetcher` is how to reach the Worker: over HTTP by default, or e.g. a Miniflare worker's `fetch`.
 */
export async function installOrgs(url, fetcher = fetch) {
  const statuses = {};
  for (const [i, org] of orgIds().slice(0, INSTALLED_ORGS).entries()) {
    // One customer each: /install counts per client address (src/http/rate-limit.ts); locally the header is taken as sent.
    const headers = { "cf-connecting-ip": `10.0.${(i >> 8) & 255}.${i & 255}` };
    const res = await fetcher(new URL(`/install?code=${encodeURIComponent(org)}`, url), { redirect: "manual", headers });
    await res.arrayBuffer();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  }
  return statuses;
}

/**
 * POST every body to the webhook path from Node at `connections` in flight, e.g. one
 * incoming_chat per chat so each Chat DO exists before the timed run.
 */
export async function postAll(url, bodies, connections) {
  const target = new URL(WEBHOOK_PATH, url);
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      try {
        const res = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
        await res.arrayBuffer();
        if (res.status !== 200) errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return { count: bodies.length, seconds: (performance.now() - t0) / 1000, errors };
}
