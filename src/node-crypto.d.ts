/**
 * The one `node:crypto` function the Worker uses (a synchronous SHA-256, src/livechat/webhooks/verify.ts),
 * provided by workerd under the `nodejs_compat` flag. Declared here instead of pulling in @types/node.
 */
declare module "node:crypto" {
  interface Hash {
    update(data: string, encoding: "utf8"): Hash;
    digest(): Uint8Array;
  }
  export function createHash(algorithm: "sha256"): Hash;
}
