// Import order is emission order in the bundle: this one keeps related modules together, which
// the gzip budget feels (about 0.7 KiB against the alphabetical one; docs/BENCHMARK.md "Bundle").
import { reconcileFleet } from "./licenses/fleet";
import { serveWebhook, webhookKindOf } from "./routes/webhooks";
export { Chat, License } from "./objects";
import { app } from "./app";

/** Worker entry: HTTP routes and the reconcile cron. */
export default {
  fetch(request, env, ctx) {
    // The two webhook endpoints are the hot path (every LiveChat delivery): served directly, not
    // through the router, whose matching and context cost ~70 µs of a ~560 µs ack
    // (`npm run bench:profile`). Same handler, same answers as through `app`.
    const kind = webhookKindOf(request);
    return kind ? serveWebhook(kind, request, env) : app.fetch(request, env, ctx);
  },
  /** Cron Trigger: every license reconciles itself (src/licenses/fleet.ts). */
  async scheduled(controller, env, _ctx) {
    // The scheduled time picks the run's slot of the fleet; each run tries other leaders first
    // (random: a step derived from the schedule could come back to the same leaders).
    await reconcileFleet(env, { scheduledTime: controller.scheduledTime, rotation: Math.floor(Math.random() * 2 ** 30) });
  },
} satisfies ExportedHandler<Env>;
