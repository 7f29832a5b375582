import type { MiddlewareHandler } from "hono";
import { loadConfig } from "../config";
import type { AppEnv } from "./types";

/**
 * Loads the validated config into `c.var.config`, or answers 500 naming each missing or
 * malformed variable (names only, never values): as JSON, or as HTML for browser routes.
 */
export function withConfig(format: "json" | "html" = "json"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const result = loadConfig(c.env);
    if (result.ok) {
      c.set("config", result.config);
      return next();
    }
    const message = "livechat-edge is not configured";
    if (format === "html") {
      const items = result.problems.map((p) => `<li>${escapeHtml(p.problem)}</li>`).join("");
      return c.html(
        `<!doctype html><meta charset="utf-8"><title>Configuration error</title><h1>${message}</h1><ul>${items}</ul>`,
        500,
      );
    }
    return c.json({ error: { type: "configuration", message, problems: result.problems } }, 500);
  };
}

/** Minimal HTML escaping for text interpolated into server-rendered pages. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
