import { createElement } from "#jsx/jsx-runtime";
import type { Child } from "hono/jsx";

/**
 * The dashboard's page frame: no script; the one stylesheet is public/assets/admin.css, a static
 * asset that Cloudflare serves without running the Worker, so it costs neither the bundle nor a
 * request's CPU. Class names only: the CSP (`securityHeaders` in ../index.ts) allows no inline style.
 */

/** A full dashboard page. `csrf` present: the visitor is logged in (the header gets a logout button). */
export function Layout(props: { title: string; csrf?: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width" />
        <meta name="referrer" content="same-origin" />
        <title>{`${props.title} · livechat-edge admin`}</title>
        <link rel="stylesheet" href="/assets/admin.css" />
      </head>
      <body>
        <header>
          <a class="brand" href="/admin">
            livechat-edge · operations
          </a>
          {props.csrf !== undefined && (
            <form method="post" action="/admin/logout">
              <input type="hidden" name="_csrf" value={props.csrf} />
              <button type="submit">Log out</button>
            </form>
          )}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/** A timestamp as UTC text in a `<time>` element; a dash when absent. */
export function Time(props: { at?: number | null }) {
  if (props.at === undefined || props.at === null || !Number.isFinite(props.at) || props.at <= 0) return <span class="muted">—</span>;
  const iso = new Date(props.at).toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`}</time>;
}

/** A status word in a colored badge. */
export function Badge(props: { status: string; label?: string }) {
  return <span class={`badge s-${props.status.replace(/[^a-z_]/g, "")}`}>{props.label ?? props.status}</span>;
}
