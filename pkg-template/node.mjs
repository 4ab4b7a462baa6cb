// Node.js >= 20: reads the wasm next to this file and instantiates it synchronously,
// so `import { CedatoAuth } from "cedato-auth"` needs no init step.
import { readFileSync } from "node:fs";
import { initSync } from "./cedato_auth.js";

initSync({ module: readFileSync(new URL("./cedato_auth_bg.wasm", import.meta.url)) });

export { CedatoAuth } from "./cedato_auth.js";
