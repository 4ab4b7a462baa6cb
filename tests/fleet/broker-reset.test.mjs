// A Durable Object broker reset mid-flight (ctx.abort(), as a deploy or an eviction does):
// the isolates' requests in flight reject. Each is sent once more on a fresh stub, so the
// fleet still ends with one token; an isolate that could not reach the broker even then
// fetches its own token, and takes the broker's at its next read.
import assert from "node:assert/strict";
import { test } from "node:test";
import { callWorker, credentials, fleetBindings, sleep, tokensOf, useWorkerFleet, workerOptions } from "./setup.mjs";

const WORKERS = ["r1", "r2", "r3", "r4"];
const suite = useWorkerFleet("broker-reset", "do-reset-worker.mjs");

/** A fresh miniflare: the workers for `creds`, r1 hosting the broker; `extra` bindings per worker name. */
function fleet(creds, extra = {}) {
  const broker = { className: "ResettableBroker", scriptName: "r1" };
  return suite.start(
    WORKERS.map((name) => ({
      ...workerOptions(suite.script, { ...fleetBindings(suite.mock, creds, name), ...extra[name] }),
      name,
      durableObjects: { BROKER: name === "r1" ? "ResettableBroker" : broker },
    })),
  );
}

const burst = async (perWorker) => (await Promise.all(WORKERS.map((name) => callWorker(suite.mf, name, perWorker)))).flat();

test("durable object: a broker reset mid-flight, 4 workers x 10 cold callers: at most 2 token requests, one token in use", async (t) => {
  const creds = credentials("do-reset");
  const client = suite.mock.client(creds.clientId);
  // The broker's first token request is answered after 1.5 s: the reset comes before.
  client.tokenScript([{ ok: true, delayMs: 1500 }]);
  await fleet(creds);
  const answers = burst(10);
  for (let i = 0; client.stats().tokenRequests === 0; i++) {
    assert.ok(i < 300, "the broker's token request reaches the mock");
    await sleep(10);
  }
  const reset = await (await suite.mf.getWorker("r1")).fetch("http://fleet.test/reset-broker");
  const resetText = await reset.text();
  const during = tokensOf(await answers);
  const after = tokensOf(await burst(10));
  const stats = client.stats();
  t.diagnostic(
    `broker reset mid-flight (${resetText}), 4 workers x 10 cold callers -> ${stats.tokenRequests} token request(s), ` +
      `${during.size} token(s) in the burst, ${after.size} in use afterwards, ${stats.apiUnauthorized} API 401s`,
  );
  assert.ok(stats.tokenRequests <= 2, JSON.stringify(stats));
  assert.equal(after.size, 1, "one token in use afterwards");
  assert.equal(stats.apiUnauthorized, 0);
});

test("durable object: an isolate that fell back to the endpoint takes the broker's token at its next read", async (t) => {
  const creds = credentials("do-fallback");
  const client = suite.mock.client(creds.clientId);
  // r2's first two broker requests reject: the first try and the one on a fresh stub.
  await fleet(creds, { r2: { FLAKY_FETCHES: "2" } });
  const fleetToken = [...tokensOf(await callWorker(suite.mf, "r1", 1))][0];
  assert.equal(client.stats().tokenRequests, 1);
  // r2's request: getToken() falls back to the endpoint (its own token); the next read
  // (auth.request's) takes the broker's, and so does the getToken() after it.
  const first = tokensOf(await callWorker(suite.mf, "r2", 1));
  const fellBack = client.stats().tokenRequests === 2;
  const all = tokensOf(await burst(5));
  const stats = client.stats();
  t.diagnostic(
    `an isolate could not reach the broker twice -> it fetched its own token: ${fellBack}; its next read used ` +
      `${first.has(fleetToken) ? "the broker's token" : "its own token"}; then ${all.size} token(s) in use across the ` +
      `fleet, ${stats.tokenRequests} token requests, ${stats.apiUnauthorized} API 401s`,
  );
  assert.ok(fellBack, "r2 fetched a token of its own");
  assert.deepEqual([...first], [fleetToken], "the next read took the broker's token");
  assert.deepEqual([...all], [fleetToken]);
  assert.equal(stats.tokenRequests, 2);
});
