// The `tokenStore` option through the JS API (the Rust driver does the store's I/O): lookup
// order memory -> store -> endpoint, what is written, stores that fail, 401s, refresh(),
// and the refresh window of a stored token. The shipped stores are tested in tests/fleet.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import { TEST_TIMEOUT, VISIBLE_ASCII, instanceFactory, suiteMock, throwsWith, timed } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };


const setup = instanceFactory(mock, { timeoutMs: 500, maxRetries: 0 });

/** A tokenStore over a Map that records its calls: `{ store, calls, map }`. */
function memoryStore({ withDelete = true } = {}) {
  const map = new Map();
  const calls = [];
  const store = {
    async get(key) {
      calls.push(["get", key]);
      return map.get(key) ?? null;
    },
    async set(key, value, ttlSeconds) {
      calls.push(["set", key, value, ttlSeconds]);
      map.set(key, value);
    },
  };
  if (withDelete) {
    store.delete = async (key) => {
      calls.push(["delete", key]);
      map.delete(key);
    };
  }
  return { store, calls, map };
}

/** A second instance with the same credentials and store (another isolate or process). */
const sibling = (first, store) => new CedatoAuth({ ...first.creds, baseUrl: mock().baseUrl, timeoutMs: 500, maxRetries: 0, tokenStore: store });

const keyOf = ({ clientId }) => `cedato-auth:v1:${mock().baseUrl}:${clientId}`;

test("the store is read before the endpoint, and a fetched token is written to it", T, async () => {
  const { store, calls } = memoryStore();
  const a = setup("store-order", { tokenStore: store });
  const key = keyOf(a.creds);
  const token = await a.auth.getToken();
  assert.match(token, VISIBLE_ASCII);
  assert.equal(await a.requests(), 1);
  assert.deepEqual(calls.map(([name, k]) => [name, k]), [["get", key], ["set", key]]);
  const [, , value, ttlSeconds] = calls[1];
  const refreshAt = a.auth.expiresAt - 60_000; // the instance's own refresh point
  assert.deepEqual(value, { accessToken: token, tokenType: "bearer", expiresAt: a.auth.expiresAt, expiresIn: 3600, refreshAt });
  assert.ok(Number.isInteger(ttlSeconds) && ttlSeconds >= 3598 && ttlSeconds <= 3600, `ttl ${ttlSeconds}`);

  // Another instance takes it from the store: no token request.
  const b = sibling(a, store);
  assert.equal(await b.getToken(), token);
  assert.equal(b.expiresAt, a.auth.expiresAt);
  assert.equal(await a.requests(), 1);
  assert.deepEqual(calls.slice(2).map(([name]) => name), ["get"]);
  // and from memory afterwards
  assert.equal(await b.getToken(), token);
  assert.equal(calls.length, 3);
});

test("a short-lived token is shared too: a stored token has the refresh window of a fetched one", T, async () => {
  const { store, map } = memoryStore();
  const a = setup("store-short", { tokenStore: store });
  await a.client.configure({ expiresIn: 60 }); // refreshed min(60, 60 / 2) = 30 s before expiry
  const token = await a.auth.getToken();
  const b = sibling(a, store);
  assert.equal(await b.getToken(), token, "the stored 60 s token, not a new one");
  assert.equal(await a.requests(), 1);

  // A value without expiresIn (written by something else): its lifetime is unknown, so
  // it is refreshed the whole refreshSkewSeconds (60) before it expires.
  const key = keyOf(a.creds);
  map.set(key, { accessToken: "foreign-90s", tokenType: "bearer", expiresAt: Date.now() + 90_000 });
  assert.equal(await sibling(a, store).getToken(), "foreign-90s");
  map.set(key, { accessToken: "foreign-59s", tokenType: "bearer", expiresAt: Date.now() + 59_000 });
  const c = sibling(a, store);
  assert.notEqual(await c.getToken(), "foreign-59s");
  assert.equal(await a.requests(), 2);
});

test("a store that throws, rejects, hangs or holds garbage never fails a call", T, async () => {
  const never = () => new Promise(() => {});
  const stores = {
    "get throws": { get: () => { throw new Error("boom"); }, set: async () => {} },
    "get rejects": { get: async () => { throw new Error("boom"); }, set: async () => {} },
    "get hangs": { get: never, set: async () => {} },
    "get holds garbage": { get: async () => ({ accessToken: 42, expiresAt: "soon" }), set: async () => {} },
    "get holds a non-bearer token": { get: async () => ({ accessToken: "mac-token", tokenType: "mac", expiresAt: Date.now() + 3_600_000 }), set: async () => {} },
    "get holds an expired token": { get: async () => ({ accessToken: "old", tokenType: "bearer", expiresAt: Date.now() - 1 }), set: async () => {} },
    "set throws": { get: async () => null, set: () => { throw new Error("boom"); } },
    "set hangs": { get: async () => null, set: never },
  };
  for (const [name, store] of Object.entries(stores)) {
    const { auth, requests } = setup("store-broken", { tokenStore: store });
    const { ms, value, error } = await timed(() => auth.getToken());
    assert.equal(error, undefined, `${name}: ${error?.message}`);
    assert.match(value, VISIBLE_ASCII, name);
    assert.ok(!["mac-token", "old"].includes(value), name);
    assert.equal(await requests(), 1, name);
    // A hanging store costs at most timeoutMs (500) per call.
    assert.ok(ms < 2000, `${name}: ${ms.toFixed(0)} ms`);
    assert.equal(await auth.getToken(), value, `${name}: cached`);
  }
});

