// Gives the wasm's imports short names, in the wasm and in the JS glue that provides them.
//
// wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` under the module
// "./<crate>_bg.js"; the hashes do not compress, and every name is written twice (the
// wasm's import section and the glue's import object). Renaming them saves ~1.5 KB gzip.
// The glue hands the imports object to WebAssembly.instantiate itself (web target), so
// the names are private to this pair of files.
//
// usage: node tools/short-imports.mjs <in.wasm> <glue.js> <out.wasm>   (glue rewritten in place)
import { readFileSync, writeFileSync } from "node:fs";

const [wasmIn, gluePath, wasmOut] = process.argv.slice(2);
const bytes = readFileSync(wasmIn);
let glue = readFileSync(gluePath, "utf8");

function fail(message) {
  console.error(`short-imports: ${message}`);
  process.exit(1);
}

let pos = 0;
const u32 = () => {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return result;
  }
};
const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
};
const name = () => {
  const len = u32();
  const s = bytes.toString("utf8", pos, pos + len);
  pos += len;
  return s;
};
const encodeName = (s) => Buffer.concat([leb(Buffer.byteLength(s)), Buffer.from(s)]);
// Skips a limits (table, memory) structure.
const limits = () => {
  const flags = bytes[pos++];
  u32();
  if (flags & 1) u32();
};

if (bytes.readUInt32LE(0) !== 0x6d736100) fail(`${wasmIn} is not a wasm module`);
pos = 8;
const parts = [bytes.subarray(0, 8)];
const renamed = new Map();
// Short names: a, b, ..., z, A, ..., Z, aa, ab, ...
const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const shortName = (i) => {
  let s = "";
  do {
    s = alphabet[i % alphabet.length] + s;
    i = Math.floor(i / alphabet.length) - 1;
  } while (i >= 0);
  return s;
};
let moduleName;
while (pos < bytes.length) {
  const start = pos;
  const id = bytes[pos++];
  const size = u32();
  const end = pos + size;
  if (id !== 2) {
    parts.push(bytes.subarray(start, end));
    pos = end;
    continue;
  }
  const count = u32();
  const entries = [leb(count)];
  for (let i = 0; i < count; i++) {
    const module = name();
    const field = name();
    const descStart = pos;
    const kind = bytes[pos++];
    if (kind === 0x00) u32();
    else if (kind === 0x01) {
      pos++;
      limits();
    } else if (kind === 0x02) limits();
    else if (kind === 0x03) pos += 2;
    else if (kind === 0x04) {
      pos++;
      u32();
    } else fail(`unknown import kind ${kind}`);
    if (moduleName === undefined) moduleName = module;
    if (module !== moduleName) fail(`imports from two modules: ${moduleName}, ${module}`);
    if (!renamed.has(field)) renamed.set(field, shortName(renamed.size));
    entries.push(encodeName("w"), encodeName(renamed.get(field)), bytes.subarray(descStart, pos));
  }
  if (pos !== end) fail("import section size mismatch");
  const body = Buffer.concat(entries);
  parts.push(Buffer.from([2]), leb(body.length), body);
}

// The glue declares each import once as an object key (`__wbg_x_0123: function`), and
// the module once (`"./crate_bg.js": import0`).
for (const [from, to] of renamed) {
  const key = new RegExp(`(^|[^\\w$])${from.replace(/\$/g, "\\$")}(?=:)`, "gm");
  const found = glue.match(key)?.length ?? 0;
  if (found !== 1) fail(`import ${from} appears ${found} times as a key in ${gluePath}`);
  glue = glue.replace(key, `$1${to}`);
}
const moduleKey = JSON.stringify(moduleName);
if (glue.split(moduleKey).length !== 2) fail(`module ${moduleKey} not found once in ${gluePath}`);
glue = glue.replace(moduleKey, '"w"');

writeFileSync(wasmOut, Buffer.concat(parts));
writeFileSync(gluePath, glue);
console.log(`short-imports: ${renamed.size} imports renamed`);
