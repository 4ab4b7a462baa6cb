// The shipped declarations under `tsc --strict --noEmit`: a consumer using every API of
// SPEC section 3 compiles, and each misuse in misuse.ts is reported on its own line.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { makeProject, tsc } from "./setup.mjs";

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
  const expected = new Map();
  source.split("\n").forEach((text, i) => {
    const m = text.match(/\/\/ misuse (TS\d+):/);
    if (m) expected.set(i + 1, m[1]);
  });
  assert.ok(expected.size >= 15, `misuse lines found: ${expected.size}`);

  const r = await tsc(dir, ["misuse.ts"], "bundler");
  assert.notEqual(r.code, 0, "tsc must fail on misuse.ts");
  const elsewhere = r.errors.filter((e) => e.file !== "misuse.ts");
  assert.deepEqual(elsewhere, [], "errors outside misuse.ts (e.g. in the shipped .d.ts)");

  const reported = new Map();
  for (const e of r.errors) reported.set(e.line, [...(reported.get(e.line) ?? []), e.code]);
  const missing = [...expected.keys()].filter((line) => !reported.has(line));
  assert.deepEqual(
    missing.map((line) => `${line}: ${source.split("\n")[line - 1].trim()}`),
    [],
    `misuses tsc accepted:\n${r.output}`,
  );
  const unexpected = [...reported.keys()].filter((line) => !expected.has(line));
  assert.deepEqual(unexpected, [], `errors on lines that are not misuses:\n${r.output}`);
  for (const [line, code] of expected) {
    assert.ok(reported.get(line).includes(code), `line ${line}: expected ${code}, got ${reported.get(line)}\n${r.output}`);
  }
});
