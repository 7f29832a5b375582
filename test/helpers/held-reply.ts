import type { RecordedCall } from "./livechat-mock";

/**
 * A mocked LiveChat reply held open until the test releases it, for races: while the Worker or a
 * Durable Object awaits this call (network I/O, so a DO serves other RPCs meanwhile), the test
 * does something else, then lets the call finish.
 *
 * The Response is built by a function run inside the caller's context: workerd does not let a
 * Worker or DO read a body stream created by the test (see livechat-mock.ts).
 *
 * @example
 * const held = heldReply();
 * lc.on("POST", "/v2/token", held.reply);
 * const pending = stub.credentials(rejected);
 * await held.reached();
 * await stub.install(newTokens);
 * held.release(() => Response.json(refreshed));
 */
export function heldReply() {
  let release!: (make: () => Response) => void;
  const gate = new Promise<() => Response>((resolve) => (release = resolve));
  const calls: RecordedCall[] = [];
  return {
    /** Pass to `lc.on(...)`: every matching call waits for {@link release}. */
    reply: async (call: RecordedCall): Promise<Response> => {
      calls.push(call);
      return (await gate)();
    },
    /** The calls that reached the held reply so far. */
    calls,
    /** Resolves once at least one call is waiting on the held reply. */
    async reached(timeoutMs = 5000): Promise<void> {
      const until = Date.now() + timeoutMs;
      while (calls.length === 0) {
        if (Date.now() > until) throw new Error("the held reply was never reached");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    /** Let every waiting (and later) call finish with the Response `make` builds. */
    release,
  };
}
