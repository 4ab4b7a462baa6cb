// Issue 6, hardening: 200 concurrent callers while the token endpoint answers 503 for
// 2 seconds, then recovers. Nothing hangs, every caller gets a token or a typed error,
// and calls after the recovery succeed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import { VISIBLE_ASCII, credentials, realNow, settles, sleep, suiteMock } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)


const OUTAGE_MS = 2000;
const CALLERS = 200;

test("200 callers through a 2 s outage of the token endpoint", { timeout: 30_000 }, async () => {
  const creds = credentials("outage");
  const client = mock().client(creds.clientId);
  const auth = new CedatoAuth({ ...creds, baseUrl: mock().baseUrl, timeoutMs: 1000, maxRetries: 2 });
  await client.configure({ outageMs: OUTAGE_MS });
  const start = realNow();

  // Each caller keeps asking (with a little spread) until it has a token or the outage
  // has long passed; every single outcome is recorded.
  const outcomes = [];
  const caller = async (i) => {
    await sleep(i % 50);
    for (;;) {
      try {
        const token = await auth.getToken();
        outcomes.push({ ok: true, token, at: realNow() - start });
        return;
      } catch (err) {
        outcomes.push({ ok: false, err, at: realNow() - start });
        if (realNow() - start > OUTAGE_MS + 5000) return;
        await sleep(100 + (i % 10) * 20);
      }
    }
  };
  await settles(Promise.all(Array.from({ length: CALLERS }, (_, i) => caller(i))), 20_000, "all callers");

  const failures = outcomes.filter((o) => !o.ok);
  const successes = outcomes.filter((o) => o.ok);
  for (const { err } of failures) {
    assert.equal(err.name, "CedatoError");
    assert.equal(err.code, "server_error", err.message);
    assert.equal(err.status, 503);
    assert.equal(err.retryable, true);
  }
  assert.ok(failures.length > 0, "the outage was seen");
  assert.equal(successes.length, CALLERS, "every caller ends with a token");
  assert.ok(successes.every((o) => VISIBLE_ASCII.test(o.token)));
  assert.equal(new Set(successes.map((o) => o.token)).size, 1, "one token after the recovery");
  assert.ok(Math.min(...successes.map((o) => o.at)) >= OUTAGE_MS - 50, "no token during the outage");

  // Single flight held during the outage: token requests are bounded by the attempts of
  // the flights, not by the number of callers.
  const { tokenRequests } = await client.stats();
  assert.ok(tokenRequests < 60, `token requests: ${tokenRequests}`);

  // After the recovery, calls succeed at once.
  assert.match(await auth.getToken(), VISIBLE_ASCII);
  const report = await auth.request("reports/supplies/extended", { query: { limit: 5 } });
  assert.equal(report.data.supplies.length, 5);
  console.log(`# outage: ${failures.length} typed errors, ${successes.length} tokens, ${tokenRequests} token requests`);
});
