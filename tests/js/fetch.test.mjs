// SPEC section 3, "Authenticated calls": auth.fetch() and auth.request().
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { TEST_TIMEOUT, countingServer, installClock, instanceFactory, rejectsWith, settles, suiteMock, timed, timedRejection } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };

let other; // a server on another origin that counts what reaches it
before(async () => {
  other = await countingServer();
});
after(async () => {
  await other?.close();
});

const setup = instanceFactory(mock, { timeoutMs: 2000, maxRetries: 0 });

// ------------------------------------------------------------------ auth.fetch

test("fetch: a relative input is resolved against baseUrl and authenticated", T, async () => {
  const { auth, client } = setup("rel");
  const res = await auth.fetch("echo");
  assert.ok(res instanceof Response, "returns a Response");
  assert.equal(res.status, 200);
  const echo = await res.json();
  assert.equal(echo.method, "GET");
  assert.equal(echo.path, "/api/echo");
  assert.equal(echo.headers.authorization_scheme, "Bearer");
  assert.equal(echo.headers.token_valid, true);
  assert.equal(echo.headers["api-version"], "1");
  assert.match(echo.headers.accept, /application\/json/);
  assert.deepEqual(await client.stats(), { tokenRequests: 1, tokensIssued: 1, apiRequests: 1, apiUnauthorized: 0 });
});

test("fetch: a relative input keeps its query string", T, async () => {
  const { auth } = setup("rel-query");
  const echo = await (await auth.fetch("echo?a=1&b=two")).json();
  assert.equal(echo.path, "/api/echo");
  assert.deepEqual(echo.query, { a: "1", b: "two" });
});

test("fetch: an absolute same-origin URL (string or URL) is accepted", T, async () => {
  const { auth } = setup("abs");
  const a = await auth.fetch(`${mock().baseUrl}echo`);
  assert.equal(a.status, 200);
  assert.equal((await a.json()).headers.token_valid, true);
  const b = await auth.fetch(new URL("echo?x=1", mock().baseUrl));
  assert.equal(b.status, 200);
  const echo = await b.json();
  assert.equal(echo.path, "/api/echo");
  assert.deepEqual(echo.query, { x: "1" });
});

test("fetch: a URL on another origin is refused with invalid_request and nothing is sent", T, async () => {
  const { auth, client } = setup("other-origin");
  await auth.getToken(); // a token is cached: the point is that it never leaves its origin
  const inputs = [
    `${other.origin}/api/echo`,
    new URL("/api/echo", other.origin),
    `//127.0.0.1:${other.port}/api/echo`, // protocol-relative: resolves to another origin
    `http://127.0.0.1:${mock().port}@127.0.0.1:${other.port}/api/echo`, // userinfo trick
    `https://127.0.0.1:${mock().port}/api/echo`, // same host and port, other scheme
    `http://localhost:${mock().port}/api/echo`, // same server, other host name
  ];
  for (const input of inputs) {
    await rejectsWith(auth.fetch(input), { code: "invalid_request" });
    await rejectsWith(auth.fetch(input, { method: "POST", body: "x" }), { code: "invalid_request" });
  }
  assert.equal(other.hits, 0, "nothing reached the other origin");
  const stats = await client.stats();
  assert.equal(stats.apiRequests + stats.apiUnauthorized, 0, "nothing reached the API either");
  assert.equal(stats.tokenRequests, 1);
});

test("fetch: a refused URL does not even fetch a token first", T, async () => {
  const { auth, client } = setup("other-origin-fresh");
  await rejectsWith(auth.fetch(`${other.origin}/api/echo`), { code: "invalid_request" });
  assert.equal(other.hits, 0);
  assert.equal((await client.stats()).tokenRequests, 0, "nothing is sent at all");
});

test("fetch: an unparsable URL is invalid_request", T, async () => {
  const { auth } = setup("bad-url");
  await rejectsWith(auth.fetch("http://[not-a-host/echo"), { code: "invalid_request" });
});

