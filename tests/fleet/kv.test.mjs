// Workers KV: three workers (separate isolates) share one KV namespace. KV has no locks:
// isolates that start cold together each fetch a token; once one is stored, every
// isolate reuses it. The counts are reported (diagnostics) and bounded.
import assert from "node:assert/strict";
import { test } from "node:test";
import { open } from "../support/sealed.mjs";
import { bundleWorker, callWorker, credentials, fleetBindings, makeProject, storeKey, tokensOf, useWorkerFleet, workerOptions } from "./setup.mjs";

const WORKERS = ["k1", "k2", "k3"];
const sequential = credentials("kv-seq");
const cold = credentials("kv-cold");
const suite = useWorkerFleet("kv", "kv-worker.mjs");

/** A fresh miniflare: the three workers (of `workerScript`) for `creds`, one shared KV namespace. */
function fleet(creds, workerScript = suite.script) {
  return suite.start(
    WORKERS.map((name) => ({
      ...workerOptions(workerScript, fleetBindings(suite.mock, creds, name)),
      name,
      kvNamespaces: { TOKENS: "cedato-fleet-tokens" },
    })),
  );
}

const call = (name, n) => callWorker(suite.mf, name, n);

test("kv: after the first worker fetched the token, the other workers reuse it", async (t) => {
  await fleet(sequential);
  const first = tokensOf(await call("k1", 1));
  assert.equal(suite.mock.client(sequential.clientId).stats().tokenRequests, 1);
  const stored = await (await suite.mf.getKVNamespace("TOKENS", "k1")).get(`fleet-test:${storeKey(suite.mock.baseUrl, sequential)}`, "json");
  assert.deepEqual(Object.keys(stored).sort(), ["expiresAt", "refreshAt", "sealed"]);
  assert.deepEqual(open(sequential, suite.mock.baseUrl, stored), { accessToken: [...first][0], expiresIn: 3600 });
  const others = tokensOf([...(await call("k2", 20)), ...(await call("k3", 20))]);
  assert.deepEqual(others, first, "k2 and k3 used k1's token");
  const stats = suite.mock.client(sequential.clientId).stats();
  t.diagnostic(`kv: 1 request to k1, then 40 to k2 and k3 -> ${stats.tokenRequests} token request(s)`);
  assert.equal(stats.tokenRequests, 1, JSON.stringify(stats));
});

test("kv: after a revocation, one worker replaces the token and the others adopt it", async (t) => {
  suite.mock.client(sequential.clientId).revoke();
  // k1 meets the 401, drops the stored token, fetches and stores a new one. k2 and k3
  // then meet the 401 with the old token: they drop the stored token only if it is
  // still the one they were refused with, so they adopt k1's new token instead.
  const fresh = tokensOf(await call("k1", 1));
  const others = tokensOf([...(await call("k2", 1)), ...(await call("k3", 1))]);
  assert.deepEqual(others, fresh);
  const stats = suite.mock.client(sequential.clientId).stats();
  t.diagnostic(`kv: after revoke, k1 then k2 and k3 -> ${stats.tokenRequests} token request(s) in total, ${stats.apiUnauthorized} API 401(s)`);
  assert.equal(stats.tokenRequests, 2, JSON.stringify(stats));
  assert.equal(stats.apiUnauthorized, 3);
});

test("kv: a short-lived token (60 s) is shared too", async (t) => {
  // A reader refreshes a stored token min(60 s, 60 s / 2) before it expires, as it would
  // one it fetched: the stored lifetime (expiresIn) goes through the store.
  const short = credentials("kv-short");
  await fleet(short);
  suite.mock.client(short.clientId).configure({ expiresIn: 60 });
  const first = tokensOf(await call("k1", 1));
  const others = tokensOf([...(await call("k2", 5)), ...(await call("k3", 5))]);
  assert.deepEqual(others, first, "k2 and k3 used k1's 60 s token");
  const stats = suite.mock.client(short.clientId).stats();
  t.diagnostic(`kv: 60 s tokens, 1 request to k1, then 10 to k2 and k3 -> ${stats.tokenRequests} token request(s)`);
  assert.equal(stats.tokenRequests, 1, JSON.stringify(stats));
});

