// Shared setup of the consumer-project suites: the JS tools users build with (Jest,
// Vitest, webpack, Next.js, Bun, Rollup, Parcel, wrangler, TypeScript), each given a
// minimal project set up the way that tool's own docs set one up, with the packed
// cedato-auth tarball installed.
//
// One install serves every project: tests/consumers/package.json and its lock pin the
// tools, `tools/bootstrap.sh test` runs `npm ci` there (the only step that needs the
// registry), and this file installs the packed tarball into that same node_modules
// (`npm install --offline`, once per tarball). Each project is written afresh under
// tests/consumers/build/<tool>/, below that node_modules, so Node's resolution finds the
// tools and the package there, as in a project of the user's own.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkScenario,
  credentialsFor,
  FIXTURES as PACKAGE_FIXTURES,
  npmEnv,
  packTarball,
  ROOT,
  runOk,
  withLock,
  writeScenarioPage,
} from "../package/setup.mjs";

export * from "../package/setup.mjs";

export const CONSUMERS = fileURLToPath(new URL("./", import.meta.url));
export const CONSUMER_FIXTURES = join(CONSUMERS, "fixtures");
export const CONSUMER_PROJECTS = join(CONSUMERS, "build");
const MODULES = join(CONSUMERS, "node_modules");

/**
 * The environment of every tool run: offline, no telemetry, no update checks. (wrangler
 * 4.86 has no switch for its update check: wrangler.test.mjs adds what stops it.)
 */
export const consumerEnv = {
  ...npmEnv,
  npm_config_offline: "true",
  NEXT_TELEMETRY_DISABLED: "1",
  WRANGLER_SEND_METRICS: "false",
  DO_NOT_TRACK: "1",
  PARCEL_WORKERS: "1",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

/** The path of a tool's executable in the shared install (node_modules/.bin/<name>). */
export function toolBin(name) {
  const path = join(MODULES, ".bin", name);
  assert.ok(existsSync(path), `${name} is not installed in tests/consumers: run tools/bootstrap.sh test`);
  return path;
}

/** The version of a package in the shared install. */
export async function toolVersion(name) {
  return JSON.parse(await readFile(join(MODULES, name, "package.json"), "utf8")).version;
}

let installed;
/**
 * Installs the packed tarball into the shared node_modules, once per tarball (the
 * installed package's hash is compared with the tarball's key), under a lock so that
 * suites running side by side install it once.
 */
export function installPackage() {
  installed ??= (async () => {
    const { tarball, key } = await packTarball();
    assert.ok(existsSync(MODULES), "tests/consumers/node_modules is missing: run tools/bootstrap.sh test");
    const stamp = join(MODULES, ".cedato-auth-key");
    await withLock(join(CONSUMERS, "install.lock"), async () => {
      // An npm install in tests/consumers since (a tool added) prunes the --no-save
      // package but leaves the stamp: it is checked too.
      const current = (await readFile(stamp, "utf8").catch(() => "")) === key;
      if (current && existsSync(join(MODULES, "cedato-auth", "package.json"))) return;
      await runOk("npm", ["install", "--no-save", "--offline", "--ignore-scripts", tarball], {
        cwd: CONSUMERS,
        env: npmEnv,
        timeout: 300_000,
      });
      await writeFile(stamp, key);
    });
    assert.ok(existsSync(join(MODULES, "cedato-auth", "package.json")), "cedato-auth installed");
    return tarball;
  })();
  return installed;
}

/**
 * A fresh project tests/consumers/build/<name>/: the fixture folder
 * tests/consumers/fixtures/<fixture> copied in, plus the shared scenario
 * (tests/package/fixtures/scenario.mjs) and a package.json (the fixture's own if it has
 * one, else `packageJson`), and the `page` if given (writeScenarioPage). The package is
 * installed first. Resolves the project's path.
 */
export async function consumerProject(name, { fixture = name, packageJson = { type: "module" }, page } = {}) {
  await installPackage();
  const dir = join(CONSUMER_PROJECTS, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  if (fixture) await cp(join(CONSUMER_FIXTURES, fixture), dir, { recursive: true });
  await cp(join(PACKAGE_FIXTURES, "scenario.mjs"), join(dir, "scenario.mjs"));
  if (!existsSync(join(dir, "package.json"))) {
    const manifest = { name: `consumer-${name}`, version: "0.0.0", private: true, ...packageJson };
    await writeFile(join(dir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
  }
  if (page) await writeScenarioPage(dir, page);
  return dir;
}

/**
 * The scenario modules of a project run by a tool (Jest, Vitest, Bun, Node scripts):
 * scenario.js (a copy of the shared tests/package/fixtures/scenario.mjs under the name that
 * babel-jest transforms), env-scenario.js (fixtures/env-scenario.js: the scenario driven by
 * the environment, see scenarioRun) and env-scenario.cjs, esbuild's CommonJS bundle of the
 * two for the `require()` consumers: one source for every module system.
 */
export async function writeScenarioModules(dir) {
  await cp(join(dir, "scenario.mjs"), join(dir, "scenario.js"));
  await cp(join(CONSUMER_FIXTURES, "env-scenario.js"), join(dir, "env-scenario.js"));
  await runOk(join(ROOT, "node_modules", ".bin", "esbuild"), [
    join(dir, "env-scenario.js"),
    "--bundle",
    "--platform=node",
    "--format=cjs",
    "--log-level=warning",
    `--outfile=${join(dir, "env-scenario.cjs")}`,
  ]);
}

/**
 * Writes the scenario modules into the project `dir` (writeScenarioModules) and resolves
 * what its env-scenario.js needs: the environment it reads (CEDATO_BASE_URL,
 * CEDATO_CLIENT_ID, CEDATO_CLIENT_SECRET: credentials of `runtime`'s own) and SCENARIO_OUT,
 * the file it writes its result to. `check()` reads that file and asserts it with
 * checkScenario.
 */
export async function scenarioRun(mock, runtime, dir) {
  await writeScenarioModules(dir);
  const creds = credentialsFor(runtime);
  const out = join(dir, `${runtime}.result.json`);
  return {
    creds,
    env: {
      ...consumerEnv,
      CEDATO_BASE_URL: mock.baseUrl,
      CEDATO_CLIENT_ID: creds.clientId,
      CEDATO_CLIENT_SECRET: creds.clientSecret,
      SCENARIO_OUT: out,
    },
    async check() {
      const text = await readFile(out, "utf8").catch(() => assert.fail(`the tool's test wrote no result to ${out}`));
      checkScenario(JSON.parse(text), mock, creds.clientId);
    },
  };
}
