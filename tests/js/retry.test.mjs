// SPEC section 3, "Retries and time limits (token requests)".
import assert from "node:assert/strict";
import { test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import { TEST_TIMEOUT, VISIBLE_ASCII, closedPort, credentials, instanceFactory, rejectsWith, suiteMock, timed, timedRejection } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };


const setup = instanceFactory(mock, { timeoutMs: 2000, maxRetries: 2 });

/** The instance still works: a fresh token comes back (clear() first so it is fetched). */
async function stillWorks(auth) {
  auth.clear();
  assert.match(await auth.getToken(), VISIBLE_ASCII, "the instance still gets a token");
}

test("5xx answers are retried, then the token comes", T, async () => {
  const { auth, client, requests } = setup("5xx-ok");
  await client.tokenScript([{ status: 503 }, { status: 500 }]);
  assert.match(await auth.getToken(), VISIBLE_ASCII);
  assert.equal(await requests(), 3);
});

test("429 answers are retried, then the token comes", T, async () => {
  const { auth, client, requests } = setup("429-ok");
  await client.tokenScript([{ status: 429 }]);
  assert.match(await auth.getToken(), VISIBLE_ASCII);
  assert.equal(await requests(), 2);
});

for (const status of [500, 502, 503, 504]) {
  test(`${status} after maxRetries (2) retries is server_error`, T, async () => {
    const { auth, client, requests } = setup(`5xx-${status}`);
    await client.tokenScript([{ status }, { status }, { status }]);
    await rejectsWith(auth.getToken(), { code: "server_error", status, retryable: true });
    assert.equal(await requests(), 3, "1 attempt + 2 retries");
    await stillWorks(auth);
  });
}

test("429 after the retries is rate_limited", T, async () => {
  const { auth, client, requests } = setup("429-spent");
  await client.tokenScript([{ status: 429 }, { status: 429 }, { status: 429 }]);
  await rejectsWith(auth.getToken(), { code: "rate_limited", status: 429, retryable: true });
  assert.equal(await requests(), 3);
  await stillWorks(auth);
});

test("maxRetries 0: one attempt only", T, async () => {
  const { auth, client, requests } = setup("retries-0", { maxRetries: 0 });
  await client.tokenScript([{ status: 503 }, { status: 503 }]);
  await rejectsWith(auth.getToken(), { code: "server_error", status: 503, retryable: true });
  assert.equal(await requests(), 1);
});

test("maxRetries 1: two attempts", T, async () => {
  const { auth, client, requests } = setup("retries-1", { maxRetries: 1 });
  await client.tokenScript([{ status: 502 }, { status: 429 }, { status: 503 }]);
  await rejectsWith(auth.getToken(), { code: "rate_limited", status: 429, retryable: true }); // the last answer decides
  assert.equal(await requests(), 2);
});

test("maxRetries defaults to 2", T, async () => {
  const creds = credentials("retries-default");
  const auth = new CedatoAuth({ ...creds, baseUrl: mock().baseUrl });
  const client = mock().client(creds.clientId);
  await client.tokenScript([{ status: 503 }, { status: 503 }, { status: 503 }]);
  await rejectsWith(auth.getToken(), { code: "server_error", status: 503 });
  assert.equal((await client.stats()).tokenRequests, 3);
  assert.match(await auth.getToken(), VISIBLE_ASCII);
});

test("the backoff between retries is bounded (2 retries well under 3 s)", T, async () => {
  const { auth, client, requests } = setup("backoff-bound");
  await client.tokenScript([{ status: 503 }, { status: 503 }, { status: 503 }]);
  const { ms } = await timedRejection(() => auth.getToken(), { code: "server_error" });
  assert.equal(await requests(), 3);
  // attempt n waits at most 250 ms * 2^n: 1.5 s in all even counting n from 1.
  assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
});

test("network errors, 5xx and 429 mixed are all retried", T, async () => {
  const { auth, client, requests } = setup("mixed", { maxRetries: 3 });
  await client.tokenScript([{ drop: true }, { status: 503 }, { status: 429 }]);
  assert.match(await auth.getToken(), VISIBLE_ASCII);
  assert.equal(await requests(), 4);
});