test("fetch: the caller's headers are kept, Authorization is always the library's", T, async () => {
  const { auth, client } = setup("headers");
  const forms = [
    { "X-Custom": "one", Authorization: "Bearer forged-token", accept: "text/plain" },
    new Headers({ "x-custom": "one", authorization: "Basic Zm9vOmJhcg==", Accept: "text/plain" }),
    [
      ["x-custom", "one"],
      ["authorization", "Bearer forged-token"],
      ["accept", "text/plain"],
    ],
  ];
  for (const headers of forms) {
    const res = await auth.fetch("echo", { headers });
    assert.equal(res.status, 200, "the forged Authorization was replaced");
    const echo = await res.json();
    assert.equal(echo.headers["x-custom"], "one");
    assert.equal(echo.headers.token_valid, true);
    assert.equal(echo.headers.authorization_scheme, "Bearer");
    assert.equal(echo.headers.accept, "text/plain", "the caller's accept is kept");
    assert.equal(echo.headers["api-version"], "1");
  }
  const stats = await client.stats();
  assert.equal(stats.tokenRequests, 1);
  assert.equal(stats.apiUnauthorized, 0, "no request went out with the caller's Authorization");
});

test("fetch: the caller's headers object is not modified", T, async () => {
  const { auth } = setup("headers-intact");
  const plain = { "x-custom": "one" };
  const headers = new Headers({ "x-custom": "two" });
  await auth.fetch("echo", { headers: plain });
  await auth.fetch("echo", { headers });
  assert.deepEqual(plain, { "x-custom": "one" });
  assert.deepEqual([...headers], [["x-custom", "two"]]);
});

test("fetch: method and body pass through", T, async () => {
  const { auth } = setup("method");
  const res = await auth.fetch("echo", { method: "PUT", body: "payload ü", headers: { "content-type": "text/plain" } });
  const echo = await res.json();
  assert.equal(echo.method, "PUT");
  assert.equal(echo.body, "payload ü");
  assert.equal(echo.headers["content-type"], "text/plain");
  const del = await (await auth.fetch("echo", { method: "DELETE" })).json();
  assert.equal(del.method, "DELETE");
});

test("fetch: non-2xx answers are returned, not thrown, and not retried", T, async () => {
  const { auth, client } = setup("non-2xx");
  await client.apiScript([{ status: 500, body: { status: "ERROR", error: "boom" } }, { status: 403 }, { status: 429 }]);
  const a = await auth.fetch("echo");
  assert.equal(a.status, 500);
  assert.deepEqual(await a.json(), { status: "ERROR", error: "boom" });
  assert.equal((await auth.fetch("echo")).status, 403);
  assert.equal((await auth.fetch("echo")).status, 429);
  const missing = await auth.fetch("demand/999999");
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error, "not_found");
  const stats = await client.stats();
  assert.equal(stats.apiRequests, 4, "each answered once, no retries");
  assert.equal(stats.tokenRequests, 1, "a 403 does not refresh the token");
});

test("fetch: a 401 (revoked token) gets one new token and one retry", T, async () => {
  const { auth, client } = setup("revoked");
  const first = await auth.getToken();
  await client.revoke();
  const res = await auth.fetch("echo");
  assert.equal(res.status, 200);
  assert.equal((await res.json()).headers.token_valid, true);
  const second = await auth.getToken();
  assert.notEqual(second, first, "the revoked token was dropped");
  const stats = await client.stats();
  assert.equal(stats.tokenRequests, 2);
  assert.equal(stats.apiUnauthorized, 1);
  assert.equal(stats.apiRequests, 1);
});

