/**
 * The micro-benchmark's Worker (bundled by run-micro.mjs, run by workerd through Miniflare): the
 * step functions of stages.mjs in the runtime the Worker itself runs in. Inside a request workerd's
 * clock stands still while code runs, so the caller times requests from outside:
 * `POST /init` {texts, secret} (answers the step names), then `GET /run?stage=NAME&n=N` runs a step N times (NAME `noop`:
 * the loop and the request alone, subtracted by the caller).
 */
import { ACK_STAGES, ASYNC_STAGES, makeStages, PIPELINES, PROCESSING_STAGES } from "./stages.mjs";

let stages;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/init") {
      const { texts, secret } = await request.json();
      stages = { ...makeStages(texts, secret), noop: (i) => i };
      return Response.json({ ACK_STAGES, PROCESSING_STAGES, PIPELINES });
    }
    const name = url.searchParams.get("stage");
    const n = Number(url.searchParams.get("n"));
    const fn = stages?.[name];
    if (!fn) return new Response(`unknown stage ${name}`, { status: 400 });
    let sink = 0;
    const size = Number(url.searchParams.get("bodies"));
    if (ASYNC_STAGES.has(name)) for (let i = 0; i < n; i++) sink += (await fn(i % size)) ? 1 : 0;
    else for (let i = 0; i < n; i++) sink += fn(i % size) ? 1 : 0;
    return new Response(String(sink));
  },
};
