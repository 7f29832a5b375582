import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { randomToken } from "../licenses/crypto";
import { escapeHtml } from "./config-middleware";

/** Where a failed install starts again (docs/ARCHITECTURE.md "Routes": `GET /install` without `code`). */
const START_AGAIN = "/install";

/**
 * A small HTML result page (install outcomes), styled by the static public/assets/page.css. The
 * popup-closing script is allowed only through a per-response nonce; no inline style. A failure
 * (status ≥ 400) links to {@link START_AGAIN}, so "start the installation again" is one click.
 */
export function resultPage(
  c: Context,
  options: { title: string; message: string; status: ContentfulStatusCode; closePopup?: boolean },
): Response {
  const nonce = randomToken(16);
  const script = options.closePopup
    ? `<script nonce="${nonce}">if (window.opener) { setTimeout(function () { window.close(); }, 1500); }</script>`
    : "";
  const ok = options.status < 400;
  const body = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="/assets/page.css"><body class="${ok ? "ok" : "failed"}">
<h1>${escapeHtml(options.title)}</h1><p>${escapeHtml(options.message)}</p>${ok ? "" : `<p><a href="${START_AGAIN}">Start the installation again</a></p>`}${script}</html>`;
  c.header("Content-Security-Policy", `default-src 'none'; style-src 'self'; script-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  return c.html(body, options.status);
}
