import { afterEach, describe, expect, it, vi } from "vitest";
import { AccountsClient } from "../../src/livechat/accounts";
import { LiveChatError, isAuthError } from "../../src/livechat/errors";
import { authorizationCodeRequestSchema, refreshTokenRequestSchema } from "../../src/livechat/schemas/accounts-requests";
import { fixture } from "../helpers/fixtures";
import { mockLiveChat } from "../helpers/livechat-mock";
import { captureConsole, rejectionOf, testHttp } from "./helpers";

const ACCOUNTS = "https://accounts.livechat.test/";
const SECRET = "client-SECRET-0123456789";
const CODE = "dal:CODE-SECRET-abcdef";
const REFRESH = "REFRESH-SECRET-abcdef";

function client(options = {}) {
  const t = testHttp(options);
  return { ...t, accounts: new AccountsClient({ accountsUrl: ACCOUNTS, clientId: "cid", clientSecret: SECRET, http: t.http }) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("AccountsClient.exchangeCode (docs/LIVECHAT.md §6.2)", () => {
  it("posts the authorization_code grant as JSON and returns the token response", async () => {
    const lc = mockLiveChat().on("POST", "/v2/token", Response.json(fixture("accounts.token.authorization_code.response")));
    const { accounts } = client();
    const tokens = await accounts.exchangeCode({ code: CODE, redirectUri: "https://edge.example.test/install", codeVerifier: "v".repeat(43) });
    expect(tokens).toEqual(fixture("accounts.token.authorization_code.response"));
    expect(tokens.organization_id).toBe("390e44e6-f1e6-0368c-z6ddb-74g14508c2ex");
    const [call] = lc.calls();
    expect(call.url.href).toBe("https://accounts.livechat.test/v2/token");
    expect(call.headers.get("content-type")).toBe("application/json");
    expect(call.headers.get("authorization")).toBeNull();
    expect(call.headers.get("x-region")).toBeNull();
    expect(call.body).toEqual({
      grant_type: "authorization_code",
      code: CODE,
      client_id: "cid",
      client_secret: SECRET,
      redirect_uri: "https://edge.example.test/install",
      code_verifier: "v".repeat(43),
    });
    expect(authorizationCodeRequestSchema.safeParse(call.body).success).toBe(true);
  });

  it("omits code_verifier when there is none", async () => {
    const lc = mockLiveChat().on("POST", "/v2/token", Response.json(fixture("accounts.token.authorization_code.response")));
    await client().accounts.exchangeCode({ code: "c", redirectUri: "https://x.test/" });
    expect(lc.calls()[0].body).not.toHaveProperty("code_verifier");
  });

  it("passes unknown response fields through and accepts a response without refresh_token", async () => {
    const { refresh_token: _, ...rest } = fixture("accounts.token.authorization_code.response");
    mockLiveChat().on("POST", "/v2/token", Response.json({ ...rest, license_id: 123 }));
    const tokens = await client().accounts.exchangeCode({ code: "c", redirectUri: "https://x.test/" });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.license_id).toBe(123);
  });

  it("rejects a token response missing required fields as invalid_response", async () => {
    const { access_token: _, ...rest } = fixture("accounts.token.authorization_code.response");
    mockLiveChat().on("POST", "/v2/token", Response.json(rest));
    const err = await rejectionOf(client().accounts.exchangeCode({ code: "c", redirectUri: "https://x.test/" }));
    expect(err).toMatchObject({ type: "invalid_response", method: "accounts/token", retryable: false });
    expect(err.detail).toContain("access_token");
  });

  it("maps the OAuth error body to a typed, non-retryable auth error", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/v2/token",
      Response.json({ error: "unauthorized_client", error_description: "code expired or already used" }, { status: 400 }),
    );
    const { accounts, waits } = client();
    const err = await rejectionOf(accounts.exchangeCode({ code: CODE, redirectUri: "https://x.test/" }));
    expect(err).toBeInstanceOf(LiveChatError);
    expect(err).toMatchObject({ type: "unauthorized_client", status: 400, detail: "code expired or already used", retryable: false });
    expect(isAuthError(err)).toBe(true);
    expect(lc.calls()).toHaveLength(1);
    expect(waits).toEqual([]);
  });
});

