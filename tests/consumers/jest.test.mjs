// Jest 30, set up the ways its docs describe: the Babel setup (babel.config.js with
// @babel/preset-env for the current Node, tests written with `import`), zero configuration
// with `require('cedato-auth')` in a CommonJS test, ESM mode (node
// --experimental-vm-modules, `transform: {}`), and a project whose tests run in jsdom
// (`testEnvironment: "jsdom"`). Each project's test gets a token from the mock and calls
// the API with it (the shared scenario), and Jest must pass.
//
// jsdom's environment has no fetch, Request, Response, TextEncoder or TextDecoder (Jest
// 30.5 with jsdom 26), so the package cannot run there, whichever entry the export
// conditions pick (with `customExportConditions: ["node"]` its glue stops at "TextDecoder
// is not defined"). Jest's per-file docblock `@jest-environment node` runs the test files
// that use the package in Node's environment: that one line is the setup needed.
import assert from "node:assert/strict";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startMockServer } from "../mock/server.mjs";
import { CONSUMER_FIXTURES, consumerProject, run, scenarioRun, toolBin, toolVersion } from "./setup.mjs";

const SETUPS = [
  {
    title: "Babel",
    project: "jest-babel",
    fixture: "jest/import",
    packageJson: {},
    prepare: (dir) => copyFile(join(CONSUMER_FIXTURES, "jest", "babel.config.js"), join(dir, "babel.config.js")),
  },
  {
    title: "zero config, require",
    project: "jest-require",
    fixture: "jest/require",
    packageJson: {},
  },
  {
    title: "ESM mode",
    project: "jest-esm",
    fixture: "jest/import",
    // Jest's ECMAScript Modules page: no code transforms, and node --experimental-vm-modules.
    packageJson: { type: "module", jest: { transform: {} } },
    nodeArgs: ["--experimental-vm-modules"],
  },
  {
    title: "jsdom project",
    project: "jest-jsdom",
    fixture: "jest/require",
    packageJson: { jest: { testEnvironment: "jsdom" } },
    setupNeeded: "`/** @jest-environment node */` atop the test files that use the package",
    prepare: async (dir) => {
      const file = join(dir, "cedato.spec.js");
      await writeFile(file, "/** @jest-environment node */\n" + (await readFile(file, "utf8")));
      await copyFile(join(CONSUMER_FIXTURES, "jest", "jsdom", "dom.spec.js"), join(dir, "dom.spec.js"));
    },
    tests: 2,
  },
];

let mock;
let version;
before(async () => {
  [mock, version] = await Promise.all([startMockServer({ port: 0 }), toolVersion("jest")]);
});
after(() => mock?.close());

for (const setup of SETUPS) {
  test(`Jest 30 (${setup.title})`, { timeout: 240_000 }, async (t) => {
    assert.match(version, /^30\./);
    const dir = await consumerProject(setup.project, { fixture: setup.fixture, packageJson: setup.packageJson });
    await setup.prepare?.(dir);
    const scenario = await scenarioRun(mock, setup.project, dir);
    const args = [...(setup.nodeArgs ?? []), toolBin("jest"), "--ci", "--cacheDirectory", join(dir, ".jest-cache")];
    const r = await run(process.execPath, args, { cwd: dir, env: scenario.env, timeout: 180_000 });
    assert.equal(r.code, 0, `jest failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    const tests = setup.tests ?? 1;
    assert.match(r.stderr, new RegExp(`Tests:\\s+${tests} passed, ${tests} total`));
    await scenario.check();
    t.diagnostic(`jest ${version}, setup needed: ${setup.setupNeeded ?? "none"}`);
  });
}
