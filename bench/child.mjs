// The benchmarks' fresh-process probes, spawned by bench/run.mjs (one process per sample,
// so every figure is a cold start / a clean heap). Prints one JSON line.
//
//   node bench/child.mjs load library|baseline
//   node --expose-gc bench/child.mjs memory library|baseline <baseUrl> <clientId>
import { createRequire } from "node:module";

const [mode, impl, baseUrl, clientId] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const BASELINE = new URL("./baseline.mjs", import.meta.url);
const now = () => performance.now();

/**
 * Loads one implementation the way its Node entry does. The library: the wasm-bindgen
 * glue, the inlined wasm decoded from base64, `new WebAssembly.Module`, then the glue's
 * `initSync` (exactly pkg/node.cjs, split into steps; initSync returns the wasm exports).
 */
async function load() {
  const t0 = now();
  if (impl === "library") {
    const glue = require("../pkg/cedato_auth.cjs");
    const t1 = now();
    const bytes = Buffer.from(require("../pkg/cedato_auth_inline.cjs").wasmBase64, "base64");
    const t2 = now();
    const module = new WebAssembly.Module(bytes);
    const t3 = now();
    const exports = glue.initSync({ module });
    const t4 = now();
    const times = { importGlueMs: t1 - t0, decodeWasmMs: t2 - t1, compileMs: t3 - t2, instantiateMs: t4 - t3, loadMs: t4 - t0 };
    return { CedatoAuth: glue.CedatoAuth, memory: exports.memory, times };
  }
  const { CedatoAuth } = await import(BASELINE);
  return { CedatoAuth, memory: undefined, times: { loadMs: now() - t0 } };
}

const options = (id) => ({ clientId: id, clientSecret: `${id}-secret`, baseUrl: baseUrl ?? "http://127.0.0.1:9/api/" });

if (mode === "load") {
  const { CedatoAuth, times } = await load();
  const t = now();
  new CedatoAuth(options("t-load"));
  times.constructMs = now() - t;
  times.sinceProcessStartMs = now(); // performance.now() counts from the process's start
  console.log(JSON.stringify(times));
} else if (mode === "memory") {
  if (typeof gc !== "function") throw new Error("run with --expose-gc");
  const sample = (memory) => {
    gc();
    gc();
    return { heapUsed: process.memoryUsage().heapUsed, wasmMemory: memory ? memory.buffer.byteLength : null };
  };
  const { CedatoAuth, memory } = await load();
  const out = { loaded: sample(memory) };
  const auth = new CedatoAuth(options(clientId));
  const first = await auth.getToken();
  out.firstToken = sample(memory);
  for (let i = 0; i < 100_000; i++) {
    if ((await auth.getToken()) !== first) throw new Error("a cached call returned another token");
  }
  out.after100kCached = sample(memory);
  for (let i = 0; i < 1_000; i++) await auth.refresh();
  out.after1kRefresh = sample(memory);
  if (!auth.hasValidToken) throw new Error("no valid token after the refreshes");
  console.log(JSON.stringify(out));
} else {
  throw new Error(`unknown mode ${mode}`);
}
