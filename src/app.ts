import { Hono } from "hono/tiny";
import { internalError } from "./http/internal-error";
import type { AppEnv } from "./http/types";
// In this order the bundle compresses best (docs/BENCHMARK.md "Bundle"); the routes mount below in their own order.
import { appWebhooks } from "./routes/app-webhooks";
import { webhooks } from "./routes/webhooks";
import { admin } from "./routes/admin";
import { install } from "./routes/install";
import { health } from "./routes/health";

/** The Worker's HTTP surface; each route module owns one concern. `GET /` and the dashboard's stylesheet are static assets (public/). */
export const app = new Hono<AppEnv>();

app.route("/", health);
app.route("/", install);
app.route("/", appWebhooks);
app.route("/", webhooks);
app.route("/admin", admin);

app.notFound((c) => c.json({ error: { type: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404));
app.onError((err, c) => internalError(c.req.path, err));
