// SPEC section 2: the token exchange and the parsing rules for a 2xx token answer.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import { TEST_TIMEOUT, VISIBLE_ASCII, credentials, instanceFactory, realNow, rejectsWith, suiteMock, throwsWith, uniqueId } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };
const YEAR_MS = 365 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;


/** A new instance with its own client id; maxRetries 2 so we can also see "not retried". */
const setup = instanceFactory(mock, { timeoutMs: 3000, maxRetries: 2 });

/** Gets a token and returns it with the real-clock window in which the request was sent. */
async function timedToken(auth) {
  const before = realNow();
  const token = await auth.getToken();
  const after = realNow();
  return { token, before, after };
}

test("exchanges the credentials for a token (default `data` envelope)", T, async () => {
  const { auth, client } = setup("exchange");
  const token = await auth.getToken();
  assert.equal(typeof token, "string");
  assert.match(token, VISIBLE_ASCII);
  assert.equal(await auth.getAuthorizationHeader(), `Bearer ${token}`);
  assert.deepEqual(await client.stats(), { tokenRequests: 1, tokensIssued: 1, apiRequests: 0, apiUnauthorized: 0 });
  // The token the mock issued is accepted by the API (so it was read from `data`).
  const echo = await auth.request("echo");
  assert.equal(echo.headers.token_valid, true);
  assert.equal(echo.headers.authorization_scheme, "Bearer");
});

test("accepts the documented flat answer (fields at the top level)", T, async () => {
  const { auth, client } = setup("flat");
  await client.configure({ envelope: "flat" });
  const { token, before, after } = await timedToken(auth);
  assert.match(token, VISIBLE_ASCII);
  assert.ok(auth.expiresAt >= before + 3600_000 && auth.expiresAt <= after + 3600_000, `expiresAt ${auth.expiresAt}`);
  const echo = await auth.request("echo");
  assert.equal(echo.headers.token_valid, true);
});

test("any 2xx status with a usable body is a token (201)", T, async () => {
  const { auth, client } = setup("created");
  await client.tokenScript([{ status: 201, body: { access_token: "tok-201", token_type: "bearer", expires_in: 3600 } }]);
  assert.equal(await auth.getToken(), "tok-201");
});

for (const tokenType of ["Bearer", "BEARER", "bEaReR", "bearer"]) {
  test(`token_type ${JSON.stringify(tokenType)} is accepted and written "Bearer <token>"`, T, async () => {
    const { auth, client } = setup("ttype");
    await client.configure({ tokenType });
    const token = await auth.getToken();
    assert.equal(await auth.getAuthorizationHeader(), `Bearer ${token}`);
    const echo = await auth.request("echo");
    assert.equal(echo.headers.authorization_scheme, "Bearer");
  });
}

test("an absent token_type means bearer", T, async () => {
  const { auth, client } = setup("ttype-absent");
  await client.tokenScript([{ status: 200, body: { data: { access_token: "no-type-token", expires_in: 3600 } } }]);
  assert.equal(await auth.getToken(), "no-type-token");
  assert.equal(await auth.getAuthorizationHeader(), "Bearer no-type-token");
});

for (const tokenType of ["mac", "Basic", "DPoP", "N_A"]) {
  test(`token_type ${JSON.stringify(tokenType)} is invalid_response (not retried, status 200)`, T, async () => {
    const { auth, client } = setup("ttype-bad");
    await client.configure({ tokenType });
    await rejectsWith(auth.getToken(), { code: "invalid_response", status: 200, retryable: false });
    assert.equal((await client.stats()).tokenRequests, 1, "invalid_response is not retried");
    assert.equal(auth.hasValidToken, false);
    // The failure is not cached: with a normal answer the same instance gets a token.
    await client.configure({ tokenType: "bearer" });
    assert.match(await auth.getToken(), VISIBLE_ASCII);
  });
}