for (const status of [401, 419]) {
  test(`fetch: a ${status} answer drops the token, gets a new one and retries once`, T, async () => {
    const { auth, client } = setup(`retry-${status}`);
    const first = await auth.getToken();
    await client.apiScript([{ status, body: { error: "session expired" } }]);
    const res = await auth.fetch("echo");
    assert.equal(res.status, 200);
    assert.notEqual(await auth.getToken(), first);
    const stats = await client.stats();
    assert.equal(stats.tokenRequests, 2, "one new token");
    assert.equal(stats.apiRequests, 2, "one retry");
  });

  test(`fetch: a second ${status} is returned as is (only one retry)`, T, async () => {
    const { auth, client } = setup(`retry-twice-${status}`);
    await client.apiScript([{ status }, { status, body: { error: "still no" } }, { status }]);
    const res = await auth.fetch("echo");
    assert.equal(res.status, status);
    assert.deepEqual(await res.json(), { error: "still no" });
    const stats = await client.stats();
    assert.equal(stats.tokenRequests, 2);
    assert.equal(stats.apiRequests, 2);
  });
}

test("fetch/request: an API that refuses every token gets one new token per unauthorizedCooldownMs", T, async () => {
  const clock = installClock();
  try {
    const events = [];
    const { auth, client } = setup("cooldown", { onEvent: (e) => events.push(e) });
    await auth.getToken();
    await client.apiScript(Array.from({ length: 30 }, () => ({ status: 401, body: { error: "invalid_token" } })));
    const api = () => events.filter((e) => e.type === "api").map((e) => [e.status, e.retried, e.cooldown]);
    // The first refusal: a new token and one retry, which is refused too.
    assert.equal((await auth.fetch("echo")).status, 401);
    assert.equal((await client.stats()).tokenRequests, 2);
    // Inside the cool-down (5 s by default) the refused token is kept: the 401 is the answer.
    clock.advance(4_000);
    for (let i = 0; i < 10; i++) assert.equal((await auth.fetch("echo")).status, 401);
    await rejectsWith(auth.request("echo"), { code: "http", status: 401 });
    let stats = await client.stats();
    assert.equal(stats.tokenRequests, 2, "no token request while cooling down");
    assert.equal(stats.apiRequests, 2 + 11);
    assert.deepEqual(api(), [[401, true, false], ...Array(11).fill([401, false, true])]);
    // Once it is over, a refusal gets one new token again.
    clock.advance(1_000);
    assert.equal((await auth.fetch("echo")).status, 401);
    stats = await client.stats();
    assert.equal(stats.tokenRequests, 3);
    assert.deepEqual(api().at(-1), [401, true, false]);
    assert.equal(auth.stats.apiRetries, 2);
  } finally {
    clock.restore();
  }
});

test("fetch: unauthorizedCooldownMs 0 gets a new token for every refusal; a bad value is invalid_config", T, async () => {
  const { auth, client } = setup("no-cooldown", { unauthorizedCooldownMs: 0 });
  await auth.getToken();
  await client.apiScript(Array.from({ length: 6 }, () => ({ status: 401 })));
  for (let i = 0; i < 3; i++) assert.equal((await auth.fetch("echo")).status, 401);
  assert.equal((await client.stats()).tokenRequests, 4);
  for (const bad of [-1, "5s", Infinity]) {
    assert.throws(() => setup("bad-cooldown", { unauthorizedCooldownMs: bad }), (err) =>
      err.code === "invalid_config" && err.message.startsWith("unauthorizedCooldownMs"));
  }
});

test("fetch: the retry after a 401 resends a string body", T, async () => {
  const { auth, client } = setup("retry-body");
  await auth.getToken();
  await client.apiScript([{ status: 401 }]);
  const res = await auth.fetch("echo", { method: "POST", body: "resend me", headers: { "x-keep": "yes" } });
  assert.equal(res.status, 200);
  const echo = await res.json();
  assert.equal(echo.method, "POST");
  assert.equal(echo.body, "resend me");
  assert.equal(echo.headers["x-keep"], "yes");
  assert.equal((await client.stats()).apiRequests, 2);
});

