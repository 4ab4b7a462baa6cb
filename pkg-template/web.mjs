// `cedato-auth/web`, for a plain `<script type="module">` page: `await init()` fetches and
// compiles cedato_auth_bg.wasm from beside this file (streaming where the server sends
// application/wasm); `init({ module_or_path })` and `initSync({ module })` take the wasm
// from elsewhere. The other entries import the same glue, which has no default location,
// so bundlers of those entries do not copy the .wasm next to its inlined copy.
import initGlue from "./cedato_auth.js";

export * from "./cedato_auth.js";

export default function init(options) {
  return initGlue(options ?? { module_or_path: new URL("./cedato_auth_bg.wasm", import.meta.url) });
}
