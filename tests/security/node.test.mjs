// The token and the secret stay where they belong (issue "redirects, every error field,
// bounded reads"), tried as an attacker and as a careless user would, in Node against the
// mock server and a second origin that records what reaches it. The same redirect cases
// run in workerd (workerd.test.mjs) and Chromium (chromium.test.mjs).
import assert from "node:assert/strict";
import { test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import * as nodeEntry from "../../pkg/node.mjs";
import * as webEntry from "../../pkg/web.mjs";
import { TEST_TIMEOUT, VISIBLE_ASCII, instanceFactory, rejectsWith, suiteMock, suiteServer } from "../js/helpers.mjs";
import { recordingServer } from "./recorder.mjs";
import { facesOf } from "../support/common.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const T = { timeout: TEST_TIMEOUT };

const thief = suiteServer(recordingServer); // the other origin, recording what reaches it

const setup = instanceFactory(mock, { timeoutMs: 3000, maxRetries: 0 });

/** Every text an error shows (tests/support/common.mjs), in one string. */
const everything = (err) => facesOf(err).map(([, text]) => text).join("\n");

function assertClean(err, secrets) {
  const text = everything(err);
  for (const secret of secrets) assert.ok(!text.includes(secret), `the error shows ${secret}:\n${text}`);
}

for (const status of [301, 302, 303, 307, 308]) {
  test(`redirect ${status} to another origin: the token does not go, fetch() gets the ${status}, request() rejects`, T, async () => {
    const { auth, client } = setup(`redir-${status}`);
    const location = `${thief().origin}/steal`;
    await client.apiScript([{ status, headers: { location } }, { status, headers: { location } }]);
    const before = thief().seen.length;
    const res = await auth.fetch("reports/supplies/extended");
    assert.equal(res.status, status);
    await res.body?.cancel();
    await rejectsWith(auth.request("reports/supplies/extended"), { code: "http", status });
    assert.equal(thief().seen.length, before, "nothing reached the other origin");
  });
}

test("a redirect inside the origin is followed with the token; a fetch option sees it too", T, async () => {
  const calls = [];
  const { auth, client } = setup("redir-inside", {
    fetch: (input, init) => {
      calls.push([String(input), new Headers(init?.headers).get("authorization")]);
      return fetch(input, init);
    },
  });
  await client.apiScript([{ status: 302, headers: { location: "/api/echo?hop=1" } }]);
  const echo = await auth.request("reports/supplies/extended");
  assert.equal(echo.path, "/api/echo");
  assert.equal(echo.headers.token_valid, true, "the token went with the hop inside the origin");
  const hops = calls.filter(([url]) => !url.endsWith("/token"));
  assert.equal(hops.length, 2);
  assert.ok(hops.every(([, authorization]) => authorization?.startsWith("Bearer ")));
});

test("303 and POST-after-302 become GET without the body", T, async () => {
  const { auth, client } = setup("redir-303");
  await client.apiScript([{ status: 303, headers: { location: "/api/echo" } }]);
  const echo = await auth.request("reports/supplies/extended", { method: "POST", body: { a: 1 } });
  assert.equal(echo.method, "GET");
  assert.equal(echo.body, "");
  assert.equal(echo.headers["content-type"], undefined);
});

test("a redirect loop inside the origin ends after 20 hops", T, async () => {
  const { auth, client } = setup("redir-loop");
  await client.apiScript(Array.from({ length: 25 }, () => ({ status: 307, headers: { location: "/api/echo" } })));
  const res = await auth.fetch("echo");
  assert.equal(res.status, 307, "the 21st answer is handed back as it is");
});

test("a token endpoint error that echoes the Basic credentials: no field shows them", T, async () => {
  const { auth, client, creds } = setup("echo-basic");
  const basic = Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString("base64");
  const echo = `Basic ${basic} ${creds.clientSecret}`;
  await client.tokenScript([
    { status: 401, body: { error: echo, error_description: echo } },
    { status: 404, body: echo },
    { status: 400, body: { data: { error: echo, error_description: echo } } },
  ]);
  for (const code of ["token_rejected", "http", "token_rejected"]) {
    const err = await rejectsWith(auth.getToken(), { code });
    assertClean(err, [basic, creds.clientSecret]);
    assert.match(everything(err), /\[redacted\]/);
  }
});

test("an API error body that echoes the token, and a fetch error that carries the headers", T, async () => {
  let failWith;
  const { auth, client, creds } = setup("echo-token", {
    fetch: (input, init) => {
      if (failWith && !String(input).endsWith("/token")) {
        const auth = new Headers(init.headers).get("authorization");
        const error = new TypeError(`fetch failed sending ${auth}`);
        error.cause = { message: `socket closed, headers: ${auth}`, code: "ECONNRESET", request: { headers: init.headers } };
        return Promise.reject(error);
      }
      return fetch(input, init);
    },
  });
  const token = await auth.getToken();
  await client.apiScript([{ status: 500, body: `upstream saw Authorization: Bearer ${token}` }]);
  const http = await rejectsWith(auth.request("reports/supplies/extended"), { code: "http", status: 500 });
  assertClean(http, [token]);
  assert.match(http.body, /\[redacted\]/);
  failWith = true;
  const network = await rejectsWith(auth.request("reports/supplies/extended"), { code: "network" });
  assertClean(network, [token, creds.clientSecret]);
  assert.equal(network.cause.name, "TypeError", "the cause keeps its name, message and code");
  assert.match(network.cause.message, /\[redacted\]/);
  assert.equal(network.cause.request, undefined, "nothing else of the thrown value is kept");
});

test("a token answer of 20 MB is invalid_response and leaves no memory behind; the instance keeps working", T, async () => {
  const { webAssemblyMemory } = await import("./memory.mjs");
  let huge = true;
  const { auth } = setup("huge", {
    fetch: (input, init) => {
      if (!huge) return fetch(input, init);
      const chunk = new TextEncoder().encode("x".repeat(1 << 20));
      let sent = 0;
      const body = new ReadableStream({
        pull(controller) {
          if (sent++ === 0) controller.enqueue(new TextEncoder().encode('{"access_token":"'));
          else if (sent > 21) controller.close();
          else controller.enqueue(chunk);
        },
      });
      return Promise.resolve(new Response(body, { status: 200, headers: { "content-type": "application/json" } }));
    },
  });
  const memoryBefore = webAssemblyMemory();
  await rejectsWith(auth.getToken(), { code: "invalid_response", status: 200 });
  assert.ok(webAssemblyMemory() - memoryBefore < 1 << 20, `wasm memory grew by ${webAssemblyMemory() - memoryBefore} B`);
  huge = false;
  assert.match(await auth.getToken(), VISIBLE_ASCII);
});

test("a polluted Object.prototype changes nothing: options and request options are read as own properties", T, async () => {
  const { creds } = setup("pollution");
  Object.prototype.baseUrl = "https://evil.example/api/";
  Object.prototype.fetch = () => assert.fail("the prototype's fetch was called");
  Object.prototype.method = "DELETE";
  try {
    const auth = new CedatoAuth({ ...creds });
    assert.equal(String(auth), "CedatoAuth(https://api.cedato.com/api/)");
    const own = new CedatoAuth({ ...creds, baseUrl: mock().baseUrl });
    const echo = await own.request("echo", {});
    assert.equal(echo.method, "GET");
  } finally {
    delete Object.prototype.baseUrl;
    delete Object.prototype.fetch;
    delete Object.prototype.method;
  }
});

test("each token request attempt hands the fetch option a new init with new headers", T, async () => {
  const inits = [];
  const { auth } = setup("fresh-init", {
    maxRetries: 1,
    fetch: (input, init) => {
      inits.push(init);
      if (inits.length === 1) {
        init.headers.set?.("authorization", "Basic edited");
        return Promise.resolve(new Response("{}", { status: 503 }));
      }
      return fetch(input, init);
    },
  });
  assert.match(await auth.getToken(), VISIBLE_ASCII, "the second attempt carried the real credentials");
  assert.notEqual(inits[0], inits[1]);
  assert.notEqual(inits[0].headers, inits[1].headers);
});

test("one origin: IPv4 shorthand and upper case in baseUrl work end to end", T, async () => {
  const { creds } = setup("one-origin");
  const port = new URL(mock().baseUrl).port;
  const auth = new CedatoAuth({ ...creds, baseUrl: `HTTP://127.1:${port}/api` });
  assert.equal(String(auth), `CedatoAuth(http://127.0.0.1:${port}/api/)`);
  assert.match(await auth.getToken(), VISIBLE_ASCII);
  const res = await auth.fetch(`http://127.0.0.1:${port}/api/echo`);
  assert.equal(res.status, 200);
});

test("one origin: an IDN base URL is compared in its punycode form", T, async () => {
  const seen = [];
  const auth = new CedatoAuth({
    clientId: "id",
    clientSecret: "secret",
    baseUrl: "https://bücher.example/api",
    fetch: async (input) => {
      seen.push(String(input));
      return String(input).endsWith("/token")
        ? new Response(JSON.stringify({ access_token: "tok", expires_in: 3600 }))
        : new Response("{}");
    },
  });
  assert.equal(String(auth), "CedatoAuth(https://xn--bcher-kva.example/api/)");
  await auth.request("reports");
  assert.deepEqual(seen, ["https://xn--bcher-kva.example/api/token", "https://xn--bcher-kva.example/api/reports"]);
});

test("every entry exports only the SPEC's surface", T, async () => {
  assert.deepEqual(Object.keys(nodeEntry).sort(), ["CedatoAuth"]);
  assert.deepEqual(Object.keys(webEntry).sort(), ["CedatoAuth", "default", "initSync"]);
});

test("after free(), the wasm memory holds neither the secret, the Basic value nor any token", T, async () => {
  const { webAssemblyMemoryHolds } = await import("./memory.mjs");
  const { auth, creds } = setup("wipe");
  const basic = Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString("base64");
  const first = await auth.getToken();
  const second = await auth.refresh();
  await auth.request("echo");
  assert.notEqual(first, second);
  assert.ok(webAssemblyMemoryHolds(second), "the scan finds what is there");
  auth.free();
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const [name, secret] of [["secret", creds.clientSecret], ["Basic value", basic], ["first token", first], ["second token", second]]) {
    assert.ok(!webAssemblyMemoryHolds(secret), `the ${name} is still in wasm memory`);
  }
});

