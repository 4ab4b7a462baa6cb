// Bun, from the shared install's `bun` package: `bun test` and `bun run` of an ESM project
// whose code gets a token from the mock and calls the API with it (the shared scenario).
//
// The binary: the `bun` package's postinstall (install.js) moves bin/bun out of the
// platform package (@oven/bun-linux-x64, whose bin/ is then empty) to bun/bin/bun.exe,
// which node_modules/.bin/bun links to. An install with --ignore-scripts leaves the
// placeholder there instead, and this suite says so.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startMockServer } from "../mock/server.mjs";
import { consumerProject, run, scenarioRun, toolBin, toolVersion } from "./setup.mjs";

let mock;
let dir;
let version;
before(async () => {
  [mock, dir, version] = await Promise.all([startMockServer({ port: 0 }), consumerProject("bun"), toolVersion("bun")]);
  const r = await run(toolBin("bun"), ["--version"], { cwd: dir }).catch((err) => ({ code: 1, stdout: "", stderr: String(err) }));
  assert.equal(
    r.code === 0 && r.stdout.trim(),
    version,
    `node_modules/.bin/bun does not run (${r.stderr.trim()}): the bun package's postinstall did not put the binary in place; run npm ci in tests/consumers without --ignore-scripts`,
  );
});
after(() => mock?.close());

test("Bun 1.4 (bun test)", { timeout: 120_000 }, async (t) => {
  const scenario = await scenarioRun(mock, "bun-test", dir);
  const r = await run(toolBin("bun"), ["test"], { cwd: dir, env: scenario.env, timeout: 60_000 });
  assert.equal(r.code, 0, `bun test failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /^ 1 pass$/m);
  await scenario.check();
  t.diagnostic(`bun ${version}, setup needed: none`);
});

test("Bun 1.4 (bun run)", { timeout: 120_000 }, async (t) => {
  const scenario = await scenarioRun(mock, "bun-run", dir);
  const r = await run(toolBin("bun"), ["run", "main.mjs"], { cwd: dir, env: scenario.env, timeout: 60_000 });
  assert.equal(r.code, 0, `bun run failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  await scenario.check();
  t.diagnostic(`bun ${version}, setup needed: none`);
});