const validLifetimes = [
  ["the number 7200", 7200, 7200],
  ['the numeric string "3600"', "3600", 3600],
  ['the numeric string "120"', "120", 120],
  ["null (= 3600)", null, 3600],
];
for (const [label, value, seconds] of validLifetimes) {
  test(`expires_in as ${label} gives expiresAt = send time + ${seconds} s`, T, async () => {
    const { auth, client } = setup("exp-ok");
    await client.tokenScript([{ ok: true, expiresIn: value }]);
    const { before, after } = await timedToken(auth);
    assert.equal(typeof auth.expiresAt, "number");
    assert.ok(
      auth.expiresAt >= before + seconds * 1000 && auth.expiresAt <= after + seconds * 1000,
      `expiresAt ${auth.expiresAt} not in [${before + seconds * 1000}, ${after + seconds * 1000}]`,
    );
    assert.equal(auth.hasValidToken, true);
  });
}

test("an absent expires_in means 3600 s", T, async () => {
  const { auth, client } = setup("exp-absent");
  await client.tokenScript([{ status: 200, body: { data: { access_token: "no-expiry", token_type: "bearer" } } }]);
  const { token, before, after } = await timedToken(auth);
  assert.equal(token, "no-expiry");
  assert.ok(auth.expiresAt >= before + 3600_000 && auth.expiresAt <= after + 3600_000, `expiresAt ${auth.expiresAt}`);
});

const invalidLifetimes = [-1, -3600, "-1", "3600abc", " ", "", "abc", "NaN", "Infinity", "-Infinity", true, {}, [3600]];
for (const value of invalidLifetimes) {
  test(`expires_in ${JSON.stringify(value)} is invalid_response`, T, async () => {
    const { auth, client } = setup("exp-bad");
    await client.tokenScript([{ ok: true, expiresIn: value }]);
    await rejectsWith(auth.getToken(), { code: "invalid_response", status: 200, retryable: false });
    assert.equal((await client.stats()).tokenRequests, 1, "not retried");
    assert.equal(auth.hasValidToken, false);
    assert.equal(auth.expiresAt, undefined);
  });
}

const hugeLifetimes = [31_536_001, 1e10, 1e12, Number.MAX_SAFE_INTEGER, 1e300, "99999999999999999999", "1000000000000"];
for (const value of hugeLifetimes) {
  test(`expires_in ${JSON.stringify(value)} is clamped to one year`, T, async () => {
    const { auth, client } = setup("exp-huge");
    await client.tokenScript([{ ok: true, expiresIn: value }]);
    const { token, before, after } = await timedToken(auth);
    assert.match(token, VISIBLE_ASCII);
    const expiresAt = auth.expiresAt;
    assert.equal(typeof expiresAt, "number");
    assert.ok(Number.isFinite(expiresAt), `expiresAt ${expiresAt} is finite`);
    assert.ok(
      expiresAt >= before + YEAR_MS - DAY_MS && expiresAt <= after + YEAR_MS + DAY_MS,
      `expiresAt ${expiresAt} (${new Date(expiresAt)}) is about one year from now`,
    );
    assert.doesNotThrow(() => new Date(expiresAt).toISOString(), "expiresAt is a valid date");
    assert.equal(auth.hasValidToken, true);
    assert.equal(await auth.getToken(), token, "served from the cache");
    assert.equal((await client.stats()).tokenRequests, 1);
  });
}

const badTokens = [
  ["a CR/LF (header injection)", "abc\r\nX-Injected: yes"],
  ["a LF", "abc\ndef"],
  ["a space", "abc def"],
  ["a tab", "abc\tdef"],
  ["a DEL", "abc\x7fdef"],
  ["non-ASCII", "tökén"],
  ["the empty string", ""],
  ["a number", 12345],
  ["null", null],
  ["an object", { value: "x" }],
];
for (const [label, value] of badTokens) {
  test(`access_token with ${label} is invalid_response`, T, async () => {
    const { auth, client } = setup("bad-token");
    await client.tokenScript([{ status: 200, body: { data: { access_token: value, token_type: "bearer", expires_in: 3600 } } }]);
    await rejectsWith(auth.getToken(), { code: "invalid_response", status: 200, retryable: false });
    assert.equal(auth.hasValidToken, false);
    assert.equal((await client.stats()).tokenRequests, 1, "not retried");
  });
}

