// Events and counters: the `onEvent` option, `auth.stats`, and the Node entry's
// node:diagnostics_channel bridge, against the mock server.
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import { test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import { TEST_TIMEOUT, basicValue, installClock, instanceFactory, rejectsWith, sleep, suiteMock, throwsWith } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };


const setup = instanceFactory(mock, { timeoutMs: 500, maxRetries: 2 });

/** A CedatoAuth whose events are collected: `{ auth, creds, client, events, tokens }`. */
function recording(tag, options = {}) {
  const events = [];
  const made = setup(tag, { ...options, onEvent: (e) => events.push(e) });
  return { ...made, events };
}

/** Every event of this file, with the secrets and tokens it must not contain. */
const everything = { events: [], secrets: new Set() };
function remember({ events, creds }, ...tokens) {
  everything.events.push(...events);
  for (const s of [creds.clientSecret, basicValue(creds), ...tokens]) everything.secrets.add(s);
}

const REPORT = "reports/supplies/extended";

test("a token request with a retry: retry, then token; a cached getToken() emits nothing", T, async () => {
  const r = recording("ev-retry");
  await r.client.tokenScript([{ status: 503, headers: { "retry-after": "0" } }, { status: 500 }]);
  const token = await r.auth.getToken();
  assert.deepEqual(
    r.events.map((e) => [e.type, e.attempt ?? e.attempts, e.code ?? e.source, e.status]),
    [
      ["retry", 1, "server_error", 503],
      ["retry", 2, "server_error", 500],
      ["token", 3, "endpoint", undefined],
    ],
  );
  const [first, second, got] = r.events;
  assert.equal(first.retryAfter, 0);
  assert.equal(first.waitMs, 0);
  assert.equal(second.retryAfter, undefined);
  assert.ok(second.waitMs >= 0 && second.waitMs <= 500, `backoff ${second.waitMs}`);
  assert.equal(got.expiresAt, r.auth.expiresAt);
  assert.ok(got.ms >= 0 && got.ms < 5000);
  for (let i = 0; i < 50; i++) assert.equal(await r.auth.getToken(), token);
  await r.auth.getAuthorizationHeader();
  assert.equal(r.events.length, 3, "cached calls emit nothing");
  assert.deepEqual(r.auth.stats, {
    tokenRequests: 3,
    storeHits: 0,
    cacheHits: 51,
    retries: 2,
    failures: 0,
    graceServed: 0,
    apiCalls: 0,
    apiRetries: 0,
  });
  remember(r, token);
});

test("a failed token request: one failure event, counted; the instance keeps working", T, async () => {
  const r = recording("ev-failure", { maxRetries: 1 });
  await r.client.tokenScript([{ status: 502 }, { status: 503 }]);
  await rejectsWith(r.auth.getToken(), { code: "server_error" });
  assert.deepEqual(
    r.events.map((e) => e.type),
    ["retry", "failure"],
  );
  const failure = r.events[1];
  assert.deepEqual({ ...failure, ms: 0 }, { type: "failure", code: "server_error", status: 503, attempts: 2, ms: 0 });
  const token = await r.auth.getToken();
  assert.equal(r.events.at(-1).type, "token");
  assert.equal(r.auth.stats.failures, 1);
  assert.equal(r.auth.stats.tokenRequests, 3);
  // Credentials refused: token_rejected, with the status.
  const wrong = recording("ev-rejected");
  const bad = new CedatoAuth({ clientId: wrong.creds.clientId, clientSecret: "wrong-one", baseUrl: mock().baseUrl, onEvent: (e) => wrong.events.push(e) });
  await rejectsWith(bad.getToken(), { code: "token_rejected" });
  assert.deepEqual(
    wrong.events.map((e) => [e.type, e.code, e.status, e.attempts]),
    [["failure", "token_rejected", 401, 1]],
  );
  remember(r, token);
  remember(wrong);
});

test("grace: a failed refresh answered with the old token is a grace event (callers that waited together share it)", T, async () => {
  const clock = installClock();
  try {
    const r = recording("ev-grace", { maxRetries: 0 });
    await r.client.configure({ expiresIn: 100 }); // refresh window: the last 50 s
    const token = await r.auth.getToken();
    clock.advance(60_000);
    await r.client.tokenScript([{ status: 503 }]);
    const [a, b] = await Promise.all([r.auth.getToken(), r.auth.getToken()]);
    assert.equal(a, token);
    assert.equal(b, token);
    assert.deepEqual(
      r.events.map((e) => [e.type, e.code]),
      [
        ["token", undefined],
        ["failure", "server_error"],
        ["grace", "server_error"],
      ],
    );
    assert.deepEqual(r.events.at(-1), { type: "grace", code: "server_error" });
    // A later caller's refresh fails again: a failure and a grace of its own.
    await r.client.tokenScript([{ status: 503 }]);
    assert.equal(await r.auth.getToken(), token);
    assert.deepEqual(r.events.slice(-2).map((e) => e.type), ["failure", "grace"]);
    assert.equal(r.auth.stats.graceServed, 2);
    assert.equal(r.auth.stats.failures, 2);
    remember(r, token);
  } finally {
    clock.restore();
  }
});

