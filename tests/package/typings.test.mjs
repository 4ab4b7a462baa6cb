// The shipped declarations under `tsc --strict --noEmit`: a consumer using every API of
// SPEC section 3 compiles, and each misuse in misuse.ts is reported on its own line.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { checkMisuses, makeProject, tsc } from "./setup.mjs";

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