describe("AccountsClient.refresh", () => {
  it("posts the refresh_token grant and returns the new tokens", async () => {
    const lc = mockLiveChat().on("POST", "/v2/token", Response.json(fixture("accounts.token.refresh_token.response")));
    const tokens = await client().accounts.refresh(REFRESH);
    expect(tokens).toEqual(fixture("accounts.token.refresh_token.response"));
    expect(lc.calls()[0].body).toEqual({ grant_type: "refresh_token", refresh_token: REFRESH, client_id: "cid", client_secret: SECRET });
    expect(refreshTokenRequestSchema.safeParse(lc.calls()[0].body).success).toBe(true);
  });

  it("types invalid_grant as an auth error", async () => {
    mockLiveChat().on("POST", "/v2/token", Response.json({ error: "invalid_grant", error_description: "refresh token revoked" }, { status: 400 }));
    const err = await rejectionOf(client().accounts.refresh(REFRESH));
    expect(err.type).toBe("invalid_grant");
    expect(isAuthError(err)).toBe(true);
  });

  it("retries temporarily_unavailable (429), which LiveChat answers before minting anything", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/v2/token",
      Response.json({ error: "temporarily_unavailable", error_description: "later" }, { status: 429 }),
      Response.json({ error: "temporarily_unavailable", error_description: "later" }, { status: 429 }),
      Response.json(fixture("accounts.token.refresh_token.response")),
    );
    const { accounts, waits } = client();
    await accounts.refresh(REFRESH);
    expect(lc.calls()).toHaveLength(3);
    expect(waits).toEqual([125, 250]);
  });

  it("never puts the client secret, code or refresh token in errors or console output", async () => {
    const lines = captureConsole();
    mockLiveChat().on(
      "POST",
      "/v2/token",
      // Worst case: the server echoes the whole request body back. A 429, so the token request is
      // retried and the retries are logged (after a 5xx it is not: LiveChat may have acted).
      (call) =>
        Response.json(
          { error: "invalid_request", error_description: `bad request ${call.text}`, sub_error: `x ${SECRET}` },
          { status: 429 },
        ),
    );
    // Default console logger: the retries are logged for real.
    const accounts = new AccountsClient({ accountsUrl: ACCOUNTS, clientId: "cid", clientSecret: SECRET, http: testHttp({ logger: undefined }).http });
    const errors = [
      await rejectionOf(accounts.refresh(REFRESH)),
      await rejectionOf(accounts.exchangeCode({ code: CODE, redirectUri: "https://x.test/", codeVerifier: "VERIFIER-SECRET-1234" })),
    ];
    for (const err of errors) {
      expect(err.type).toBe("invalid_request");
      const text = `${err.message} ${JSON.stringify(err)}`;
      expect(text).not.toContain("SECRET");
    }
    expect(errors[0].detail).toBe(
      'bad request {"grant_type":"refresh_token","refresh_token":"[redacted]","client_id":"cid","client_secret":"[redacted]"}',
    );
    expect(errors[1].data).toEqual({ sub_error: "x [redacted]" });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain("SECRET");
  });
});

