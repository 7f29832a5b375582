import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { chatStub } from "../../chats/stub";
import { readJsonBody } from "../../http/json-body";
import type { JournalOutcome } from "../../licenses/journal";
import { licenseStub } from "../../licenses/stub";
import type { AdminEnv } from "./auth";
import {
  configurationNotes,
  deliveryDetail,
  eraseChat,
  eraseLicense,
  ID_PATTERN,
  licenseDetail,
  validIdSegments,
  listDeadLetters,
  listDeliveries,
  listLicenses,
  OUTCOMES,
  replayDelivery,
} from "./data";

/**
 * The admin JSON API, mounted at `/admin/api` behind {@link requireAdmin} (see `./index.ts`):
 *
 * | route | what |
 * |---|---|
 * | `GET /licenses?cursor=&limit=` | installed licenses: installed at, token expiry, needs-reinstall, sealed with an old key, bot, last reconcile, 24 h counts; the first page adds `configuration` (weak secrets named, licenses still under the previous TOKEN_ENCRYPTION_KEY) |
 * | `GET /licenses/:org` | installation, bot, settings, inbox, last reconcile (drift), hourly outcomes (24 h), app events, `storage` (the License DO's, and `total` with its Chat DOs; docs/DATA.md) |
 * | `POST /licenses/:org/reconcile` | a full check now, regardless of staleness: `{drift, fixed, failed, calls}` (404 when not installed) |
 * | `GET /licenses/:org/settings` · `PUT` (JSON patch) | per-license settings (`rating.reviewUrl: null` removes the link); invalid or over a limit (src/licenses/settings.ts) → 400 with `problems` |
 * | `GET /licenses/:org/deliveries?limit=&status=&chat=` | the license's delivery journal, newest first |
 * | `GET /licenses/:org/deliveries/:id?chat=` | one delivery with its stored body (secrets redacted) |
 * | `POST /licenses/:org/deliveries/:id/replay?chat=` | replay a dead letter or a recorded delivery |
 * | `GET /licenses/:org/dead-letters?limit=` | dead letters with their error |
 * | `GET /licenses/:org/chats/:chat/timers` | a chat's pending timers |
 * | `DELETE /licenses/:org/chats/:chat` | erase one chat's stored data (its Chat DO); answers what was there |
 * | `DELETE /licenses/:org` | erase the license on the operator's word: bot deleted at LiveChat, tokens revoked, storage and every chat erased (src/licenses/erase.ts); answers what was erased |
 */
export const adminApi = new Hono<AdminEnv>();

type C = Context<AdminEnv>;

const problem = (c: C, status: 400 | 404 | 409 | 502, type: string, message: string, extra: Record<string, unknown> = {}) =>
  c.json({ error: { type, message, ...extra } }, status);

// Path identifiers (organization, chat, delivery ids) are checked before any Durable Object is addressed.
adminApi.use("/licenses/*", async (c, next) => {
  if (!validIdSegments(c.req.path)) return problem(c, 400, "invalid_id", "Malformed identifier in the path");
  return next();
});

function intQuery(c: C, name: string, fallback: number, max: number): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d{1,6}$/.test(raw)) return undefined;
  return Math.max(1, Math.min(max, Number(raw)));
}

function chatQuery(c: C): string | undefined | null {
  const chat = c.req.query("chat");
  if (chat === undefined || chat === "") return undefined;
  return ID_PATTERN.test(chat) ? chat : null;
}

adminApi.get("/licenses", async (c) => {
  const limit = intQuery(c, "limit", 50, 100);
  if (limit === undefined) return problem(c, 400, "invalid_query", "limit must be an integer");
  const cursor = c.req.query("cursor") || undefined;
  const [page, configuration] = await Promise.all([
    listLicenses(c.env, c.var.config, { cursor, limit }),
    // The whole fleet's count: once, with the first page.
    cursor ? undefined : configurationNotes(c.env, c.var.config),
  ]);
  return c.json({ ...page, ...(configuration ? { configuration } : {}) });
});

adminApi.get("/licenses/:org", async (c) => {
  const org = c.req.param("org");
  if (!ID_PATTERN.test(org)) return problem(c, 400, "invalid_id", "Malformed organization id");
  const { known, ...detail } = await licenseDetail(c.env, org);
  if (!known) return problem(c, 404, "not_found", "No such license");
  return c.json(detail);
});

