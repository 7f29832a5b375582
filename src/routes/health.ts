import { Hono } from "hono/tiny";
import { loadConfig } from "../config";
import type { AppEnv } from "../http/types";

/**
 * `GET /healthz`: 200 `{ok:true}` when configured (with `warnings` naming weak values, e.g. a short
 * webhook secret), 503 naming the missing/malformed variables otherwise. Names, never values.
 */
export const health = new Hono<AppEnv>().get("/healthz", (c) => {
  const result = loadConfig(c.env);
  if (result.ok) {
    const { apiVersion, warnings } = result.config;
    return c.json({ ok: true, service: "livechat-edge", apiVersion, ...(warnings.length > 0 ? { warnings } : {}) });
  }
  return c.json({ ok: false, service: "livechat-edge", problems: result.problems }, 503);
});
