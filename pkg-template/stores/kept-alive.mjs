// For the Workers stores: CedatoAuth hands a token to its callers at once and runs the
// store's writes in the background; a request that then ends would take a write with it.
// workerd's `waitUntil` (of the request the write runs in) keeps it alive, so a worker
// passes nothing.
import { waitUntil } from "cloudflare:workers";

/** `promise`, kept alive until it settles by the current request (when there is one). */
export function keptAlive(promise) {
  try {
    waitUntil(promise.catch(() => {}));
  } catch {
    // Not inside a request (module scope, a test double): nothing to keep alive.
  }
  return promise;
}