test("fetch: a streamed body that cannot be resent settles without a panic", T, async () => {
  const { auth, client } = setup("retry-stream");
  await auth.getToken();
  await client.apiScript([{ status: 401 }]);
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("streamed"));
      controller.close();
    },
  });
  const outcome = await settles(auth.fetch("echo", { method: "POST", body, duplex: "half" }), 5000);
  if (outcome.ok) {
    // Either the 401 comes back as is (not resendable) or the library buffered the body.
    const res = outcome.value;
    assert.ok([200, 401].includes(res.status), `status ${res.status}`);
    if (res.status === 200) assert.equal((await res.json()).body, "streamed");
    else assert.equal((await client.stats()).apiRequests, 1, "no retry without the body");
  } else {
    assert.equal(outcome.error.name, "CedatoError", `rejected with ${outcome.error}`);
  }
  assert.equal(typeof (await auth.getToken()), "string", "the instance still works");
});

test("fetch: timing is left to the caller (timeoutMs does not apply)", T, async () => {
  const { auth, client } = setup("fetch-timing", { timeoutMs: 200 });
  await auth.getToken();
  await client.apiScript([{ delayMs: 600 }]);
  const res = await auth.fetch("echo");
  assert.equal(res.status, 200);
});

test("fetch: the caller's init.signal aborts the call", T, async () => {
  const { auth, client } = setup("fetch-signal");
  await auth.getToken();
  await client.apiScript([{ delayMs: 3000 }]);
  const { ms, failed } = await timed(() => auth.fetch("echo", { signal: AbortSignal.timeout(200) }));
  assert.equal(failed, true, "the call was aborted");
  assert.ok(ms < 2000, `aborted after ${ms.toFixed(0)} ms`);
  const res = await auth.fetch("echo");
  assert.equal(res.status, 200, "the instance still works");
});

test("fetch: a token failure rejects with the token error", T, async () => {
  const { auth, client } = setup("fetch-token-fail");
  await client.tokenScript([{ status: 401, body: { error: "invalid_client" } }]);
  await rejectsWith(auth.fetch("echo"), { code: "token_rejected", status: 401 });
  assert.equal((await client.stats()).apiRequests, 0);
});

// ------------------------------------------------------------------ auth.request

test("request: GET with query parameters (string, number, boolean)", T, async () => {
  const { auth } = setup("req-query");
  const echo = await auth.request("echo", { query: { a: "1", n: 42, yes: true, no: false, "sp ace": "x&y=z#", uni: "ü" } });
  assert.equal(echo.method, "GET");
  assert.equal(echo.path, "/api/echo");
  assert.deepEqual(echo.query, { a: "1", n: "42", yes: "true", no: "false", "sp ace": "x&y=z#", uni: "ü" });
  assert.equal(echo.headers.token_valid, true);
  assert.equal(echo.headers["api-version"], "1");
  assert.match(echo.headers.accept, /application\/json/);
});

test("request: defaults to GET with no body", T, async () => {
  const { auth } = setup("req-default");
  const echo = await auth.request("echo");
  assert.equal(echo.method, "GET");
  assert.equal(echo.body, "");
  assert.deepEqual(echo.query, {});
});

test("request: POST with a JSON body", T, async () => {
  const { auth } = setup("req-post");
  const payload = { name: "Déjà vu", n: 1.5, list: [1, "two", null], nested: { ok: true } };
  const echo = await auth.request("echo", { method: "POST", body: payload, headers: { "x-trace": "abc" } });
  assert.equal(echo.method, "POST");
  assert.deepEqual(JSON.parse(echo.body), payload);
  assert.match(echo.headers["content-type"], /^application\/json/);
  assert.equal(echo.headers["x-trace"], "abc");
  assert.equal(echo.headers.token_valid, true);
});

test("request: JSON-encodes falsy bodies too (0, false, empty string)", T, async () => {
  const { auth } = setup("req-falsy");
  for (const body of [0, false, ""]) {
    const echo = await auth.request("echo", { method: "PUT", body });
    assert.equal(echo.body, JSON.stringify(body), `body ${JSON.stringify(body)}`);
  }
});

test("request: returns the parsed JSON as is (no unwrapping of data)", T, async () => {
  const { auth } = setup("req-as-is");
  const answer = await auth.request("demand/7001");
  assert.equal(answer.status, "OK");
  assert.equal(answer.data.demand.demand_id, 7001);
});

