// SPEC section 3, "Token lifetime": caching, expiry, skew, single flight, grace, clear().
// Time is driven by replacing Date.now in this process (the mock runs in a child process).
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { TEST_TIMEOUT, VISIBLE_ASCII, installClock, instanceFactory, rejectsWith, sleep, suiteMock } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };
const START = 1_700_000_000_000; // a fixed, round "now" for the fake clock

let clock = null;
afterEach(() => {
  clock?.restore();
  clock = null;
});

const setup = instanceFactory(mock, { timeoutMs: 3000, maxRetries: 0 });

test("a fresh instance has no token and sends nothing until asked", T, async () => {
  const { auth, client } = setup("fresh");
  assert.equal(auth.hasValidToken, false);
  assert.equal(auth.expiresAt, undefined);
  await sleep(50);
  assert.equal((await client.stats()).tokenRequests, 0, "the constructor does not fetch a token");
});

test("the token is cached: later calls are served from memory", T, async () => {
  const { auth, client } = setup("cached");
  const token = await auth.getToken();
  assert.match(token, VISIBLE_ASCII);
  assert.equal(auth.hasValidToken, true);
  assert.equal(await auth.getToken(), token);
  assert.equal(await auth.getAuthorizationHeader(), `Bearer ${token}`);
  for (let i = 0; i < 20; i++) assert.equal(await auth.getToken(), token);
  assert.equal((await client.stats()).tokenRequests, 1);
});

test("expiresAt = the time the request was sent + expires_in (read from Date.now)", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("sent-time");
  await client.tokenScript([{ ok: true, delayMs: 400 }]);
  const pending = auth.getToken();
  await sleep(150); // the request is in the air now; move the clock before the answer comes
  clock.advance(50_000);
  await pending;
  assert.equal(auth.expiresAt, START + 3600_000);
});

test("expiresAt follows the expires_in of each new token", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("exp-each");
  await client.configure({ expiresIn: 1000 });
  await auth.getToken();
  assert.equal(auth.expiresAt, START + 1000_000);
  clock.set(START + 5000);
  await auth.refresh();
  assert.equal(auth.expiresAt, START + 5000 + 1000_000);
});

/**
 * The cached `first` token is served up to 1 ms before `boundary` (no new token request),
 * and replaced from `boundary` on (one more); resolves the new token.
 */
async function assertRefreshedAt(auth, client, first, boundary) {
  clock.set(boundary - 1);
  assert.equal(auth.hasValidToken, true, "1 ms before the refresh window");
  assert.equal(await auth.getToken(), first);
  assert.equal((await client.stats()).tokenRequests, 1);

  clock.set(boundary);
  assert.equal(auth.hasValidToken, false, "inside the refresh window");
  const second = await auth.getToken();
  assert.notEqual(second, first, "a new token inside the refresh window");
  assert.equal((await client.stats()).tokenRequests, 2);
  return second;
}

test("default skew: served until expiresAt - 60 s, refreshed from then on", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("skew-default");
  const first = await auth.getToken();
  const expiresAt = START + 3600_000;
  assert.equal(auth.expiresAt, expiresAt);

  await assertRefreshedAt(auth, client, first, expiresAt - 60_000);
  assert.equal(auth.expiresAt, expiresAt - 60_000 + 3600_000);
  assert.equal(auth.hasValidToken, true);
});

test("refreshSkewSeconds is honoured (300 s)", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("skew-300", { refreshSkewSeconds: 300 });
  const first = await auth.getToken();
  await assertRefreshedAt(auth, client, first, START + 3600_000 - 300_000);
});

test("a short-lived token uses skew = expires_in / 2 (not refetched on every call)", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("skew-half"); // refreshSkewSeconds 60 by default
  await client.configure({ expiresIn: 10 }); // skew = min(60, 5) = 5 s
  const first = await auth.getToken();
  assert.equal(auth.expiresAt, START + 10_000);
  assert.equal(auth.hasValidToken, true, "right after the exchange");
  assert.equal(await auth.getToken(), first);

  await assertRefreshedAt(auth, client, first, START + 5_000);
});

test("refreshSkewSeconds 0: served until the token really expires", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("skew-0", { refreshSkewSeconds: 0 });
  await client.configure({ expiresIn: 20 });
  const first = await auth.getToken();
  await assertRefreshedAt(auth, client, first, START + 20_000);
});

