// Declarations of `import init, { CedatoAuth } from "cedato-auth/web"` (wasm-bindgen's
// web target: call `await init()` once before using the class).
export * from "./index.js";

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
export type SyncInitInput = BufferSource | WebAssembly.Module;

/** The instantiated module's exports (internal; only `memory` is of general interest). */
export interface InitOutput {
  readonly memory: WebAssembly.Memory;
}

/** Instantiates the module from bytes or a compiled `WebAssembly.Module`, synchronously. */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * Loads and instantiates the module. With no argument it fetches `cedato_auth_bg.wasm`
 * next to `cedato_auth.js` (`new URL(..., import.meta.url)`); pass `{ module_or_path }`
 * to load it from elsewhere or from bytes.
 */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;
