// workerd (Cloudflare Workers) through miniflare: the worker is bundled like wrangler does
// (tools/worker-bundle.mjs: esbuild, conditions workerd/worker/browser, `.wasm` imports
// kept as CompiledWasm modules), its CedatoAuth lives at module scope, and 20 concurrent
// requests share one token request.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Miniflare } from "miniflare";
import { buildWorker, workerModules } from "../../tools/worker-bundle.mjs";
import { startMockServer } from "../mock/server.mjs";
import { checkScenario, credentialsFor, makeProject, REPORT_ROW_KEYS } from "./setup.mjs";

const creds = credentialsFor("workerd");
const scenarioCreds = credentialsFor("workerd-scenario");
let mock;
let mf;
let dir;
let runtimeOutput = "";

before(async () => {
  [mock, dir] = await Promise.all([startMockServer({ port: 0 }), makeProject("workerd", { fixture: "workerd" })]);
  const outdir = join(dir, "dist");
  const built = await buildWorker({
    entryPoints: [join(dir, "worker.mjs")],
    outfile: join(outdir, "worker.mjs"),
    metafile: true,
  });
  // The "workerd" condition picked the package's workerd entry.
  const inputs = Object.keys(built.metafile.inputs);
  assert.ok(inputs.includes("node_modules/cedato-auth/workerd.mjs") || inputs.some((i) => i.endsWith("node_modules/cedato-auth/workerd.mjs")), inputs.join("\n"));
  mf = new Miniflare({
    // workerd's own output (warnings such as cross-request promise resolution) is kept
    // for the last test, which requires it to be free of them.
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (chunk) => (runtimeOutput += chunk));
      stderr.on("data", (chunk) => (runtimeOutput += chunk));
    },
    ...workerModules(join(outdir, "worker.mjs")),
    bindings: {
      CEDATO_BASE_URL: mock.baseUrl,
      CEDATO_CLIENT_ID: creds.clientId,
      CEDATO_CLIENT_SECRET: creds.clientSecret,
      SCENARIO_CLIENT_ID: scenarioCreds.clientId,
    },
  });
  await mf.ready;
}, { timeout: 180_000 });

after(async () => {
  await mf?.dispose();
  await mock?.close();
});

async function get(path) {
  const res = await mf.dispatchFetch(`http://worker.test${path}`);
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: { notJson: text.slice(0, 300) } };
  }
}

test("workerd: 20 concurrent requests to a module-scope CedatoAuth make one token request", { timeout: 90_000 }, async (t) => {
  const answers = await Promise.all(Array.from({ length: 20 }, () => get("/token")));
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  const token = answers[0].body.token;
  assert.match(token, /^[\x21-\x7e]+$/);
  for (const a of answers) {
    assert.equal(a.body.token, token);
    assert.equal(a.body.header, `Bearer ${token}`);
    assert.equal(a.body.hasValidToken, true);
  }
  const stats = mock.client(creds.clientId).stats();
  t.diagnostic(`workerd: 20 concurrent requests -> ${stats.tokenRequests} token request(s)`);
  assert.equal(stats.tokenRequests, 1, JSON.stringify(stats));
});

test("workerd: auth.request() with the cached token", { timeout: 90_000 }, async () => {
  const { status, body } = await get("/report");
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.status, "OK");
  assert.equal(body.data.supplies.length, 5);
  assert.equal(body.data.navigation.total, 57);
  assert.deepEqual(Object.keys(body.data.supplies[0]).sort(), REPORT_ROW_KEYS);
  const stats = mock.client(creds.clientId).stats();
  assert.equal(stats.tokenRequests, 1, JSON.stringify(stats));
  assert.equal(stats.apiRequests, 1, JSON.stringify(stats));
});

test("workerd: wrong credentials reject with token_rejected (10 concurrent requests, one token request)", { timeout: 90_000 }, async () => {
  const answers = await Promise.all(Array.from({ length: 10 }, () => get("/wrong")));
  for (const { status, body } of answers) {
    assert.equal(status, 500, JSON.stringify(body));
    assert.equal(body.error.isError, true);
    assert.equal(body.error.name, "CedatoError");
    assert.equal(body.error.code, "token_rejected");
    assert.equal(body.error.status, 401);
    assert.doesNotMatch(body.error.message, /not-the-secret/);
  }
  const stats = mock.client(`${creds.clientId}-wrong`).stats();
  assert.equal(stats.tokenRequests, 1, JSON.stringify(stats));
});

test("workerd: the common scenario inside one request", { timeout: 90_000 }, async () => {
  const { status, body } = await get("/scenario");
  assert.equal(status, 200, JSON.stringify(body));
  checkScenario(body, mock, scenarioCreds.clientId);
});

test("workerd: no runtime warnings (cross-request promises, hung requests)", { timeout: 90_000 }, () => {
  assert.doesNotMatch(runtimeOutput, /different request context|hung|Uncaught|error/i, runtimeOutput);
});
