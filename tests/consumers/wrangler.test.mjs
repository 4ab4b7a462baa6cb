// wrangler 4 (the last line that runs on Node 20), offline: no login, no metrics, no
// update check. The project is the smallest `wrangler init` would make (wrangler.toml,
// no rules for .wasm) around the workerd suite's worker (tests/package/fixtures/workerd:
// a module-scope CedatoAuth, routes /token, /report, /wrong, /scenario).
// - `wrangler deploy --dry-run --outdir dist` bundles it: the package's workerd entry, and
//   the wasm as a module of its own beside the bundle (not inlined as base64).
// - `wrangler dev` (local, workerd, on 127.0.0.1) serves it; its requests get a token from
//   the mock (reachable from workerd on 127.0.0.1) and call the API with it. The mock's URL
//   and the credentials reach the worker through .dev.vars, as wrangler's docs keep local
//   secrets.
// - @cloudflare/vitest-pool-workers 0.15.1, the release built on this wrangler and
//   miniflare (later ones need Node 22), runs a Vitest 4 test inside workerd that imports
//   the package and runs the shared scenario.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startMockServer } from "../mock/server.mjs";
import { freePort, sleep } from "../support/common.mjs";
import {
  checkScenario,
  consumerEnv,
  consumerProject,
  credentialsFor,
  FIXTURES,
  installPackage,
  npmEnv,
  run,
  runOk,
  toolBin,
  toolVersion,
} from "./setup.mjs";

let mock;
let dir;
let env;
let version;
before(async () => {
  [mock, dir, version] = await Promise.all([startMockServer({ port: 0 }), consumerProject("wrangler"), toolVersion("wrangler")]);
  await cp(join(FIXTURES, "workerd", "worker.mjs"), join(dir, "worker.mjs"));
  await mkdir(join(dir, ".tmp"));
  env = {
    ...consumerEnv,
    // Wrangler's config and logs stay inside the project.
    XDG_CONFIG_HOME: join(dir, ".config"),
    WRANGLER_LOG_PATH: join(dir, ".wrangler-logs"),
    // No download of the Request.cf object (the placeholder is used).
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    // Wrangler 4.86 has no switch for its update check (banner, warnings, errors): it asks
    // the registry that `rc("npm")` finds (registry-url 3, which reads npm_registry from the
    // environment), here a closed port on this machine, and caches the answer for an hour
    // in the temp folder, here one of the project's own.
    npm_registry: "http://127.0.0.1:9/",
    TMPDIR: join(dir, ".tmp"),
  };
});
after(() => mock?.close());

