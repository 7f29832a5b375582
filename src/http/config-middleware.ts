import type { MiddlewareHandler } from "hono";
import { type ConfigProblem, loadConfig } from "../config";
import type { AppEnv } from "./types";

const NOT_CONFIGURED = "livechat-edge is not configured";

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
    if (format === "html") {
      const items = result.problems.map((p) => `<li>${escapeHtml(p.problem)}</li>`).join("");
      return c.html(
        `<!doctype html><meta charset="utf-8"><title>Configuration error</title><h1>${NOT_CONFIGURED}</h1><ul>${items}</ul>`,
        500,
      );
    }
    return configErrorResponse(result.problems);
  };
}

/** The JSON 500 for a Worker that is not configured: each problem by variable name, never a value. */
export function configErrorResponse(problems: ConfigProblem[]): Response {
  return Response.json({ error: { type: "configuration", message: NOT_CONFIGURED, problems } }, { status: 500 });
}

/** Minimal HTML escaping for text interpolated into server-rendered pages. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
