import { Hono } from "hono/tiny";
import type { AppEnv } from "../http/types";

const page = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>livechat-edge</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .2em}</style>
<h1>livechat-edge</h1>
<p>A LiveChat (Text platform) marketplace app running on one Cloudflare Worker: OAuth install,
verified and durable webhooks, a bot that nudges, suggests and reacts, and per-license reconciliation.</p>
<ul>
<li><a href="/install">Install the app</a> (LiveChat authorization)</li>
<li><a href="/healthz">Health</a></li>
<li><a href="/admin">Operations dashboard</a> (admin token required)</li>
</ul>
<p>Webhook endpoints: <code>POST /webhooks/license</code>, <code>POST /webhooks/bot</code>, <code>POST /webhooks/app</code>.</p>
</html>`;

/** `GET /`: a short landing page. */
export const landing = new Hono<AppEnv>().get("/", (c) => c.html(page));
