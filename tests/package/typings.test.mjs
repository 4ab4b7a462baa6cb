// The shipped declarations under `tsc --strict --noEmit`: a consumer using every API of
// SPEC section 3 compiles, and each misuse in misuse.ts is reported on its own line.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { checkMisuses, makeProject, PKG_DIR, tsc } from "./setup.mjs";

let dir;
before(async () => {
  dir = await makeProject("types", { fixture: "types" });
}, { timeout: 180_000 });

for (const resolution of ["bundler", "node16"]) {
  test(`typings (${resolution}): consumer.ts using every API compiles under --strict`, { timeout: 90_000 }, async () => {
    const r = await tsc(dir, ["consumer.ts"], resolution);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(r.errors, []);
  });
}

test("typings: each misuse in misuse.ts is a compile error on its own line, and nothing else is", { timeout: 90_000 }, async () => {
  const source = await readFile(join(dir, "misuse.ts"), "utf8");
  const r = await tsc(dir, ["misuse.ts"], "bundler");
  const count = checkMisuses("misuse.ts", source, r);
  assert.ok(count >= 15, `misuse lines found: ${count}`);
});

// The events' TypeScript is derived from the Rust types (tsify: src/core/events.rs,
// error.rs). The event guard of the Node suites holds its own copy of the schema, its
// lists held to the Rust enums by tests/schema.rs; here its field names and lists are
// held to the shipped declarations.
test("typings: the event guard's schema is the shipped CedatoEvent, field by field", async () => {
  const { CODES, OPS, OUTCOMES, SHAPES, SOURCES } = await import("../support/event-guard.mjs");
  const dts = await readFile(join(PKG_DIR, "cedato_auth.d.ts"), "utf8");
  const alias = (name) => {
    const found = new RegExp(`^export type ${name} = (.*);$`, "m").exec(dts);
    assert.ok(found, `the .d.ts declares ${name} on one line`);
    return found[1];
  };
  const strings = (name) => [...alias(name).matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(strings("CedatoErrorCode"), CODES);
  assert.deepEqual(strings("CedatoTokenSource"), SOURCES);
  assert.deepEqual(strings("CedatoStoreOp"), OPS);
  assert.deepEqual(strings("CedatoStoreOutcome"), OUTCOMES);
  const declared = Object.fromEntries(
    alias("CedatoEvent")
      .split(" | {")
      .map((object) => [/type: "(\w+)"/.exec(object)?.[1], [...object.matchAll(/(\w+)\??: /g)].map((m) => m[1])]),
  );
  assert.deepEqual(Object.keys(declared).sort(), Object.keys(SHAPES).sort());
  for (const [type, shape] of Object.entries(SHAPES)) assert.deepEqual(declared[type], Object.keys(shape), type);
});

// The stored value's TypeScript is derived from the Rust type (tsify: SealedEntry in
// src/core/store.rs). The shipped stores write it in JavaScript (stores/stored-token.mjs):
// here the fields they write are held to the declared ones, in order.
test("typings: the stores write the shipped StoredTokenAnswer's fields, and StoredToken's", async () => {
  const { entryText, withRefreshIn } = await import(pathToFileURL(join(PKG_DIR, "stores", "stored-token.mjs")).href);
  const dts = await readFile(join(PKG_DIR, "cedato_auth.d.ts"), "utf8");
  const body = /^export interface StoredTokenAnswer \{\n([\s\S]*?)\n\}$/m.exec(dts)?.[1];
  assert.ok(body, "the .d.ts declares StoredTokenAnswer");
  const declared = [...body.matchAll(/^ {4}(\w+)(\??): /gm)].map((m) => ({ name: m[1], optional: m[2] === "?" }));
  assert.ok(declared.length >= 3);
  const value = { sealed: "x", expiresAt: 5000, refreshAt: 4000 };
  assert.deepEqual(Object.keys(withRefreshIn(value, 1000)), declared.map((f) => f.name));
  assert.deepEqual(Object.keys(JSON.parse(entryText(value))), declared.filter((f) => !f.optional).map((f) => f.name));
});
