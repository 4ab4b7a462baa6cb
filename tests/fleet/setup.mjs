// Shared setup of the fleet suites: a consumer project that resolves "cedato-auth" to the
// built pkg/ (through its package.json exports, as a user's project would), worker bundles
// for miniflare, and a private redis-server.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { buildWorker, workerModules } from "../../tools/worker-bundle.mjs";
import { startMockServer } from "../mock/server.mjs";
import { credentials as freshCredentials, freePort, sleep } from "../support/common.mjs";
import { storeKeyOf } from "../support/sealed.mjs";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The package under test: pkg/, or another build (`CEDATO_PKG_DIR`, e.g. to measure a "before"). */
export const PKG_DIR = process.env.CEDATO_PKG_DIR ?? join(ROOT, "pkg");
export const FIXTURES = join(ROOT, "tests", "fleet", "fixtures");

export { sleep } from "../support/common.mjs";

/** Credentials the mock accepts and no other test uses (`t-fleet-<tag>-…`). */
export const credentials = (tag) => freshCredentials(`fleet-${tag}`);

/** The store key CedatoAuth uses for these credentials (tests/support/sealed.mjs). */
export const storeKey = (baseUrl, creds) => storeKeyOf(creds, baseUrl);

/**
 * build/fleet/<name>/ with node_modules/cedato-auth linked to pkg/ and the given fixture
 * files copied in. Resolves its path.
 */
export async function makeProject(name, fixtures) {
  assert.ok(existsSync(join(PKG_DIR, "stores", "redis.mjs")), "pkg/ with stores/: build it first with tools/build-pkg.sh");
  const dir = join(ROOT, "build", "fleet", name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "node_modules"), { recursive: true });
  await symlink(PKG_DIR, join(dir, "node_modules", "cedato-auth"), "dir");
  for (const file of fixtures) await copyFile(join(FIXTURES, file), join(dir, file));
  return dir;
}

/** Bundles `entry` like wrangler does (tools/worker-bundle.mjs) into dist/; resolves the bundle's path. */
export async function bundleWorker(dir, entry) {
  const outfile = join(dir, "dist", entry);
  await buildWorker({ entryPoints: [join(dir, entry)], outfile });
  return outfile;
}

/**
 * The before/after hooks of a miniflare fleet suite: before the tests, the mock server and
 * the project build/fleet/<name>/ with `entry` (and fleet-worker.mjs) bundled; after them,
 * the suite's miniflare and the mock. Returns `{ mock, script, mf, start(workers) }`, filled
 * in before the tests run: `start` disposes of the previous miniflare and resolves a fresh
 * one running `workers` once it is ready. With `workersOf(suite)`, the hook starts those
 * workers too (Node 20 runs a file's `before` hooks side by side, so it is one hook).
 */
export function useWorkerFleet(name, entry, workersOf = undefined) {
  const suite = {
    async start(workers) {
      await suite.mf?.dispose();
      suite.mf = new Miniflare({ workers });
      await suite.mf.ready;
      return suite.mf;
    },
  };
  before(async () => {
    suite.mock = await startMockServer({ port: 0 });
    const dir = await makeProject(name, [entry, "fleet-worker.mjs"]);
    suite.script = await bundleWorker(dir, entry);
    if (workersOf) await suite.start(workersOf(suite));
  });
  after(async () => {
    await suite.mf?.dispose();
    await suite.mock?.close();
  });
  return suite;
}

/** Options shared by every worker of a miniflare instance running `scriptPath`. */
export const workerOptions = (scriptPath, bindings) => ({ ...workerModules(scriptPath), bindings });

/** The env of fleet worker `name` (fixtures/fleet-worker.mjs) for `creds` on `mock`. */
export const fleetBindings = (mock, creds, name) => ({
  CEDATO_BASE_URL: mock.baseUrl,
  CEDATO_CLIENT_ID: creds.clientId,
  CEDATO_CLIENT_SECRET: creds.clientSecret,
  WORKER_NAME: name,
});

/** `n` concurrent requests to the worker `name` of `mf`: `[{ status, body }]`. */
export async function callWorker(mf, name, n) {
  const worker = await mf.getWorker(name);
  return Promise.all(
    Array.from({ length: n }, async () => {
      const res = await worker.fetch("http://fleet.test/report");
      return { status: res.status, body: await res.json() };
    }),
  );
}

/** Asserts every answer is the report (200, 57 supplies); returns the set of tokens used. */
export function tokensOf(answers) {
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  for (const a of answers) assert.equal(a.body.total, 57);
  return new Set(answers.map((a) => a.body.token));
}


function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/**
 * A private redis-server on 127.0.0.1 (no persistence, data dir in a temp folder):
 * `{ url, port, stop() }`.
 */
export async function startRedis() {
  const dir = await mkdtemp(join(tmpdir(), "cedato-fleet-redis-"));
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let spawnError;
  child.once("error", (err) => (spawnError = err));
  for (let i = 0; ; i++) {
    if (spawnError) throw new Error(`redis-server could not start (is it installed? tools/bootstrap.sh test): ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${output}`);
    if (await canConnect(port)) break;
    if (i > 100) throw new Error(`redis-server did not listen on ${port}:\n${output}`);
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
