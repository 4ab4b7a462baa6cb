// The `tokenStore` option through the JS API (the Rust driver does the store's I/O): lookup
// order memory -> store -> endpoint, what is written, stores that fail, 401s, refresh(),
// and the refresh window of a stored token. The shipped stores are tested in tests/fleet.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import { open, seal, storeKeyOf } from "../support/sealed.mjs";
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

const keyOf = (creds) => storeKeyOf(creds, mock().baseUrl);
/** The token in a stored value, opened with the credentials of `creds`. */
const tokenIn = (creds, value) => open(creds, mock().baseUrl, value).accessToken;

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
  // The store sees the times and a sealed value; the token only with the credentials.
  assert.deepEqual(Object.keys(value), ["sealed", "expiresAt", "refreshAt"]);
  assert.deepEqual({ ...value, sealed: "" }, { sealed: "", expiresAt: a.auth.expiresAt, refreshAt });
  assert.ok(!JSON.stringify(value).includes(token));
  assert.deepEqual(open(a.creds, mock().baseUrl, value), { accessToken: token, expiresIn: 3600 });
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

  // A value sealed with the same credentials by another writer: used until its own
  // refresh point, whatever the reader's skew.
  const key = keyOf(a.creds);
  const now = Date.now();
  map.set(key, seal(a.creds, mock().baseUrl, { accessToken: "other-writer-90s", expiresIn: 90, expiresAt: now + 90_000, refreshAt: now + 80_000 }));
  assert.equal(await sibling(a, store).getToken(), "other-writer-90s");
  map.set(key, seal(a.creds, mock().baseUrl, { accessToken: "other-writer-59s", expiresIn: 60, expiresAt: now + 59_000, refreshAt: now - 1 }));
  const c = sibling(a, store);
  assert.notEqual(await c.getToken(), "other-writer-59s");
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
    "get holds a plain token of the old form": { get: async () => ({ accessToken: "old", tokenType: "bearer", expiresAt: Date.now() + 3_600_000, refreshAt: Date.now() + 3_500_000 }), set: async () => {} },
    "get holds a string": { get: async () => "old", set: async () => {} },
    "get holds an object whose getter throws": { get: async () => ({ get sealed() { throw new Error("boom"); } }), set: async () => {} },
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
  assert.equal(tokenIn(a.creds, map.get(key)), second, "the new token is stored");

  calls.length = 0;
  const third = await a.auth.refresh();
  assert.notEqual(third, second);
  assert.deepEqual(calls.map(([name]) => name), ["set"], "refresh() skips the store read");
  assert.equal(tokenIn(a.creds, map.get(key)), third);
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

test("a stored token over 4 KB is not used", T, async () => {
  const now = Date.now();
  let value;
  const tokenStore = { get: async () => value, set: async () => {} };
  const { auth, requests, creds } = setup("store-large", { tokenStore });
  value = seal(creds, mock().baseUrl, { accessToken: "x".repeat(5000), expiresAt: now + 3600_000, refreshAt: now + 3500_000 });
  assert.notEqual(await auth.getToken(), "x".repeat(5000));
  assert.equal(await requests(), 1, "fetched from the endpoint");
});

test("a stored token's time left is never longer than its own lifetime: an expiry 50 years ahead is clamped, not trusted", T, async () => {
  // A writer whose clock is far ahead (or a forged time: the times are authenticated,
  // but only the lifetime is the token's own). Used, and refreshed as a 1 h token would be.
  const now = Date.now();
  let value;
  const tokenStore = { get: async () => value, set: async () => {} };
  const { auth, requests, creds } = setup("store-far", { tokenStore });
  const expiresAt = now + 50 * 365 * 86_400_000;
  value = seal(creds, mock().baseUrl, { accessToken: "far-future-token", expiresIn: 3600, expiresAt, refreshAt: expiresAt - 60_000 });
  assert.equal(await auth.getToken(), "far-future-token");
  assert.equal(await requests(), 0);
  assert.ok(auth.expiresAt >= now + 3600_000 - 1000 && auth.expiresAt <= Date.now() + 3600_000, `expiresAt ${auth.expiresAt}`);
});

