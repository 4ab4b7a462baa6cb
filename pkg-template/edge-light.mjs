// Next.js edge routes and middleware, Vercel-style edge runtimes (the `edge-light`
// condition): they allow no wasm compiled from bytes at run time, so the .wasm is imported
// as a module (`?module`, which their bundlers turn into a WebAssembly.Module).
// It is instantiated with WebAssembly.instantiate (through init), not initSync: Next's
// edge sandbox compiles that module in another realm, where the glue's
// `instanceof WebAssembly.Module` test fails and initSync would take it for bytes.
import wasmModule from "./cedato_auth_bg.wasm?module";
import init from "./cedato_auth.js";

await init({ module_or_path: wasmModule });

export { CedatoAuth } from "./cedato_auth.js";
