import { Hono } from "hono/tiny";
import { loadConfig } from "../config";
import type { AppEnv } from "../http/types";

/** `GET /healthz`: 200 `{ok:true}` when configured, 503 naming the missing/malformed variables otherwise. */
export const health = new Hono<AppEnv>().get("/healthz", (c) => {
  const result = loadConfig(c.env);
  if (result.ok) return c.json({ ok: true, service: "livechat-edge", apiVersion: result.config.apiVersion });
  return c.json({ ok: false, service: "livechat-edge", problems: result.problems }, 503);
});