test("a store's expiresInMs is the time left, whatever the stored times say", T, async () => {
  // A writer 10 min behind: by the stored times the token expired; by the store's
  // measure it has 20 s left (10 s before its 10 s refresh window).
  const now = Date.now();
  let value;
  const tokenStore = { get: async () => value && { ...value, expiresInMs: 20_000 }, set: async () => {} };
  const { auth, requests, creds } = setup("store-left", { tokenStore });
  const expiresAt = now - 600_000 + 20_000;
  value = seal(creds, mock().baseUrl, { accessToken: "behind-token", expiresIn: 30, expiresAt, refreshAt: expiresAt - 10_000 });
  assert.equal(await auth.getToken(), "behind-token");
  assert.equal(await requests(), 0);
  assert.ok(Math.abs(auth.expiresAt - (now + 20_000)) < 1000, `expiresAt on this clock: ${auth.expiresAt - now} ms ahead`);
  // Inside the refresh window by the store's measure: not used.
  let late;
  const other = setup("store-left-late", { tokenStore: { get: async () => ({ ...late, expiresInMs: 9_000 }), set: async () => {} } });
  late = seal(other.creds, mock().baseUrl, { accessToken: "late-token", expiresIn: 30, expiresAt: now + 600_000, refreshAt: now + 590_000 });
  assert.notEqual(await other.auth.getToken(), "late-token");
  assert.equal(await other.requests(), 1);
});

test("the refresh point the writer stored wins over the reader's own skew", T, async () => {
  // 30 s left: a reader with refreshSkewSeconds 10 would use it, but its writer (skew 65)
  // put its refresh point in the past.
  const now = Date.now();
  let value;
  const tokenStore = { get: async () => value, set: async () => {} };
  const { auth, requests, creds } = setup("store-point", { refreshSkewSeconds: 10, tokenStore });
  value = seal(creds, mock().baseUrl, { accessToken: "writers-token", expiresAt: now + 30_000, refreshAt: now - 1 });
  assert.notEqual(await auth.getToken(), "writers-token");
  assert.equal(await requests(), 1);
  // And one still before its refresh point is used as it is.
  const other = setup("store-point-b", { refreshSkewSeconds: 10, tokenStore });
  value = seal(other.creds, mock().baseUrl, { accessToken: "still-fresh", expiresAt: now + 30_000, refreshAt: Date.now() + 20_000 });
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

test("a value that does not open is an invalid miss: another secret's, altered, moved, plain", T, async () => {
  const { store, map } = memoryStore();
  const events = [];
  const a = setup("store-invalid-values", { tokenStore: store, onEvent: (e) => e.type === "store" && events.push(e) });
  const key = keyOf(a.creds);
  const now = Date.now();
  const token = { accessToken: "sealed-token", expiresAt: now + 3_600_000, refreshAt: now + 3_540_000 };
  const good = seal(a.creds, mock().baseUrl, token);
  const flip = (text) => text.slice(0, 20) + (text[20] === "A" ? "B" : "A") + text.slice(21);
  const bad = {
    "sealed with another secret": seal({ ...a.creds, clientSecret: "another-secret" }, mock().baseUrl, token),
    "sealed for another baseUrl": seal(a.creds, "https://other.example/api/", token),
    "an altered byte": { ...good, sealed: flip(good.sealed) },
    "a later expiresAt": { ...good, expiresAt: good.expiresAt + 1000 },
    "a later refreshAt": { ...good, refreshAt: good.refreshAt + 1000 },
    "not base64url": { ...good, sealed: "not base64url!" },
    "a plain token of the old form": { accessToken: "plain", tokenType: "bearer", expiresAt: good.expiresAt, expiresIn: 3600, refreshAt: good.refreshAt },
  };
  let n = 0;
  for (const [name, value] of Object.entries(bad)) {
    map.set(key, value);
    events.length = 0;
    a.auth.clear();
    const got = await a.auth.getToken();
    assert.notEqual(got, "sealed-token", name);
    assert.equal(await a.requests(), ++n, `${name}: one token request`);
    assert.deepEqual(events.map((e) => `${e.op} ${e.outcome}`).slice(0, 1), ["get invalid"], name);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(tokenIn(a.creds, map.get(key)), got, `${name}: replaced by the new token`);
  }
  map.set(key, good);
  a.auth.clear();
  assert.equal(await a.auth.getToken(), "sealed-token", "the unaltered value opens");
  assert.equal(await a.requests(), n);
});

test("with no Web Crypto a tokenStore is invalid_config that says why; without a store nothing needs it", T, () => {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true, writable: true });
  try {
    const err = throwsWith(() => setup("store-no-crypto", { tokenStore: memoryStore().store }), { code: "invalid_config" });
    assert.match(err.message, /Web Crypto \(crypto\.subtle\)/);
    assert.ok(setup("store-no-crypto-b").auth);
  } finally {
    Object.defineProperty(globalThis, "crypto", descriptor);
  }
});