test("a 401 from the API deletes the stored token once; refresh() does not read the store", T, async () => {
  const { store, calls, map } = memoryStore();
  const a = setup("store-401", { tokenStore: store });
  const key = keyOf(a.creds);
  const first = await a.auth.getToken();
  await a.client.revoke();
  const echo = await a.auth.request("echo");
  assert.equal(echo.headers.token_valid, true);
  const second = await a.auth.getToken();
  assert.notEqual(second, first);
  assert.deepEqual(calls.map(([name]) => name), ["get", "set", "delete", "get", "set"]);
  assert.equal(map.get(key).accessToken, second, "the new token is stored");

  calls.length = 0;
  const third = await a.auth.refresh();
  assert.notEqual(third, second);
  assert.deepEqual(calls.map(([name]) => name), ["set"], "refresh() skips the store read");
  assert.equal(map.get(key).accessToken, third);
});

test("a store without delete: a 401 still gets its retry with a new token", T, async () => {
  const { store, calls } = memoryStore({ withDelete: false });
  const a = setup("store-nodelete", { tokenStore: store });
  await a.auth.getToken();
  await a.client.revoke();
  assert.equal((await a.auth.request("echo")).headers.token_valid, true);
  assert.equal(await a.requests(), 2);
  assert.ok(!calls.some(([name]) => name === "delete"));
});

test("a use-once token (expires_in 0) is not written to the store", T, async () => {
  const { store, calls } = memoryStore();
  const a = setup("store-once", { tokenStore: store });
  await a.client.configure({ expiresIn: 0 });
  assert.match(await a.auth.getToken(), VISIBLE_ASCII);
  assert.deepEqual(calls.map(([name]) => name), ["get"]);
});

test("a tokenStore without get and set is invalid_config", T, () => {
  for (const tokenStore of [{ get: async () => null }, { set: async () => {} }, { get: 1, set: 2 }]) {
    throwsWith(() => setup("store-invalid", { tokenStore }), { code: "invalid_config" });
  }
});

test("a store call the library gives up on sees its signal abort; a call it finished does not", T, async () => {
  let getSignal;
  let setSignal;
  const store = {
    get(key, options) {
      getSignal = options?.signal;
      return new Promise(() => {}); // never answers
    },
    async set(key, value, ttl, options) {
      setSignal = options?.signal;
    },
  };
  const { auth } = setup("store-abort", { tokenStore: store, timeoutMs: 300 });
  assert.match(await auth.getToken(), VISIBLE_ASCII);
  assert.ok(getSignal instanceof AbortSignal, "get() received { signal }");
  assert.equal(getSignal.aborted, true, "the abandoned get() was aborted");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(setSignal instanceof AbortSignal);
  assert.equal(setSignal.aborted, false, "a set() that finished is not aborted");
});

test("stored values beyond the bounds are not used: a token over 4 KB, an expiry 50 years ahead", T, async () => {
  for (const [tag, value] of [
    ["store-large", { accessToken: "x".repeat(5000), tokenType: "bearer", expiresAt: Date.now() + 3600_000 }],
    ["store-far", { accessToken: "far-future-token", tokenType: "bearer", expiresAt: Date.now() + 50 * 365 * 86_400_000 }],
  ]) {
    const store = { get: async () => value, set: async () => {} };
    const { auth, requests } = setup(tag, { tokenStore: store });
    const token = await auth.getToken();
    assert.notEqual(token, value.accessToken, tag);
    assert.equal(await requests(), 1, `${tag}: fetched from the endpoint`);
  }
});

test("the refresh point the writer stored wins over the reader's own skew", T, async () => {
  // 30 s left: a reader with refreshSkewSeconds 10 would use it, but its writer (skew 65)
  // put its refresh point in the past.
  const now = Date.now();
  const value = { accessToken: "writers-token", tokenType: "bearer", expiresAt: now + 30_000, expiresIn: 3600, refreshAt: now - 1 };
  const { auth, requests } = setup("store-point", { refreshSkewSeconds: 10, tokenStore: { get: async () => value, set: async () => {} } });
  assert.notEqual(await auth.getToken(), "writers-token");
  assert.equal(await requests(), 1);
  // And one still before its refresh point is used as it is.
  const fresh = { ...value, accessToken: "still-fresh", refreshAt: Date.now() + 20_000 };
  const other = setup("store-point-b", { refreshSkewSeconds: 10, tokenStore: { get: async () => fresh, set: async () => {} } });
  assert.equal(await other.auth.getToken(), "still-fresh");
  assert.equal(await other.requests(), 0);
});

test("release(key) follows a miss whose token request had nothing to share", T, async () => {
  const calls = [];
  const store = {
    get: async (key) => (calls.push(["get", key]), null),
    set: async (key) => calls.push(["set", key]),
    release: async (key) => calls.push(["release", key]),
  };
  const { auth, client, creds } = setup("store-release", { tokenStore: store });
  await client.tokenScript([{ status: 503 }]);
  await assert.rejects(auth.getToken(), { code: "server_error" });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(calls, [["get", keyOf(creds)], ["release", keyOf(creds)]]);
  throwsWith(() => new CedatoAuth({ ...creds, tokenStore: { ...store, release: 1 } }), { code: "invalid_config" });
});
