import { env } from "cloudflare:workers";
import { runInDurableObject, SELF } from "cloudflare:test";
import { licenseStub } from "../../src/licenses/stub";
import { type LicenseTokens, TokenStore } from "../../src/licenses/token-store";
import { fromAnyClient } from "./client";
import { fixture } from "./fixtures";
import type { mockLiveChat } from "./livechat-mock";

export const ORIGIN = "https://edge.example.test";

/** A token response for `organizationId` based on the documented sample (docs/LIVECHAT.md §6.2). */
export function tokenResponse(organizationId: string, overrides: Record<string, unknown> = {}) {
  return {
    ...fixture("accounts.token.authorization_code.response"),
    organization_id: organizationId,
    access_token: `dal:access-${organizationId}-${crypto.randomUUID()}`,
    refresh_token: `refresh-${organizationId}-${crypto.randomUUID()}`,
    ...overrides,
  };
}

/** Drive `/install` the way LiveChat's Marketplace does (code, no state) with a mocked exchange. */
export async function installLicense(
  lc: ReturnType<typeof mockLiveChat>,
  organizationId: string,
  overrides: Record<string, unknown> = {},
) {
  const tokens = tokenResponse(organizationId, overrides);
  lc.on("POST", "/v2/token", Response.json(tokens));
  const res = await SELF.fetch(`${ORIGIN}/install?code=${encodeURIComponent(`dal:code-${organizationId}`)}`, { headers: fromAnyClient() });
  return { res, tokens };
}

/**
 * The error a Durable Object RPC call rejects with. Use instead of `expect(stub.x()).rejects`:
 * `expect` probes properties of the promise, and each property read on an RPC promise is a
 * pipelined call of its own, which rejects too and is then reported as unhandled.
 */
export async function rpcError(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected the RPC call to reject");
}

/** The grant a License DO stores (sealed in its storage; KV holds no token), or null. */
export function storedTokens(organizationId: string): Promise<LicenseTokens | null> {
  return runInDurableObject(licenseStub(env, organizationId), async (_i, state) => {
    const sealed = await state.storage.get<string>("grant");
    return sealed ? new TokenStore(env.TOKENS, { current: env.TOKEN_ENCRYPTION_KEY! }).open(organizationId, sealed) : null;
  });
}
