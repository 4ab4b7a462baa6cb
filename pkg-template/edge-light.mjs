// Next.js edge routes and middleware, Vercel-style edge runtimes (the `edge-light`
// condition): they allow no wasm compiled from bytes at run time, so the .wasm is imported
// as a module (`?module`, which their bundlers turn into a WebAssembly.Module) and
// instantiated synchronously. Constructing a CedatoAuth at module scope is safe: the
// constructor does no I/O.
import wasmModule from "./cedato_auth_bg.wasm?module";
import { initSync } from "./cedato_auth.js";

initSync({ module: wasmModule });

export { CedatoAuth } from "./cedato_auth.js";
