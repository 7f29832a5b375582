import { createElement } from "#jsx/jsx-runtime";
import type { Child } from "hono/jsx";

/**
 * The dashboard's page frame: no script, no external asset; the one stylesheet is inline under
 * the response's CSP nonce (see `securityHeaders` in ../index.ts). Class names only: the CSP
 * forbids `style` attributes.
 */

const CSS = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--info:#0969da}
*{box-sizing:border-box}body{font:14px/1.5 system-ui,sans-serif;color:var(--fg);margin:0}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1.2rem;border-bottom:1px solid var(--line);background:var(--bg)}
header a.brand{font-weight:600;color:var(--fg);text-decoration:none}header form{margin-left:auto}
main{max-width:72rem;margin:0 auto;padding:1rem 1.2rem 3rem}h1{font-size:1.4rem;margin:.4rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px}td.num{text-align:right}code,pre{font:12px ui-monospace,monospace}
pre{background:var(--bg);padding:.6rem;overflow:auto;border:1px solid var(--line);border-radius:6px}
.badge{display:inline-block;padding:0 .45rem;border-radius:1rem;font-size:12px;border:1px solid var(--line)}
.s-processed,.s-accepting_chats,.s-ok{color:var(--ok);border-color:var(--ok)}.s-dead,.s-bad,.s-offline{color:var(--bad);border-color:var(--bad)}
.s-retry,.s-pending,.s-skipped,.s-not_accepting_chats,.s-warn{color:var(--warn);border-color:var(--warn)}.s-unprocessable,.s-not_installed{color:var(--muted)}
.notice{padding:.5rem .8rem;border-radius:6px;border:1px solid var(--info);color:var(--info);margin:.6rem 0}.notice.error{border-color:var(--bad);color:var(--bad)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:.8rem}.card{border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem}
.card dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem .8rem;margin:0}dd code{word-break:break-all}dt{color:var(--muted)}dd{margin:0}
form.settings{display:grid;grid-template-columns:14rem 1fr;gap:.5rem 1rem;max-width:56rem}form.settings label{font-weight:600;padding-top:.3rem}
form.settings .hint{grid-column:2;color:var(--muted);font-size:12px;margin-top:-.4rem}
input,textarea,select{font:inherit;padding:.3rem .4rem;border:1px solid var(--line);border-radius:4px;width:100%}textarea{min-height:4.5rem}
button{font:inherit;padding:.3rem .9rem;border-radius:6px;border:1px solid var(--line);background:var(--bg);cursor:pointer}
button.primary{background:var(--ok);border-color:var(--ok);color:#fff}form.inline{display:inline}
.muted{color:var(--muted)}.login{max-width:22rem;margin:5rem auto}.login input{margin:.4rem 0 .8rem}
svg.chart{width:100%;max-width:44rem;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
.b-processed{--c:#2da44e}.b-skipped{--c:#8c959f}.b-unprocessable,.b-not_installed{--c:#d4a72c}.b-retry{--c:#fb8f44}.b-dead{--c:var(--bad)}
.chart rect{fill:var(--c,transparent)}.chart text{font:10px system-ui,sans-serif;fill:var(--muted)}.chart line{stroke:var(--line)}
.legend span{margin-right:.8rem}.legend i{display:inline-block;width:.7rem;height:.7rem;margin-right:.25rem;vertical-align:-1px;background:var(--c)}
`;

/** A full dashboard page. `csrf` present: the visitor is logged in (the header gets a logout button). */
export function Layout(props: { title: string; nonce: string; csrf?: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width" />
        <meta name="referrer" content="same-origin" />
        <title>{`${props.title} · livechat-edge admin`}</title>
        <style nonce={props.nonce} dangerouslySetInnerHTML={{ __html: CSS }} />
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
