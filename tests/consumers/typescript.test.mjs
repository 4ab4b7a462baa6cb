// TypeScript 5.9 consumers of the installed package, type-checked with `tsc --strict
// --noEmit`: `module: nodenext` and `moduleResolution: bundler`, each in an ESM package
// ("type": "module") and in a CommonJS package (no "type"). Each compiles the correct files
// (tests/package/fixtures/types/consumer.ts, and in CommonJS packages require.cts with
// `import … = require()`) and fails on every misuse line of the misuse files, and only
// there; the declarations it resolved are the ones the exports map names for that case.
import assert from "node:assert/strict";
import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { checkMisuses, consumerProject, FIXTURES, toolBin, toolVersion, tsc } from "./setup.mjs";

const SETUPS = [
  { title: "nodenext, ESM", resolution: "nodenext", type: "module", types: "index.d.ts" },
  { title: "nodenext, CommonJS", resolution: "nodenext", types: "index.d.cts", cts: true },
  { title: "bundler, ESM", resolution: "bundler", type: "module", types: "index.d.ts" },
  // `import` syntax resolves the `import` types under bundler resolution; `import … =
  // require()` in require.cts resolves the `require` ones.
  { title: "bundler, CommonJS", resolution: "preserve", types: "index.d.ts", cts: true },
];

for (const setup of SETUPS) {
  test(`TypeScript 5.9 (${setup.title})`, { timeout: 180_000 }, async (t) => {
    const version = await toolVersion("typescript");
    assert.match(version, /^5\.9\./);
    const name = `typescript-${setup.resolution}-${setup.type ? "esm" : "cjs"}`;
    const dir = await consumerProject(name, { fixture: "typescript", packageJson: setup.type ? { type: setup.type } : {} });
    for (const file of ["consumer.ts", "misuse.ts"]) await cp(join(FIXTURES, "types", file), join(dir, file));
    // One tsc run per project, on the correct and the misuse files together (each run takes
    // seconds); `--types node` as in a Node project's tsconfig (the shared install's other
    // @types would only slow it down).
    const correct = ["consumer.ts", ...(setup.cts ? ["require.cts"] : [])];
    const misuses = ["misuse.ts", ...(setup.cts ? ["require-misuse.cts"] : [])];
    const r = await tsc(dir, [...correct, ...misuses], setup.resolution, ["--types", "node", "--listFiles"], { bin: toolBin("tsc") });

    await t.test(`the correct files compile (${correct.join(", ")})`, () => {
      assert.deepEqual(r.errors.filter((e) => !misuses.includes(e.file)), [], r.output);
      assert.ok(r.output.includes(`node_modules/cedato-auth/${setup.types}\n`), `${setup.types} resolved:\n${r.output}`);
      if (setup.cts) assert.ok(r.output.includes("node_modules/cedato-auth/index.d.cts\n"), `require.cts resolved index.d.cts:\n${r.output}`);
    });
    for (const file of misuses) {
      await t.test(`each misuse in ${file} is a compile error, and nothing else is`, async () => {
        const source = await readFile(join(dir, file), "utf8");
        checkMisuses(file, source, { ...r, errors: r.errors.filter((e) => e.file === file || !misuses.includes(e.file)) });
      });
    }
    t.diagnostic(`typescript ${version}, setup needed: none`);
  });
}