test("an expired token is never served", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("expired");
  const first = await auth.getToken();
  clock.set(START + 3600_000 + 1);
  assert.equal(auth.hasValidToken, false);
  const second = await auth.getToken();
  assert.notEqual(second, first);
  assert.equal((await client.stats()).tokenRequests, 2);
});

test("a clock that goes backwards does not break the cache", T, async () => {
  clock = installClock(START);
  const { auth } = setup("backwards");
  const first = await auth.getToken();
  clock.set(START - 10_000);
  assert.equal(auth.hasValidToken, true);
  assert.equal(await auth.getToken(), first);
});

test("expires_in 0: the token is returned but never cached", T, async () => {
  const { auth, client } = setup("zero");
  await client.configure({ expiresIn: 0 });
  const first = await auth.getToken();
  assert.match(first, VISIBLE_ASCII);
  assert.equal(auth.hasValidToken, false);
  assert.equal(auth.expiresAt, undefined);
  const second = await auth.getToken();
  assert.notEqual(second, first, "each call fetches a new one");
  assert.equal((await client.stats()).tokenRequests, 2);
  const header = await auth.getAuthorizationHeader();
  assert.match(header, /^Bearer /);
  assert.equal((await client.stats()).tokenRequests, 3);
});

test("single flight: 1000 concurrent getToken() make exactly one token request", T, async () => {
  const { auth, client } = setup("flight");
  await client.tokenScript([{ ok: true, delayMs: 200 }]);
  const tokens = await Promise.all(Array.from({ length: 1000 }, () => auth.getToken()));
  assert.equal(new Set(tokens).size, 1, "everyone gets the same token");
  assert.match(tokens[0], VISIBLE_ASCII);
  assert.equal((await client.stats()).tokenRequests, 1);
  assert.equal((await client.stats()).tokensIssued, 1);
});

test("single flight across getToken, getAuthorizationHeader and refresh", T, async () => {
  const { auth, client } = setup("flight-mixed");
  await client.tokenScript([{ ok: true, delayMs: 200 }]);
  const calls = [];
  for (let i = 0; i < 300; i++) {
    calls.push(auth.getToken());
    calls.push(auth.getAuthorizationHeader().then((h) => h.replace(/^Bearer /, "")));
    if (i % 50 === 0) calls.push(auth.refresh());
  }
  const tokens = await Promise.all(calls);
  assert.equal(new Set(tokens).size, 1);
  assert.equal((await client.stats()).tokenRequests, 1, "refresh() joins the request in flight");
});

test("single flight also when the token is short-lived (expires_in 0)", T, async () => {
  const { auth, client } = setup("flight-zero");
  await client.configure({ expiresIn: 0 });
  await client.tokenScript([{ ok: true, delayMs: 150 }]);
  const tokens = await Promise.all(Array.from({ length: 50 }, () => auth.getToken()));
  assert.equal(new Set(tokens).size, 1);
  assert.equal((await client.stats()).tokenRequests, 1);
});

test("single flight: all concurrent callers get the same error; the failure is not cached", T, async () => {
  const { auth, client } = setup("flight-error", { maxRetries: 2 });
  await client.tokenScript([{ status: 401, delayMs: 150, body: { error: "invalid_client" } }]);
  const results = await Promise.allSettled(Array.from({ length: 200 }, () => auth.getToken()));
  assert.ok(results.every((r) => r.status === "rejected"), "every caller is rejected");
  for (const r of results) {
    assert.equal(r.reason.name, "CedatoError");
    assert.equal(r.reason.code, "token_rejected");
    assert.equal(r.reason.status, 401);
  }
  assert.equal((await client.stats()).tokenRequests, 1, "one request for all callers, not retried");

  const token = await auth.getToken();
  assert.match(token, VISIBLE_ASCII);
  assert.equal((await client.stats()).tokenRequests, 2, "the next call tried again");
});

test("a failure is not cached (server_error then success)", T, async () => {
  const { auth, client } = setup("not-cached");
  await client.tokenScript([{ status: 503 }]);
  await rejectsWith(auth.getToken(), { code: "server_error", status: 503 });
  assert.equal(auth.hasValidToken, false);
  assert.match(await auth.getToken(), VISIBLE_ASCII);
  assert.equal((await client.stats()).tokenRequests, 2);
});

