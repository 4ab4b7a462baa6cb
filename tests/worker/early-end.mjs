// Test harness around examples/worker: a request with `x-test-end-after-ms: N` is
// answered 499 after N ms whether or not the worker's handler is done, then the handler
// is left to whatever the runtime does with it.
//
// This is what workerd does in production when a client disconnects: it stops waiting
// for the handler, finishes the request, and cancels the request's outstanding I/O
// unless ctx.waitUntil() holds it. Locally (workerd under miniflare) a closed client
// connection is not noticed while the handler runs, so the tests end requests this way.
import worker from "../../examples/worker/src/index.js";

export default {
  fetch(request, env, ctx) {
    const handled = worker.fetch(request, env, ctx);
    const after = Number(request.headers.get("x-test-end-after-ms"));
    if (!after) return handled;
    const ended = new Promise((resolve) =>
      setTimeout(() => resolve(new Response("the client went away", { status: 499 })), after),
    );
    return Promise.race([handled, ended]);
  },
};