test("request: an empty 2xx answer (204) returns undefined", T, async () => {
  const { auth } = setup("req-204");
  assert.equal(await auth.request("empty"), undefined);
  assert.equal(await auth.request("empty", { method: "GET" }), undefined);
});

test("request: an empty 200 answer returns undefined too", T, async () => {
  const { auth, client } = setup("req-empty-200");
  await client.apiScript([{ status: 200, body: "" }]);
  assert.equal(await auth.request("echo"), undefined);
});

test("request: concurrent calls on a fresh instance share one token request", T, async () => {
  const { auth, client } = setup("req-concurrent");
  await client.tokenScript([{ ok: true, delayMs: 150 }]);
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => auth.request("echo", { query: { i } })));
  answers.forEach((echo, i) => assert.deepEqual(echo.query, { i: String(i) }));
  const stats = await client.stats();
  assert.equal(stats.tokenRequests, 1);
  assert.equal(stats.apiRequests, 50);
});

test("request: a non-2xx answer rejects with http, status and body", T, async () => {
  const { auth, client } = setup("req-404");
  const err = await rejectsWith(auth.request("demand/999999"), { code: "http", status: 404, retryable: false });
  assert.equal(typeof err.body, "string");
  assert.deepEqual(JSON.parse(err.body), { status: "ERROR", error: "not_found" });
  assert.equal((await client.stats()).apiRequests, 1, "not retried");
});

test("request: the error body is the first 1 KB of the answer", T, async () => {
  const { auth, client } = setup("req-long");
  const long = "0123456789abcdef".repeat(400); // 6400 bytes
  await client.apiScript([{ status: 500, body: long, headers: { "content-type": "text/plain" } }]);
  const err = await rejectsWith(auth.request("echo"), { code: "http", status: 500, retryable: true });
  assert.equal(typeof err.body, "string");
  assert.ok(err.body.length >= 1000 && err.body.length <= 1024, `body length ${err.body.length}`);
  assert.ok(long.startsWith(err.body), "it is the start of the answer");
});

for (const [status, retryable] of [
  [400, false],
  [403, false],
  [408, true],
  [429, true],
  [500, true],
  [502, true],
  [503, true],
]) {
  test(`request: ${status} is http with retryable ${retryable}`, T, async () => {
    const { auth, client } = setup(`req-${status}`);
    await client.apiScript([{ status, body: { status: "ERROR", code: status } }]);
    const err = await rejectsWith(auth.request("echo"), { code: "http", status, retryable });
    assert.deepEqual(JSON.parse(err.body), { status: "ERROR", code: status });
    assert.equal((await client.stats()).apiRequests, 1, "request() does not retry API errors");
  });
}

test("request: Retry-After on an API answer is reported", T, async () => {
  const { auth, client } = setup("req-ra");
  await client.apiScript([{ status: 429, headers: { "retry-after": "30" } }]);
  await rejectsWith(auth.request("echo"), { code: "http", status: 429, retryable: true, retryAfter: 30 });
});

test("request: a 2xx answer that is not JSON is invalid_response", T, async () => {
  const { auth } = setup("req-text");
  await rejectsWith(auth.request("text"), { code: "invalid_response", status: 200 });
});

test("request: a 401 gets one new token and one retry", T, async () => {
  const { auth, client } = setup("req-401");
  const first = await auth.getToken();
  await client.revoke();
  const echo = await auth.request("echo", { method: "POST", body: { again: true } });
  assert.deepEqual(JSON.parse(echo.body), { again: true }, "the JSON body was resent");
  assert.notEqual(await auth.getToken(), first);
  // The next refusal after the cool-down (unauthorizedCooldownMs) gets a new token too.
  const clock = installClock();
  try {
    clock.advance(5_000);
    await client.apiScript([{ status: 419 }]);
    assert.equal((await auth.request("echo")).headers.token_valid, true);
  } finally {
    clock.restore();
  }
  assert.equal((await client.stats()).tokenRequests, 3);
});