test("kv: 3 workers x 20 concurrent cold requests (no coordination: up to one token request per isolate)", async (t) => {
  await fleet(cold);
  const burst = await Promise.all(WORKERS.map((name) => call(name, 20)));
  const tokens = tokensOf(burst.flat());
  const coldCount = suite.mock.client(cold.clientId).stats().tokenRequests;
  t.diagnostic(`kv: 60 concurrent cold requests from 3 workers -> ${coldCount} token request(s), ${tokens.size} distinct token(s)`);
  assert.ok(coldCount >= 1 && coldCount <= WORKERS.length, `at most one per isolate: ${coldCount}`);
  // Later requests from every isolate go on with tokens already fetched: no new request.
  const again = await Promise.all(WORKERS.map((name) => call(name, 20)));
  tokensOf(again.flat());
  const stats = suite.mock.client(cold.clientId).stats();
  t.diagnostic(`kv: 60 more requests -> ${stats.tokenRequests} token request(s) in total`);
  assert.equal(stats.tokenRequests, coldCount, JSON.stringify(stats));
});

test("kv: a write that outlasts the request that fetched the token is kept alive (waitUntil) and shared", async (t) => {
  const creds = credentials("kv-slow");
  const dir = await makeProject("kv-slow", ["kv-slow-worker.mjs", "fleet-worker.mjs"]);
  await fleet(creds, await bundleWorker(dir, "kv-slow-worker.mjs"));
  const first = tokensOf(await call("k1", 1)); // answered before its 300 ms write ends
  await new Promise((resolve) => setTimeout(resolve, 800));
  const stored = await (await suite.mf.getKVNamespace("TOKENS", "k1")).get(`fleet-test:${storeKey(suite.mock.baseUrl, creds)}`, "json");
  assert.equal(stored && open(creds, suite.mock.baseUrl, stored).accessToken, [...first][0], "the write finished after the request ended");
  assert.deepEqual(tokensOf(await call("k2", 5)), first, "k2 used it");
  const { tokenRequests } = suite.mock.client(creds.clientId).stats();
  t.diagnostic(`kv with 300 ms writes: 1 request to k1, then 5 to k2 -> ${tokenRequests} token request(s)`);
  assert.equal(tokenRequests, 1);
});

test("kv: with stale reads, one token request per isolate per refresh window (the broker: one per fleet)", async (t) => {
  const creds = credentials("kv-stale");
  const dir = await makeProject("kv-stale", ["kv-stale-worker.mjs", "fleet-worker.mjs"]);
  await fleet(creds, await bundleWorker(dir, "kv-stale-worker.mjs"));
  const expiresIn = 4; // a 2 s refresh window
  const runMs = 6_000;
  const windows = runMs / ((expiresIn / 2) * 1000);
  suite.mock.client(creds.clientId).configure({ expiresIn });
  const until = Date.now() + runMs;
  while (Date.now() < until) {
    tokensOf((await Promise.all(WORKERS.map((name) => call(name, 1)))).flat());
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const stats = suite.mock.client(creds.clientId).stats();
  t.diagnostic(
    `kv with 60 s stale reads, 3 workers, ${expiresIn} s tokens, ${runMs / 1000} s (${windows} refresh windows) -> ` +
      `${stats.tokenRequests} token requests, ${stats.apiUnauthorized} API 401s`,
  );
  assert.equal(stats.apiUnauthorized, 0);
  assert.ok(stats.tokenRequests >= WORKERS.length * (windows - 1), `about one per isolate per window: ${stats.tokenRequests}`);
  assert.ok(stats.tokenRequests <= WORKERS.length * (windows + 1), JSON.stringify(stats));
});
