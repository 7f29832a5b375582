/**
 * Baseline (a): the limit. A Worker that answers every request with 200 and a body shaped
 * like livechat-edge's ack, without reading the request. Whatever this reaches is what the
 * runtime, Miniflare's entry worker and the load tool allow on this machine.
 */
const ACK = '{"ok":true,"outcome":"accepted"}';

export default {
  async fetch(request) {
    await request.arrayBuffer();
    return new Response(ACK, { headers: { "content-type": "application/json" } });
  },
};
