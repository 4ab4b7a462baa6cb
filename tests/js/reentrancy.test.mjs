// User code the library calls (the `fetch` option, a tokenStore method) may call back into
// the same instance: it gets the answer it would get a moment later, and nothing throws or
// deadlocks (SPEC section 3). After free(), every async method rejects; calls already
// pending settle.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import { TEST_TIMEOUT, VISIBLE_ASCII, callAsync, instanceFactory, rejectsWith, suiteMock, throwsWith, timed } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };


const setup = instanceFactory(mock, { timeoutMs: 2000, maxRetries: 0 });

/** Reads every synchronous property of `auth`; returns what it saw. */
function readAll(auth) {
  return {
    expiresAt: auth.expiresAt,
    hasValidToken: auth.hasValidToken,
    text: String(auth),
    json: JSON.stringify(auth),
  };
}

test("a fetch option that asks the same instance for the token joins the flight in the air", T, async () => {
  let inner;
  let seen;
  const box = {};
  const { auth, requests } = setup("reenter-join", {
    fetch: (input, init) => {
      if (inner === undefined && String(input).endsWith("/token")) {
        seen = readAll(box.auth);
        inner = box.auth.getToken();
      }
      return fetch(input, init);
    },
  });
  box.auth = auth;
  const token = await auth.getToken();
  assert.match(token, VISIBLE_ASCII);
  assert.equal(await inner, token, "the inner call got the same token");
  assert.equal(await requests(), 1, "one token request");
  assert.deepEqual(seen.expiresAt, undefined);
  assert.equal(seen.hasValidToken, false);
  assert.match(seen.text, /^CedatoAuth\(/);
  assert.equal(JSON.parse(seen.json).hasValidToken, false);
});

test("a fetch option may clear(), refresh() and read the instance during a token request", T, async () => {
  const box = {};
  let refreshed;
  const { auth, requests } = setup("reenter-refresh", {
    fetch: (input, init) => {
      if (refreshed === undefined && String(input).endsWith("/token")) {
        box.auth.clear();
        refreshed = box.auth.refresh();
        readAll(box.auth);
      }
      return fetch(input, init);
    },
  });
  box.auth = auth;
  const token = await auth.getToken();
  assert.equal(await refreshed, token, "refresh() joined the request in flight");
  assert.equal(await requests(), 1);
  assert.equal(auth.hasValidToken, true, "the token landed after the clear() that ran before it");
});

test("a fetch option that calls free() during the token request: the call settles, later ones reject", T, async () => {
  const box = {};
  const { auth } = setup("reenter-free", {
    fetch: (input, init) => {
      box.auth.free();
      return fetch(input, init);
    },
  });
  box.auth = auth;
  // The call already pending settles: the token that lands after free() is overwritten at
  // once, never handed out (issue 18).
  await rejectsWith(callAsync(() => auth.getToken(), "getToken"), { code: "invalid_request" });
  await rejectsWith(auth.getToken(), { code: "invalid_request" });
});

test("a tokenStore whose get() asks the instance for the token: one token request, no deadlock", T, async () => {
  const box = {};
  let inner;
  const store = {
    async get() {
      inner ??= box.auth.getToken();
      return null;
    },
    async set() {},
  };
  const { auth, requests } = setup("reenter-store", { tokenStore: store });
  box.auth = auth;
  const token = await auth.getToken();
  assert.equal(await inner, token);
  assert.equal(await requests(), 1);
});

test("after free(), every async method returns a rejected promise, never a synchronous throw", T, async () => {
  const { auth } = setup("freed");
  await auth.getToken();
  auth.free();
  auth.free(); // twice is fine
  for (const [name, call] of [
    ["getToken", () => auth.getToken()],
    ["getAuthorizationHeader", () => auth.getAuthorizationHeader()],
    ["refresh", () => auth.refresh()],
    ["fetch", () => auth.fetch("reports/supplies/extended")],
    ["request", () => auth.request("reports/supplies/extended")],
  ]) {
    const err = await rejectsWith(callAsync(call, name), { code: "invalid_request" });
    assert.match(err.message, /freed/, name);
  }
  assert.equal(auth.hasValidToken, false);
  assert.match(String(auth), /^CedatoAuth\(/);
});

test("a tokenStore with a delete that is not a function is invalid_config", T, async () => {
  const store = { get: async () => null, set: async () => {}, delete: "nope" };
  throwsWith(() => new CedatoAuth({ clientId: "a", clientSecret: "b", tokenStore: store }), { code: "invalid_config" });
});

test("a tokenStore that never answers delays a cold call by about one timeoutMs, not one per store call", T, async () => {
  const never = () => new Promise(() => {});
  const store = { get: never, set: never, delete: never };
  const { auth, requests } = setup("store-hangs", { timeoutMs: 400, tokenStore: store });
  const { ms, value } = await timed(() => auth.getToken());
  assert.match(value, VISIBLE_ASCII);
  assert.ok(ms >= 380 && ms < 780, `the get waited for timeoutMs, the set did not: ${ms} ms`);
  assert.equal(await requests(), 1);
});