test("Retry-After in seconds replaces the backoff wait", T, async () => {
  const { auth, client, requests } = setup("ra-seconds");
  await client.tokenScript([{ status: 503, headers: { "retry-after": "1" } }]);
  const { ms, value, error } = await timed(() => auth.getToken());
  assert.equal(error, undefined, `no error: ${error?.message}`);
  assert.match(value, VISIBLE_ASCII);
  assert.equal(await requests(), 2);
  assert.ok(ms >= 900, `waited ${ms.toFixed(0)} ms, expected about 1000`);
  assert.ok(ms < 4000, `waited ${ms.toFixed(0)} ms, expected about 1000`);
});

test("Retry-After on a 429 is honoured too", T, async () => {
  const { auth, client, requests } = setup("ra-429");
  await client.tokenScript([{ status: 429, headers: { "retry-after": "1" } }]);
  const { ms, error } = await timed(() => auth.getToken());
  assert.equal(error, undefined, `no error: ${error?.message}`);
  assert.equal(await requests(), 2);
  assert.ok(ms >= 900 && ms < 4000, `waited ${ms.toFixed(0)} ms, expected about 1000`);
});

test("Retry-After as an HTTP date is honoured", T, async () => {
  const { auth, client, requests } = setup("ra-date");
  const when = new Date(Date.now() + 2000).toUTCString(); // whole seconds: 1-2 s from now
  await client.tokenScript([{ status: 503, headers: { "retry-after": when } }]);
  const { ms, error } = await timed(() => auth.getToken());
  assert.equal(error, undefined, `no error: ${error?.message}`);
  assert.equal(await requests(), 2);
  assert.ok(ms >= 700 && ms < 5000, `waited ${ms.toFixed(0)} ms, expected 1000-2000`);
});

test("Retry-After above 60 s is not waited for: fails at once with retryAfter (429)", T, async () => {
  const { auth, client, requests } = setup("ra-long-429");
  await client.tokenScript([{ status: 429, headers: { "retry-after": "120" } }]);
  const { ms } = await timedRejection(() => auth.getToken(), { code: "rate_limited", status: 429, retryAfter: 120, retryable: true });
  assert.equal(await requests(), 1, "not retried");
  assert.ok(ms < 1500, `failed after ${ms.toFixed(0)} ms, expected at once`);
  await stillWorks(auth);
});

test("Retry-After above 60 s on a 503: server_error at once with retryAfter", T, async () => {
  const { auth, client, requests } = setup("ra-long-503");
  await client.tokenScript([{ status: 503, headers: { "retry-after": "3600" } }]);
  const { ms } = await timedRejection(() => auth.getToken(), { code: "server_error", status: 503, retryAfter: 3600, retryable: true });
  assert.equal(await requests(), 1);
  assert.ok(ms < 1500, `failed after ${ms.toFixed(0)} ms`);
});

test("Retry-After as a far HTTP date: fails at once, retryAfter in seconds", T, async () => {
  const { auth, client, requests } = setup("ra-long-date");
  const when = new Date(Date.now() + 3600_000).toUTCString();
  await client.tokenScript([{ status: 429, headers: { "retry-after": when } }]);
  const { ms, error } = await timedRejection(() => auth.getToken(), { code: "rate_limited", status: 429 });
  assert.equal(typeof error.retryAfter, "number");
  assert.ok(Math.abs(error.retryAfter - 3600) <= 5, `retryAfter ${error.retryAfter}, expected about 3600`);
  assert.equal(await requests(), 1);
  assert.ok(ms < 1500, `failed after ${ms.toFixed(0)} ms`);
});

test("retryAfter is reported when the retries are spent", T, async () => {
  const { auth, client, requests } = setup("ra-spent", { maxRetries: 1 });
  await client.tokenScript([
    { status: 429, headers: { "retry-after": "1" } },
    { status: 429, headers: { "retry-after": "2" } },
  ]);
  const { ms } = await timedRejection(() => auth.getToken(), { code: "rate_limited", status: 429, retryAfter: 2, retryable: true });
  assert.equal(await requests(), 2);
  assert.ok(ms >= 900, `waited ${ms.toFixed(0)} ms before the retry`);
});

