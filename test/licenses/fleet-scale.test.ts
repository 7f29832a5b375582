import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fleetHash, FLEET_PAGE_SIZE, MAX_VISITS_PER_LEADER, planVisits, reconcileFleet, slotCount, type Visit } from "../../src/licenses/fleet";
import { licenseKey } from "../../src/licenses/token-store";
import { licenseStub } from "../../src/licenses/stub";
import { tokenResponse } from "../helpers/install";
import { livechatError, mockLiveChat } from "../helpers/livechat-mock";

afterEach(() => vi.restoreAllMocks());

const HOUR = { staleMs: 3600_000, spreadMs: 300_000, callsPerSecond: 10 };

/**
 * The cron's side of the fleet reconcile at full scale (10,000 licenses in KV, License DO stubs
 * recording what they are asked); the License DOs' side with real DOs against a mocked API.
 * LiveChat calls per license per hour and the cron's time and CPU with 1,000 real License DOs
 * against the simulator are measured by `npm run bench:fleet` (docs/BENCHMARK.md).
 */
describe("the fleet's schedule", () => {
  it("divides the fleet into one slot per cron run of the stale period, more when the ceiling needs it", () => {
    expect(slotCount(100, HOUR)).toBe(12);
    expect(slotCount(36_000, HOUR)).toBe(12); // 3,000 visits per 5-minute run: 10 a second
    expect(slotCount(36_001, HOUR)).toBe(13);
    expect(slotCount(10_000, { ...HOUR, callsPerSecond: 1 })).toBe(Math.ceil(10_000 / 300));
  });

  it("spreads a slot's visits evenly over the run, each license at a stable position", () => {
    const orgs = Array.from({ length: 5000 }, (_, i) => `org-plan-${i}`);
    const visits = planVisits(orgs, 3, 12, 300_000);
    expect(visits.every((v) => fleetHash(v.organizationId) % 12 === 3)).toBe(true);
    expect(visits.length).toBeGreaterThan(5000 / 12 / 1.3);
    expect(visits.length).toBeLessThan((5000 / 12) * 1.3);
    const delays = visits.map((v) => v.delayMs);
    expect(delays[0]).toBe(0);
    expect(Math.max(...delays)).toBeLessThan(300_000);
    // Evenly apart: no two visits closer than the average gap, rounded down.
    const gap = Math.floor(300_000 / visits.length);
    for (let i = 1; i < delays.length; i++) expect(delays[i] - delays[i - 1]).toBeGreaterThanOrEqual(gap);
    expect(planVisits([...orgs].reverse(), 3, 12, 300_000)).toEqual(visits);
  });
});

