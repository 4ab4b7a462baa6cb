// workerd / Cloudflare Workers (wrangler): the runtime compiles wasm only from modules,
// so the .wasm is imported as a compiled module and instantiated synchronously.
// Constructing a CedatoAuth at module scope is safe: the constructor does no I/O.
import wasmModule from "./cedato_auth_bg.wasm";
import { initSync, CedatoAuth as WasmCedatoAuth } from "./cedato_auth.js";

initSync({ module: wasmModule });

// workerd cancels a request as hung ("Worker's code had hung and would never generate a
// response") when nothing of its own is pending. A request that joins a token request
// started by another request (single flight on a module-scope CedatoAuth) waits only on
// that other request's I/O, so each pending call holds a timer in the caller's request
// until it settles. After HOLD_MS, workerd's own hang detection applies again.
const HOLD_MS = 10 * 60 * 1000;

function held(promise) {
  let timer;
  try {
    timer = setTimeout(() => {}, HOLD_MS);
  } catch {
    return promise; // module scope: no timers there (and no fetch either)
  }
  return promise.finally(() => clearTimeout(timer));
}

export class CedatoAuth extends WasmCedatoAuth {
  getToken() {
    return held(super.getToken());
  }
  getAuthorizationHeader() {
    return held(super.getAuthorizationHeader());
  }
  refresh() {
    return held(super.refresh());
  }
  fetch(input, init) {
    return held(super.fetch(input, init));
  }
  request(path, options) {
    return held(super.request(path, options));
  }
}
