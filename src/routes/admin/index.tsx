import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono/tiny";
import { createElement, type JSX } from "#jsx/jsx-runtime";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { chatStub } from "../../chats/stub";
import { withConfig } from "../../http/config-middleware";
import { readCapped } from "../../http/json-body";
import type { JournalOutcome } from "../../licenses/journal";
import { licenseStub } from "../../licenses/stub";
import { adminApi } from "./api";
import { ADMIN_FAILURES, ADMIN_LIMIT, type AdminEnv, endSession, requireAdmin, sameOrigin, startSession, tokenMatches } from "./auth";
import { clientKey, exhausted, FLEET_KEY, retryAfterSeconds, spend } from "../../http/rate-limit";
import {
  deliveryDetail,
  eraseChat,
  eraseLicense,
  ID_PATTERN,
  licenseDetail,
  listDeadLetters,
  listDeliveries,
  listLicenses,
  configurationNotes,
  OUTCOMES,
  replayDelivery,
  validIdSegments,
} from "./data";
import { ChatPage, type TimerView } from "./pages/chat";
import { DeliveryPage } from "./pages/delivery";
import { LicensePage } from "./pages/license";
import { Layout } from "./pages/layout";
import { LoginPage } from "./pages/login";
import { OverviewPage } from "./pages/overview";
import { formPatch, formValues, readForm, type SettingsFormValues } from "./settings-form";

/**
 * `/admin`: the operations API (`/admin/api/...`, see ./api.ts) and the server-rendered dashboard
 * (JSX rendered by src/http/jsx, no script, one static stylesheet). Only `GET`/`POST /admin/login` are open; everything
 * else answers 401 without a bearer token or session (./auth.ts).
 */
export const admin = new Hono<AdminEnv>();

const isApi = (c: Context<AdminEnv>) => c.req.path === "/admin/api" || c.req.path.startsWith("/admin/api/");