describe("reconcile at scale", () => {
  it("10,000 licenses: each visited once per hour (12 runs), a run ≈ 1/12 of them, within the ceiling; ~20 subrequests a run", async () => {
    const TOTAL = 10_000;
    const needsReinstall = new Set(Array.from({ length: 50 }, (_, i) => `org-10k-${i * 199}`));
    const orgs = Array.from({ length: TOTAL }, (_, i) => `org-10k-${i}`);
    for (let i = 0; i < TOTAL; i += 1000) {
      await Promise.all(
        orgs.slice(i, i + 1000).map((org) =>
          env.TOKENS.put(licenseKey(org), "sealed", {
            metadata: { expiresAt: Date.now() + 3600_000, installedAt: 1, needsReinstall: needsReinstall.has(org) },
          }),
        ),
      );
    }

    const fannedOut: { leader: string; visits: Visit[] }[] = [];
    let kvLists = 0;
    let doCalls = 0;
    let broken: string | undefined;
    const fleetEnv = {
      ...env,
      TOKENS: { list: (opts: KVNamespaceListOptions) => (kvLists++, env.TOKENS.list({ ...opts, prefix: "license:org-10k-" })) },
      LICENSES: {
        idFromName: (name: string) => name,
        get: (org: string) => ({
          fanOutReconcile: async (visits: Visit[]) => {
            doCalls++;
            if (org === broken) throw new Error("Durable Object reset");
            fannedOut.push({ leader: org, visits });
            return { scheduled: visits.length, failed: [] };
          },
        }),
      },
    } as unknown as Env;

    const perRun: number[] = [];
    for (let run = 0; run < 12; run++) {
      const before = { kvLists, doCalls, fanned: fannedOut.length };
      broken = run === 0 ? planVisits(orgs.filter((o) => !needsReinstall.has(o)), 0, 12, HOUR.spreadMs)[0].organizationId : undefined;
      const report = await reconcileFleet(fleetEnv, { scheduledTime: run * HOUR.spreadMs, reconcile: HOUR });
      expect(report).toMatchObject({ licenses: TOTAL, skippedNeedsReinstall: needsReinstall.size, slots: 12, slot: run });
      expect(report.scheduled).toBe(report.due);
      perRun.push(report.due);
      // The cron invocation: one KV list per page, one DO call per 900 visits (+1 for a broken leader).
      expect(kvLists - before.kvLists).toBe(report.pages);
      expect(doCalls - before.doCalls).toBe(Math.ceil(report.due / MAX_VISITS_PER_LEADER) + (run === 0 ? 1 : 0));
      if (run === 0) expect(report.failed).toEqual([broken]);
      const visits = fannedOut.slice(before.fanned).flatMap((f) => f.visits);
      // Within the fleet-wide ceiling: visits a second over the run's spread.
      expect(visits.length / (HOUR.spreadMs / 1000)).toBeLessThanOrEqual(HOUR.callsPerSecond);
      expect(Math.max(...visits.map((v) => v.delayMs))).toBeLessThan(HOUR.spreadMs);
    }
    // Over an hour, everyone not awaiting reinstall is visited exactly once.
    const visited = fannedOut.flatMap((f) => f.visits.map((v) => v.organizationId));
    expect(visited).toHaveLength(TOTAL - needsReinstall.size);
    expect(new Set(visited).size).toBe(TOTAL - needsReinstall.size);
    expect(visited.some((o) => needsReinstall.has(o))).toBe(false);
    const mean = (TOTAL - needsReinstall.size) / 12;
    for (const due of perRun) expect(Math.abs(due - mean) / mean).toBeLessThan(0.2);
    expect(Math.max(...fannedOut.map((f) => f.visits.length))).toBeLessThanOrEqual(MAX_VISITS_PER_LEADER);
    expect(FLEET_PAGE_SIZE).toBe(1000);
  }, 120_000);

  it("a batch whose first leaders keep failing is covered on the next run: leaders rotate", async () => {
    const orgs = Array.from({ length: 8 }, (_, i) => `org-rot-${i}`);
    for (const org of orgs) {
      await env.TOKENS.put(licenseKey(org), "sealed", { metadata: { expiresAt: Date.now() + 3600_000, installedAt: 1, needsReinstall: false } });
    }
    const one = { staleMs: 1000, spreadMs: 1000, callsPerSecond: 100 }; // one slot: every license every run
    const order = planVisits(orgs, 0, 1, 1000).map((v) => v.organizationId);
    const broken = new Set(order.slice(0, 3)); // the same three lead every run at rotation 0
    const covered: string[] = [];
    const fleetEnv = {
      ...env,
      TOKENS: { list: (opts: KVNamespaceListOptions) => env.TOKENS.list({ ...opts, prefix: "license:org-rot-" }) },
      LICENSES: {
        idFromName: (name: string) => name,
        get: (org: string) => ({
          fanOutReconcile: async (visits: Visit[]) => {
            if (broken.has(org)) throw new Error("Durable Object reset");
            covered.push(...visits.map((v) => v.organizationId));
            return { scheduled: visits.length, failed: [] };
          },
        }),
      },
    } as unknown as Env;
    try {
      const first = await reconcileFleet(fleetEnv, { rotation: 0, reconcile: one });
      expect(first.failed).toEqual([...broken]);
      expect(covered).toEqual([]);
      const next = await reconcileFleet(fleetEnv, { rotation: 3, reconcile: one });
      expect(next.scheduled).toBe(8);
      expect(new Set(covered)).toEqual(new Set(orgs));
    } finally {
      for (const org of orgs) await env.TOKENS.delete(licenseKey(org));
    }
  });

  it("a leader schedules its batch's visits; each license checks itself; failures stay local", async () => {
    const PAGE = 60;
    const FAILING = new Set(["org-page-7", "org-page-31", "org-page-52"]);
    const lc = mockLiveChat();
    const orgOf = (auth: string | null) => /access-(org-page-\d+)-/.exec(auth ?? "")?.[1] ?? /jwt-bot-(org-page-\d+)/.exec(auth ?? "")?.[1];
    const calls = new Map<string, number>();
    const routing = new Map<string, string>();
    lc.spy.mockClear();
    const count = (auth: string | null) => {
      const org = orgOf(auth)!;
      calls.set(org, (calls.get(org) ?? 0) + 1);
      return org;
    };
    const body = (call: { body: unknown }) => call.body as Record<string, string>;
    lc.on("POST", "/configuration/action/list_bots", (c) => (count(c.headers.get("authorization")), Response.json([])));
    lc.on("POST", "/configuration/action/create_bot", (c) => {
      const id = `bot-${count(c.headers.get("authorization"))}`;
      return Response.json({ id, secret: `secret-${id}` });
    });
    lc.on("POST", "/configuration/action/get_bot", (c) => (count(c.headers.get("authorization")), Response.json({ id: body(c).id })));
    lc.on("POST", "/configuration/action/issue_bot_token", (c) => (count(c.headers.get("authorization")), Response.json({ token: `jwt-${body(c).bot_id}` })));
    lc.on("POST", "/agent/action/set_routing_status", (c) => {
      count(c.headers.get("authorization"));
      routing.set(body(c).agent_id, body(c).status);
      return Response.json({});
    });
    lc.on("POST", "/agent/action/list_routing_statuses", (c) => {
      const org = count(c.headers.get("authorization"));
      if (FAILING.has(org)) return livechatError(400, "validation", "broken license");
      return Response.json([{ agent_id: `bot-${org}`, status: "offline" }]); // every bot drifted, unreported:
    });
    lc.on("POST", "/configuration/action/get_license_webhooks_state", (c) => {
      const org = count(c.headers.get("authorization"));
      // ... because license webhooks were disabled
      return FAILING.has(org) ? livechatError(400, "validation") : Response.json({ license_webhooks_enabled: false });
    });
    lc.on("POST", "/configuration/action/enable_license_webhooks", (c) => (count(c.headers.get("authorization")), Response.json({})));

    const orgs = Array.from({ length: PAGE }, (_, i) => `org-page-${i}`);
    await Promise.all(orgs.map((org) => licenseStub(env, org).install(tokenResponse(org))));
    await vi.waitUntil(() => orgs.every((o) => routing.get(`bot-${o}`) === "accepting_chats"), { timeout: 30_000 });
    calls.clear();

    const result = await licenseStub(env, orgs[0]).fanOutReconcile(orgs.map((organizationId) => ({ organizationId, delayMs: 0 })));
    expect(result).toEqual({ scheduled: PAGE, failed: [] });

    const histories = async () => Promise.all(orgs.map((o) => licenseStub(env, o).reconcileHistory()));
    await vi.waitUntil(async () => (await histories()).every((h) => h.length > 0), { timeout: 60_000, interval: 250 });
    const reports = (await histories()).map((h) => h[0]);
    reports.forEach((report, i) => {
      expect(report.kind).toBe("visit");
      if (FAILING.has(orgs[i])) {
        expect(report.failed.map((f) => f.step)).toEqual(["license_webhooks", "routing_status"]);
      } else {
        expect(report).toMatchObject({ failed: [], fixed: ["license webhooks enabled", "bot routing status set to accepting_chats"] });
      }
    });
    // Each license made its own handful of calls, with its own token.
    expect(Math.max(...calls.values())).toBeLessThanOrEqual(6);
    expect([...calls.keys()].sort()).toEqual([...orgs].sort());
  }, 120_000);
});
