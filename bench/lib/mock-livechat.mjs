/**
 * LiveChat mocked at loopback for the benchmark: a node:http server answering the documented
 * sample responses from test/fixtures/livechat. The Worker reaches it through its
 * LIVECHAT_ACCOUNTS_URL / LIVECHAT_API_URL bindings, so calls made after the ack (get_chat,
 * send_event, …) and at install time cost what a fast upstream costs, and never leave the machine.
 *
 * - POST /v2/token: a token response whose organization_id is the `code` (or the refresh token's
 *   organization), so the bench can install any organization it chooses;
 * - GET /v2/info, DELETE|POST /v2/token(/revoke): the documented samples;
 * - POST /v{version}/{agent|configuration}/action/{method}: `{api}.v3.6.{method}.response.json`,
 *   or `{}` for methods documented to answer with an empty body.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

export async function startLiveChatMock(examplesDir) {
  const sample = (name) => readFileSync(join(examplesDir, name), "utf8");
  const tokenSample = JSON.parse(sample("accounts.token.authorization_code.response.json"));
  const infoSample = sample("accounts.info.response.json");
  const cache = new Map();
  const methodReply = (api, method) => {
    const key = `${api}/${method}`;
    if (!cache.has(key)) {
      const file = join(examplesDir, `${api}.v3.6.${method}.response.json`);
      cache.set(key, existsSync(file) ? readFileSync(file, "utf8") : "{}");
    }
    return cache.get(key);
  };
  const calls = new Map();
  const count = (key) => calls.set(key, (calls.get(key) ?? 0) + 1);

  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const url = new URL(req.url, "http://mock");
      const send = (status, text) => {
        res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
        res.end(text);
      };
      if (url.pathname === "/v2/token" && req.method === "POST") {
        count("accounts/token");
        const fields = req.headers["content-type"]?.includes("json")
          ? JSON.parse(body || "{}")
          : Object.fromEntries(new URLSearchParams(body));
        const refresh = String(fields.refresh_token ?? "");
        const org =
          fields.code || (refresh.startsWith("bench-refresh:") ? refresh.slice(14) : tokenSample.organization_id);
        return send(
          200,
          JSON.stringify({
            ...tokenSample,
            organization_id: org,
            access_token: `dal:bench-${org}`,
            refresh_token: `bench-refresh:${org}`,
          }),
        );
      }
      if (url.pathname.startsWith("/v2/token")) return count("accounts/revoke"), send(200, "{}");
      if (url.pathname === "/v2/info") return count("accounts/info"), send(200, infoSample);
      const m = url.pathname.match(/^\/v\d+\.\d+\/(agent|configuration)\/action\/([a-z_]+)$/);
      if (m && req.method === "POST") {
        count(`${m[1]}/${m[2]}`);
        return send(200, methodReply(m[1], m[2]));
      }
      count(`unmatched ${req.method} ${url.pathname}`);
      send(404, JSON.stringify({ error: { type: "not_found", message: "not mocked" } }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  server.keepAliveTimeout = 30_000;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Calls since the last reset, by "api/method". */
    takeCalls() {
      const out = Object.fromEntries([...calls].sort((a, b) => b[1] - a[1]));
      calls.clear();
      return out;
    },
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}