test("a caller's own redirect mode (manual, error) is kept: the library follows nothing then", T, async () => {
  const { auth, client } = setup("redir-own-mode");
  await client.apiScript([{ status: 302, headers: { location: "/api/echo" } }, { status: 302, headers: { location: "/api/echo" } }]);
  const res = await auth.fetch("reports/supplies/extended", { redirect: "manual" });
  assert.equal(res.status, 302, "the caller asked to see the redirect");
  await res.body?.cancel();
  await rejectsWith(auth.fetch("reports/supplies/extended", { redirect: "error" }), { code: "network" });
});

test("getters that throw in request options, their query, init or a stored value: a CedatoError, and the instance keeps working", T, async () => {
  const { auth } = setup("getters", {
    tokenStore: { get: async () => ({ get accessToken() { throw new Error("store getter"); } }), set: async () => {} },
  });
  await rejectsWith(auth.request("echo", { get method() { throw new Error("x"); } }), { code: "invalid_request" });
  await rejectsWith(auth.request("echo", { query: { get start() { throw new Error("x"); } } }), { code: "invalid_request" });
  await rejectsWith(auth.fetch("echo", { get headers() { throw new Error("x"); } }), { code: "invalid_request" });
  assert.match(await auth.getToken(), VISIBLE_ASCII, "the store's throwing getter counts as a miss");
  assert.equal((await auth.request("echo")).method, "GET");
});