test("no Retry-After header: retryAfter is absent", T, async () => {
  const { auth, client } = setup("ra-none", { maxRetries: 0 });
  await client.tokenScript([{ status: 503 }]);
  const err = await rejectsWith(auth.getToken(), { code: "server_error" });
  assert.equal(err.retryAfter, undefined);
});

test("400 is token_rejected with the RFC 6749 fields, not retried", T, async () => {
  const { auth, client, requests } = setup("400");
  await client.tokenScript([
    { status: 400, body: { error: "invalid_grant", error_description: "The grant is not valid", error_uri: "https://x" } },
  ]);
  await rejectsWith(auth.getToken(), {
    code: "token_rejected",
    status: 400,
    retryable: false,
    oauthError: "invalid_grant",
    oauthErrorDescription: "The grant is not valid",
  });
  assert.equal(await requests(), 1);
  await stillWorks(auth);
});

test("401 from the real credential check is token_rejected with invalid_client", T, async () => {
  const { auth, requests } = setup("401", { clientSecret: "definitely-wrong" });
  await rejectsWith(auth.getToken(), {
    code: "token_rejected",
    status: 401,
    retryable: false,
    oauthError: "invalid_client",
    oauthErrorDescription: "Client authentication failed",
  });
  assert.equal(await requests(), 1, "not retried");
});

test("403 is token_rejected, not retried", T, async () => {
  const { auth, client, requests } = setup("403");
  await client.tokenScript([{ status: 403, body: { error: "access_denied" } }]);
  const err = await rejectsWith(auth.getToken(), { code: "token_rejected", status: 403, retryable: false, oauthError: "access_denied" });
  assert.equal(err.oauthErrorDescription, undefined);
  assert.equal(await requests(), 1);
  await stillWorks(auth);
});

test("a 401 without an OAuth body is token_rejected without oauthError", T, async () => {
  const { auth, client } = setup("401-plain");
  await client.tokenScript([{ status: 401, body: "Unauthorized", headers: { "content-type": "text/plain" } }]);
  const err = await rejectsWith(auth.getToken(), { code: "token_rejected", status: 401 });
  assert.equal(err.oauthError, undefined);
  assert.equal(err.oauthErrorDescription, undefined);
});

for (const status of [404, 409, 422]) {
  test(`${status} from the token endpoint is http, not retried`, T, async () => {
    const { auth, client, requests } = setup(`http-${status}`);
    await client.tokenScript([{ status, body: `no token here (${status})`, headers: { "content-type": "text/plain" } }]);
    const err = await rejectsWith(auth.getToken(), { code: "http", status, retryable: false });
    assert.equal(typeof err.body, "string");
    assert.ok(err.body.includes(`no token here (${status})`), `body: ${err.body}`);
    assert.equal(await requests(), 1);
    await stillWorks(auth);
  });
}

test("408 from the token endpoint is http (retryable true), not retried", T, async () => {
  const { auth, client, requests } = setup("http-408");
  await client.tokenScript([{ status: 408 }]);
  await rejectsWith(auth.getToken(), { code: "http", status: 408, retryable: true });
  assert.equal(await requests(), 1);
});

test("a wrong baseUrl (404 from the server) is http, not retried", T, async () => {
  const { auth } = setup("wrong-base", { baseUrl: `${mock().origin}/nope/` });
  await rejectsWith(auth.getToken(), { code: "http", status: 404, retryable: false });
});

test("a 3xx from the token endpoint is http: not followed, not retried", T, async () => {
  const { auth, client, requests } = setup("redirect");
  await client.tokenScript([{ status: 307, headers: { location: `${mock().baseUrl}token` } }]);
  await rejectsWith(auth.getToken(), { code: "http", status: 307, retryable: false });
  assert.equal(await requests(), 1, "the redirect was not followed");
  await client.tokenScript([{ status: 302 }]);
  auth.clear();
  await rejectsWith(auth.getToken(), { code: "http", status: 302 });
  assert.equal(await requests(), 2);
});