test("a missing access_token is invalid_response", T, async () => {
  const { auth, client } = setup("no-token");
  await client.tokenScript([{ status: 200, body: { status: "OK", data: { token_type: "bearer", expires_in: 3600 } } }]);
  await rejectsWith(auth.getToken(), { code: "invalid_response", status: 200 });
});

test("fields are read from `data` when it is an object, else from the top level", T, async () => {
  const { auth, client } = setup("envelope");
  await client.tokenScript([
    { status: 200, body: { access_token: "outer", expires_in: 60, data: { access_token: "inner", expires_in: 7200 } } },
  ]);
  const first = await timedToken(auth);
  assert.equal(first.token, "inner");
  assert.ok(auth.expiresAt >= first.before + 7200_000 && auth.expiresAt <= first.after + 7200_000, "expires_in read from data");

  auth.clear();
  await client.tokenScript([{ status: 200, body: { data: "not an object", access_token: "top-level", expires_in: 3600 } }]);
  assert.equal(await auth.getToken(), "top-level");

  auth.clear();
  await client.tokenScript([{ status: 200, body: { data: null, access_token: "top-level-2" } }]);
  assert.equal(await auth.getToken(), "top-level-2");

  auth.clear();
  await client.tokenScript([{ status: 200, body: { data: ["x"], access_token: "top-level-3" } }]);
  assert.equal(await auth.getToken(), "top-level-3");
});

test("unknown fields are ignored", T, async () => {
  const { auth, client } = setup("unknown");
  await client.tokenScript([
    {
      status: 200,
      body: {
        status: "OK",
        message: "whatever",
        data: { access_token: "with-extras", token_type: "bearer", expires_in: 3600, scope: "read", refresh_token: 7, nested: { a: [1] } },
      },
    },
  ]);
  assert.equal(await auth.getToken(), "with-extras");
});

for (const [label, body] of [
  ["an HTML page", "<html><body>Service Unavailable</body></html>"],
  ["truncated JSON", '{"access_token": "abc"'],
  ["the empty string", ""],
  ["a JSON array", "[1,2,3]"],
  ["a JSON string", '"abc"'],
  ["JSON null", "null"],
]) {
  test(`a 2xx token answer that is ${label} is invalid_response`, T, async () => {
    const { auth, client } = setup("not-json");
    await client.tokenScript([{ status: 200, body, headers: { "content-type": "text/html" } }]);
    await rejectsWith(auth.getToken(), { code: "invalid_response", status: 200, retryable: false });
    assert.equal((await client.stats()).tokenRequests, 1, "not retried");
    // Not cached: the next call gets a token.
    assert.match(await auth.getToken(), VISIBLE_ASCII);
  });
}

test("Basic credentials are the UTF-8 bytes of id:secret (non-ASCII id and secret)", T, async () => {
  const { auth, client } = setup("ü-日本-é", { maxRetries: 0 });
  const token = await auth.getToken();
  assert.match(token, VISIBLE_ASCII);
  assert.equal((await client.stats()).tokensIssued, 1);
});

test("a secret containing ':' is sent intact (split at the first ':')", T, async () => {
  const clientId = uniqueId("colon");
  const auth = new CedatoAuth({ clientId, clientSecret: `${clientId}-secret:a:b:ü`, baseUrl: mock().baseUrl, maxRetries: 0 });
  assert.match(await auth.getToken(), VISIBLE_ASCII);
});

test("wrong credentials are refused by the server (token_rejected), not mangled", T, async () => {
  const clientId = uniqueId("wrong");
  const auth = new CedatoAuth({ clientId, clientSecret: `${clientId}-secreT`, baseUrl: mock().baseUrl, maxRetries: 0 });
  await rejectsWith(auth.getToken(), { code: "token_rejected", status: 401, oauthError: "invalid_client" });
});

test("a client id containing ':' is invalid_config", T, () => {
  throwsWith(() => new CedatoAuth({ clientId: "t-a:b", clientSecret: "t-a:b-secret", baseUrl: mock().baseUrl }), {
    code: "invalid_config",
  });
  throwsWith(() => new CedatoAuth({ clientId: ":", clientSecret: "x" }), { code: "invalid_config" });
});
