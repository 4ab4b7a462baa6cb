// SPEC section 3, "Errors": option validation, the error shape, no secret in any error or
// representation, no synchronous throw from async methods, recovery after every error, free().
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CedatoAuth } from "../../pkg/node.mjs";
import { facesOf } from "../support/common.mjs";
import { TEST_TIMEOUT, VISIBLE_ASCII, assertCedatoError, basicValue, callAsync, closedPort, countingServer, instanceFactory, rejectsWith, settles, sleep, suiteMock, suiteServer, throwsWith, uniqueId } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };

const other = suiteServer(countingServer); // a second origin that counts what reaches it

const setup = instanceFactory(mock, { timeoutMs: 2000, maxRetries: 0 });

// ------------------------------------------------------------------ invalid_config

const good = { clientId: "t-config", clientSecret: "t-config-secret", baseUrl: "https://api.example.com/api/" };
const without = (key) => {
  const copy = { ...good };
  delete copy[key];
  return copy;
};

const invalidConfigs = [
  ["no options at all", undefined],
  ["null options", null],
  ["a string instead of options", "t-config"],
  ["an empty object", {}],
  ["a missing clientId", without("clientId")],
  ["an empty clientId", { ...good, clientId: "" }],
  ["a numeric clientId", { ...good, clientId: 123 }],
  ["a null clientId", { ...good, clientId: null }],
  ["an object clientId", { ...good, clientId: { id: "t-x" } }],
  ["a clientId with ':'", { ...good, clientId: "t-con:fig" }],
  ["a missing clientSecret", without("clientSecret")],
  ["an empty clientSecret", { ...good, clientSecret: "" }],
  ["a numeric clientSecret", { ...good, clientSecret: 42 }],
  ["a null clientSecret", { ...good, clientSecret: null }],
  ["an ftp: baseUrl", { ...good, baseUrl: "ftp://api.example.com/api/" }],
  ["a file: baseUrl", { ...good, baseUrl: "file:///tmp/api/" }],
  ["a ws: baseUrl", { ...good, baseUrl: "ws://api.example.com/api/" }],
  ["a javascript: baseUrl", { ...good, baseUrl: "javascript:alert(1)" }],
  ["a baseUrl that is not a URL", { ...good, baseUrl: "not a url" }],
  ["a relative baseUrl", { ...good, baseUrl: "/api/" }],
  ["a baseUrl 'http://'", { ...good, baseUrl: "http://" }],
  ["an apiVersion with CR/LF", { ...good, apiVersion: "1\r\nX-Injected: yes" }],
  ["an apiVersion with a space", { ...good, apiVersion: "1 2" }],
  ["a non-ASCII apiVersion", { ...good, apiVersion: "ü" }],
  ["a negative refreshSkewSeconds", { ...good, refreshSkewSeconds: -1 }],
  ["a NaN refreshSkewSeconds", { ...good, refreshSkewSeconds: Number.NaN }],
  ["timeoutMs 0", { ...good, timeoutMs: 0 }],
  ["a negative timeoutMs", { ...good, timeoutMs: -100 }],
  ["a NaN timeoutMs", { ...good, timeoutMs: Number.NaN }],
  ["a non-integer maxRetries", { ...good, maxRetries: 1.5 }],
  ["a negative maxRetries", { ...good, maxRetries: -1 }],
  ["a NaN maxRetries", { ...good, maxRetries: Number.NaN }],
  ["an infinite maxRetries", { ...good, maxRetries: Number.POSITIVE_INFINITY }],
  ["a string fetch", { ...good, fetch: "fetch" }],
  ["an object fetch", { ...good, fetch: {} }],
  ["a numeric fetch", { ...good, fetch: 42 }],
];
for (const [label, options] of invalidConfigs) {
  test(`constructor: ${label} throws invalid_config synchronously`, T, () => {
    const err = throwsWith(() => new CedatoAuth(options), { code: "invalid_config", retryable: false });
    assert.equal(err.status, undefined);
  });
}

test("constructor: valid options are accepted", T, () => {
  const cases = [
    { clientId: "t-a", clientSecret: "s" },
    { ...good, baseUrl: "http://127.0.0.1:1/api" },
    { ...good, baseUrl: "https://api.cedato.com/api/" },
    { ...good, apiVersion: "2" },
    { ...good, refreshSkewSeconds: 0 },
    { ...good, refreshSkewSeconds: 0.5 },
    { ...good, timeoutMs: 1 },
    { ...good, maxRetries: 0 },
    { ...good, maxRetries: 5 },
    { ...good, fetch: (input, init) => fetch(input, init) },
    {
      ...good,
      baseUrl: undefined,
      apiVersion: undefined,
      refreshSkewSeconds: undefined,
      timeoutMs: undefined,
      maxRetries: undefined,
      fetch: undefined,
    },
  ];
  for (const options of cases) {
    let auth;
    assert.doesNotThrow(() => {
      auth = new CedatoAuth(options);
    }, `options ${inspect(options)}`);
    assert.equal(auth.hasValidToken, false);
    assert.equal(auth.expiresAt, undefined);
  }
});

