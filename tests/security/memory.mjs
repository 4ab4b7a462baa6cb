// The size of the wasm memory of the instance pkg/node.mjs loaded (the glue's initSync
// returns the module's exports once it is initialised).
import { readFileSync } from "node:fs";
import { initSync } from "../../pkg/cedato_auth.js";

const exports = initSync({ module: readFileSync(new URL("../../pkg/cedato_auth_bg.wasm", import.meta.url)) });

/** Bytes of wasm linear memory now. */
export const webAssemblyMemory = () => exports.memory.buffer.byteLength;

/** Whether the wasm memory holds `text` (its UTF-8 bytes) anywhere, freed blocks included. */
export const webAssemblyMemoryHolds = (text) => Buffer.from(exports.memory.buffer).indexOf(text) !== -1;