test("api events: method, the path without the query, status, ms; a 401 retried once", T, async () => {
  const r = recording("ev-api");
  await r.auth.request(REPORT, { query: { start: "2024-01-01", end: "2024-01-31", limit: 2 } });
  const first = r.events.find((e) => e.type === "api");
  assert.deepEqual({ ...first, ms: 0 }, { type: "api", method: "GET", path: "/api/reports/supplies/extended", status: 200, ms: 0, retried: false, cooldown: false });
  const token = await r.auth.getToken();
  await r.client.revoke();
  const response = await r.auth.fetch(`${REPORT}?start=2024-01-01&end=2024-01-31&limit=1`, { method: "GET" });
  assert.equal(response.status, 200);
  const retried = r.events.filter((e) => e.type === "api").at(-1);
  assert.equal(retried.retried, true);
  assert.equal(retried.path, "/api/reports/supplies/extended");
  await rejectsWith(r.auth.request("no/such/thing"), { code: "http", status: 404 });
  assert.deepEqual(
    r.events.filter((e) => e.type === "api").map((e) => [e.method, e.path, e.status, e.retried]),
    [
      ["GET", "/api/reports/supplies/extended", 200, false],
      ["GET", "/api/reports/supplies/extended", 200, true],
      ["GET", "/api/no/such/thing", 404, false],
    ],
  );
  const stats = r.auth.stats;
  assert.equal(stats.apiCalls, 3);
  assert.equal(stats.apiRetries, 1);
  assert.equal(stats.tokenRequests, 2);
  // A call that never got an answer is not an api event (its token request is reported).
  const before = r.events.length;
  await rejectsWith(r.auth.fetch("http://elsewhere.example/x"), { code: "invalid_request" });
  assert.equal(r.events.length, before);
  remember(r, token, await r.auth.getToken());
});

test("store events: miss, written, hit, error and timeout", T, async () => {
  const map = new Map();
  const store = {
    mode: "ok",
    async get(key, { signal }) {
      if (this.mode === "throw") throw new Error("store down");
      if (this.mode === "hang") return new Promise((resolve) => signal.addEventListener("abort", () => resolve(null)));
      return map.get(key) ?? null;
    },
    async set(key, value, ttl, { signal }) {
      if (this.mode === "throw") throw new Error("store down");
      if (this.mode === "hang") return new Promise((resolve) => signal.addEventListener("abort", resolve));
      map.set(key, value);
    },
  };
  const a = recording("ev-store", { tokenStore: store, timeoutMs: 300 });
  const token = await a.auth.getToken();
  await sleep(20);
  const storeEvents = (r) => r.events.filter((e) => e.type === "store").map((e) => `${e.op}:${e.outcome}`);
  assert.deepEqual(storeEvents(a), ["get:miss", "set:written"]);
  const b = recording("ev-store-b", { tokenStore: store, timeoutMs: 300 });
  const sibling = new CedatoAuth({ ...a.creds, baseUrl: mock().baseUrl, tokenStore: store, onEvent: (e) => b.events.push(e) });
  assert.equal(await sibling.getToken(), token);
  assert.deepEqual(storeEvents(b), ["get:hit"]);
  assert.deepEqual(b.events.at(-1), { ...b.events.at(-1), type: "token", source: "store", attempts: 0 });
  assert.equal(sibling.stats.storeHits, 1);
  assert.equal(sibling.stats.tokenRequests, 0);
  store.mode = "throw";
  const c = recording("ev-store-c", { tokenStore: store, timeoutMs: 300 });
  const t3 = await c.auth.getToken();
  await sleep(20);
  assert.deepEqual(storeEvents(c), ["get:error", "set:error"]);
  store.mode = "hang";
  const d = recording("ev-store-d", { tokenStore: store, timeoutMs: 300 });
  const t4 = await d.auth.getToken();
  await sleep(400);
  assert.deepEqual(storeEvents(d), ["get:timeout", "set:timeout"]);
  for (const e of d.events.filter((e) => e.type === "store")) assert.ok(e.ms >= 250, `timeout after ${e.ms} ms`);
  for (const r of [a, b, c, d]) remember(r, token, t3, t4);
});