test("constructor: a missing trailing slash on baseUrl is added", T, async () => {
  const { auth, requests } = setup("slash", { baseUrl: mock().baseUrl.replace(/\/$/, "") });
  assert.match(await auth.getToken(), VISIBLE_ASCII, "the token came from …/api/token");
  const echo = await auth.request("echo");
  assert.equal(echo.path, "/api/echo", "relative paths resolve under …/api/");
  assert.equal(await requests(), 1);
});

test("constructor: the error message says what is wrong", T, () => {
  const err = throwsWith(() => new CedatoAuth({ ...good, timeoutMs: -5 }), { code: "invalid_config" });
  assert.match(err.message, /timeout/i);
  const err2 = throwsWith(() => new CedatoAuth({ ...good, clientId: "" }), { code: "invalid_config" });
  assert.match(err2.message, /client.?id/i);
});

// ------------------------------------------------------------------ the error shape

test("errors are CedatoError instances of Error with the documented fields", T, async () => {
  const { auth, client } = setup("shape");
  await client.tokenScript([{ status: 400, body: { error: "invalid_scope", error_description: "nope" } }]);
  const err = await rejectsWith(auth.getToken(), { code: "token_rejected" });
  assert.ok(err instanceof Error);
  assert.equal(typeof err.stack, "string");
  assert.equal(typeof err.code, "string");
  assert.equal(typeof err.retryable, "boolean");
  assert.equal(typeof err.status, "number");
  assert.equal(String(err).startsWith("CedatoError"), true, String(err));
});

// ------------------------------------------------------------------ no synchronous throws

test("async methods never throw synchronously (network failure)", T, async () => {
  const port = await closedPort();
  const { auth } = setup("nosync-net", { baseUrl: `http://127.0.0.1:${port}/api/`, timeoutMs: 1000 });
  const calls = {
    getToken: () => auth.getToken(),
    getAuthorizationHeader: () => auth.getAuthorizationHeader(),
    refresh: () => auth.refresh(),
    fetch: () => auth.fetch("echo"),
    request: () => auth.request("echo"),
  };
  for (const [name, fn] of Object.entries(calls)) {
    await rejectsWith(callAsync(fn, name), { code: "network" });
  }
});

test("async methods never throw synchronously (bad arguments)", T, async () => {
  const { auth } = setup("nosync-args");
  const circular = {};
  circular.self = circular;
  const calls = [
    ["fetch(undefined)", () => auth.fetch(undefined)],
    ["fetch(null)", () => auth.fetch(null)],
    ["fetch(42)", () => auth.fetch(42)],
    ["fetch({})", () => auth.fetch({})],
    ["fetch(Symbol)", () => auth.fetch(Symbol("x"))],
    ["fetch('echo', 5)", () => auth.fetch("echo", 5)],
    ["fetch('echo', { headers: 5 })", () => auth.fetch("echo", { headers: 5 })],
    ["fetch('echo', { headers: bad name })", () => auth.fetch("echo", { headers: { "bad header": "x" } })],
    ["fetch('echo', { method: 'GET', body })", () => auth.fetch("echo", { method: "GET", body: "x" })],
    ["fetch(bad URL)", () => auth.fetch("http://[bad")],
    ["fetch(other origin)", () => auth.fetch(`${other().origin}/x`)],
    ["request(undefined)", () => auth.request(undefined)],
    ["request(null)", () => auth.request(null)],
    ["request(42)", () => auth.request(42)],
    ["request({})", () => auth.request({})],
    ["request('echo', 5)", () => auth.request("echo", 5)],
    ["request('echo', { query: 5 })", () => auth.request("echo", { query: 5 })],
    ["request('echo', { query: nested })", () => auth.request("echo", { query: { a: { b: 1 } } })],
    ["request('echo', { headers: 5 })", () => auth.request("echo", { headers: 5 })],
    ["request('echo', { method: 5 })", () => auth.request("echo", { method: 5 })],
    ["request('echo', { body: BigInt })", () => auth.request("echo", { method: "POST", body: 10n })],
    ["request('echo', { body: circular })", () => auth.request("echo", { method: "POST", body: circular })],
    ["request('echo', { method: 'GET', body })", () => auth.request("echo", { method: "GET", body: { a: 1 } })],
    ["request(other origin)", () => auth.request(`${other().origin}/x`)],
  ];
  for (const [label, fn] of calls) {
    const outcome = await settles(callAsync(fn, label), 5000, label);
    if (!outcome.ok) assertCedatoError(outcome.error);
  }
  assert.equal(other().hits, 0);
  // No call panicked the module: the same instance still works.
  auth.clear();
  assert.match(await auth.getToken(), VISIBLE_ASCII);
  assert.equal((await auth.request("echo")).headers.token_valid, true);
});

