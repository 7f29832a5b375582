// Faults, on a second license so the story stays clean: LiveChat answering the Worker's calls
// with 429/500 bursts (send_event, get_chat, the token endpoint), and webhook deliveries failing
// before or after the Worker saw them (the simulator retries). The app must lose no event and
// do nothing twice.
import { describeAttempts } from "./lib/context.mjs";
import { expect, sleep, waitFor } from "./lib/harness.mjs";

export const FAULTS_LICENSE = "e2e-faults";
/** Seconds after the install at which the license's first access token needs a refresh. */
const REFRESH_LEAD_S = 10;
/** The text of wrangler dev's 503 for a POST in flight while it reloads the Worker (its ProxyWorker). */
const WRANGLER_RELOAD_ANSWER = /^Your worker restarted mid-request/;

/**
 * @param {import("./lib/harness.mjs").Suite} suite
 * @param {ReturnType<typeof import("./lib/context.mjs").createContext>} ctx
 */
export async function runFaults(suite, ctx) {
  const L = FAULTS_LICENSE;
  const timeoutMs = ctx.replyTimeoutSeconds * 1000;
  /** The simulator's token lifetimes (in process), read when the steps run. */
  const tokenSettings = () => ctx.sim.simulator.tokens.settings;
  /** @type {Record<string, any>} */
  const s = {};

  const nudgeOnce = (chatId) =>
    ctx.exactlyOne("the bot's nudge in the transcript", async () => (await ctx.nudges(chatId)).nudges, {
      timeoutMs: timeoutMs + 12_000,
      settleMs: 2_500,
      describe: async () => `faults left: ${JSON.stringify(await ctx.control("GET", "/_sim/faults"))}; transcript:\n${await ctx.transcriptText(chatId)}`,
    });

  /** Add faults; resolves with their ids. */
  const addFaults = async (list) => Promise.all(list.map(async (f) => ({ ...f, id: (await ctx.control("POST", "/_sim/faults", f)).id })));
  /** How often each fault fired (a fault leaves the list once its count is used up). */
  const faultReport = async (added) => {
    const left = await ctx.control("GET", "/_sim/faults");
    return added.map((f) => {
      const still = left.find((l) => l.id === f.id);
      return { ...f, fired: still ? still.hits : f.count };
    });
  };
  const show = (report) => report.map((f) => `${f.match} ${f.status}: ${f.fired}/${f.count}`).join(", ");

  await suite.step("f-install", "faults: a second license installs and its bot accepts chats", async () => {
    // Its first access token expires REFRESH_LEAD_S after the Worker's refresh margin (5 min,
    // src/licenses/grant.ts): calls in the first seconds use it, the first call after that
    // refreshes it (step f-token, with the token endpoint failing). Later tokens live 8 h.
    tokenSettings().accessTtlS = 300 + REFRESH_LEAD_S;
    let r;
    try {
      s.installedAt = Date.now();
      r = await ctx.install(L);
    } finally {
      tokenSettings().accessTtlS = 28_800;
    }
    expect(r.ok, `install failed: ${r.output.slice(0, 600)}`);
    s.org = (await ctx.license(L)).organization_id;
    const configured = await ctx.configure(L, s.org);
    const bot = await ctx.waitBotAccepting(L);
    return `organization ${s.org}, bot ${bot.id}${configured.ok ? "" : ` (admin settings: ${configured.status}, default texts)`}`;
  }, { needs: ["setup"] });

  await suite.step("f-token", "faults: a 500, 500, 429 burst on the token endpoint when the token needs a refresh: refreshed, and the license keeps working", async () => {
    const since = Date.now();
    const added = await addFaults([
      { match: "/v2/token", method: "POST", status: 500, count: 2 },
      { match: "/v2/token", method: "POST", status: 429, count: 1 },
    ]);
    try {
      await sleep(Math.max(0, s.installedAt + (REFRESH_LEAD_S + 1) * 1000 - Date.now()));
      // Whatever needs the license's credentials first refreshes: a chat's handlers, or the
      // cron's reconcile (scheduled within a minute of the trigger).
      await ctx.startChat(L, "Token burst: is my refund on its way?");
      const cron = await ctx.cron();
      const refreshed = await waitFor("a successful token refresh after the burst", () =>
        ctx.apiCalls(since).find((c) => c.method === "POST" && c.path === "/v2/token" && c.status === 200),
      { timeoutMs: 65_000, intervalMs: 500, describe: async () => `faults fired: ${show(await faultReport(added))}; cron ${cron.status} ${cron.text}` });
      const report = await faultReport(added);
      expect(report.every((f) => f.fired === f.count), `a refresh succeeded without going through the whole burst (faults fired: ${show(report)})`);
      const next = await waitFor("a LiveChat call with the refreshed token", () =>
        ctx.apiCalls(refreshed.at).find((c) => c.path.startsWith("/v3") && c.status === 200),
      { timeoutMs: 10_000, describe: () => `calls since the refresh: ${ctx.apiCalls(refreshed.at).map((c) => `${c.path} ${c.status}`).join(", ") || "none"}` });
      const failedAfter = ctx.apiCalls(refreshed.at).filter((c) => c.status === 401);
      expect(failedAfter.length === 0, `calls refused after the refresh: ${failedAfter.map((c) => c.path).join(", ")}`);
      return `faults fired ${show(report)}; refreshed ${((refreshed.at - since) / 1000).toFixed(1)} s after the burst was armed; then ${next.path} → 200`;
    } finally {
      await ctx.control("DELETE", "/_sim/faults");
    }
  }, { needs: ["f-install"] });

  await suite.step("f-api", "faults: 429/500 bursts on send_event and get_chat: the nudge arrives exactly once", async () => {
    const added = await addFaults([
      { match: "send_event", status: 429, count: 2 },
      { match: "send_event", status: 500, count: 1 },
      { match: "get_chat", status: 500, count: 2 },
      { match: "get_chat", status: 429, count: 1 },
    ]);
    try {
      const chat = await ctx.startChat(L, "API burst: hello?");
      const nudge = await nudgeOnce(chat);
      const report = await faultReport(added);
      const sendEvent = report.filter((f) => f.match === "send_event");
      expect(sendEvent.every((f) => f.fired === f.count), `the send_event faults did not all fire (${show(report)}): the nudge went another way?`);
      return `faults fired ${show(report)}; "${nudge.text}"`;
    } finally {
      await ctx.control("DELETE", "/_sim/faults");
    }
  }, { needs: ["f-install"] });

  await suite.step("f-webhooks", "faults: deliveries failing with 500/429 before and after the Worker saw them: every message stored, none lost", async () => {
    const marks = ["500-before", "500-after", "429-before", "429-after", "ok", "500-before-x3"];
    const rules = {
      "500-before": { mode: "before", status: 500, times: 1 },
      "500-after": { mode: "after", status: 500, times: 1 },
      "429-before": { mode: "before", status: 429, times: 2 },
      "429-after": { mode: "after", status: 429, times: 1 },
      "500-before-x3": { mode: "before", status: 500, times: 3 },
    };
    for (const [mark, rule] of Object.entries(rules)) {
      ctx.proxy.addRule({ ...rule, label: mark, match: (a) => a.organizationId === s.org && a.texts.some((t) => t.includes(`[${mark}]`)) });
    }
    try {
      const chat = await ctx.startChat(L, "Delivery faults: first message [ok]");
      const sent = [];
      for (const mark of marks) sent.push({ mark, id: await ctx.say(chat, "customer", `Delivery faults: message [${mark}]`) });
      const settled = await ctx.idle(20_000);
      expect(settled.idle, `the simulator still had ${settled.pending} deliveries pending after 20 s`);
      const problems = [];
      for (const { mark, id } of sent) {
        const attempts = ctx.proxy.find((a) => a.eventIds.includes(id));
        // A 200 means stored; a retry after a lost answer is stored again, and recorded as a duplicate after the 200 (f-journal).
        const stored = attempts.filter((a) => a.workerStatus === 200 && a.workerOutcome === "accepted");
        const delivered = attempts.some((a) => a.status === 200);
        if (stored.length === 0 || !delivered) problems.push(`[${mark}] stored ${stored.length}×, finally delivered: ${delivered} — ${describeAttempts(attempts)}`);
        else if (mark.includes("after") && stored.length < 2) problems.push(`[${mark}] the retry after a lost answer did not reach the Worker — ${describeAttempts(attempts)}`);
      }
      const failed = await ctx.control("GET", `/_sim/deliveries?license=${L}&state=failed`);
      if (failed.length) problems.push(`the simulator gave up on ${failed.length} deliveries: ${failed.map((d) => d.action).join(", ")}`);
      expect(problems.length === 0, problems.join("\n"));
      s.webhookChat = chat;
      const nudge = await nudgeOnce(chat);
      const injected = ctx.proxy.find((a) => a.injected && a.organizationId === s.org).length;
      return `${sent.length} messages, ${injected} injected failures: each stored, retries after lost answers stored again; one nudge: "${nudge.text}"`;
    } finally {
      ctx.proxy.clearRules();
    }
  }, { needs: ["f-install"] });

  await suite.step("f-journal", "faults: the Worker's delivery journal (admin API) shows each of those messages processed exactly once, its redeliveries as duplicates", async () => {
    const chat = s.webhookChat;
    const storedAttempts = ctx.proxy.find(
      (a) => a.chatId === chat && (a.action === "incoming_event" || a.action === "incoming_chat") && a.workerStatus === 200 && a.workerOutcome === "accepted",
    );
    const accepted = new Set(storedAttempts.map((a) => a.signature));
    const headers = { authorization: `Bearer ${ctx.stack.secrets.ADMIN_TOKEN}` };
    const url = `${ctx.workerUrl}/admin/api/licenses/${s.org}/deliveries?chat=${encodeURIComponent(chat)}&limit=1000`;
    let entries = [];
    await waitFor("every delivery of the chat to be finished in the journal", async () => {
      const res = await fetch(url, { headers });
      const text = await res.text();
      expect(res.ok, `GET ${new URL(url).pathname}${new URL(url).search} → ${res.status} ${text.slice(0, 200)}`);
      entries = (JSON.parse(text).deliveries ?? []).filter((e) => e.chatId === chat);
      const messages = entries.filter((e) => e.action === "incoming_event" || e.action === "incoming_chat");
      return messages.length >= storedAttempts.length && messages.every((e) => e.outcome !== "pending" && e.outcome !== "retry");
    }, { timeoutMs: 15_000, intervalMs: 500, describe: () => `journal: ${entries.map((e) => `${e.action} ${e.outcome}`).join(", ") || "empty"}` });
    const messages = entries.filter((e) => e.action === "incoming_event" || e.action === "incoming_chat");
    const processed = messages.filter((e) => e.outcome === "processed");
    const bad = entries.filter((e) => e.outcome === "dead" || e.outcome === "unprocessable");
    expect(bad.length === 0, `dead or unprocessable: ${bad.map((e) => `${e.action} ${e.outcome} ${e.error ?? ""}`).join("; ")}`);
    const duplicates = messages.filter((e) => e.outcome === "duplicate");
    expect(processed.length === accepted.size && messages.length === storedAttempts.length && duplicates.length === storedAttempts.length - accepted.size,
      `${accepted.size} messages stored ${storedAttempts.length}×, journal has ${messages.length} (${processed.length} processed, ${duplicates.length} duplicates): ${messages.map((e) => `${e.action} ${e.outcome}×${e.attempts}`).join(", ")}`);
    return `${processed.length} message deliveries processed once each, ${duplicates.length} redeliveries recorded as duplicates (${entries.length} journal entries for the chat, none dead)`;
  }, { needs: ["f-webhooks"] });

  await suite.step("f-uninstall", "faults: the owner uninstalls without the operator's erase: confirmed (LiveChat refuses the tokens), the license erased, nothing acts any more; the bot stays on the license (the tombstone says grant_revoked)", async () => {
    await ctx.control("POST", `/_sim/licenses/${L}/uninstall`, {});
    const uninstalled = await waitFor("application_uninstalled to be processed", () =>
      ctx.proxy.find((a) => a.action === "app:application_uninstalled" && a.organizationId === s.org && a.workerStatus === 200)[0],
    { timeoutMs: 10_000, describe: () => describeAttempts(ctx.proxy.find((a) => a.action?.startsWith("app:"))) });
    expect(uninstalled.workerOutcome === "uninstalled", `the Worker answered application_uninstalled with outcome ${uninstalled.workerOutcome}`);
    const since = Date.now();
    await ctx.cron();
    await sleep(timeoutMs + 2_000);
    const calls = ctx.apiCalls(since);
    expect(calls.length === 0, `after the uninstall the Worker still called LiveChat: ${calls.map((c) => `${c.method} ${c.path} → ${c.status}`).join(", ")}`);
    const res = await fetch(`${ctx.workerUrl}/admin/api/licenses/${encodeURIComponent(s.org)}`, { headers: { authorization: `Bearer ${ctx.stack.secrets.ADMIN_TOKEN}` } });
    const tombstone = (await res.json()).storage?.tombstone;
    expect(tombstone?.reason === "uninstalled" && tombstone.bot === "grant_revoked", `tombstone: ${JSON.stringify(tombstone)}`);
    const bots = await ctx.bots(L);
    return `outcome "uninstalled"; no LiveChat call after it; tombstone bot "${tombstone.bot}"; the simulator still lists ${bots.length} bot(s) of the app`;
  }, { needs: ["f-install"] });

  await suite.step("no-loss", "over the whole run: no delivery given up, no 5xx from the Worker, no delivery rejected", async () => {
    await ctx.idle(15_000);
    const given = await ctx.control("GET", "/_sim/deliveries?state=failed");
    // wrangler dev's own 503 while it reloads the Worker (a rebuild; the request never reached the
    // Worker's code): not the Worker's answer. The simulator's retry must still get through.
    const reloadAnswers = ctx.proxy.find((a) => a.workerStatus === 503 && WRANGLER_RELOAD_ANSWER.test(a.workerBody ?? ""));
    const worker5xx = ctx.proxy.find((a) => (a.workerStatus ?? 0) >= 500 && !reloadAnswers.includes(a));
    const rejected = ctx.proxy.find((a) => a.workerStatus && a.workerStatus >= 400 && a.workerStatus < 500);
    const problems = [
      ...given.map((d) => `simulator gave up: ${d.kind} ${d.action} ${d.chat_id ?? ""} after [${d.attempts.map((x) => x.status ?? x.error).join(",")}]`),
      ...worker5xx.map((a) => `Worker ${a.workerStatus} on ${a.path} ${a.action}: ${a.workerBody ?? ""}`),
      ...rejected.map((a) => `Worker ${a.workerStatus} on ${a.path} ${a.action}`),
    ];
    expect(problems.length === 0, problems.slice(0, 15).join("\n"));
    const reloads = ctx.stack.reloads.length
      ? `; wrangler dev reloaded the Worker ${ctx.stack.reloads.length}× (${reloadAnswers.length} attempt(s) answered 503 meanwhile, retried)`
      : "";
    return `${ctx.proxy.attempts.length} delivery attempts through the proxy, ${ctx.proxy.find((a) => a.injected).length} failures injected, none lost${reloads}`;
  }, { needs: ["setup"] });
}
