// Cloudflare Durable Object broker: three workers (separate isolates in one miniflare)
// share one token through CedatoTokenBroker. 60 concurrent requests, cold, make exactly
// one token request; after the token is revoked, the 401 path drops it at the broker and
// the fleet makes exactly one more.
import assert from "node:assert/strict";
import { test } from "node:test";
import { callWorker, credentials, fleetBindings, tokensOf, useWorkerFleet, workerOptions } from "./setup.mjs";

const WORKERS = ["w1", "w2", "w3"];
const PER_WORKER = 20;
const creds = credentials("do");
const otherCreds = credentials("do-other");
const brokerOfW1 = { className: "CedatoTokenBroker", scriptName: "w1" };
const suite = useWorkerFleet("durable-object", "do-worker.mjs", ({ mock, script }) => [
  ...WORKERS.map((name) => ({
    ...workerOptions(script, fleetBindings(mock, creds, name)),
    name,
    // w1 hosts the broker class; the others bind it across workers, as a fleet of
    // separately deployed workers would.
    durableObjects: { BROKER: name === "w1" ? "CedatoTokenBroker" : brokerOfW1 },
  })),
  // A worker with other credentials wired to the same broker class by mistake.
  {
    ...workerOptions(script, fleetBindings(mock, otherCreds, "stranger")),
    name: "stranger",
    durableObjects: { BROKER: brokerOfW1 },
  },
]);

/** `perWorker` concurrent requests to each worker, all at once; resolves every answer. */
async function burst(perWorker = PER_WORKER) {
  return (await Promise.all(WORKERS.map((name) => callWorker(suite.mf, name, perWorker)))).flat();
}

function assertAllOk(answers) {
  const tokens = tokensOf(answers);
  assert.equal(tokens.size, 1, "every worker used the same token");
  assert.deepEqual(new Set(answers.map((a) => a.body.worker)), new Set(WORKERS));
  return [...tokens][0];
}

let firstToken;

test("durable object: 3 workers x 20 concurrent cold requests make one token request", async (t) => {
  const answers = await burst();
  firstToken = assertAllOk(answers);
  const stats = suite.mock.client(creds.clientId).stats();
  t.diagnostic(`durable object: ${answers.length} concurrent requests from ${WORKERS.length} workers -> ${stats.tokenRequests} token request(s)`);
  assert.equal(stats.tokenRequests, 1, JSON.stringify(stats));
  assert.equal(stats.apiRequests, WORKERS.length * PER_WORKER);
  assert.equal(stats.apiUnauthorized, 0);
});

test("durable object: a revoked token is dropped at the broker; the fleet makes one more token request", async (t) => {
  suite.mock.client(creds.clientId).revoke();
  // One request per worker, all three at once: each meets the 401, tells the broker
  // (DELETE naming the refused token), and gets the broker's new token. The broker drops
  // the token once; the later DELETEs name a token it no longer holds and are ignored.
  // (Not 20 per worker: concurrent 401s inside one isolate share a refresh inside
  // auth.request, which workerd cannot resume in each request's own context; see
  // examples/worker/README.md, "Concurrency in workerd".)
  const answers = await burst(1);
  const token = assertAllOk(answers);
  assert.notEqual(token, firstToken, "a new token after the revocation");
  const stats = suite.mock.client(creds.clientId).stats();
  t.diagnostic(
    `durable object: after revoke, one request per worker (3 at once) -> ${stats.tokenRequests} token request(s) in total, ` +
      `${stats.apiUnauthorized} API 401(s)`,
  );
  assert.equal(stats.tokenRequests, 2, JSON.stringify(stats));
  assert.equal(stats.apiUnauthorized, WORKERS.length, "each worker met the revoked token once");
});

test("durable object: then 3 x 20 concurrent requests reuse the new token", async (t) => {
  const answers = await burst();
  assertAllOk(answers);
  const stats = suite.mock.client(creds.clientId).stats();
  t.diagnostic(`durable object: ${answers.length} more concurrent requests -> ${stats.tokenRequests} token request(s) in total`);
  assert.equal(stats.tokenRequests, 2, JSON.stringify(stats));
  assert.equal(stats.apiUnauthorized, WORKERS.length);
});

test("durable object: a refused token the isolate fetched itself is the one its DELETE names", async () => {
  const worker = await suite.mf.getWorker("w2");
  const res = await worker.fetch("http://fleet.test/store-without-broker");
  const body = await res.json();
  assert.equal(body.got, null, "the broker had no token to give");
  // Without a name, or naming a token the broker handed out earlier, the DELETE would
  // drop the broker's current token, which the rest of the fleet is using.
  assert.deepEqual(body.seen, ["GET (none)", 'DELETE {"sealed":"isolate-own-token","expiresAt":2000000000000,"refreshAt":1999999940000}']);
});

test("durable object: a broker never hands its token to a worker with other credentials", async (t) => {
  const stranger = await suite.mf.getWorker("stranger");
  const res = await stranger.fetch("http://fleet.test/report");
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.total, 57);
  // The broker (credentials of w1) answered 409 to the stranger's key; the stranger's
  // CedatoAuth then fetched its own token.
  assert.equal(suite.mock.client(otherCreds.clientId).stats().tokenRequests, 1);
  assert.equal(suite.mock.client(creds.clientId).stats().tokenRequests, 2);
  t.diagnostic("durable object: a worker with other credentials got its own token (broker answered 409)");
});
