import { describe, expect, it } from "vitest";
import { applyPatch, defaultSettings, type Settings, settingsPatchSchema } from "../../../src/licenses/settings";
import { formPatch, formValues, readForm } from "../../../src/routes/admin/settings-form";
import { install, uniqueOrg } from "../../webhooks/helpers";
import { ADMIN_TOKEN, adminFetch, api, login, ORIGIN, postForm } from "./helpers";

const defaults = defaultSettings({ replyTimeoutSeconds: 120 });
const withPatch = (patch: unknown, base: Settings = defaults) => applyPatch(base, settingsPatchSchema.parse(patch));

/** Suggestions the `tag: suggestion` lines cannot show: a line break in a suggestion, a ':' in a tag. */
const TRICKY = { refund: ["Sorry!\nOur refund hours: 9-17 CET"], "vip:gold": ["Priority line"] };

/** HTML entities as hono/jsx writes them. */
const unescape = (s: string) =>
  s.replace(/&(#\d+|amp|lt|gt|quot|#x[0-9a-f]+);/gi, (_, e: string) =>
    e === "amp" ? "&" : e === "lt" ? "<" : e === "gt" ? ">" : e === "quot" ? '"' : String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );

/** The settings form's fields as a browser would post them, read from the rendered page. */
function settingsFormFields(html: string): Record<string, string> {
  const form = /<form class="settings"[\s\S]*?<\/form>/.exec(html)?.[0] ?? "";
  const fields: Record<string, string> = {};
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(tag)?.[1];
    if (name) fields[name] = unescape(/\bvalue="([^"]*)"/.exec(tag)?.[1] ?? "");
  }
  for (const [, name, options] of form.matchAll(/<select\b[^>]*\bname="([^"]*)"[^>]*>([\s\S]*?)<\/select>/g)) {
    fields[name] = /<option\b[^>]*\bvalue="([^"]*)"[^>]*\bselected/.exec(options)?.[1] ?? /<option\b[^>]*\bvalue="([^"]*)"/.exec(options)?.[1] ?? "";
  }
  for (const [, name, text] of form.matchAll(/<textarea\b[^>]*\bname="([^"]*)"[^>]*>([\s\S]*?)<\/textarea>/g)) {
    // The HTML parser drops one newline right after <textarea>; browsers post line breaks as CRLF.
    fields[name] = unescape(text).replace(/^\n/, "").replace(/\r?\n/g, "\r\n");
  }
  return fields;
}

async function licenseWith(patch: unknown): Promise<string> {
  const org = uniqueOrg("form");
  await install(org);
  if (patch) expect((await api(`/licenses/${org}/settings`, { method: "PUT", body: JSON.stringify(patch) })).status).toBe(200);
  return org;
}

