import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FLEET_PAGE_SIZE, reconcileFleet } from "../../src/licenses/fleet";
import { licenseKey } from "../../src/licenses/token-store";
import { licenseStub } from "../../src/licenses/stub";
import { tokenResponse } from "../helpers/install";
import { livechatError, mockLiveChat } from "../helpers/livechat-mock";

afterEach(() => vi.restoreAllMocks());

/**
 * Issue 5: "10,000 licenses reconcile within Workers' limits (subrequests and CPU per
 * invocation); the cron only fans out, each license does its own calls, and a failing license
 * never stops the others." The cron's side is shown at full scale (10,000 licenses in KV); the
 * License DOs' side with a page of real DOs against a mocked API (thousands of SQLite-backed DOs
 * in one test process would measure the test machine, not the design).
 */
describe("reconcile at scale", () => {
  it("the cron covers 10,000 licenses with about two subrequests per 1,000", async () => {
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

    // Each License DO stub records the fan-out it is asked for; one page leader is broken.
    const fannedOut: { leader: string; others: string[] }[] = [];
    const brokenLeader = "org-10k-1"; // the first page's first leader (KV lists keys in lexicographic order; org-10k-0 awaits reinstall)
    let kvLists = 0;
    let doCalls = 0;
    const fleetEnv = {
      ...env,
      TOKENS: { list: (opts: KVNamespaceListOptions) => (kvLists++, env.TOKENS.list(opts)) },
      LICENSES: {
        idFromName: (name: string) => name,
        get: (org: string) => ({
          fanOutReconcile: async (others: string[]) => {
            doCalls++;
            if (org === brokenLeader) throw new Error("Durable Object reset");
            fannedOut.push({ leader: org, others });
            return { scheduled: others.length + 1, failed: [] };
          },
        }),
      },
    } as unknown as Env;

    const report = await reconcileFleet(fleetEnv, { spreadMs: 0 });
    const pages = Math.ceil(TOTAL / FLEET_PAGE_SIZE);
    expect(report.licenses).toBe(TOTAL);
    expect(report.pages).toBeGreaterThanOrEqual(pages);
    expect(report.skippedNeedsReinstall).toBe(needsReinstall.size);
    // Everyone not awaiting reinstall is scheduled exactly once, despite the broken leader.
    const covered = fannedOut.flatMap((f) => [f.leader, ...f.others]);
    expect(covered).toHaveLength(TOTAL - needsReinstall.size);
    expect(new Set(covered).size).toBe(TOTAL - needsReinstall.size);
    expect(covered.some((o) => needsReinstall.has(o))).toBe(false);
    expect(report.failed).toEqual([brokenLeader]); // reported, and its page handed to another leader
    expect(covered).toContain(brokenLeader);
    // The cron invocation: one KV list per page and one DO call per page (+1 retry): ~20 subrequests.
    expect(kvLists).toBe(report.pages);
    expect(doCalls).toBe(pages + 1);
    // A page leader makes at most one call per page-mate: within the per-invocation subrequest limit (1,000).
    expect(Math.max(...fannedOut.map((f) => f.others.length))).toBeLessThan(FLEET_PAGE_SIZE);
  }, 120_000);

  it("a page whose first leaders keep failing is covered on the next run: leaders rotate", async () => {
    const orgs = Array.from({ length: 8 }, (_, i) => `org-rot-${i}`);
    for (const org of orgs) {
      await env.TOKENS.put(licenseKey(org), "sealed", { metadata: { expiresAt: Date.now() + 3600_000, installedAt: 1, needsReinstall: false } });
    }
    const broken = new Set(orgs.slice(0, 3)); // KV lists in key order: the same three lead every run
    const covered: string[] = [];
    const fleetEnv = {
      ...env,
      TOKENS: { list: (opts: KVNamespaceListOptions) => env.TOKENS.list({ ...opts, prefix: "license:org-rot-" }) },
      LICENSES: {
        idFromName: (name: string) => name,
        get: (org: string) => ({
          fanOutReconcile: async (others: string[]) => {
            if (broken.has(org)) throw new Error("Durable Object reset");
            covered.push(org, ...others);
            return { scheduled: others.length + 1, failed: [] };
          },
        }),
      },
    } as unknown as Env;
    try {
      const first = await reconcileFleet(fleetEnv, { rotation: 0 });
      expect(first.failed).toEqual([...broken]);
      expect(covered).toEqual([]);
      const next = await reconcileFleet(fleetEnv, { rotation: 1 });
      expect(next.scheduled).toBe(8);
      expect(new Set(covered)).toEqual(new Set(orgs));
    } finally {
      for (const org of orgs) await env.TOKENS.delete(licenseKey(org));
    }
  });

  it("a page leader fans out to its page; each license reconciles itself; failures stay local", async () => {
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
      return Response.json([{ agent_id: `bot-${org}`, status: "offline" }]); // every bot drifted
    });
    lc.on("POST", "/configuration/action/get_license_webhooks_state", (c) => {
      const org = count(c.headers.get("authorization"));
      return FAILING.has(org) ? livechatError(400, "validation") : Response.json({ license_webhooks_enabled: true });
    });

    const orgs = Array.from({ length: PAGE }, (_, i) => `org-page-${i}`);
    await Promise.all(orgs.map((org) => licenseStub(env, org).install(tokenResponse(org))));
    await vi.waitUntil(() => orgs.every((o) => routing.get(`bot-${o}`) === "accepting_chats"), { timeout: 30_000 });
    calls.clear();

    const [leader, ...others] = orgs;
    const result = await licenseStub(env, leader).fanOutReconcile(others, 0);
    expect(result).toEqual({ scheduled: PAGE, failed: [] });

    const histories = async () => Promise.all(orgs.map((o) => licenseStub(env, o).reconcileHistory()));
    await vi.waitUntil(async () => (await histories()).every((h) => h.length > 0), { timeout: 60_000, interval: 250 });
    const reports = (await histories()).map((h) => h[0]);
    reports.forEach((report, i) => {
      if (FAILING.has(orgs[i])) {
        expect(report.failed.map((f) => f.step)).toEqual(["routing_status", "license_webhooks"]);
      } else {
        expect(report).toMatchObject({ failed: [], fixed: ["bot routing status set to accepting_chats"] });
      }
    });
    // Each license made its own handful of calls, with its own token.
    expect(Math.max(...calls.values())).toBeLessThanOrEqual(6);
    expect([...calls.keys()].sort()).toEqual([...orgs].sort());
  }, 120_000);
});
