// Browsers (through Vite, esbuild, or any bundler), Deno, and every other runtime: the
// wasm travels inside this module as base64, so bundlers need no wasm loader or asset
// configuration. Compiled asynchronously (top-level await): browsers refuse to compile
// a large module synchronously on the main thread.
import init from "./cedato_auth.js";
import { wasmBase64 } from "./cedato_auth_inline.mjs";

const bytes = Uint8Array.from(atob(wasmBase64), (c) => c.charCodeAt(0));
await init({ module_or_path: bytes });

export { CedatoAuth } from "./cedato_auth.js";
