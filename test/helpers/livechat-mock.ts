import { vi } from "vitest";

/** One outbound request the Worker made, as seen at the fetch boundary. */
export interface RecordedCall {
  method: string;
  url: URL;
  headers: Headers;
  /** Parsed JSON body, or the raw text when it is not JSON (e.g. form-encoded). */
  body: unknown;
  text: string;
}

type Reply = Response | ((call: RecordedCall) => Response | Promise<Response>);
type StoredReply = { materialize(): Promise<Response> } | ((call: RecordedCall) => Response | Promise<Response>);

/**
 * A canned Response is read once, in the test's own context, and rebuilt per call: workerd
 * does not let a Worker request (SELF.fetch, a DO) read a body stream created by the test.
 */
function storeReply(reply: Reply): StoredReply {
  if (typeof reply === "function") return reply;
  const status = reply.status;
  const headers = [...reply.headers];
  const body = reply.arrayBuffer();
  body.catch(() => {});
  return { materialize: async () => new Response(status === 204 ? null : await body, { status, headers }) };
}

interface Route {
  method: string;
  match: (url: URL) => boolean;
  replies: StoredReply[];
  /** The last reply is reused once the queue is down to one. */
}

/**
 * LiveChat mocked at the network boundary: spies on `fetch` inside the isolate (Worker and
 * Durable Objects share it in vitest-pool-workers) and answers by method + URL path.
 * Unmatched requests get a 599 so a forgotten mock fails loudly.
 *
 * @example
 * const lc = mockLiveChat();
 * lc.on("POST", "/v2/token", Response.json(tokenFixture));
 * await SELF.fetch("https://edge.example.test/install?code=abc");
 * expect(lc.calls("/v2/token")).toHaveLength(1);
 */
export function mockLiveChat() {
  const routes: Route[] = [];
  const recorded: RecordedCall[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input as RequestInfo, init);
    const text = request.body ? await request.text() : "";
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep the raw text */
    }
    const call: RecordedCall = { method: request.method, url: new URL(request.url), headers: request.headers, body, text };
    recorded.push(call);
    const route = routes.find((r) => r.method === call.method && r.match(call.url));
    if (!route) return new Response(`unmocked ${call.method} ${call.url.href}`, { status: 599 });
    const reply = route.replies.length > 1 ? route.replies.shift()! : route.replies[0];
    return typeof reply === "function" ? await reply(call) : reply.materialize();
  });

  const api = {
    spy,
    /**
     * Answer `method` requests whose path ends with `path` (or matches the RegExp). Several
     * replies are used in order; the last one repeats.
     */
    on(method: string, path: string | RegExp, ...replies: Reply[]) {
      const match = typeof path === "string" ? (u: URL) => u.pathname.endsWith(path) : (u: URL) => path.test(u.href);
      routes.unshift({ method, match, replies: replies.map(storeReply) });
      return api;
    },
    /** Calls whose path ends with `path` (all calls without an argument). */
    calls(path?: string) {
      return path ? recorded.filter((c) => c.url.pathname.endsWith(path)) : [...recorded];
    },
    reset() {
      routes.length = 0;
      recorded.length = 0;
    },
  };
  return api;
}

/** JSON error body in LiveChat's Web API format (docs/LIVECHAT.md §3.6). */
export function livechatError(status: number, type: string, message = type, data?: Record<string, unknown>) {
  return Response.json({ error: { type, message, ...(data ? { data } : {}) } }, { status });
}
