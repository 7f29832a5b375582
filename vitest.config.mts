import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";

/** Values every test sees; .dev.vars leaks into tests otherwise (docs/TOOLCHAIN.md G4). */
export const testBindings = {
  LIVECHAT_CLIENT_ID: "test-client-id",
  LIVECHAT_CLIENT_SECRET: "test-client-secret",
  LIVECHAT_WEBHOOK_SECRET: "test-webhook-secret",
  LIVECHAT_WEBHOOK_SECRET_PREVIOUS: "",
  LIVECHAT_ACCOUNTS_URL: "https://accounts.livechat.test",
  LIVECHAT_API_URL: "https://api.livechat.test",
  LIVECHAT_API_VERSION: "3.6",
  TOKEN_ENCRYPTION_KEY: "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dw=",
  TOKEN_ENCRYPTION_KEY_PREVIOUS: "",
  ADMIN_TOKEN: "test-admin-token-0123456789-abcdefghij",
  PUBLIC_URL: "https://edge.example.test",
  REPLY_TIMEOUT_SECONDS: "120",
  LOG_LEVEL: "info",
  BOT_WEBHOOK_TYPE: "bot",
  // The cron's schedule compressed (12 slots of 1 s): scheduled-handler tests see visits at once.
  RECONCILE_STALE_SECONDS: "12",
  RECONCILE_SPREAD_SECONDS: "1",
  // Tests change settings and post the next webhook at once; the cache itself is tested in
  // test/chats/license-cache.test.ts.
  LICENSE_CACHE_TTL_MS: "0",
};

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: testBindings,
        // Anything a test did not mock with the fetch spy must not leave the machine.
        outboundService(request: Request) {
          return new Response(`blocked outbound ${new URL(request.url).href}`, { status: 599 });
        },
      },
    }),
  ],
  // JSX as the Worker build compiles it (tsconfig jsxFactory "createElement"): no development-only
  // __source/__self props, which the dashboard's runtime would write out as attributes.
  oxc: { jsx: { development: false } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // The Worker logs a JSON line per step; a passing test's lines are noise, a failing test's are
    // its story: show them only for failures (npm test -- --silent=false shows them all).
    silent: "passed-only",
    // A passing run lists its files, not every test over 300 ms (speed belongs to npm run bench).
    slowTestThreshold: 5_000,
  },
});
