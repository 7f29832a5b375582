/**
 * Secrets and vars that `wrangler types` cannot see (they come from `wrangler secret put` or
 * .dev.vars). Merged into the generated `Cloudflare.Env`; src/config.ts validates them.
 */
declare namespace Cloudflare {
  interface Env {
    LIVECHAT_CLIENT_ID?: string;
    LIVECHAT_CLIENT_SECRET?: string;
    LIVECHAT_WEBHOOK_SECRET?: string;
    LIVECHAT_WEBHOOK_SECRET_PREVIOUS?: string;
    TOKEN_ENCRYPTION_KEY?: string;
    TOKEN_ENCRYPTION_KEY_PREVIOUS?: string;
    ADMIN_TOKEN?: string;
    PUBLIC_URL?: string;
  }
}