test("grace: a failing refresh inside the skew window serves the old token; refresh() rejects", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("grace", { refreshSkewSeconds: 10 });
  await client.configure({ expiresIn: 100 }); // skew = min(10, 50) = 10 s
  const first = await auth.getToken();
  assert.equal(auth.expiresAt, START + 100_000);

  clock.set(START + 95_000); // inside the skew window, not expired
  assert.equal(auth.hasValidToken, false);

  await client.tokenScript([{ status: 503 }]);
  assert.equal(await auth.getToken(), first, "getToken() falls back to the old token");
  assert.equal((await client.stats()).tokenRequests, 2, "it did try to refresh");

  await client.tokenScript([{ status: 503, delayMs: 100 }]);
  const many = await Promise.all(Array.from({ length: 20 }, () => auth.getToken()));
  assert.deepEqual(new Set(many), new Set([first]), "concurrent callers all get the old token");
  assert.equal((await client.stats()).tokenRequests, 3);

  await client.tokenScript([{ status: 503 }]);
  await rejectsWith(auth.refresh(), { code: "server_error", status: 503 });
  assert.equal((await client.stats()).tokenRequests, 4);

  await client.tokenScript([{ status: 401, body: { error: "invalid_client" } }]);
  await rejectsWith(auth.refresh(), { code: "token_rejected", status: 401 });

  // The failures were not cached: the next call inside the window tries again and succeeds.
  const second = await auth.getToken();
  assert.notEqual(second, first);
  assert.equal((await client.stats()).tokenRequests, 6);
  assert.equal(auth.expiresAt, START + 95_000 + 100_000);
});

test("grace: getAuthorizationHeader() also falls back (network failure) to the old token inside the skew window", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("grace-header", { refreshSkewSeconds: 10 });
  await client.configure({ expiresIn: 100 });
  const first = await auth.getToken();
  clock.set(START + 99_999);
  await client.tokenScript([{ drop: true }]);
  assert.equal(await auth.getAuthorizationHeader(), `Bearer ${first}`);
});

test("no grace once the old token has really expired", T, async () => {
  clock = installClock(START);
  const { auth, client } = setup("no-grace", { refreshSkewSeconds: 10 });
  await client.configure({ expiresIn: 100 });
  await auth.getToken();
  clock.set(START + 100_000);
  await client.tokenScript([{ status: 503 }]);
  await rejectsWith(auth.getToken(), { code: "server_error", status: 503 });
  clock.set(START + 200_000);
  await client.tokenScript([{ status: 500 }]);
  await rejectsWith(auth.getAuthorizationHeader(), { code: "server_error", status: 500 });
  assert.match(await auth.getToken(), VISIBLE_ASCII, "and it recovers");
});

test("refresh() fetches a new token even when one is cached, and caches it", T, async () => {
  const { auth, client } = setup("refresh");
  const first = await auth.getToken();
  const second = await auth.refresh();
  assert.notEqual(second, first);
  assert.equal(await auth.getToken(), second);
  assert.equal(await auth.getAuthorizationHeader(), `Bearer ${second}`);
  assert.equal((await client.stats()).tokenRequests, 2);
});

test("clear() forgets the cached token", T, async () => {
  const { auth, client } = setup("clear");
  const first = await auth.getToken();
  assert.equal(auth.hasValidToken, true);
  auth.clear();
  assert.equal(auth.hasValidToken, false);
  assert.equal(auth.expiresAt, undefined);
  const second = await auth.getToken();
  assert.notEqual(second, first);
  assert.equal((await client.stats()).tokenRequests, 2);
  auth.clear();
  auth.clear(); // idempotent
  assert.equal(auth.hasValidToken, false);
});

test("clear() does not cancel a request in flight", T, async () => {
  const { auth, client } = setup("clear-flight");
  await client.tokenScript([{ ok: true, delayMs: 250 }]);
  const pending = auth.getToken();
  await sleep(50);
  auth.clear();
  const token = await pending;
  assert.match(token, VISIBLE_ASCII);
  assert.equal((await client.stats()).tokensIssued, 1);
});

test("clear() on a fresh instance is harmless", T, async () => {
  const { auth } = setup("clear-fresh");
  auth.clear();
  assert.equal(auth.hasValidToken, false);
  assert.match(await auth.getToken(), VISIBLE_ASCII);
});
