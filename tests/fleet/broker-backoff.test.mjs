// Shared back-off through the Durable Object broker: when the broker's own token request
// fails (503 with Retry-After: 61), it answers every isolate with that failure until
// Retry-After passes, and the isolates end with it instead of each asking the endpoint.
import assert from "node:assert/strict";
import { test } from "node:test";
import { callWorker, credentials, fleetBindings, useWorkerFleet, workerOptions } from "./setup.mjs";

const WORKERS = ["b1", "b2", "b3"];
const creds = credentials("do-backoff");
const suite = useWorkerFleet("broker-backoff", "do-worker.mjs", ({ mock, script }) =>
  WORKERS.map((name) => ({
    ...workerOptions(script, fleetBindings(mock, creds, name)),
    name,
    durableObjects: { BROKER: name === "b1" ? "CedatoTokenBroker" : { className: "CedatoTokenBroker", scriptName: "b1" } },
  })),
);

test("durable object: a failing endpoint is asked once for the fleet; every isolate gets the failure with its Retry-After", async (t) => {
  // Enough 503s for every isolate that would ask on its own.
  suite.mock.client(creds.clientId).tokenScript(Array.from({ length: 20 }, () => ({ status: 503, headers: { "retry-after": "61" } })));
  for (let round = 0; round < 2; round++) {
    const answers = (await Promise.all(WORKERS.map((name) => callWorker(suite.mf, name, 5)))).flat();
    for (const a of answers) {
      assert.equal(a.status, 500, JSON.stringify(a.body));
      assert.equal(a.body.error.code, "server_error", JSON.stringify(a.body));
      assert.equal(a.body.error.status, 503);
    }
  }
  const { tokenRequests } = suite.mock.client(creds.clientId).stats();
  t.diagnostic(`3 workers x 5 requests, twice, endpoint failing -> ${tokenRequests} token request(s)`);
  assert.equal(tokenRequests, 1, "only the broker asked, once: Retry-After 61 holds it back");
});
