// Vitest 4 with its default configuration (no config file): `vitest run` in an ESM project
// whose test gets a token from the mock and calls the API with it (the shared scenario).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startMockServer } from "../mock/server.mjs";
import { consumerProject, run, scenarioRun, toolBin, toolVersion } from "./setup.mjs";

let mock;
before(async () => {
  mock = await startMockServer({ port: 0 });
});
after(() => mock?.close());

test("Vitest 4", { timeout: 240_000 }, async (t) => {
  const version = await toolVersion("vitest");
  assert.match(version, /^4\./);
  const dir = await consumerProject("vitest");
  const scenario = await scenarioRun(mock, "vitest", dir);
  const r = await run(toolBin("vitest"), ["run"], { cwd: dir, env: scenario.env, timeout: 180_000 });
  assert.equal(r.code, 0, `vitest failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Tests\s+1 passed \(1\)/);
  await scenario.check();
  t.diagnostic(`vitest ${version}, setup needed: none`);
});