test("request: a second 401 is http 401", T, async () => {
  const { auth, client } = setup("req-401-twice");
  await client.apiScript([{ status: 401 }, { status: 401, body: { error: "invalid_token" } }]);
  const err = await rejectsWith(auth.request("echo"), { code: "http", status: 401 });
  assert.deepEqual(JSON.parse(err.body), { error: "invalid_token" });
  assert.equal((await client.stats()).tokenRequests, 2);
});

test("request: aborts after timeoutMs", T, async () => {
  const { auth, client } = setup("req-timeout", { timeoutMs: 250 });
  await auth.getToken();
  await client.apiScript([{ delayMs: 3000 }]);
  const { ms } = await timedRejection(() => auth.request("echo"), { code: "timeout", retryable: true });
  assert.ok(ms < 2000, `gave up after ${ms.toFixed(0)} ms, timeoutMs is 250`);
  assert.equal((await auth.request("echo")).headers.token_valid, true, "the instance still works");
});

test("request: the time limit covers the body (a stalled body is timeout)", T, async () => {
  const { auth, client } = setup("req-stall", { timeoutMs: 300 });
  await auth.getToken();
  await client.apiScript([{ stallBody: true }]);
  const { ms } = await timedRejection(() => auth.request("echo"), { code: "timeout", retryable: true });
  assert.ok(ms < 2000, `gave up after ${ms.toFixed(0)} ms, timeoutMs is 300`);
});

test("request: the same-origin rule applies", T, async () => {
  const { auth, client } = setup("req-origin");
  await rejectsWith(auth.request(`${other.origin}/api/echo`), { code: "invalid_request" });
  await rejectsWith(auth.request(`//127.0.0.1:${other.port}/api/echo`, { method: "POST", body: { a: 1 } }), {
    code: "invalid_request",
  });
  assert.equal(other.hits, 0);
  const stats = await client.stats();
  assert.equal(stats.apiRequests + stats.apiUnauthorized, 0);
  // An absolute URL on the API's origin is fine.
  assert.equal((await auth.request(`${mock().baseUrl}echo`)).path, "/api/echo");
});

test("request: pagination through data.navigation.next (supplies report)", T, async () => {
  const { auth, client } = setup("pages");
  const rows = [];
  let page = await auth.request("reports/supplies/extended", { query: { start: "2024-01-01", end: "2024-01-31", limit: 20 } });
  let pages = 1;
  for (;;) {
    assert.equal(page.status, "OK");
    rows.push(...page.data.supplies);
    const next = page.data.navigation.next;
    if (next === null) break;
    assert.equal(typeof next, "string");
    assert.ok(next.startsWith(mock().origin), `next is an absolute URL on the API origin: ${next}`);
    page = await auth.request(next);
    pages += 1;
    assert.ok(pages <= 10, "pagination terminates");
  }
  assert.equal(pages, 3);
  assert.equal(rows.length, 57);
  assert.equal(new Set(rows.map((r) => r.supply_id)).size, 57);
  for (const row of rows) {
    for (const key of ["supply_id", "supply_name", "impressions", "requests", "fill_rate", "revenue", "ecpm"]) {
      assert.ok(key in row, `row has ${key}`);
    }
  }
  const stats = await client.stats();
  assert.equal(stats.tokenRequests, 1, "one token for all pages");
  assert.equal(stats.apiRequests, 3);
});

test("request: a bad date in the query is http 400 with the server's body", T, async () => {
  const { auth } = setup("bad-date");
  const err = await rejectsWith(auth.request("reports/demands/basic", { query: { start: "2024-13-01", end: "2024-01-31" } }), {
    code: "http",
    status: 400,
  });
  assert.match(err.body, /invalid_request/);
});

test("request(): a body with GET or HEAD is invalid_request, and nothing is sent", { timeout: TEST_TIMEOUT }, async () => {
  const { auth, requests } = setup("get-body");
  for (const method of [undefined, "GET", "head"]) {
    await rejectsWith(auth.request("echo", { method, body: { a: 1 } }), { code: "invalid_request" });
  }
  assert.equal(await requests(), 0);
});