test("an onEvent that throws or is slow changes no outcome", T, async () => {
  let calls = 0;
  const thrower = setup("ev-throw", {
    onEvent() {
      calls += 1;
      throw new Error("listener bug");
    },
  });
  await thrower.client.tokenScript([{ status: 503 }]);
  const token = await thrower.auth.getToken();
  assert.ok(token.length > 10);
  await thrower.auth.request(REPORT, { query: { start: "2024-01-01", end: "2024-01-02" } });
  assert.equal(calls, 3); // retry, token, api
  const slow = setup("ev-slow", {
    onEvent() {
      const until = performance.now() + 30;
      while (performance.now() < until);
    },
  });
  assert.ok((await slow.auth.getToken()).length > 10);
  await slow.auth.request(REPORT, { query: { start: "2024-01-01", end: "2024-01-02" } });
  assert.equal(slow.auth.stats.apiCalls, 1);
});

test("onEvent may call back into the instance (token, stats, clear, free)", T, async () => {
  const seen = [];
  let auth;
  const made = setup("ev-reenter", {
    onEvent(e) {
      seen.push([e.type, auth.hasValidToken, auth.stats.tokenRequests]);
      if (e.type === "token") {
        auth.clear();
        auth.getToken().then(
          (t) => seen.push(["again", t.length > 0]),
          () => {},
        );
      }
      if (e.type === "api") auth.free();
    },
  });
  auth = made.auth;
  const token = await auth.getToken();
  assert.ok(token.length > 10);
  await sleep(50);
  assert.deepEqual(seen.slice(0, 1), [["token", true, 1]]);
  const response = await auth.fetch(REPORT + "?start=2024-01-01&end=2024-01-02");
  assert.equal(response.status, 200);
  await rejectsWith(auth.getToken(), { code: "invalid_request" }); // freed by the listener
});

test("onEvent must be a function", T, () => {
  for (const onEvent of ["log", 5, {}, true]) {
    const err = throwsWith(() => new CedatoAuth({ clientId: "a", clientSecret: "b", onEvent }), { code: "invalid_config" });
    assert.match(err.message, /^onEvent must be a function, got /);
  }
  assert.ok(new CedatoAuth({ clientId: "a", clientSecret: "b", onEvent: null }));
});

test("auth.stats is a new plain object at each read, all counters at 0 to start", T, () => {
  const auth = new CedatoAuth({ clientId: "a", clientSecret: "b" });
  const stats = auth.stats;
  assert.deepEqual(Object.keys(stats), ["tokenRequests", "storeHits", "cacheHits", "retries", "failures", "graceServed", "apiCalls", "apiRetries"]);
  assert.ok(Object.values(stats).every((v) => v === 0));
  assert.notEqual(auth.stats, stats);
  stats.tokenRequests = 99;
  assert.equal(auth.stats.tokenRequests, 0);
});

test("Node: the same events on node:diagnostics_channel, cedato-auth:<type>", T, async () => {
  const published = [];
  const onMessage = (message, name) => published.push([name, message]);
  const names = ["token", "retry", "api"].map((t) => `cedato-auth:${t}`);
  for (const name of names) diagnostics.subscribe(name, onMessage);
  try {
    const r = recording("ev-channel");
    await r.client.tokenScript([{ status: 500 }]);
    const token = await r.auth.getToken();
    await r.auth.request(REPORT, { query: { start: "2024-01-01", end: "2024-01-02" } });
    const mine = published.filter(([, m]) => r.events.includes(m));
    assert.deepEqual(
      mine.map(([name, m]) => [name, m.type]),
      [
        ["cedato-auth:retry", "retry"],
        ["cedato-auth:token", "token"],
        ["cedato-auth:api", "api"],
      ],
    );
    // Without onEvent too.
    const plain = setup("ev-channel-plain");
    await plain.auth.getToken();
    assert.ok(published.some(([name, m]) => name === "cedato-auth:token" && m.expiresAt === plain.auth.expiresAt));
    remember(r, token, await plain.auth.getToken());
  } finally {
    for (const name of names) diagnostics.unsubscribe(name, onMessage);
  }
});

test("no event of this file holds a secret, a Basic value, a token or a query string", T, () => {
  assert.ok(everything.events.length > 20, `${everything.events.length} events`);
  const types = new Set(everything.events.map((e) => e.type));
  assert.deepEqual([...types].sort(), ["api", "failure", "grace", "retry", "store", "token"]);
  for (const event of everything.events) {
    const text = JSON.stringify(event);
    for (const secret of everything.secrets) assert.ok(!text.includes(secret), `${event.type} event holds a secret`);
    assert.ok(!/[?=&]/.test(text.replace(/"[a-zA-Z]+":/g, "")), `${event.type} event holds a query`);
  }
  // Under make test, every event of every Node suite also passes tests/support/event-guard.mjs.
  if (process.env.NODE_OPTIONS?.includes("event-guard")) assert.ok(globalThis.__cedatoEventGuard.events > 0);
});
