// examples/rust-worker (workers-rs, cedato-auth's Rust API on the `web` transport, no JS
// class) in workerd (miniflare), as tools/build-rust-worker.sh built it with worker-build,
// against the mock Cedato server. Each test runs its own worker with its own client id,
// so the mock's counters are that test's alone.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, startWorker } from "../../tools/demo.mjs";
import { startMockServer } from "../mock/server.mjs";

const SCRIPT = join(ROOT, "examples", "rust-worker", "build", "index.js");
/** workerd's complaints about I/O or promises crossing requests, and hung requests. */
const RUNTIME_WARNINGS = /different request|hung|Uncaught|never generate a response|panicked/i;
const BOUNDED = { timeout: 60_000 };
const REPORT = "/report?start=2026-01-01&end=2026-01-31&limit=3";

let mock;
const running = [];

before(async () => {
  assert.ok(existsSync(SCRIPT), `${SCRIPT} is missing: build it with tools/build-rust-worker.sh`);
  mock = await startMockServer({ port: 0 });
});

after(async () => {
  await Promise.all(running.map((w) => w.close().catch(() => {})));
  await mock?.close();
});

/** The Rust worker for client `t-rust-worker-<name>` (its secret unless `secret`). */
async function rustWorker(name, { secret } = {}) {
  const clientId = `t-rust-worker-${name}`;
  const worker = await startWorker({
    script: SCRIPT,
    bindings: {
      CEDATO_BASE_URL: mock.baseUrl,
      CEDATO_CLIENT_ID: clientId,
      CEDATO_CLIENT_SECRET: secret ?? `${clientId}-secret`,
    },
  });
  running.push(worker);
  return {
    ...worker,
    clientId,
    stats: () => mock.client(clientId).stats(),
    /** dispatchFetch, read whole: `{ status, text, json }`. */
    async get(path) {
      const res = await worker.mf.dispatchFetch(new URL(path, "http://rust-worker.test"));
      const text = await res.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: res.status, text, json };
    },
  };
}

test("concurrent requests of an isolate share one token request", BOUNDED, async (t) => {
  const w = await rustWorker("concurrent");
  // A slow token answer, so that every request waits on the same one.
  mock.client(w.clientId).tokenScript([{ ok: true, delayMs: 300 }]);
  const answers = await Promise.all(Array.from({ length: 20 }, () => w.get(REPORT)));
  for (const a of answers) {
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json.map((row) => row.supply_id), [3001, 3002, 3003]);
    assert.deepEqual(Object.keys(a.json[0]).sort(), ["impressions", "revenue", "supply_id", "supply_name"]);
  }
  const stats = w.stats();
  t.diagnostic(`20 concurrent requests -> ${stats.tokenRequests} token request(s), ${stats.apiRequests} API requests`);
  assert.deepEqual(stats, { tokenRequests: 1, tokensIssued: 1, apiRequests: 20, apiUnauthorized: 0 });
  // The worker's own counters say the same.
  const own = await w.get("/stats");
  assert.equal(own.status, 200, own.text);
  assert.equal(own.json.token_requests, 1);
  assert.equal(own.json.api_calls, 20);
  assert.doesNotMatch(w.output(), RUNTIME_WARNINGS, w.output());
});

test("a revoked token is replaced once and the call retried", BOUNDED, async () => {
  const w = await rustWorker("revoke");
  assert.equal((await w.get(REPORT)).status, 200);
  mock.client(w.clientId).revoke();
  const a = await w.get(REPORT);
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.length, 3);
  const stats = w.stats();
  assert.equal(stats.tokenRequests, 2, "one new token");
  assert.equal(stats.apiUnauthorized, 1, "the refused call, then one retry");
  assert.equal((await w.get("/stats")).json.api_retries, 1);
});

test("refused credentials are a JSON error without the secret", BOUNDED, async () => {
  const secret = "not-the-right-secret";
  const w = await rustWorker("refused", { secret });
  const a = await w.get(REPORT);
  assert.equal(a.status, 502, a.text);
  assert.equal(a.json.error.code, "token_rejected");
  assert.ok(!a.text.includes(secret), a.text);
  assert.ok(!a.text.includes("Basic"), a.text);
  assert.equal((await w.get("/nowhere")).status, 404);
  assert.doesNotMatch(w.output(), RUNTIME_WARNINGS, w.output());
});