test("a dropped connection is retried", T, async () => {
  const { auth, client, requests } = setup("drop-ok");
  await client.tokenScript([{ drop: true }]);
  assert.match(await auth.getToken(), VISIBLE_ASCII);
  assert.equal(await requests(), 2);
});

test("dropped connections after the retries are network (retryable, no status)", T, async () => {
  const { auth, client, requests } = setup("drop");
  await client.tokenScript([{ drop: true }, { drop: true }, { drop: true }]);
  const err = await rejectsWith(auth.getToken(), { code: "network", retryable: true });
  assert.equal(err.status, undefined);
  assert.equal(await requests(), 3);
  await stillWorks(auth);
});

test("a refused connection is network", T, async () => {
  const port = await closedPort();
  const { auth } = setup("refused", { baseUrl: `http://127.0.0.1:${port}/api/`, maxRetries: 1 });
  const err = await rejectsWith(auth.getToken(), { code: "network", retryable: true });
  assert.equal(err.status, undefined);
  await rejectsWith(auth.getToken(), { code: "network" }); // and again, no panic
});

test("a slow answer (delayMs > timeoutMs) is timeout", T, async () => {
  const { auth, client, requests } = setup("slow", { timeoutMs: 250, maxRetries: 0 });
  await client.tokenScript([{ ok: true, delayMs: 2500 }]);
  const { ms, error: err } = await timedRejection(() => auth.getToken(), { code: "timeout", retryable: true });
  assert.equal(err.status, undefined);
  assert.ok(ms >= 200 && ms < 1500, `gave up after ${ms.toFixed(0)} ms, timeoutMs is 250`);
  assert.equal(await requests(), 1);
  await stillWorks(auth);
});

test("a body that never finishes is timeout (the limit covers the body)", T, async () => {
  const { auth, client } = setup("stall", { timeoutMs: 300, maxRetries: 0 });
  await client.tokenScript([{ stallBody: true }]);
  const { ms } = await timedRejection(() => auth.getToken(), { code: "timeout", retryable: true });
  assert.ok(ms < 1500, `gave up after ${ms.toFixed(0)} ms, timeoutMs is 300`);
  await stillWorks(auth);
});

test("timeouts are retried; each attempt has its own limit", T, async () => {
  const { auth, client, requests } = setup("slow-retry", { timeoutMs: 250, maxRetries: 1 });
  await client.tokenScript([{ ok: true, delayMs: 2500 }, { stallBody: true }]);
  const { ms } = await timedRejection(() => auth.getToken(), { code: "timeout", retryable: true });
  assert.equal(await requests(), 2);
  assert.ok(ms < 2500, `gave up after ${ms.toFixed(0)} ms`);

  auth.clear();
  await client.tokenScript([{ ok: true, delayMs: 2500 }]);
  assert.match(await auth.getToken(), VISIBLE_ASCII, "the retry after a timeout succeeds");
  assert.equal(await requests(), 4);
});

test("a slow answer within timeoutMs is fine", T, async () => {
  const { auth, client } = setup("slow-ok", { timeoutMs: 1000, maxRetries: 0 });
  await client.tokenScript([{ ok: true, delayMs: 300 }]);
  assert.match(await auth.getToken(), VISIBLE_ASCII);
});

test("the instance keeps working after a series of failures", T, async () => {
  const { auth, client } = setup("series", { timeoutMs: 250, maxRetries: 0 });
  const failures = [
    [{ status: 503 }, "server_error"],
    [{ status: 429 }, "rate_limited"],
    [{ drop: true }, "network"],
    [{ ok: true, delayMs: 1500 }, "timeout"],
    [{ stallBody: true }, "timeout"],
    [{ status: 400, body: { error: "invalid_request" } }, "token_rejected"],
    [{ status: 404 }, "http"],
    [{ status: 200, body: "garbage" }, "invalid_response"],
  ];
  for (const [entry, code] of failures) {
    auth.clear();
    await client.tokenScript([entry]);
    await rejectsWith(auth.getToken(), { code });
    assert.match(await auth.getToken(), VISIBLE_ASCII, `a token after ${code}`);
  }
});
