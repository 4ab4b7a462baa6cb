// workerd / Cloudflare Workers (wrangler): the runtime compiles wasm only from modules,
// so the .wasm is imported as a compiled module and instantiated synchronously.
// Constructing a CedatoAuth at module scope is safe: the constructor does no I/O.
import wasmModule from "./cedato_auth_bg.wasm";
import { initSync } from "./cedato_auth.js";

initSync({ module: wasmModule });

export { CedatoAuth } from "./cedato_auth.js";
