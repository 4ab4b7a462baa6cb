// The `fetch` option (SPEC section 3): used for the token request and for auth.fetch /
// auth.request, called with a Request or a string (plus an optional init).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import { TEST_TIMEOUT, VISIBLE_ASCII, basicValue, callAsync, credentials, rejectsWith, suiteMock, timedRejection, uniqueId } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };
const FAKE_BASE = "https://api.cedato.test/api/"; // never reached: every call goes to a fake fetch
const realFetch = globalThis.fetch;

after(async () => {
  globalThis.fetch = realFetch;
});

/**
 * What one call to a custom fetch carried: `{ kind, url, method, headers, body, signal }`.
 * Reads a clone, so the original input can still be sent.
 */
async function describeCall(input, init) {
  assert.ok(typeof input === "string" || input instanceof Request, `input is a string or a Request, got ${typeof input}`);
  if (init !== undefined) assert.equal(typeof init, "object", "init is an object when given");
  const request = new Request(input instanceof Request ? input.clone() : input, init);
  return {
    kind: typeof input === "string" ? "string" : "Request",
    url: request.url,
    method: request.method,
    headers: request.headers,
    body: request.body ? await request.text() : "",
    signal: signalOf(input, init),
  };
}

/** The AbortSignal a fetch call carries, in its init or its Request. */
const signalOf = (input, init) => init?.signal ?? (input instanceof Request ? input.signal : undefined);

/** A custom fetch that records each call and passes it on to the real fetch. */
function recordingFetch() {
  const calls = [];
  const fn = async (input, init) => {
    calls.push(await describeCall(input, init));
    return realFetch(input, init);
  };
  return { fn, calls };
}

/** A CedatoAuth on FAKE_BASE (nothing listens there) that sends through `fetch`. */
const fakeAuth = (fetch, options = {}) =>
  new CedatoAuth({ clientId: "t-c", clientSecret: "s", baseUrl: FAKE_BASE, maxRetries: 0, fetch, ...options });

const tokenAnswer = (token = "synthetic-token", extra = {}) =>
  new Response(JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 3600, ...extra }), {
    status: 200,
    headers: { "content-type": "application/json" },
  });

test("the custom fetch is used for the token request, auth.fetch and auth.request", T, async () => {
  const creds = credentials("rec");
  const { fn, calls } = recordingFetch();
  const auth = new CedatoAuth({ ...creds, baseUrl: mock().baseUrl, fetch: fn, maxRetries: 0 });
  const token = await auth.getToken();
  assert.match(token, VISIBLE_ASCII);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, `${mock().baseUrl}token`);
  assert.equal(calls[0].method, "POST");

  const res = await auth.fetch("echo?via=fetch");
  assert.equal(res.status, 200);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].url, `${mock().baseUrl}echo?via=fetch`);
  assert.equal(calls[1].headers.get("authorization"), `Bearer ${token}`);

  const echo = await auth.request("echo", { method: "POST", body: { via: "request" } });
  assert.deepEqual(JSON.parse(echo.body), { via: "request" });
  assert.equal(calls.length, 3);
  assert.equal(calls[2].url, `${mock().baseUrl}echo`);
  assert.equal(calls[2].method, "POST");
  assert.equal(calls[2].headers.get("authorization"), `Bearer ${token}`);
  assert.equal(calls[2].body, JSON.stringify({ via: "request" }));

  const stats = await mock().client(creds.clientId).stats();
  assert.equal(stats.tokenRequests, 1);
  assert.equal(stats.apiRequests, 2);
});

test("the token request is exactly the documented exchange (UTF-8 Basic credentials)", T, async () => {
  const clientId = uniqueId("ü-exchange");
  const creds = { clientId, clientSecret: `${clientId}-sécret-✓` };
  const calls = [];
  const auth = new CedatoAuth({
    ...creds,
    baseUrl: FAKE_BASE,
    fetch: async (input, init) => {
      calls.push(await describeCall(input, init));
      return tokenAnswer();
    },
  });
  assert.equal(await auth.getToken(), "synthetic-token");
  assert.equal(calls.length, 1);
  const call = calls[0];
  assert.equal(call.url, `${FAKE_BASE}token`);
  assert.equal(call.method, "POST");
  assert.equal(call.headers.get("authorization"), `Basic ${basicValue(creds)}`);
  assert.equal(call.headers.get("api-version"), "1");
  assert.match(call.headers.get("accept") ?? "", /application\/json/);
  assert.match(call.headers.get("content-type") ?? "", /^application\/x-www-form-urlencoded/);
  assert.equal(call.body, "grant_type=client_credentials");
});