adminApi.get("/licenses/:org/settings", async (c) => c.json(await licenseStub(c.env, c.req.param("org")).settings()));

adminApi.put("/licenses/:org/settings", async (c) => {
  const body = await readJsonBody(c.req.raw, 64 * 1024);
  if (!body.ok) return c.json({ error: { type: body.type, message: body.message } }, body.status);
  // Validated with the zod schema of src/licenses/settings.ts inside the License DO (the single writer).
  const result = await licenseStub(c.env, c.req.param("org")).updateSettings(body.value);
  if (!result.ok) return problem(c, 400, "invalid_settings", "The settings were not changed", { problems: result.problems });
  return c.json(result.settings);
});

adminApi.get("/licenses/:org/deliveries", async (c) => {
  const limit = intQuery(c, "limit", 50, 1000);
  const status = c.req.query("status") || undefined;
  const chatId = chatQuery(c);
  if (limit === undefined) return problem(c, 400, "invalid_query", "limit must be an integer");
  if (status !== undefined && !OUTCOMES.includes(status as JournalOutcome)) {
    return problem(c, 400, "invalid_query", `status must be one of ${OUTCOMES.join(", ")}`);
  }
  if (chatId === null) return problem(c, 400, "invalid_query", "Malformed chat id");
  const deliveries = await listDeliveries(c.env, c.req.param("org"), {
    limit,
    ...(status ? { outcome: status as JournalOutcome } : {}),
    ...(chatId ? { chatId } : {}),
  });
  return c.json({ deliveries });
});

adminApi.get("/licenses/:org/deliveries/:id", async (c) => {
  const chatId = chatQuery(c);
  if (chatId === null) return problem(c, 400, "invalid_query", "Malformed chat id");
  const detail = await deliveryDetail(c.env, c.req.param("org"), c.req.param("id"), chatId);
  if (!detail) return problem(c, 404, "not_found", "No such delivery");
  return c.json(detail);
});

adminApi.post("/licenses/:org/deliveries/:id/replay", async (c) => {
  const chatId = chatQuery(c);
  if (chatId === null) return problem(c, 400, "invalid_query", "Malformed chat id");
  const result = await replayDelivery(c.env, c.req.param("org"), c.req.param("id"), chatId);
  if (result.ok) return c.json(result, 202);
  if (result.reason === "not_found") return problem(c, 404, "not_found", "No such delivery (or it was pruned)");
  return problem(c, 409, result.reason, "The delivery is still queued; nothing to replay");
});

adminApi.post("/licenses/:org/reconcile", async (c) => {
  const stub = licenseStub(c.env, c.req.param("org"));
  if (!(await stub.installation()).installed) return problem(c, 404, "not_found", "No installed license with this organization id");
  const report = await stub.reconcile();
  return c.json({ drift: report.drift, fixed: report.fixed, failed: report.failed, ...(report.skipped ? { skipped: report.skipped } : {}), calls: report.calls, at: report.at, durationMs: report.durationMs });
});

adminApi.get("/licenses/:org/dead-letters", async (c) => {
  const limit = intQuery(c, "limit", 100, 500);
  if (limit === undefined) return problem(c, 400, "invalid_query", "limit must be an integer");
  return c.json({ deadLetters: await listDeadLetters(c.env, c.req.param("org"), limit) });
});

adminApi.get("/licenses/:org/chats/:chat/timers", async (c) => {
  const stub = chatStub(c.env, c.req.param("org"), c.req.param("chat")) as unknown as { pendingTimers(): Promise<unknown[]> };
  return c.json({ timers: await stub.pendingTimers() });
});

adminApi.delete("/licenses/:org/chats/:chat", async (c) => c.json({ erased: await eraseChat(c.env, c.req.param("org"), c.req.param("chat")) }));

adminApi.delete("/licenses/:org", async (c) => {
  const result = await eraseLicense(c.env, c.req.param("org"));
  if (!result.ok) return problem(c, result.status, result.type, result.message, result.tombstone ? { tombstone: result.tombstone } : {});
  return c.json({ erased: result.erased });
});

adminApi.all("*", (c) => problem(c, 404, "not_found", `No admin route for ${c.req.method} ${c.req.path}`));
