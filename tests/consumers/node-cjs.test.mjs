// Node CommonJS on this Node (>= 20): `require('cedato-auth')` from a .cjs file in an ESM
// package and from a CommonJS package (no "type"), and the Redis store required the same
// way. Each also runs with --no-experimental-require-module, where Node has it (20.19+ and
// 22.12+ load ES modules through require() by default; older Node that `engines` allows
// cannot): so it passes only through the package's own `require` condition.
import assert from "node:assert/strict";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startMockServer } from "../mock/server.mjs";
import { startRedis } from "../fleet/setup.mjs";
import { consumerProject, credentialsFor, run, runOk, scenarioRun } from "./setup.mjs";

const NO_REQUIRE_ESM = "--no-experimental-require-module";
/** Node's flags to run each case with: as it is, and without require(esm) if Node has the flag. */
let flagSets;
let mock;
before(async () => {
  mock = await startMockServer({ port: 0 });
  const probe = await run(process.execPath, [NO_REQUIRE_ESM, "-e", ""]);
  flagSets = probe.code === 0 ? [[], [NO_REQUIRE_ESM]] : [[]];
});
after(() => mock?.close());

const label = (flags) => (flags.length ? flags.join(" ") : "default flags");

/** Runs `file` of the project under each flag set; it must resolve the package to node.cjs. */
async function runScript(t, project, dir, file) {
  for (const flags of flagSets) {
    await t.test(label(flags), async () => {
      const scenario = await scenarioRun(mock, `${project}${flags.length ? "-no-require-esm" : ""}`, dir);
      const r = await runOk(process.execPath, [...flags, file], { cwd: dir, env: scenario.env, timeout: 30_000 });
      assert.match(r.stdout.trim(), /node_modules\/cedato-auth\/node\.cjs$/);
      await scenario.check();
    });
  }
}

test("Node CommonJS (.cjs file)", { timeout: 180_000 }, async (t) => {
  const dir = await consumerProject("node-cjs-file", { fixture: "node-cjs" });
  await runScript(t, "node-cjs-file", dir, "main.cjs");
  t.diagnostic(`node ${process.version}, setup needed: none`);
});

test("Node CommonJS (package)", { timeout: 180_000 }, async (t) => {
  const dir = await consumerProject("node-cjs-package", { fixture: "node-cjs", packageJson: {} });
  await copyFile(join(dir, "main.cjs"), join(dir, "index.js"));
  await runScript(t, "node-cjs-package", dir, "index.js");
  t.diagnostic(`node ${process.version}, setup needed: none`);
});

test("Node CommonJS (Redis store)", { timeout: 180_000 }, async (t) => {
  const [dir, redis] = await Promise.all([consumerProject("node-cjs-redis", { fixture: "node-cjs", packageJson: {} }), startRedis()]);
  t.after(() => redis.stop());
  for (const flags of flagSets) {
    await t.test(label(flags), async () => {
      const creds = credentialsFor(`node-cjs-redis${flags.length ? "-no-require-esm" : ""}`);
      const env = {
        ...process.env,
        REDIS_URL: redis.url,
        CEDATO_BASE_URL: mock.baseUrl,
        CEDATO_CLIENT_ID: creds.clientId,
        CEDATO_CLIENT_SECRET: creds.clientSecret,
      };
      // Two processes: the first fetches the token and stores it, the second reads it from Redis.
      const first = JSON.parse((await runOk(process.execPath, [...flags, "redis.cjs"], { cwd: dir, env, timeout: 30_000 })).stdout);
      const second = JSON.parse((await runOk(process.execPath, [...flags, "redis.cjs"], { cwd: dir, env, timeout: 30_000 })).stdout);
      assert.match(first.store, /node_modules\/cedato-auth\/stores\/redis\.cjs$/);
      assert.match(first.token, /^[\x21-\x7e]+$/);
      assert.equal(second.token, first.token, "the second process got the stored token");
      assert.equal(first.stats.tokenRequests, 1);
      assert.equal(second.stats.tokenRequests, 0);
      assert.equal(second.stats.storeHits, 1);
      assert.equal(mock.client(creds.clientId).stats().tokenRequests, 1, "one token request for both processes");
    });
  }
  t.diagnostic(`node ${process.version}, setup needed: none`);
});