test("wrangler 4 (deploy --dry-run)", { timeout: 180_000 }, async (t) => {
  assert.match(version, /^4\./);
  const outdir = join(dir, "dist");
  const r = await runOk(toolBin("wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: dir, env, timeout: 120_000 });
  assert.match(r.stdout, /--dry-run: exiting now/);
  assert.doesNotMatch(r.stdout + r.stderr, /update available/);
  const files = await readdir(outdir);
  const wasm = files.filter((f) => f.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `one .wasm module in ${files.join(", ")}`);
  assert.match(wasm[0], /cedato_auth_bg\.wasm$/);
  const bundle = await readFile(join(outdir, "worker.js"), "utf8");
  assert.ok(bundle.includes(`from "./${wasm[0]}"`), "the bundle imports the wasm module");
  assert.doesNotMatch(bundle, /wasmBase64|[A-Za-z0-9+/]{1000}/, "no base64 copy of the wasm in the bundle");
  const sizes = { js: (await stat(join(outdir, "worker.js"))).size, wasm: (await stat(join(outdir, wasm[0]))).size };
  assert.ok(sizes.js < 100_000, `worker.js is ${sizes.js} bytes`);
  t.diagnostic(`wrangler ${version}: worker.js ${sizes.js} B + ${wasm[0]} ${sizes.wasm} B; setup needed: none`);
});

/** Starts `wrangler dev` on 127.0.0.1; resolves `{ url, output(), stop() }` once it is ready. */
async function startDev() {
  const port = await freePort();
  let inspectorPort;
  do inspectorPort = await freePort();
  while (inspectorPort === port);
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort), "--show-interactive-dev-session=false"];
  // Its own process group, so that stopping it stops the workerd it started too.
  const child = spawn(toolBin("wrangler"), args, { cwd: dir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid, "SIGTERM");
    const timer = setTimeout(() => child.exitCode === null && process.kill(-child.pid, "SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 90_000;
  while (!output.includes(`Ready on http://127.0.0.1:${port}`)) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev was not ready within 90 s:\n${output}`);
    }
    await sleep(100);
  }
  return { url: `http://127.0.0.1:${port}`, output: () => output, stop };
}

test("wrangler 4 (dev)", { timeout: 180_000 }, async (t) => {
  const creds = credentialsFor("wrangler-dev");
  const scenarioCreds = credentialsFor("wrangler-dev-scenario");
  const vars = {
    CEDATO_BASE_URL: mock.baseUrl,
    CEDATO_CLIENT_ID: creds.clientId,
    CEDATO_CLIENT_SECRET: creds.clientSecret,
    SCENARIO_CLIENT_ID: scenarioCreds.clientId,
  };
  await writeFile(join(dir, ".dev.vars"), Object.entries(vars).map(([k, v]) => `${k}="${v}"`).join("\n") + "\n");
  const dev = await startDev();
  t.after(() => dev.stop());
  const get = async (path) => {
    const res = await fetch(dev.url + path);
    const text = await res.text();
    assert.equal(res.headers.get("content-type"), "application/json", `${path}: ${res.status} ${text.slice(0, 500)}\n${dev.output()}`);
    return { status: res.status, body: JSON.parse(text) };
  };

  await t.test("10 concurrent requests share one token of the module-scope CedatoAuth", async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => get("/token")));
    for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
    const token = answers[0].body.token;
    assert.match(token, /^[\x21-\x7e]+$/);
    for (const a of answers) assert.equal(a.body.header, `Bearer ${token}`);
    assert.equal(mock.client(creds.clientId).stats().tokenRequests, 1);
  });
  await t.test("an API call with that token", async () => {
    const { status, body } = await get("/report");
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.data.supplies.length, 5);
    assert.equal(mock.client(creds.clientId).stats().apiRequests, 1);
  });
  await t.test("the common scenario inside one request", async () => {
    const { status, body } = await get("/scenario");
    assert.equal(status, 200, JSON.stringify(body));
    checkScenario(body, mock, scenarioCreds.clientId);
  });
  await t.test("wrong credentials: token_rejected, the secret nowhere in the answer", async () => {
    const { status, body } = await get("/wrong");
    assert.equal(status, 500);
    assert.equal(body.error.code, "token_rejected");
    assert.doesNotMatch(JSON.stringify(body), /not-the-secret/);
  });
  await dev.stop();
  assert.doesNotMatch(dev.output(), /different request context|Uncaught|✘ \[ERROR\]/, dev.output());
  // Offline: no update check answered, no Request.cf download tried.
  assert.doesNotMatch(dev.output(), /update available|Request\.cf|ENOTFOUND/, dev.output());
  t.diagnostic(`wrangler ${version} dev (local workerd); setup needed: none`);
});

test("@cloudflare/vitest-pool-workers 0.15", { timeout: 180_000 }, async (t) => {
  const poolVersion = await toolVersion("@cloudflare/vitest-pool-workers");
  assert.equal(poolVersion, "0.15.1");
  const project = await consumerProject("vitest-pool-workers");
  await cp(join(FIXTURES, "workerd", "worker.mjs"), join(project, "worker.mjs"));
  // The package in the project's own node_modules, as in a user's project. From the shared
  // install above the project (a hoisted workspace layout) the pool fails: the package's
  // .wasm is outside Vite's root, its `/@fs/...` URL reaches the pool's module fallback,
  // which answers "No such module".
  await runOk("npm", ["install", "--no-save", "--no-package-lock", "--offline", "--ignore-scripts", await installPackage()], {
    cwd: project,
    env: npmEnv,
    timeout: 120_000,
  });
  const creds = credentialsFor("vitest-pool-workers");
  const vars = { CEDATO_BASE_URL: mock.baseUrl, CEDATO_CLIENT_ID: creds.clientId, CEDATO_CLIENT_SECRET: creds.clientSecret };
  const r = await run(toolBin("vitest"), ["run"], { cwd: project, env: { ...env, ...vars, TMPDIR: join(dir, ".tmp") }, timeout: 120_000 });
  assert.equal(r.code, 0, `vitest failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Tests\s+1 passed \(1\)/);
  const line = r.stdout.split("\n").find((l) => l.startsWith("SCENARIO_RESULT "));
  assert.ok(line, `the test printed no result:\n${r.stdout}`);
  checkScenario(JSON.parse(line.slice("SCENARIO_RESULT ".length)), mock, creds.clientId);
  t.diagnostic(`@cloudflare/vitest-pool-workers ${poolVersion}, vitest ${await toolVersion("vitest")}; setup needed: none (the pool itself needs compatibility_flags = ["nodejs_compat"])`);
});
