// workerd / Cloudflare Workers (wrangler): the runtime compiles wasm only from modules,
// so the .wasm is imported as a compiled module and instantiated synchronously.
// Constructing a CedatoAuth at module scope is safe: the constructor does no I/O.
import wasmModule from "./cedato_auth_bg.wasm";
import { initSync, isolateRequests } from "./cedato_auth.js";

initSync({ module: wasmModule });
// workerd ties I/O to the request that started it: a request waiting for a token request
// started by another one resumes in its own request and keeps itself alive meanwhile.
isolateRequests();

export { CedatoAuth } from "./cedato_auth.js";
