// TypeScript 5.9 consumers of the installed package, type-checked with `tsc --strict
// --noEmit`: `module: nodenext` and `moduleResolution: bundler`, each in an ESM package
// ("type": "module") and in a CommonJS package (no "type"). Each compiles the correct files
// (tests/package/fixtures/types/consumer.ts, and in CommonJS packages require.cts with
// `import … = require()`) and fails on every misuse line of the misuse files, and only
// there; the declarations it resolved are the ones the exports map names for that case.
import assert from "node:assert/strict";
import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { checkMisuses, consumerProject, FIXTURES, installPackage, toolBin, toolVersion, tsc } from "./setup.mjs";

const SETUPS = [
  { title: "nodenext, ESM", resolution: "nodenext", type: "module", types: "index.d.ts" },
  { title: "nodenext, CommonJS", resolution: "nodenext", types: "index.d.cts", cts: true },
  { title: "bundler, ESM", resolution: "bundler", type: "module", types: "index.d.ts" },
  // `import` syntax resolves the `import` types under bundler resolution; `import … =
  // require()` in require.cts resolves the `require` ones.
  { title: "bundler, CommonJS", resolution: "preserve", types: "index.d.ts", cts: true },
];

/**
 * Writes the project of `setup` and runs tsc once on its correct and misuse files
 * together. `--typeRoots` names a folder with no types: none of the shared install's
 * @types is loaded, so the package's declarations stand on lib es2022 + dom alone (and
 * each run takes a third of the time).
 */
async function compile(setup) {
  const name = `typescript-${setup.resolution}-${setup.type ? "esm" : "cjs"}`;
  const dir = await consumerProject(name, { fixture: "typescript", packageJson: setup.type ? { type: setup.type } : {} });
  for (const file of ["consumer.ts", "misuse.ts"]) await cp(join(FIXTURES, "types", file), join(dir, file));
  const correct = ["consumer.ts", ...(setup.cts ? ["require.cts"] : [])];
  const misuses = ["misuse.ts", ...(setup.cts ? ["require-misuse.cts"] : [])];
  const extra = ["--typeRoots", join(dir, "no-types"), "--listFiles"];
  const r = await tsc(dir, [...correct, ...misuses], setup.resolution, extra, { bin: toolBin("tsc") });
  return { dir, correct, misuses, r };
}

// The four projects compile side by side (tsc is the slow part); each test awaits its own.
const compiled = new Map();
before(async () => {
  await installPackage();
  for (const setup of SETUPS) {
    const run = compile(setup);
    run.catch(() => {}); // its test reports a failure
    compiled.set(setup, run);
  }
});

for (const setup of SETUPS) {
  test(`TypeScript 5.9 (${setup.title})`, { timeout: 180_000 }, async (t) => {
    const version = await toolVersion("typescript");
    assert.match(version, /^5\.9\./);
    const { dir, correct, misuses, r } = await compiled.get(setup);

    await t.test(`the correct files compile (${correct.join(", ")})`, () => {
      assert.deepEqual(r.errors.filter((e) => !misuses.includes(e.file)), [], r.output);
      assert.ok(r.output.includes(`node_modules/cedato-auth/${setup.types}\n`), `${setup.types} resolved:\n${r.output}`);
      if (setup.cts) assert.ok(r.output.includes("node_modules/cedato-auth/index.d.cts\n"), `require.cts resolved index.d.cts:\n${r.output}`);
      assert.doesNotMatch(r.output, /node_modules\/@types\//, "no @types loaded");
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