test("unserialisable JSON bodies are invalid_request", T, async () => {
  const { auth } = setup("bad-body");
  const circular = {};
  circular.self = circular;
  await rejectsWith(auth.request("echo", { method: "POST", body: circular }), { code: "invalid_request" });
  await rejectsWith(auth.request("echo", { method: "POST", body: 10n }), { code: "invalid_request" });
});

// ------------------------------------------------------------------ secrets never leak

function assertNoSecrets(label, value, secrets) {
  for (const [, text] of facesOf(value)) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${label} shows a secret (${secret.slice(0, 6)}…): ${text.slice(0, 300)}`);
    }
  }
}

test("the secret, the Basic header and tokens never appear in errors or in the instance", T, async () => {
  const { auth, creds, client } = setup("leak", { timeoutMs: 300 });
  const secrets = [creds.clientSecret, basicValue(creds), `Basic ${basicValue(creds)}`];

  assertNoSecrets("a fresh instance", auth, secrets);
  const token = await auth.getToken();
  secrets.push(token);
  assertNoSecrets("an instance with a token", auth, secrets);

  const errors = [];
  const collect = async (label, promise, code) => errors.push([label, await rejectsWith(promise, { code })]);

  // Token endpoint errors (each after clear(), so the request is really made).
  const tokenFailures = [
    ["server_error", { status: 503, body: { error: "temporarily_unavailable" } }],
    ["rate_limited", { status: 429 }],
    ["network", { drop: true }],
    ["timeout", { ok: true, delayMs: 1000 }],
    ["token_rejected", { status: 400, body: { error: "invalid_request", error_description: "bad" } }],
    ["http", { status: 404, body: "not here" }],
    ["invalid_response", { status: 200, body: "<html>" }],
  ];
  for (const [code, entry] of tokenFailures) {
    auth.clear();
    await client.tokenScript([entry]);
    await collect(`token ${code}`, auth.getToken(), code);
  }
  // A token the library refuses (CR/LF) or cannot use (bad expires_in) must not be echoed.
  const injected = `LEAKY${Date.now()}abc`;
  secrets.push(injected);
  auth.clear();
  await client.tokenScript([{ status: 200, body: { access_token: `${injected}\r\nX-Evil: 1`, expires_in: 60 } }]);
  await collect("token with CR/LF", auth.getToken(), "invalid_response");
  const unusable = `UNUSABLE${Date.now()}xyz`;
  secrets.push(unusable);
  await client.tokenScript([{ status: 200, body: { access_token: unusable, expires_in: "soon" } }]);
  await collect("token with a bad expires_in", auth.refresh(), "invalid_response");

  // API call errors with a token in hand.
  auth.clear();
  secrets.push(await auth.getToken());
  await collect("other origin", auth.fetch(`${other().origin}/api/echo`), "invalid_request");
  await collect("request other origin", auth.request(`${other().origin}/api/echo`), "invalid_request");
  await collect("request 404", auth.request("demand/999999"), "http");
  await collect("request text", auth.request("text"), "invalid_response");
  await client.apiScript([{ delayMs: 1000 }]);
  await collect("request timeout", auth.request("echo"), "timeout");
  await client.apiScript([{ status: 401 }, { status: 401 }]);
  await collect("request 401 twice", auth.request("echo"), "http");
  secrets.push(await auth.getToken());

  // Credentials refused by the server.
  const wrong = { clientId: creds.clientId, clientSecret: `wrong-${Math.random().toString(36).slice(2)}-secret` };
  const wrongAuth = new CedatoAuth({ ...wrong, baseUrl: mock().baseUrl, maxRetries: 0 });
  await collect("token_rejected (wrong secret)", wrongAuth.getToken(), "token_rejected");
  secrets.push(wrong.clientSecret, basicValue(wrong));

  // Constructor errors with a secret in the options.
  const configSecret = `cfg-${Math.random().toString(36).slice(2)}-secret`;
  secrets.push(configSecret);
  for (const options of [
    { clientId: "a:b", clientSecret: configSecret },
    { clientId: "t-x", clientSecret: configSecret, baseUrl: "ftp://x/" },
    { clientId: "t-x", clientSecret: configSecret, timeoutMs: -1 },
    { clientId: "", clientSecret: configSecret },
  ]) {
    errors.push(["invalid_config", throwsWith(() => new CedatoAuth(options), { code: "invalid_config" })]);
  }

  assert.ok(errors.length >= 20);
  for (const [label, err] of errors) assertNoSecrets(`error (${label})`, err, secrets);
  assertNoSecrets("the instance after all that", auth, secrets);
  assertNoSecrets("the refused instance", wrongAuth, secrets);
});

// ------------------------------------------------------------------ recovery

test("after every kind of error the same instance still gets a token", T, async () => {
  const { auth, client } = setup("recover", { timeoutMs: 300 });
  const steps = [
    ["token_rejected", () => client.tokenScript([{ status: 401, body: { error: "invalid_client" } }]), () => auth.getToken()],
    ["server_error", () => client.tokenScript([{ status: 500 }]), () => auth.getToken()],
    ["rate_limited", () => client.tokenScript([{ status: 429, headers: { "retry-after": "600" } }]), () => auth.getToken()],
    ["network", () => client.tokenScript([{ drop: true }]), () => auth.getAuthorizationHeader()],
    ["timeout", () => client.tokenScript([{ stallBody: true }]), () => auth.refresh()],
    ["invalid_response", () => client.tokenScript([{ ok: true, expiresIn: -5 }]), () => auth.getToken()],
    ["http", () => client.tokenScript([{ status: 418 }]), () => auth.fetch("echo")],
    ["invalid_request", async () => {}, () => auth.fetch(`${other().origin}/`)],
    ["http", async () => {}, () => auth.request("demand/0")],
    ["invalid_response", async () => {}, () => auth.request("text")],
    ["timeout", () => client.apiScript([{ delayMs: 1000 }]), () => auth.request("echo")],
  ];
  for (const [code, arrange, act] of steps) {
    auth.clear();
    await arrange();
    await rejectsWith(callAsync(act, code), { code });
    auth.clear();
    const token = await auth.getToken();
    assert.match(token, VISIBLE_ASCII, `a token after ${code}`);
    assert.equal((await auth.request("echo")).headers.token_valid, true, `a call after ${code}`);
  }
});

// ------------------------------------------------------------------ free()

test("free() while a token request is in flight does not throw; the promise settles", T, async () => {
  const { auth, client } = setup("free-token");
  await client.tokenScript([{ ok: true, delayMs: 300 }]);
  const pending = auth.getToken();
  await sleep(50);
  assert.doesNotThrow(() => auth.free());
  const outcome = await settles(pending, 5000, "getToken after free()");
  if (!outcome.ok) assert.ok(outcome.error instanceof Error);
});

test("free() right after the call (same tick) does not throw; all pending promises settle", T, async () => {
  const { auth, client } = setup("free-sync");
  await client.tokenScript([{ ok: true, delayMs: 200 }]);
  const pending = [auth.getToken(), auth.getToken(), auth.refresh(), auth.getAuthorizationHeader()];
  assert.doesNotThrow(() => auth.free());
  for (const p of pending) {
    const outcome = await settles(p, 5000, "a call pending at free()");
    if (!outcome.ok) assert.ok(outcome.error instanceof Error);
  }
});

test("free() while an API call is in flight does not throw; the promise settles", T, async () => {
  const { auth, client } = setup("free-api");
  await auth.getToken();
  await client.apiScript([{ delayMs: 300 }]);
  const viaRequest = auth.request("echo");
  const viaFetch = auth.fetch("echo");
  await sleep(50);
  assert.doesNotThrow(() => auth.free());
  for (const p of [viaRequest, viaFetch]) {
    const outcome = await settles(p, 5000, "an API call pending at free()");
    if (!outcome.ok) assert.ok(outcome.error instanceof Error);
  }
});

test("after free() the module still works for other instances", T, async () => {
  const { auth, client } = setup("free-other");
  await client.tokenScript([{ ok: true, delayMs: 100 }]);
  const pending = auth.getToken();
  auth.free();
  await settles(pending, 5000);
  const fresh = new CedatoAuth({ clientId: uniqueId("after-free"), clientSecret: "x", baseUrl: mock().baseUrl, maxRetries: 0 });
  await rejectsWith(fresh.getToken(), { code: "token_rejected" });
  const { auth: good2 } = setup("free-other-2");
  assert.match(await good2.getToken(), VISIBLE_ASCII);
});
