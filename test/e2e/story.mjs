// The story of issue 6, one reported step each: setup registers the bot's behaviours as bot
// webhooks → install → bot provisioned and accepting chats → customer writes → no agent reply →
// the bot's nudge → an agent replies, no second nudge → tagged → suggestions for agents → a customer's words bring suggestions (and, switched off,
// do not) → rated
// good, another chat bad → reactions → the license owner (routing mode "owner") switches the bot
// to not accepting (webhooks arrive, the bot is silent), offline (LiveChat withholds them, no stale
// nudge) and back → a bot knocked offline in managed mode is healed within a minute of the
// routing_status_set → the operator erases the license (bot deleted while the grant works) → the
// owner uninstalls: nothing acts any more, and the simulator lists no bot of the app. LiveChat does
// not document what becomes of an app's bots on uninstall (docs/LIVECHAT.md §8), so the erase comes first.
import { describeAttempts, E2E_SETTINGS } from "./lib/context.mjs";
import { expect, sleep, waitFor } from "./lib/harness.mjs";

export const STORY_LICENSE = "e2e-story";

/**
 * @param {import("./lib/harness.mjs").Suite} suite
 * @param {ReturnType<typeof import("./lib/context.mjs").createContext>} ctx
 */
export async function runStory(suite, ctx) {
  const L = STORY_LICENSE;
  const timeoutMs = ctx.replyTimeoutSeconds * 1000;
  /** @type {Record<string, any>} */
  const s = {};

  await suite.step("setup", "npm run setup registers the app's webhooks", async () => {
    await ctx.control("POST", "/_sim/licenses", { name: L });
    const r = await ctx.setup(L);
    expect(r.code === 0, `setup exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 600)}`);
    const registered = Object.values(ctx.sim.state.webhooks ?? {})
      .flat()
      .filter((w) => w.owner_client_id === ctx.clientId);
    const names = registered.map((w) => `${w.type}:${w.action}`).sort();
    expect(names.length > 0, `setup succeeded but the simulator has no webhook of ${ctx.clientId}; state.webhooks: ${JSON.stringify(ctx.sim.state.webhooks).slice(0, 300)}`);
    expect(registered.every((w) => w.url.startsWith(ctx.proxy.url)), `webhooks registered at unexpected URLs: ${[...new Set(registered.map((w) => w.url))].join(", ")}`);
    // docs/LIVECHAT.md §1.5: the behaviours as bot webhooks; what must arrive whatever the bot's status as license webhooks.
    for (const want of ["bot:incoming_event", "bot:incoming_chat", "bot:thread_tagged", "license:chat_deactivated", "license:routing_status_set", "license:bot_deleted"]) {
      expect(names.includes(want), `${want} is not registered; registered: ${names.join(", ")}`);
    }
    expect(!names.includes("license:incoming_event"), "incoming_event is registered as a license webhook too");
    return `${names.length} registered: ${names.join(", ")}`;
  }, { needs: ["boot"] });

  await suite.step("setup-again", "npm run setup a second time changes nothing", async () => {
    const r = await ctx.setup(L);
    expect(r.code === 0, `setup exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 600)}`);
    const { report } = JSON.parse(r.stdout);
    expect(report && report.changed === false, `the second run changed something: registered ${report?.registered?.length}, unregistered ${report?.unregistered?.length}`);
    return `${report.desired.length} desired, all unchanged`;
  }, { needs: ["setup"] });

  await suite.step("doctor", "npm run doctor finds the stack ready (healthz, install with PKCE, admin API, webhooks), and names what is wrong", async () => {
    const good = await ctx.doctor(L);
    const report = JSON.parse(good.stdout || "{}");
    const summary = (r) => (r.checks ?? []).map((c) => `${c.name} ${c.status}: ${c.detail}`).join("\n");
    expect(good.code === 0 && report.ok === true, `doctor exited ${good.code}:\n${summary(report) || good.stderr.trim().slice(0, 600)}`);
    expect(report.checks.map((c) => `${c.name}:${c.status}`).join(",") === "healthz:ok,install:ok,admin:ok,webhooks:ok", summary(report));
    // The same deployment seen with a wrong admin token and the webhooks expected at the Worker itself.
    const bad = await ctx.doctor(L, { webhooksUrl: ctx.workerUrl, adminToken: "not-the-admin-token-0123456789abcdef" });
    const badReport = JSON.parse(bad.stdout || "{}");
    const status = Object.fromEntries((badReport.checks ?? []).map((c) => [c.name, c]));
    expect(bad.code === 1 && status.admin?.status === "fail" && status.webhooks?.status === "fail", `expected admin and webhooks to fail:\n${summary(badReport)}`);
    expect(/missing: .*incoming_chat/.test(status.webhooks.detail), `webhooks: ${status.webhooks.detail}`);
    return report.checks.find((c) => c.name === "webhooks").detail;
  }, { needs: ["setup"] });

  await suite.step("install", "the app installs through GET /install → authorize → /install?code (PKCE)", async () => {
    const r = await ctx.install(L);
    expect(r.ok, `install failed: ${r.output.slice(0, 600)}`);
    const lic = await ctx.license(L);
    s.org = lic.organization_id;
    expect(lic.installs?.[ctx.clientId]?.installed, `the simulator does not show the app installed on ${L}`);
    const app = await waitFor("application_installed to be delivered", () =>
      ctx.proxy.find((a) => a.action === "app:application_installed" && a.organizationId === s.org && a.workerStatus === 200)[0],
    { timeoutMs: 10_000, describe: () => describeAttempts(ctx.proxy.find((a) => a.organizationId === s.org)) });
    return `organization ${s.org}; Worker answered ${r.result.status}; application_installed → ${app.workerStatus} ${app.workerOutcome ?? ""}`;
  }, { needs: ["boot"] });

  await suite.step("settings", "per-license settings through the admin API (PUT /admin/api/licenses/:org/settings)", async () => {
    const r = await ctx.configure(L, s.org);
    expect(r.ok, `PUT /admin/api/licenses/${s.org}/settings → ${r.status} ${r.text}`);
    return `reply timeout ${ctx.replyTimeoutSeconds} s, tag suggestions for "refund", rating messages`;
  }, { needs: ["install"] });

  await suite.step("bot", "the bot is provisioned and accepting chats", async () => {
    const bot = await ctx.waitBotAccepting(L);
    s.bot = bot;
    return `bot ${bot.id} "${bot.name}" accepting chats`;
  }, { needs: ["install"] });

  await suite.step("chat", "a customer writes: the Worker accepts the webhook exactly once", async () => {
    s.chat = await ctx.startChat(L, "Hi, where is my order #1234?");
    const t = await ctx.transcript(s.chat);
    s.firstEvent = t.threads[0].events.find((e) => e.author_kind === "customer")?.id;
    await ctx.waitAccepted(s.firstEvent);
    await ctx.idle();
    const accepted = ctx.proxy.find((a) => a.eventIds.includes(s.firstEvent) && a.workerOutcome === "accepted");
    expect(accepted.length === 1, `the customer's first message was accepted ${accepted.length} times: ${describeAttempts(accepted)}`);
    return `chat ${s.chat}, event ${s.firstEvent} via ${accepted[0].action}`;
  }, { needs: ["setup", "install"] });

  await suite.step("nudge", `no agent reply for ${ctx.replyTimeoutSeconds} s: the bot's nudge appears in the transcript once`, async () => {
    const started = Date.now();
    const nudge = await ctx.exactlyOne("the bot's nudge in the transcript", async () => (await ctx.nudges(s.chat)).nudges, {
      timeoutMs: timeoutMs + 15_000,
      describe: async () => `transcript:\n${await ctx.transcriptText(s.chat)}`,
    });
    return `"${nudge.text}" after ${((Date.now() - started) / 1000).toFixed(1)} s of waiting`;
  }, { needs: ["chat", "bot"] });

  await suite.step("no-second-nudge", "the customer writes again, an agent replies in time: no second nudge", async () => {
    const event = await ctx.say(s.chat, "customer", "Hello? Is anyone there?");
    await ctx.waitAccepted(event);
    await ctx.say(s.chat, "agent", "Sorry for the wait, I'm checking your order now.");
    await sleep(timeoutMs + 4_000);
    const { nudges } = await ctx.nudges(s.chat);
    expect(nudges.length === 1, `expected still one nudge, found ${nudges.length}; transcript:\n${await ctx.transcriptText(s.chat)}`);
    return `waited ${ctx.replyTimeoutSeconds + 4} s after the agent's reply: still one nudge`;
  }, { needs: ["nudge"] });

  await suite.step("tag", "an agent tags the chat \"refund\": suggestions appear for agents", async () => {
    const suggestion = E2E_SETTINGS.tagSuggestions.refund[0];
    await ctx.control("POST", `/_sim/chats/${s.chat}/tags`, { tag: "refund" });
    const note = await ctx.exactlyOne("an agents-only suggestion from the bot", () => ctx.agentNotes(s.chat, (t) => t.includes(suggestion)), {
      timeoutMs: 15_000,
      describe: async () => `transcript:\n${await ctx.transcriptText(s.chat)}`,
    });
    return `"${note.text}" (agents only)`;
  }, { needs: ["chat", "bot", "settings"] });

  await suite.step("content", "a customer asks about a refund: the refund suggestions appear for agents only, once per thread", async () => {
    const suggestion = E2E_SETTINGS.tagSuggestions.refund[0];
    const isSuggestion = (t) => t.includes(suggestion) && t.includes("[refund]");
    // The first message is delivered twice more (answer lost after the Worker stored it): the retries must change nothing.
    ctx.proxy.addRule({ mode: "after", status: 500, times: 2, label: "content-redelivery", match: (a) => a.texts.some((t) => t.includes("[content]")) });
    try {
      s.chat3 = await ctx.startChat(L, "Hello [content], when will I get my refund?", "E2E Third Customer");
      const note = await ctx.exactlyOne("an agents-only suggestion from the customer's message", () => ctx.agentNotes(s.chat3, isSuggestion), {
        timeoutMs: 15_000,
        describe: async () => `transcript:
${await ctx.transcriptText(s.chat3)}`,
      });
      // More about the refund from the customer, the agent's own words, a whisper: nothing new.
      await ctx.say(s.chat3, "customer", "Any news on my refund? I want my money back");
      await ctx.say(s.chat3, "agent", "Let me check the refund for you.");
      await ctx.control("POST", `/_sim/chats/${s.chat3}/messages`, { as: "agent", text: "refund refund money back", visibility: "agents" });
      await ctx.idle();
      await sleep(2_000);
      const notes = await ctx.agentNotes(s.chat3);
      expect(notes.length === 1, `expected one agents-only note, found ${notes.length}: ${notes.map((n) => JSON.stringify(n.text)).join(", ")}`);
      // Each redelivery is stored (200) and recorded as a duplicate after it: one suggestion, above.
      const retries = ctx.proxy.find((a) => a.texts.some((t) => t.includes("[content]")) && a.workerStatus === 200 && a.attempt > 1).length;
      expect(retries > 0, `the redelivered first message never reached the Worker again: ${describeAttempts(ctx.proxy.find((a) => a.texts.some((t) => t.includes("[content]"))))}`);
      const text = await ctx.transcriptText(s.chat3);
      const shown = /^.*\[agents only\]: Suggested replies for the customer's message:\n.*$/m.exec(text)?.[0];
      expect(shown?.includes(suggestion), `the transcript shows no agents-only suggestion:\n${text}`);
      return `transcript: ${shown.trim().replace(/\s*\n\s*/, " ⏎ ")} (${retries} redeliveries stored and found duplicates; later messages added nothing); event ${note.id}`;
    } finally {
      ctx.proxy.clearRules();
    }
  }, { needs: ["setup", "install", "bot", "settings"] });

  await suite.step("content-off", "content suggestions switched off for the license: a customer's refund question brings nothing", async () => {
    const put = (body) =>
      fetch(`${ctx.workerUrl}/admin/api/licenses/${encodeURIComponent(s.org)}/settings`, {
        method: "PUT",
        headers: { authorization: `Bearer ${ctx.stack.secrets.ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const off = await put({ contentSuggestions: false });
    expect(off.ok, `PUT contentSuggestions false → ${off.status} ${await off.text()}`);
    try {
      const chat = await ctx.startChat(L, "I want a refund, please.", "E2E Fourth Customer");
      await ctx.idle();
      await sleep(3_000);
      const notes = await ctx.agentNotes(chat);
      expect(notes.length === 0, `suggested although switched off: ${notes.map((n) => JSON.stringify(n.text)).join(", ")}`);
      return `chat ${chat}: no agents-only note`;
    } finally {
      await put({ contentSuggestions: true });
    }
  }, { needs: ["content"] });

  await suite.step("rate-good", "the customer rates the chat good: a reaction appears for agents", async () => {
    const before = (await ctx.agentNotes(s.chat)).length;
    await ctx.control("POST", `/_sim/chats/${s.chat}/rating`, { score: "good", comment: "Quick help, thanks" });
    const expected = ctx.configured(L) ? E2E_SETTINGS.rating.goodMessage.replace("{reviewUrl}", E2E_SETTINGS.rating.reviewUrl) : undefined;
    const note = await ctx.exactlyOne(
      "the bot's agents-only reaction to the good rating",
      async () => (await ctx.agentNotes(s.chat)).slice(before).filter((e) => (expected ? e.text === expected : /good/i.test(e.text))),
      { timeoutMs: 15_000, describe: async () => `transcript:\n${await ctx.transcriptText(s.chat)}` },
    );
    return `"${note.text}"`;
  }, { needs: ["chat", "bot"] });

  await suite.step("rate-bad", "another chat is rated bad: a reaction appears for agents", async () => {
    s.chat2 = await ctx.startChat(L, "My package arrived broken.", "E2E Second Customer");
    await ctx.say(s.chat2, "agent", "I'm sorry to hear that, let me help.");
    await ctx.idle();
    await ctx.control("POST", `/_sim/chats/${s.chat2}/rating`, { score: "bad", comment: "Still broken" });
    const expected = ctx.configured(L) ? E2E_SETTINGS.rating.badMessage : undefined;
    const note = await ctx.exactlyOne(
      "the bot's agents-only reaction to the bad rating",
      () => ctx.agentNotes(s.chat2, (t) => (expected ? t === expected : /bad/i.test(t))),
      { timeoutMs: 15_000, describe: async () => `transcript:\n${await ctx.transcriptText(s.chat2)}` },
    );
    return `chat ${s.chat2}: "${note.text}"`;
  }, { needs: ["setup", "install", "bot"] });

  await suite.step("owner-not-accepting", "routing mode owner; the owner sets the bot to not accepting chats: bot webhooks arrive and are recorded, the bot stays silent", async () => {
    const mode = await ctx.settings(s.org, { routingMode: "owner" });
    expect(mode.ok, `PUT settings {routingMode: "owner"} → ${mode.status} ${mode.text}`);
    await ctx.control("POST", `/_sim/licenses/${L}/routing`, { status: "not_accepting_chats", agent_id: s.bot.id });
    await ctx.idle();
    s.chat3 = await ctx.startChat(L, "Anyone there after hours?", "E2E Third Customer");
    const first = (await ctx.transcript(s.chat3)).threads[0].events.find((e) => e.author_kind === "customer")?.id;
    await ctx.waitAccepted(first);
    const viaBot = ctx.proxy.find((a) => a.eventIds.includes(first) && a.path === "/webhooks/bot" && a.workerOutcome === "accepted");
    expect(viaBot.length === 1, `the bot webhook carrying ${first} was accepted ${viaBot.length} times: ${describeAttempts(ctx.proxy.find((a) => a.eventIds.includes(first)))}`);
    await sleep(timeoutMs + 4_000);
    const { nudges } = await ctx.nudges(s.chat3);
    expect(nudges.length === 0, `the bot nudged while not accepting chats; transcript:\n${await ctx.transcriptText(s.chat3)}`);
    const bot = (await ctx.bots(L)).find((b) => b.id === s.bot.id);
    expect(bot?.status === "not_accepting_chats", `owner mode: the app changed the owner's status to ${bot?.status}`);
    return `bot webhook accepted, no nudge after ${ctx.replyTimeoutSeconds + 4} s, status left as the owner set it`;
  }, { needs: ["bot", "install"] });

  await suite.step("owner-offline", "the owner switches the bot offline and back: LiveChat withholds bot webhooks meanwhile, and no stale nudge follows", async () => {
    await ctx.control("POST", `/_sim/licenses/${L}/routing`, { status: "accepting_chats", agent_id: s.bot.id });
    await ctx.idle();
    // A wait starts while the bot accepts chats ...
    const asked = await ctx.say(s.chat3, "customer", "Still there?");
    await ctx.waitAccepted(asked);
    // ... then the bot goes offline and the agent answers: LiveChat sends the bot nothing.
    await ctx.control("POST", `/_sim/licenses/${L}/routing`, { status: "offline", agent_id: s.bot.id });
    const answer = await ctx.say(s.chat3, "agent", "Yes, sorry, here now.");
    await ctx.idle();
    const withheld = (await ctx.control("GET", `/_sim/deliveries?chat_id=${s.chat3}&state=withheld`)).filter((d) => d.webhook_type === "bot");
    expect(withheld.length > 0 && withheld.every((d) => /offline/.test(d.reason)), `expected bot webhooks withheld as offline: ${JSON.stringify(withheld.map((d) => [d.action, d.reason]))}`);
    const leaked = ctx.proxy.find((a) => a.eventIds.includes(answer));
    expect(leaked.length === 0, `the agent's answer reached the Worker while the bot was offline: ${describeAttempts(leaked)}`);
    // Back online before the wait is over: the timer checks the chat (get_chat) and sees the answer.
    await ctx.control("POST", `/_sim/licenses/${L}/routing`, { status: "accepting_chats", agent_id: s.bot.id });
    await ctx.idle();
    await sleep(timeoutMs + 4_000);
    const { nudges } = await ctx.nudges(s.chat3);
    expect(nudges.length === 0, `a stale nudge after the answer the bot never heard of; transcript:\n${await ctx.transcriptText(s.chat3)}`);
    // Bot webhooks flow again: a new unanswered message is nudged.
    const again = await ctx.say(s.chat3, "customer", "One more thing.");
    await ctx.waitAccepted(again);
    const nudge = await ctx.exactlyOne("the nudge after the bot came back", async () => (await ctx.nudges(s.chat3)).nudges, {
      timeoutMs: timeoutMs + 15_000,
      describe: async () => `transcript:\n${await ctx.transcriptText(s.chat3)}`,
    });
    return `${withheld.length} bot webhook(s) withheld (${withheld[0].reason}); no stale nudge; after coming back: "${nudge.text}"`;
  }, { needs: ["owner-not-accepting"] });

  await suite.step("heal", "routing mode managed: a bot knocked offline is healed within a minute of the routing_status_set, without the cron", async () => {
    const mode = await ctx.settings(s.org, { routingMode: "managed" });
    expect(mode.ok, `PUT settings {routingMode: "managed"} → ${mode.status} ${mode.text}`);
    await ctx.waitBotAccepting(L);
    const t0 = Date.now();
    await ctx.control("POST", `/_sim/licenses/${L}/routing`, { status: "offline", agent_id: s.bot.id });
    await waitFor("the bot to accept chats again", async () => (await ctx.bots(L)).find((b) => b.id === s.bot.id && b.status === "accepting_chats"), {
      timeoutMs: 60_000,
      intervalMs: 250,
      describe: async () => `status: ${(await ctx.bots(L)).map((b) => `${b.id} ${b.status}`).join(", ")}`,
    });
    return `accepting chats again ${((Date.now() - t0) / 1000).toFixed(1)} s after the owner switched it offline`;
  }, { needs: ["bot"] });

  /** Messages of the story's bot in a chat, by its id (once deleted, the license no longer lists it). */
  const botWrote = async (chatId) => (await ctx.botMessages(chatId)).events.filter((e) => e.type === "message" && e.author_id === s.bot.id).length;

  await suite.step("erase", "the operator erases the license (DELETE /admin/api/licenses/:org) while its grant works: the bot is deleted at LiveChat (the simulator no longer lists it) and the tokens revoked", async () => {
    // A pending reply timer: the customer writes and nobody answers.
    const event = await ctx.say(s.chat, "customer", "One more question before I go.");
    await ctx.idle();
    s.timerPending = ctx.proxy.find((a) => a.eventIds.includes(event) && a.workerOutcome === "accepted").length > 0;
    s.notesBefore = await botWrote(s.chat);
    expect((await ctx.bots(L)).length > 0, "the simulator lists no bot of the app before the erase");
    const since = Date.now();
    const res = await fetch(`${ctx.workerUrl}/admin/api/licenses/${encodeURIComponent(s.org)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ctx.stack.secrets.ADMIN_TOKEN}` },
    });
    const body = await res.json();
    expect(res.status === 200, `DELETE /admin/api/licenses/${s.org} → ${res.status} ${JSON.stringify(body)}`);
    expect(body.erased?.bot === "deleted" && body.erased.tokens === "revoked", `erased: ${JSON.stringify(body.erased)}`);
    const bots = await ctx.bots(L);
    expect(bots.length === 0, `the simulator still lists the app's bot(s): ${bots.map((b) => `${b.id} ${b.status}`).join(", ")}`);
    const calls = ctx.apiCalls(since).map((c) => `${c.method} ${c.path} ${c.status}`);
    expect(calls.some((c) => /^POST \S+\/configuration\/action\/delete_bot 200$/.test(c)), `no delete_bot call: ${calls.join(", ")}`);
    expect(calls.filter((c) => c.startsWith("DELETE /v2/token 200")).length === 2, `expected both tokens revoked: ${calls.join(", ")}`);
    return `bot ${s.bot.id} deleted (the simulator lists no bot of the app), both tokens revoked, ${body.erased.chats.toErase} chat(s) to erase`;
  }, { needs: ["bot"] });

  await suite.step("uninstall", "then the owner uninstalls the app: nothing of the license is left to act, no timer fires, the cron leaves it alone, and the simulator lists no bot of the app", async () => {
    await ctx.control("POST", `/_sim/licenses/${L}/uninstall`, {});
    const uninstalled = await waitFor("application_uninstalled to be answered", () =>
      ctx.proxy.find((a) => a.action === "app:application_uninstalled" && a.organizationId === s.org && a.workerStatus === 200)[0],
    { timeoutMs: 10_000, describe: () => describeAttempts(ctx.proxy.find((a) => a.action?.startsWith("app:"))) });
    // The erase removed the license from the index: the hint finds nothing installed to check.
    expect(uninstalled.workerOutcome === "ignored_not_installed", `the Worker answered application_uninstalled with outcome ${uninstalled.workerOutcome}`);
    const since = Date.now();
    const cron = await ctx.cron();
    await sleep(timeoutMs + 4_000);
    const calls = ctx.apiCalls(since);
    const notesAfter = await botWrote(s.chat);
    expect(calls.length === 0, `after the uninstall the Worker still called LiveChat: ${calls.map((c) => `${c.method} ${c.path} → ${c.status}`).join(", ")}`);
    expect(notesAfter === s.notesBefore, `the bot wrote ${notesAfter - s.notesBefore} message(s) after the erase`);
    const bots = await ctx.bots(L);
    expect(bots.length === 0, `the simulator lists the app's bot(s) after the uninstall: ${bots.map((b) => b.id).join(", ")}`);
    return `outcome "${uninstalled.workerOutcome}"; then the cron (${cron.status}) and ${ctx.replyTimeoutSeconds + 4} s${s.timerPending ? " of a reply timer pending before the erase" : " (no reply timer was pending: the customer's message was not accepted)"}: no LiveChat call, no bot message, no bot of the app on the license`;
  }, { needs: ["erase"] });
}
