// The size of the wasm memory of the instance pkg/node.mjs loaded (through node.cjs and the
// CommonJS glue, whose initSync returns the module's exports once it is initialised).
import { createRequire } from "node:module";
import "../../pkg/node.mjs";

const { initSync } = createRequire(import.meta.url)("../../pkg/cedato_auth.cjs");
const exports = initSync({ module: new Uint8Array() }); // initialised already: the bytes are not read

/** Bytes of wasm linear memory now. */
export const webAssemblyMemory = () => exports.memory.buffer.byteLength;

/** Whether the wasm memory holds `text` (its UTF-8 bytes) anywhere, freed blocks included. */
export const webAssemblyMemoryHolds = (text) => Buffer.from(exports.memory.buffer).indexOf(text) !== -1;