async function pageFields(org: string, cookie: string): Promise<Record<string, string>> {
  const res = await adminFetch(`/admin/licenses/${org}`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return settingsFormFields(await res.text());
}

describe("settings form: what it cannot show, it cannot change", () => {
  it("leaves tag suggestions out of the patch when their text is what the form rendered", () => {
    const settings = withPatch({ tagSuggestions: TRICKY });
    expect(formPatch({ ...formValues(settings), botName: "Helper" }, settings)).toEqual({ ok: true, patch: { botName: "Helper" } });
    const plain = withPatch({ tagSuggestions: { refund: ["Sorry!"], sales: ["Ask about the plan."] } });
    expect(formPatch({ ...formValues(plain), botName: "Helper" }, plain)).toEqual({ ok: true, patch: { botName: "Helper" } });
  });

  it("reads any tag name from the lines, even one an object inherits", () => {
    const read = formPatch({ ...formValues(defaults), tagSuggestions: "constructor: Built.\ntoString: Text.\nhasOwnProperty: Yes." }, defaults);
    expect(read).toEqual({ ok: true, patch: { tagSuggestions: { constructor: ["Built."], toString: ["Text."], hasOwnProperty: ["Yes."] } } });
  });

  it("a field the post does not carry is not changed", () => {
    const settings = withPatch({ tagSuggestions: { refund: ["Sorry!"] }, rating: { reviewUrl: "https://r.example" } });
    expect(formPatch(readForm({ botName: "Helper" }), settings)).toEqual({ ok: true, patch: { botName: "Helper" } });
  });

  it("compares what the browser posts back: CRLF line breaks, an input without its line breaks", () => {
    const settings = withPatch({ replyMessage: "Hello\nthere", botName: "Help\nDesk" });
    const browser = { ...formValues(settings), replyMessage: "Hello\r\nthere", botName: "HelpDesk" };
    expect(formPatch(readForm(browser), settings)).toEqual({ ok: true, patch: {} });
  });

  it("an emptied review link box clears the link (null); it stays out when there was none", () => {
    const settings = withPatch({ rating: { reviewUrl: "https://r.example" } });
    expect(formPatch({ ...formValues(settings), reviewUrl: "" }, settings)).toEqual({ ok: true, patch: { rating: { reviewUrl: null } } });
    expect(formPatch({ ...formValues(defaults), reviewUrl: " " }, defaults)).toEqual({ ok: true, patch: {} });
  });
});

describe("settings form: suggestions from customers' messages", () => {
  it("shows the switch, the threshold and one keyword line per tag; an unchanged save changes none of them", () => {
    const settings = withPatch({ contentSuggestions: false, contentSuggestionThreshold: 0.75, tagKeywords: { sizes: ["fit", "Größe"], "vip:gold": ["priority"] } });
    const values = formValues(settings);
    expect(values).toMatchObject({ contentSuggestions: "off", contentSuggestionThreshold: "0.75", tagKeywords: "sizes: fit, Größe\nvip:gold: priority" });
    expect(formPatch(readForm({ ...values }), settings)).toEqual({ ok: true, patch: {} });
  });

  it("reads what the user changed: on/off, a number, keyword lists (several lines per tag, blanks dropped)", () => {
    const patch = formPatch(
      { ...formValues(defaults), contentSuggestions: "off", contentSuggestionThreshold: " 1.5 ", tagKeywords: "refund: money back, , reembolso\nrefund: zwrot\n\nsizes: fit" },
      defaults,
    );
    expect(patch).toEqual({
      ok: true,
      patch: { contentSuggestions: false, contentSuggestionThreshold: 1.5, tagKeywords: { refund: ["money back", "reembolso", "zwrot"], sizes: ["fit"] } },
    });
  });

  it("passes what it cannot read to the settings' validation, which names the field; a line without a tag is a problem", () => {
    const odd = formPatch({ ...formValues(defaults), contentSuggestions: "maybe", contentSuggestionThreshold: "a lot" }, defaults);
    expect(odd).toEqual({ ok: true, patch: { contentSuggestions: "maybe", contentSuggestionThreshold: "a lot" } });
    const parsed = settingsPatchSchema.safeParse((odd as { patch: unknown }).patch);
    expect(parsed.error?.issues.map((i) => i.path.join("."))).toEqual(["contentSuggestions", "contentSuggestionThreshold"]);
    expect(formPatch({ ...formValues(defaults), tagKeywords: "no colon here" }, defaults)).toEqual({
      ok: false,
      problems: ['tagKeywords: line 1 must read "tag: keyword, keyword"'],
    });
  });

  it("saves through the dashboard page", async () => {
    const org = await licenseWith({ tagSuggestions: { refund: ["Sorry!"] } });
    const { cookie, csrf } = await login();
    const fields = await pageFields(org, cookie);
    expect(fields).toMatchObject({ contentSuggestions: "on", contentSuggestionThreshold: String(defaults.contentSuggestionThreshold), tagKeywords: "" });
    const saved = await postForm(`/admin/licenses/${org}/settings`, cookie, {
      ...fields,
      _csrf: csrf,
      contentSuggestions: "off",
      contentSuggestionThreshold: "0.8",
      tagKeywords: "refund: money back, Rückerstattung",
    });
    expect(saved.status).toBe(303);
    expect((await api(`/licenses/${org}/settings`)).body).toMatchObject({
      contentSuggestions: false,
      contentSuggestionThreshold: 0.8,
      tagKeywords: { refund: ["money back", "Rückerstattung"] },
      tagSuggestions: { refund: ["Sorry!"] },
    });
    const refused = await postForm(`/admin/licenses/${org}/settings`, cookie, { ...(await pageFields(org, cookie)), _csrf: csrf, contentSuggestionThreshold: "20" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("contentSuggestionThreshold");
  });
});

describe("settings form on the dashboard", () => {
  it("a save that only changes the bot name keeps suggestions the lines cannot show", async () => {
    const org = await licenseWith({ tagSuggestions: TRICKY });
    const { cookie, csrf } = await login();
    const fields = await pageFields(org, cookie);
    const saved = await postForm(`/admin/licenses/${org}/settings`, cookie, { ...fields, _csrf: csrf, botName: "Helper" });
    expect(saved.status).toBe(303);
    const now = (await api(`/licenses/${org}/settings`)).body;
    expect(now).toMatchObject({ botName: "Helper", tagSuggestions: TRICKY });
  });

  it("a suggestion whose second line has no colon does not break other changes", async () => {
    const org = await licenseWith({ tagSuggestions: { refund: ["Sorry!\nPlease wait"] } });
    const { cookie, csrf } = await login();
    const saved = await postForm(`/admin/licenses/${org}/settings`, cookie, { ...(await pageFields(org, cookie)), _csrf: csrf, replyTimeoutSeconds: "45" });
    expect(saved.status).toBe(303);
    expect((await api(`/licenses/${org}/settings`)).body).toMatchObject({ replyTimeoutSeconds: 45, tagSuggestions: { refund: ["Sorry!\nPlease wait"] } });
  });

  it("the routing mode is a select: managed by default, switched to owner and back (the API refuses other values)", async () => {
    const org = await licenseWith(undefined);
    const { cookie, csrf } = await login();
    const fields = await pageFields(org, cookie);
    expect(fields.routingMode).toBe("managed");
    expect((await postForm(`/admin/licenses/${org}/settings`, cookie, { ...fields, _csrf: csrf, routingMode: "owner" })).status).toBe(303);
    expect((await api(`/licenses/${org}/settings`)).body).toMatchObject({ routingMode: "owner" });
    expect((await pageFields(org, cookie)).routingMode).toBe("owner");
    const bad = await api(`/licenses/${org}/settings`, { method: "PUT", body: JSON.stringify({ routingMode: "sometimes" }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("routingMode");
    expect((await api(`/licenses/${org}/settings`, { method: "PUT", body: JSON.stringify({ routingMode: "managed" }) })).body).toMatchObject({ routingMode: "managed" });
  });

  it("emptying the review link box clears the link", async () => {
    const org = await licenseWith({ rating: { reviewUrl: "https://reviews.example.com/acme" } });
    const { cookie, csrf } = await login();
    const fields = await pageFields(org, cookie);
    expect(fields.reviewUrl).toBe("https://reviews.example.com/acme");
    const saved = await postForm(`/admin/licenses/${org}/settings`, cookie, { ...fields, _csrf: csrf, reviewUrl: "" });
    expect(saved.status).toBe(303);
    expect((await api(`/licenses/${org}/settings`)).body.rating).not.toHaveProperty("reviewUrl");
  });

  it("thousands of tag lines are refused with the limit, and nothing is stored", async () => {
    const org = await licenseWith(undefined);
    const { cookie, csrf } = await login();
    const lines = Array.from({ length: 3000 }, (_, i) => `tag-${i}: Suggestion ${i}`).join("\n");
    const res = await postForm(`/admin/licenses/${org}/settings`, cookie, { ...(await pageFields(org, cookie)), _csrf: csrf, tagSuggestions: lines });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("tagSuggestions: at most 200 tags");
    expect((await api(`/licenses/${org}/settings`)).body.tagSuggestions).toEqual({});
  });

  it("a form body over the cap is 413 (declared or streamed), before anything is read into the settings", async () => {
    const org = await licenseWith(undefined);
    const { cookie, csrf } = await login();
    const huge = `_csrf=${csrf}&tagSuggestions=${"a".repeat(300 * 1024)}`;
    const declared = await adminFetch(`/admin/licenses/${org}/settings`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie },
      body: huge,
    });
    expect(declared.status).toBe(413);
    expect(await declared.text()).toContain("larger than");
    const bytes = new TextEncoder().encode(huge);
    const streamed = await adminFetch(`/admin/licenses/${org}/settings`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.byteLength; i += 16 * 1024) controller.enqueue(bytes.slice(i, i + 16 * 1024));
          controller.close();
        },
      }),
    });
    expect(streamed.status).toBe(413);
    const login413 = await adminFetch("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: `token=${"t".repeat(300 * 1024)}`,
    });
    expect(login413.status).toBe(413);
  });

  it("an unreadable form is 400 and a body that is not a form 415 (session or bearer), never 500", async () => {
    const org = await licenseWith(undefined);
    const { cookie } = await login();
    const broken = { "content-type": "multipart/form-data; boundary=XYZ", origin: ORIGIN };
    const body = "--XYZ\r\nContent-Disposition: form-data; name=\"botName\"\r\n\r\nHelper"; // never closed
    const auths: Record<string, string>[] = [{ cookie }, { authorization: `Bearer ${ADMIN_TOKEN}` }];
    for (const auth of auths) {
      for (const path of [`/admin/licenses/${org}/settings`, `/admin/licenses/${org}/deliveries/d1/replay`]) {
        const res = await adminFetch(path, { method: "POST", headers: { ...broken, ...auth }, body });
        expect(res.status, `${path} ${Object.keys(auth)}`).toBe(400);
        expect(await res.text()).toContain("could not be read");
      }
      const json = await adminFetch(`/admin/licenses/${org}/settings`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: ORIGIN, ...auth },
        body: JSON.stringify({ botName: "Helper" }),
      });
      expect(json.status).toBe(415);
    }
    expect((await adminFetch("/admin/login", { method: "POST", headers: broken, body })).status).toBe(400);
    expect((await api(`/licenses/${org}/settings`)).body.botName).toBe(defaults.botName);
  });

  it("a well-formed multipart form is read like an urlencoded one", async () => {
    const org = await licenseWith(undefined);
    const form = new FormData();
    form.set("botName", "Multipart Bot");
    const res = await adminFetch(`/admin/licenses/${org}/settings`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: form });
    expect(res.status).toBe(303);
    expect((await api(`/licenses/${org}/settings`)).body.botName).toBe("Multipart Bot");
  });
});

describe("settings API", () => {
  it("PUT rating.reviewUrl: null removes the link; limits answer 400 with the problem", async () => {
    const org = await licenseWith({ rating: { reviewUrl: "https://reviews.example.com/acme" } });
    const cleared = await api(`/licenses/${org}/settings`, { method: "PUT", body: JSON.stringify({ rating: { reviewUrl: null } }) });
    expect(cleared.status).toBe(200);
    expect(cleared.body.rating).toEqual({ goodMessage: defaults.rating.goodMessage, badMessage: defaults.rating.badMessage });
    const tags = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`t${i}`, ["x"]]));
    const many = await api(`/licenses/${org}/settings`, { method: "PUT", body: JSON.stringify({ tagSuggestions: tags }) });
    expect(many.status).toBe(400);
    expect(many.body.error).toMatchObject({ type: "invalid_settings", problems: ["tagSuggestions: at most 200 tags"] });
    const long = await api(`/licenses/${org}/settings`, { method: "PUT", body: JSON.stringify({ rating: { reviewUrl: `https://r.example/${"a".repeat(2000)}` } }) });
    expect(long.status).toBe(400);
    expect(long.body.error.problems).toEqual(["rating.reviewUrl: must be at most 2000 characters"]);
  });
});