/** Strict headers on everything under /admin: no script, no inline style, only our own stylesheet. */
const securityHeaders: MiddlewareHandler<AdminEnv> = async (c, next) => {
  c.header(
    "Content-Security-Policy",
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  c.header("Cache-Control", "no-store");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("X-Frame-Options", "DENY");
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on form posts.
  c.header("Referrer-Policy", "same-origin");
  await next();
};

admin.use("*", securityHeaders);
const configJson = withConfig("json") as unknown as MiddlewareHandler<AdminEnv>;
const configHtml = withConfig("html") as unknown as MiddlewareHandler<AdminEnv>;
admin.use("*", (c, next) => (isApi(c) ? configJson : configHtml)(c, next));

/** Render a page with its doctype. */
async function render(c: Context<AdminEnv>, node: JSX.Element, status: ContentfulStatusCode = 200): Promise<Response> {
  return c.html(`<!doctype html>${String(await node)}`, status);
}

// ── Form bodies ────────────────────────────────────────────────────────────────

/**
 * Largest dashboard form (bytes). The settings are at most 32 KiB stored (src/licenses/settings.ts);
 * form encoding (`%XX` per non-ASCII byte, the working hours' indentation) takes up to about 3×.
 */
const MAX_FORM_BYTES = 256 * 1024;

/**
 * Every dashboard post is read here, capped, before authentication reads its `_csrf` field and
 * the handler the rest: over the cap (declared or as sent) is a 413, a body that is not a form a
 * 415, a form that does not parse (malformed multipart) a 400, never a 500. hono caches the
 * parsed form for the later `parseBody()` calls.
 */
const formBodies: MiddlewareHandler<AdminEnv> = async (c, next) => {
  if (isApi(c) || c.req.method === "GET" || c.req.method === "HEAD") return next();
  const type = c.req.header("content-type");
  if (type && !/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return formRejected(c, 415, "Not a form.");
  // A declared length over the cap is refused unread; the body is streamed and cut off at the cap.
  const bytes = Number(c.req.header("content-length")) > MAX_FORM_BYTES ? undefined : await readCapped(c.req.raw, MAX_FORM_BYTES);
  if (!bytes) return formRejected(c, 413, `The form is larger than ${MAX_FORM_BYTES / 1024} KiB.`);
  // The stream is consumed: the request carries the bytes read from now on, for hono's parseBody.
  c.req.raw = new Request(c.req.raw, { body: bytes });
  try {
    await c.req.parseBody();
  } catch {
    return formRejected(c, 400, "The form could not be read.");
  }
  return next();
};

function formRejected(c: Context<AdminEnv>, status: 400 | 413 | 415, message: string): Promise<Response> {
  return messagePage(c, "Form not accepted", message, status);
}

admin.use("*", formBodies);

/** Only local dashboard paths may be redirect targets (no open redirect). */
function localPath(value: unknown, fallback: string): string {
  return typeof value === "string" && /^\/admin(\/[A-Za-z0-9._:%/-]*)?(\?[A-Za-z0-9=&_%.-]*)?$/.test(value) && !value.includes("//")
    ? value
    : fallback;
}

// ── Login ──────────────────────────────────────────────────────────────────────

admin.get("/login", (c) => render(c, <LoginPage next={localPath(c.req.query("next"), "")} />));

/**
 * A 429 with `Retry-After` for a client (or, past the fleet-wide ceiling, everyone) out of admin
 * attempts: JSON for the API, the login page for browsers.
 */
function tooManyAttempts(c: Context<AdminEnv>): Response | Promise<Response> {
  c.header("Retry-After", String(retryAfterSeconds()));
  if (isApi(c)) return c.json({ error: { type: "too_many_requests", message: "Too many failed admin attempts; retry later" } }, 429);
  return render(c, <LoginPage error="Too many attempts. Wait a minute, then try again." next="" />, 429);
}

// Every login attempt counts against the client's ADMIN_LIMITER before the token is compared (a
// person logs in rarely); a wrong one also counts against the fleet-wide ADMIN_FAILURES ceiling,
// past which logins are refused before comparing for the rest of the window (src/http/rate-limit.ts).
admin.post("/login", async (c) => {
  if (!sameOrigin(c)) return c.json({ error: { type: "forbidden", message: "cross-origin request refused" } }, 403);
  if (exhausted(ADMIN_FAILURES, FLEET_KEY) || !(await spend(c.env.ADMIN_LIMITER, ADMIN_LIMIT, clientKey(c.req.raw)))) {
    return tooManyAttempts(c);
  }
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const token = typeof body.token === "string" ? body.token : "";
  if (!(await tokenMatches(token, c.var.config.adminToken))) {
    await spend(c.env.ADMIN_FAILURES, ADMIN_FAILURES, FLEET_KEY);
    return render(c, <LoginPage error="Wrong admin token." next={localPath(body.next, "")} />, 401);
  }
  await startSession(c);
  return c.redirect(localPath(body.next, "/admin"), 303);
});

// ── Everything else needs an admin ─────────────────────────────────────────────

admin.use(
  "*",
  requireAdmin((c) => {
    if (isApi(c)) {
      c.header("WWW-Authenticate", 'Bearer realm="livechat-edge admin"');
      return c.json({ error: { type: "unauthorized", message: "Admin token required" } }, 401);
    }
    const next = c.req.method === "GET" ? localPath(c.req.path + (new URL(c.req.url).search || ""), "") : "";
    return render(c, <LoginPage next={next} />, 401);
  }, tooManyAttempts),
);

admin.route("/api", adminApi);

/** The session's CSRF token for forms (bearer visitors post without one). */
const csrfOf = (c: Context<AdminEnv>) => (c.var.admin?.via === "session" ? c.var.admin.csrf : "");

admin.post("/logout", (c) => {
  endSession(c);
  return c.redirect("/admin/login", 303);
});

admin.get("/", async (c) => {
  const cursor = c.req.query("cursor") || undefined;
  const [{ licenses, cursor: nextCursor }, notes] = await Promise.all([
    listLicenses(c.env, c.var.config, { cursor, limit: 50 }),
    configurationNotes(c.env, c.var.config),
  ]);
  return render(c, <OverviewPage csrf={csrfOf(c)} licenses={licenses} cursor={nextCursor} notes={notes} />);
});

const NOTICES: Record<string, { text: string; error?: boolean }> = {
  saved: { text: "Settings saved." },
  reconciled: { text: "Reconciled: everything was checked with LiveChat; see the last reconcile." },
  replayed: { text: "Delivery queued again: it runs through the handlers that have not completed within seconds." },
  replay_not_found: { text: "That delivery is no longer stored (pruned or expired).", error: true },
  replay_pending: { text: "That delivery is still queued; nothing to replay.", error: true },
};

/** Render the license page; `form`/`problems` re-show a rejected settings form. */
async function licensePage(
  c: Context<AdminEnv>,
  org: string,
  options: { form?: Partial<SettingsFormValues>; problems?: string[]; status?: ContentfulStatusCode } = {},
): Promise<Response> {
  const status = c.req.query("status");
  const outcome = status && OUTCOMES.includes(status as JournalOutcome) ? (status as JournalOutcome) : undefined;
  const [{ known, ...detail }, deliveries, deadLetters] = await Promise.all([
    licenseDetail(c.env, org),
    listDeliveries(c.env, org, { limit: 100, ...(outcome ? { outcome } : {}) }),
    listDeadLetters(c.env, org),
  ]);
  if (!known) return notFound(c, "No such license.");
  return render(
    c,
    <LicensePage
     
      csrf={csrfOf(c)}
      detail={detail}
      deliveries={deliveries}
      deadLetters={deadLetters}
      status={outcome}
      form={{ ...formValues(detail.settings), ...options.form }}
      problems={options.problems}
      notice={NOTICES[c.req.query("notice") ?? ""]}
    />,
    options.status ?? 200,
  );
}

function notFound(c: Context<AdminEnv>, message: string): Promise<Response> {
  return messagePage(c, "Not found", message, 404);
}

/** A page with a title, a message (`pre`: preformatted) and the way back to the licenses. */
function messagePage(c: Context<AdminEnv>, title: string, message: string, status: ContentfulStatusCode, pre = false): Promise<Response> {
  return render(
    c,
    <Layout title={title} csrf={csrfOf(c)}>
      <h1>{title}</h1>
      {pre ? <pre>{message}</pre> : <p>{message}</p>}
      <p>
        <a href="/admin">← Licenses</a>
      </p>
    </Layout>,
    status,
  );
}

// Path identifiers are checked before any Durable Object is addressed.
admin.use("/licenses/*", async (c, next) => {
  if (!validIdSegments(c.req.path)) return notFound(c, "Malformed identifier.");
  return next();
});

admin.get("/licenses/:org", (c) => licensePage(c, c.req.param("org")));

admin.post("/licenses/:org/settings", async (c) => {
  const org = c.req.param("org");
  const values = readForm(await c.req.parseBody());
  const stub = licenseStub(c.env, org);
  const read = formPatch(values, await stub.settings());
  const result = read.ok ? await stub.updateSettings(read.patch) : read;
  if (!result.ok) return licensePage(c, org, { form: values, problems: result.problems, status: 400 });
  return c.redirect(`/admin/licenses/${encodeURIComponent(org)}?notice=saved#settings`, 303);
});

admin.post("/licenses/:org/reconcile", async (c) => {
  const org = c.req.param("org");
  const stub = licenseStub(c.env, org);
  if (!(await stub.installation()).installed) return notFound(c, "No installed license with this organization id.");
  await stub.reconcile();
  return c.redirect(`/admin/licenses/${encodeURIComponent(org)}?notice=reconciled#reconcile`, 303);
});

// Erasure (docs/DATA.md): the form on the license or chat page must carry that id, typed by the operator.
admin.on("POST", ["/licenses/:org/erase", "/licenses/:org/chats/:chat/erase"], async (c) => {
  const org = c.req.param("org");
  const chatId: string | undefined = c.req.param("chat");
  if ((await c.req.parseBody()).confirm !== (chatId ?? org)) return messagePage(c, "Nothing erased", "The id typed does not match.", 400);
  const result = chatId === undefined ? await eraseLicense(c.env, org) : { ok: true as const, erased: await eraseChat(c.env, org, chatId) };
  if (!result.ok) return messagePage(c, "Nothing erased", result.message, result.status);
  return messagePage(c, "Erased", JSON.stringify(result.erased, null, 2), 200, true);
});

admin.post("/licenses/:org/deliveries/:id/replay", async (c) => {
  const org = c.req.param("org");
  const body = await c.req.parseBody();
  const chat = typeof body.chat === "string" && ID_PATTERN.test(body.chat) ? body.chat : undefined;
  const result = await replayDelivery(c.env, org, c.req.param("id"), chat);
  const back = localPath(body.back, `/admin/licenses/${encodeURIComponent(org)}`);
  const notice = result.ok ? "replayed" : result.reason === "not_found" ? "replay_not_found" : "replay_pending";
  return c.redirect(`${back}${back.includes("?") ? "&" : "?"}notice=${notice}`, 303);
});

admin.get("/licenses/:org/deliveries/:id", async (c) => {
  const org = c.req.param("org");
  const id = c.req.param("id");
  const chat = c.req.query("chat");
  const detail = await deliveryDetail(c.env, org, id, chat && ID_PATTERN.test(chat) ? chat : undefined);
  if (!detail) return notFound(c, "No such delivery.");
  return render(c, <DeliveryPage csrf={csrfOf(c)} org={org} deliveryId={id} entry={detail.entry} delivery={detail.delivery} />);
});

admin.get("/licenses/:org/chats/:chat", async (c) => {
  const org = c.req.param("org");
  const chatId = c.req.param("chat");
  const stub = chatStub(c.env, org, chatId) as unknown as { pendingTimers(): Promise<TimerView[]> };
  const [timers, deliveries] = await Promise.all([
    stub.pendingTimers().catch(() => null),
    listDeliveries(c.env, org, { chatId, limit: 100 }),
  ]);
  return render(c, <ChatPage csrf={csrfOf(c)} org={org} chatId={chatId} timers={timers} deliveries={deliveries} />);
});

admin.all("*", (c) => notFound(c, `No page at ${c.req.path}.`));