test("auth.fetch through a custom fetch: URL, Bearer, api-version, accept, caller headers", T, async () => {
  const calls = [];
  const auth = new CedatoAuth({
    clientId: "t-synthetic",
    clientSecret: "t-synthetic-secret",
    baseUrl: FAKE_BASE,
    apiVersion: "7",
    fetch: async (input, init) => {
      const call = await describeCall(input, init);
      calls.push(call);
      if (call.url === `${FAKE_BASE}token`) return tokenAnswer("tok-abc");
      return new Response(JSON.stringify({ seen: call.url }), { status: 200, headers: { "content-type": "application/json" } });
    },
  });
  const res = await auth.fetch("reports/supplies/extended?limit=1", { headers: { "x-mine": "1", authorization: "Bearer forged" } });
  assert.deepEqual(await res.json(), { seen: `${FAKE_BASE}reports/supplies/extended?limit=1` });
  const call = calls.at(-1);
  assert.equal(call.headers.get("authorization"), "Bearer tok-abc");
  assert.equal(call.headers.get("api-version"), "7", "apiVersion is sent as the api-version header");
  assert.match(call.headers.get("accept") ?? "", /application\/json/);
  assert.equal(call.headers.get("x-mine"), "1");

  const absolute = await auth.fetch(new URL("demand/7001", FAKE_BASE));
  assert.equal(absolute.status, 200);
  assert.equal(calls.at(-1).url, `${FAKE_BASE}demand/7001`);

  const before = calls.length;
  await rejectsWith(auth.fetch("https://evil.example/api/x"), { code: "invalid_request" });
  await rejectsWith(auth.fetch("http://api.cedato.test/api/x"), { code: "invalid_request" }); // http vs https
  assert.equal(calls.length, before, "nothing was handed to fetch for another origin");
});

test("a custom fetch that returns 401 / 503 is handled like the network would be", T, async () => {
  let calls = 0;
  const answers = [new Response("", { status: 503 }), new Response("{}", { status: 503 }), tokenAnswer("after-503")];
  const auth = fakeAuth(async () => answers[calls++] ?? new Response('{"error":"invalid_client"}', { status: 401 }), { maxRetries: 2 });
  assert.equal(await auth.getToken(), "after-503");
  assert.equal(calls, 3);
  auth.clear();
  await rejectsWith(auth.getToken(), { code: "token_rejected", status: 401, oauthError: "invalid_client" });
  assert.equal(calls, 4);
});

test("a custom fetch that rejects gives network after the retries", T, async () => {
  let calls = 0;
  const auth = fakeAuth(
    () => {
      calls += 1;
      return Promise.reject(new TypeError("fetch failed"));
    },
    { maxRetries: 1 },
  );
  await rejectsWith(callAsync(() => auth.getToken()), { code: "network", retryable: true });
  assert.equal(calls, 2);
});

test("a custom fetch that throws synchronously gives a rejected promise, not a throw", T, async () => {
  let calls = 0;
  let fail = true;
  const auth = fakeAuth(() => {
    calls += 1;
    if (fail) throw new TypeError("boom");
    return Promise.resolve(tokenAnswer("recovered"));
  });
  await rejectsWith(callAsync(() => auth.getToken()), { code: "network" });
  fail = false;
  assert.equal(await auth.getToken(), "recovered");
  assert.equal(calls, 2);
});

test("a custom fetch that resolves something that is not a Response is a CedatoError, no panic", T, async () => {
  let answer = { not: "a response" };
  const auth = fakeAuth(async () => answer);
  await rejectsWith(callAsync(() => auth.getToken()));
  answer = undefined;
  await rejectsWith(callAsync(() => auth.getToken()));
  answer = tokenAnswer("fine-now");
  assert.equal(await auth.getToken(), "fine-now");
});

test("timeoutMs aborts a custom fetch through its signal", T, async () => {
  let sawSignal = false;
  const auth = fakeAuth(
    (input, init) =>
      new Promise((_, reject) => {
        const signal = signalOf(input, init);
        if (signal) {
          sawSignal = true;
          signal.addEventListener("abort", () => reject(signal.reason ?? new DOMException("aborted", "AbortError")));
        }
      }),
    { timeoutMs: 200 },
  );
  const { ms } = await timedRejection(() => auth.getToken(), { code: "timeout", retryable: true });
  assert.ok(sawSignal, "the custom fetch was given an AbortSignal");
  assert.ok(ms < 1500, `gave up after ${ms.toFixed(0)} ms`);
});

test("with a custom fetch the global fetch is not used", T, async () => {
  let globalCalls = 0;
  globalThis.fetch = (...args) => {
    globalCalls += 1;
    return realFetch(...args);
  };
  try {
    const { fn, calls } = recordingFetch();
    const auth = new CedatoAuth({ ...credentials("no-global"), baseUrl: mock().baseUrl, fetch: fn });
    await auth.getToken();
    await auth.request("echo");
    assert.equal(calls.length, 2);
    assert.equal(globalCalls, 0);
  } finally {
    globalThis.fetch = realFetch;
  }
});

test("without the option the global fetch is used", T, async () => {
  const { fn, calls: seen } = recordingFetch();
  globalThis.fetch = fn;
  try {
    const auth = new CedatoAuth({ ...credentials("global"), baseUrl: mock().baseUrl });
    await auth.getToken();
    await auth.request("echo");
    assert.deepEqual(
      seen.map((c) => c.url),
      [`${mock().baseUrl}token`, `${mock().baseUrl}echo`],
    );
  } finally {
    globalThis.fetch = realFetch;
  }
});
