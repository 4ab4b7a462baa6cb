// Jest 30, set up three ways its docs describe: the Babel setup (babel.config.js with
// @babel/preset-env for the current Node, tests written with `import`), zero configuration
// with `require('cedato-auth')` in a CommonJS test, and ESM mode (node
// --experimental-vm-modules, `transform: {}`). Each project's test gets a token from the
// mock and calls the API with it (the shared scenario), and Jest must pass.
import assert from "node:assert/strict";
import { copyFile } from "node:fs/promises";
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
    assert.match(r.stderr, /Tests:\s+1 passed, 1 total/);
    await scenario.check();
    t.diagnostic(`jest ${version}, setup needed: none`);
  });
}