describe("token requests are sent once: LiveChat may have acted on a request whose answer was lost", () => {
  const lostAnswers = [
    { name: "server_error (500)", reply: () => Response.json({ error: "server_error", error_description: "oops" }, { status: 500 }), type: "server_error" },
    { name: "503 without an OAuth body", reply: () => new Response("unavailable", { status: 503 }), type: "service_unavailable" },
    {
      name: "a timeout",
      reply: () => new Promise<Response>((resolve) => setTimeout(() => resolve(Response.json(fixture("accounts.token.refresh_token.response"))), 300)),
      type: "timeout",
    },
  ];

  // A refresh LiveChat processed mints a token; 25 per client per account, the oldest silently revoked (docs/LIVECHAT.md §6.2).
  it.each(lostAnswers)("a refresh answered with $name reaches LiveChat once and fails retryably", async ({ reply, type }) => {
    const lc = mockLiveChat().on("POST", "/v2/token", reply, Response.json(fixture("accounts.token.refresh_token.response")));
    const { accounts, waits } = client({ timeoutMs: 50 });
    const err = await rejectionOf(accounts.refresh(REFRESH));
    expect(err).toBeInstanceOf(LiveChatError);
    expect(err).toMatchObject({ type, method: "accounts/token", retryable: true });
    expect(lc.calls()).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  // A code is single-use (docs/LIVECHAT.md §6.1): a second exchange of a spent code fails anyway.
  it.each(lostAnswers)("a code exchange answered with $name reaches LiveChat once", async ({ reply, type }) => {
    const lc = mockLiveChat().on("POST", "/v2/token", reply, Response.json(fixture("accounts.token.authorization_code.response")));
    const { accounts } = client({ timeoutMs: 50 });
    const err = await rejectionOf(accounts.exchangeCode({ code: CODE, redirectUri: "https://x.test/" }));
    expect(err).toMatchObject({ type, retryable: true });
    expect(lc.calls()).toHaveLength(1);
  });

  it("a code exchange is still retried after temporarily_unavailable (429)", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/v2/token",
      Response.json({ error: "temporarily_unavailable", error_description: "later" }, { status: 429 }),
      Response.json(fixture("accounts.token.authorization_code.response")),
    );
    const tokens = await client().accounts.exchangeCode({ code: CODE, redirectUri: "https://x.test/" });
    expect(tokens.access_token).toBe(fixture("accounts.token.authorization_code.response").access_token);
    expect(lc.calls()).toHaveLength(2);
  });
});

describe("AccountsClient.info", () => {
  it("GETs /v2/info with the bearer token and parses the documented sample", async () => {
    const lc = mockLiveChat().on("GET", "/v2/info", Response.json(fixture("accounts.info.response")));
    const info = await client().accounts.info("dal:test_YTJQ6GDVgQf8kQDPw");
    expect(info).toEqual(fixture("accounts.info.response"));
    expect(info.client_id).toBe("9cbf3a968289727cb3cdfe83ab1d9836");
    const [call] = lc.calls();
    expect(call.method).toBe("GET");
    expect(call.headers.get("authorization")).toBe("Bearer dal:test_YTJQ6GDVgQf8kQDPw");
    expect(call.text).toBe("");
  });

  it("types an invalid token and keeps it out of the error", async () => {
    const token = "dal:INFO-SECRET-123456";
    mockLiveChat().on("GET", "/v2/info", Response.json({ error: "invalid_request", error_description: `invalid token ${token}` }, { status: 401 }));
    const err = await rejectionOf(client().accounts.info(token));
    expect(err).toMatchObject({ type: "invalid_request", status: 401, method: "accounts/info" });
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain("INFO-SECRET");
  });
});

describe("AccountsClient.revoke", () => {
  it("DELETEs /v2/token with the bearer token", async () => {
    const lc = mockLiveChat().on("DELETE", "/v2/token", Response.json(fixture("accounts.token.revoke.response")));
    await expect(client().accounts.revoke("dal:abc")).resolves.toBeUndefined();
    const [call] = lc.calls();
    expect(call.method).toBe("DELETE");
    expect(call.headers.get("authorization")).toBe("Bearer dal:abc");
  });

  it("treats 404 as already revoked", async () => {
    const lc = mockLiveChat().on("DELETE", "/v2/token", Response.json({ error: "not_found", error_description: "token not found" }, { status: 404 }));
    await expect(client().accounts.revoke("dal:abc")).resolves.toBeUndefined();
    expect(lc.calls()).toHaveLength(1);
  });

  it("rejects other failures", async () => {
    mockLiveChat().on("DELETE", "/v2/token", Response.json({ error: "access_denied", error_description: "no" }, { status: 403 }));
    expect((await rejectionOf(client().accounts.revoke("dal:abc"))).type).toBe("access_denied");
  });
});
