// Checks the mock Cedato server itself (tests/mock/README.md) with real HTTP requests.
// Run: node --test tests/mock/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startMockServer, streamedReport } from "./server.mjs";

let mock;
before(async () => {
  mock = await startMockServer({ port: 0 });
});
after(() => mock.close());

const TOKEN_SHAPE = /^ct_[0-9a-f]{40}$/;
const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`, "utf8").toString("base64")}`;

/** A token request as the vendor documents it; `headers` overrides (undefined removes one). */
function tokenRequest({ id = "t-a", secret = `${id}-secret`, method = "POST", headers = {}, body } = {}) {
  const all = {
    accept: "application/json",
    "api-version": "1",
    authorization: basic(id, secret),
    "content-type": "application/x-www-form-urlencoded",
    ...headers,
  };
  for (const name of Object.keys(all)) if (all[name] === undefined) delete all[name];
  const init = { method, headers: all };
  if (method !== "GET") init.body = body ?? "grant_type=client_credentials";
  return fetch(`${mock.baseUrl}token`, init);
}

async function getToken(id) {
  const res = await tokenRequest({ id });
  assert.equal(res.status, 200);
  return (await res.json()).data.access_token;
}

const api = (path, token, init = {}) =>
  fetch(new URL(path, mock.baseUrl), { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

async function expectOAuthError(res, status, error) {
  assert.equal(res.status, status);
  assert.equal((await res.json()).error, error);
}

// ---------------------------------------------------------------- token endpoint

test("token: success in the data envelope", async () => {
  const res = await tokenRequest({ id: "t-ok" });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  assert.equal(body.status, "OK");
  assert.match(body.data.access_token, TOKEN_SHAPE);
  assert.equal(body.data.token_type, "bearer");
  assert.equal(body.data.expires_in, 3600);
  assert.notEqual(await getToken("t-ok"), body.data.access_token, "every token is fresh");
  assert.deepEqual(mock.client("t-ok").stats(), { tokenRequests: 2, tokensIssued: 2, apiRequests: 0, apiUnauthorized: 0 });
});

test("token: demo credentials and the flat envelope", async () => {
  assert.equal((await tokenRequest({ id: "demo-client", secret: "demo-secret" })).status, 200);
  mock.client("t-flat").configure({ envelope: "flat", expiresIn: 2, tokenType: "Bearer" });
  const body = await (await tokenRequest({ id: "t-flat" })).json();
  assert.deepEqual(Object.keys(body).sort(), ["access_token", "expires_in", "token_type"]);
  assert.match(body.access_token, TOKEN_SHAPE);
  assert.equal(body.token_type, "Bearer");
  assert.equal(body.expires_in, 2);
});

test("token: 405 for any method but POST", async () => {
  const res = await tokenRequest({ id: "t-405", method: "GET" });
  assert.equal(res.status, 405);
  assert.match(res.headers.get("allow"), /POST/);
  await expectOAuthError(await tokenRequest({ id: "t-405", method: "PUT" }), 405, "invalid_request");
  assert.equal(mock.client("t-405").stats().tokenRequests, 2);
});

test("token: 400 invalid_request for a missing or wrong api-version, accept or content-type", async () => {
  const cases = [
    { "api-version": undefined },
    { "api-version": "2" },
    { accept: undefined },
    { accept: "text/html" },
    { "content-type": "application/json" },
    { "content-type": undefined },
  ];
  for (const headers of cases) {
    await expectOAuthError(await tokenRequest({ id: "t-400", headers }), 400, "invalid_request");
  }
  // Parameters and lists are fine as long as the documented values are there.
  const lenient = { accept: "application/json, */*", "content-type": "application/x-www-form-urlencoded;charset=UTF-8" };
  assert.equal((await tokenRequest({ id: "t-400", headers: lenient })).status, 200);
  assert.equal(mock.client("t-400").stats().tokensIssued, 1);
});

test("token: 400 unsupported_grant_type for any other grant", async () => {
  for (const body of ["grant_type=password", "grant_type=", "scope=x"]) {
    await expectOAuthError(await tokenRequest({ id: "t-grant", body }), 400, "unsupported_grant_type");
  }
});

test("token: 401 invalid_client for bad credentials", async () => {
  const refused = [
    tokenRequest({ id: "t-a", secret: "wrong" }),
    tokenRequest({ id: "nobody", secret: "nobody-secret" }),
    tokenRequest({ id: "demo-client", secret: "t-a-secret" }),
    tokenRequest({ headers: { authorization: undefined } }),
    tokenRequest({ headers: { authorization: "Bearer abc" } }),
    tokenRequest({ headers: { authorization: `Basic ${Buffer.from("no-colon").toString("base64")}` } }),
    tokenRequest({ headers: { authorization: "Basic !!!" } }),
    tokenRequest({ headers: { authorization: `Basic ${Buffer.from([0x74, 0x2d, 0xff, 0x3a]).toString("base64")}` } }),
  ];
  for (const res of await Promise.all(refused)) {
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: "invalid_client", error_description: "Client authentication failed" });
  }
});

test("token: non-ASCII credentials are UTF-8, and the secret is split at the first ':'", async () => {
  assert.equal((await tokenRequest({ id: "t-ü", secret: "t-ü-secret" })).status, 200);
  assert.equal(mock.client("t-ü").stats().tokensIssued, 1);
  // Latin-1 bytes for the same text are not the UTF-8 the vendor expects.
  const latin1 = `Basic ${Buffer.from("t-ü:t-ü-secret", "latin1").toString("base64")}`;
  assert.equal((await tokenRequest({ headers: { authorization: latin1 } })).status, 401);

  assert.equal((await tokenRequest({ id: "t-colon", secret: "t-colon-secret:with:colons" })).status, 200);
  assert.equal((await tokenRequest({ id: "t-colon", secret: "t-colon-secret-no:" })).status, 401);
  assert.equal(mock.client("t-colon").stats().tokensIssued, 1);
});

// ---------------------------------------------------------------- token script

test("token script: status, Retry-After header and body, then normal handling", async () => {
  mock.client("t-script").tokenScript([
    { status: 503 },
    { status: 429, headers: { "retry-after": "1" } },
    { status: 400, body: { error: "invalid_grant" } },
  ]);
  const first = await tokenRequest({ id: "t-script" });
  assert.equal(first.status, 503);
  assert.deepEqual(await first.json(), {});
  const second = await tokenRequest({ id: "t-script" });
  assert.equal(second.status, 429);
  assert.equal(second.headers.get("retry-after"), "1");
  await second.arrayBuffer();
  await expectOAuthError(await tokenRequest({ id: "t-script" }), 400, "invalid_grant");
  assert.equal((await tokenRequest({ id: "t-script" })).status, 200);
  assert.deepEqual(mock.client("t-script").stats(), { tokenRequests: 4, tokensIssued: 1, apiRequests: 0, apiUnauthorized: 0 });
});

test("token script: the queue is read from the Basic header even with a wrong secret", async () => {
  mock.client("t-wrong").tokenScript([{ status: 502 }]);
  assert.equal((await tokenRequest({ id: "t-wrong", secret: "nope" })).status, 502);
  assert.equal((await tokenRequest({ id: "t-wrong", secret: "nope" })).status, 401);
});

test("token script: delayMs waits before answering", async () => {
  mock.client("t-delay").tokenScript([{ delayMs: 150 }, { delayMs: 100, status: 500 }]);
  let started = Date.now();
  assert.equal((await tokenRequest({ id: "t-delay" })).status, 200);
  assert.ok(Date.now() - started >= 140, "normal answer after the delay");
  started = Date.now();
  assert.equal((await tokenRequest({ id: "t-delay" })).status, 500);
  assert.ok(Date.now() - started >= 90, "scripted answer after the delay");
});

test("token script: drop makes fetch reject", async () => {
  mock.client("t-drop").tokenScript([{ drop: true }]);
  await assert.rejects(tokenRequest({ id: "t-drop" }), TypeError);
  assert.equal((await tokenRequest({ id: "t-drop" })).status, 200);
  assert.deepEqual(mock.client("t-drop").stats(), { tokenRequests: 2, tokensIssued: 1, apiRequests: 0, apiUnauthorized: 0 });
});

test("token script: stallBody sends a 200 whose body never ends", async () => {
  mock.client("t-stall").tokenScript([{ stallBody: true }]);
  const controller = new AbortController();
  const res = await fetch(`${mock.baseUrl}token`, {
    method: "POST",
    headers: {
      accept: "application/json",
      "api-version": "1",
      authorization: basic("t-stall", "t-stall-secret"),
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials",
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  const timer = setTimeout(() => controller.abort(), 200);
  await assert.rejects(res.text(), { name: "AbortError" });
  clearTimeout(timer);
  assert.equal(mock.client("t-stall").stats().tokensIssued, 0);
});

test("token script: ok with expiresIn overrides expires_in and still issues a usable token", async () => {
  mock.client("t-exp").tokenScript([{ ok: true, expiresIn: "3600" }, { ok: true, expiresIn: -1 }]);
  const stringy = (await (await tokenRequest({ id: "t-exp" })).json()).data;
  assert.equal(stringy.expires_in, "3600");
  assert.equal((await api("echo", stringy.access_token)).status, 200, "non-number expiresIn lives 3600 s");
  const expired = (await (await tokenRequest({ id: "t-exp" })).json()).data;
  assert.equal(expired.expires_in, -1);
  assert.equal((await api("echo", expired.access_token)).status, 401, "already expired");
  assert.equal(mock.client("t-exp").stats().tokensIssued, 2);
});

test("token script: ok with a body that is not JSON", async () => {
  mock.client("t-garbage").tokenScript([{ ok: true, body: "<html>oops</html>" }]);
  const res = await tokenRequest({ id: "t-garbage" });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.equal(text, "<html>oops</html>");
  assert.throws(() => JSON.parse(text), SyntaxError);
  // ok still validates the request first.
  mock.client("t-garbage").tokenScript([{ ok: true, body: "x" }]);
  assert.equal((await tokenRequest({ id: "t-garbage", secret: "bad" })).status, 401);
});

test("token: expires_in 0 is good for exactly one API call", async () => {
  mock.client("t-zero").configure({ expiresIn: 0 });
  const token = (await (await tokenRequest({ id: "t-zero" })).json()).data.access_token;
  assert.equal((await api("echo", token)).status, 200);
  assert.equal((await api("echo", token)).status, 401);
});

// ---------------------------------------------------------------- Platform API

test("api: missing, unknown, malformed and revoked tokens get 401 invalid_token", async () => {
  const token = await getToken("t-auth");
  assert.equal((await api("echo", token)).status, 200);
  const refused = [
    fetch(`${mock.baseUrl}echo`),
    api("echo", "ct_0000000000000000000000000000000000000000"),
    fetch(`${mock.baseUrl}echo`, { headers: { authorization: token } }),
    fetch(`${mock.baseUrl}reports/supplies/extended`, { headers: { authorization: basic("t-auth", "t-auth-secret") } }),
  ];
  for (const res of await Promise.all(refused)) {
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    assert.deepEqual(await res.json(), { error: "invalid_token" });
  }
  mock.client("t-auth").revoke();
  const revoked = await api("echo", token);
  assert.equal(revoked.status, 401);
  assert.equal(revoked.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
  const fresh = await getToken("t-auth");
  assert.equal((await api("echo", fresh)).status, 200, "tokens issued after revoke() work");
  assert.deepEqual(mock.client("t-auth").stats(), { tokenRequests: 2, tokensIssued: 2, apiRequests: 2, apiUnauthorized: 1 });
});

test("api: config refuseTokensMs answers 401 to every token of the client, fresh ones too, for that long", async () => {
  const token = await getToken("t-refuse");
  mock.client("t-refuse").configure({ refuseTokensMs: 300 });
  assert.equal((await api("echo", token)).status, 401);
  const fresh = await getToken("t-refuse");
  const refused = await api("echo", fresh);
  assert.equal(refused.status, 401);
  assert.deepEqual(await refused.json(), { error: "invalid_token" });
  assert.equal((await api("echo", await getToken("t-auth"))).status, 200, "other clients are served");
  await new Promise((resolve) => setTimeout(resolve, 350));
  assert.equal((await api("echo", fresh)).status, 200, "served again afterwards");
  assert.equal(mock.client("t-refuse").stats().apiUnauthorized, 2);
});

test("api: supplies report pages through navigation.next until null", async () => {
  const token = await getToken("t-pages");
  const seen = new Map();
  let url = new URL("reports/supplies/extended?start=2024-03-01&end=2024-03-31&limit=10", mock.baseUrl).href;
  let pages = 0;
  while (url) {
    const res = await api(url, token);
    assert.equal(res.status, 200);
    const { status, data } = await res.json();
    assert.equal(status, "OK");
    assert.equal(data.navigation.total, 57);
    assert.equal(data.navigation.limit, 10);
    assert.equal(data.navigation.offset, pages * 10);
    for (const row of data.supplies) {
      assert.deepEqual(Object.keys(row), ["supply_id", "supply_name", "impressions", "requests", "fill_rate", "revenue", "ecpm"]);
      assert.ok(!seen.has(row.supply_id), "no row twice");
      seen.set(row.supply_id, row);
    }
    url = data.navigation.next;
    if (url) {
      assert.ok(url.startsWith(mock.origin), "absolute URL on the request's host");
      assert.equal(new URL(url).searchParams.get("start"), "2024-03-01");
    }
    pages++;
  }
  assert.equal(pages, 6);
  assert.equal(seen.size, 57);
  const first = seen.get(3001);
  assert.equal(first.supply_name, "Homepage Outstream 640x360");
  assert.ok(first.impressions <= first.requests && first.revenue > 0 && first.fill_rate > 0 && first.fill_rate < 1);
});

test("api: reports are deterministic, default to 25 rows, cap at 100 and refuse bad dates", async () => {
  const token = await getToken("t-report");
  const get = async (query) => {
    const res = await api(`reports/supplies/extended?${query}`, token);
    return { status: res.status, body: await res.json() };
  };
  const a = await get("start=2024-01-01&end=2024-01-31");
  const b = await get("start=2024-01-01&end=2024-01-31");
  assert.deepEqual(a, b);
  assert.equal(a.body.data.supplies.length, 25);
  assert.equal(a.body.data.navigation.limit, 25);
  assert.equal(new URL(a.body.data.navigation.next).searchParams.get("offset"), "25");
  const other = await get("start=2024-02-01&end=2024-02-29");
  assert.notDeepEqual(other.body.data.supplies[0].impressions, a.body.data.supplies[0].impressions);
  const big = await get("start=2024-01-01&end=2024-01-31&limit=500");
  assert.equal(big.body.data.navigation.limit, 100);
  assert.equal(big.body.data.supplies.length, 57);
  assert.equal(big.body.data.navigation.next, null);
  for (const bad of ["start=2024-13-01&end=2024-12-31", "start=2024-02-30&end=2024-03-01", "start=yesterday&end=2024-01-01",
    "start=2024-02-01&end=2024-01-01", "start=2024-01-01&end=2024-01-02&limit=0", "start=2024-01-01&end=2024-01-02&offset=-1"]) {
    assert.equal((await get(bad)).status, 400, bad);
  }
});

test("api: demands report has 33 rows", async () => {
  const token = await getToken("t-demands");
  const res = await api("reports/demands/basic?start=2024-01-01&end=2024-01-07&limit=100", token);
  const { data } = await res.json();
  assert.equal(data.demands.length, 33);
  assert.deepEqual(data.navigation, { total: 33, limit: 100, offset: 0, next: null });
  assert.deepEqual(Object.keys(data.demands[0]), ["demand_id", "demand_name", "impressions", "revenue", "ecpm"]);
  assert.equal(new Set(data.demands.map((d) => d.demand_name)).size, 33);
  const page = await (await api("reports/demands/basic?start=2024-01-01&end=2024-01-07&limit=20&offset=20", token)).json();
  assert.equal(page.data.demands.length, 13);
  assert.equal(page.data.navigation.next, null);
});

test("api: demand/{id} and 404 for unknown ids", async () => {
  const token = await getToken("t-demand");
  const res = await api("demand/7001", token);
  assert.equal(res.status, 200);
  const { status, data } = await res.json();
  assert.equal(status, "OK");
  assert.equal(data.demand.demand_id, 7001);
  assert.equal(data.demand.demand_name, "Google AdX Open Auction");
  for (const id of ["7000", "7034", "abc"]) {
    const missing = await api(`demand/${id}`, token);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { status: "ERROR", error: "not_found" });
  }
  assert.equal((await api("no/such/endpoint", token)).status, 404);
});

test("api: echo mirrors the request but never the token", async () => {
  const token = await getToken("t-echo");
  const res = await api(`echo?a=1&b=x%20y&leak=${token}`, token, {
    method: "PUT",
    headers: { "content-type": "application/json", "api-version": "1", "x-copy": token },
    body: JSON.stringify({ hello: "wörld", token }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(!text.includes(token), "the token is nowhere in the echo");
  const echo = JSON.parse(text);
  assert.equal(echo.method, "PUT");
  assert.equal(echo.path, "/api/echo");
  assert.equal(echo.query.a, "1");
  assert.equal(echo.query.b, "x y");
  assert.equal(echo.headers["api-version"], "1");
  assert.equal(echo.headers.authorization, undefined);
  assert.equal(echo.headers.authorization_scheme, "Bearer");
  assert.equal(echo.headers.token_valid, true);
  assert.equal(JSON.parse(echo.body).hello, "wörld");
});

test("api: empty answers 204 and text answers text/plain", async () => {
  const token = await getToken("t-misc");
  const empty = await api("empty", token);
  assert.equal(empty.status, 204);
  assert.equal(await empty.text(), "");
  const text = await api("text", token);
  assert.equal(text.status, 200);
  assert.match(text.headers.get("content-type"), /^text\/plain/);
  assert.equal(await text.text(), "not json");
});

test("api: format=csv answers a report as text/csv, every row of the range unless limit/offset", async () => {
  const token = await getToken("t-csv");
  const range = "start=2024-01-01&end=2024-01-07";
  const json = await (await api(`reports/supplies/extended?${range}&limit=100`, token)).json();
  const res = await api(`reports/supplies/extended?${range}&format=csv`, token);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
  assert.match(res.headers.get("content-disposition"), /filename="supplies-2024-01-01-2024-01-07\.csv"/);
  const lines = (await res.text()).split("\r\n");
  assert.equal(lines.at(-1), "", "every line ends with CRLF");
  const [header, ...rows] = lines.slice(0, -1);
  assert.equal(header, "supply_id,supply_name,impressions,requests,fill_rate,revenue,ecpm");
  assert.equal(rows.length, 57);
  assert.deepEqual(
    rows.map((line) => line.split(",")),
    json.data.supplies.map((r) => [r.supply_id, r.supply_name, r.impressions, r.requests, r.fill_rate, r.revenue, r.ecpm].map(String)),
  );
  const page = await (await api(`reports/demands/basic?${range}&format=csv&limit=5&offset=30`, token)).text();
  assert.deepEqual(page.split("\r\n").slice(1, -1).map((line) => line.split(",")[0]), ["7031", "7032", "7033"]);
  assert.equal((await api(`reports/supplies/extended?${range}&format=xml`, token)).status, 400);
});

test("api: reports/stream sends N bytes of CSV with backpressure; failAt breaks the connection", async () => {
  const token = await getToken("t-stream");
  const bytes = 3 * 65_536 + 123;
  const res = await api(`reports/stream?bytes=${bytes}`, token);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(body.length, bytes);
  assert.ok(body.equals(Buffer.concat([...streamedReport(bytes)])));
  assert.match(body.toString("latin1", 0, 40), /^row,supply_id,revenue\r\n0,3001,0\r\n/);
  // A slow reader still gets every byte (the mock waits for 'drain' between chunks).
  const slow = await api("reports/stream?bytes=4000000", token);
  const reader = slow.body.getReader();
  let received = 0;
  for (let chunk; !(chunk = await reader.read()).done; ) {
    received += chunk.value.length;
    if (received < 200_000) await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(received, 4_000_000);
  // Broken off after failAt bytes: the body rejects once those have arrived.
  const broken = await api("reports/stream?bytes=1000000&failAt=300000", token);
  assert.equal(broken.status, 200);
  let got = 0;
  const partial = broken.body.getReader();
  await assert.rejects(async () => {
    for (let chunk; !(chunk = await partial.read()).done; ) got += chunk.value.length;
  }, TypeError);
  assert.equal(got, 300_000);
  assert.equal((await api("reports/stream?bytes=-1", token)).status, 400);
});

test("api script: base64 sends exact bytes; a null header removes a default one", async () => {
  const token = await getToken("t-bytes");
  const latin1 = Buffer.from("café", "latin1");
  mock.client("t-bytes").apiScript([
    { status: 200, base64: latin1.toString("base64"), headers: { "content-type": "text/plain; charset=iso-8859-1" } },
    { status: 200, body: "no type", headers: { "content-type": null } },
  ]);
  const first = await api("echo", token);
  assert.equal(first.headers.get("content-type"), "text/plain; charset=iso-8859-1");
  assert.ok(Buffer.from(await first.arrayBuffer()).equals(latin1));
  const second = await api("echo", token);
  assert.equal(second.headers.get("content-type"), null);
  assert.equal(await second.text(), "no type");
});

test("api script: a scripted 401, then normal answers", async () => {
  const token = await getToken("t-api");
  mock.client("t-api").apiScript([{ status: 401 }, { status: 503, headers: { "Retry-After": "3" }, body: "busy" }]);
  assert.equal((await api("demand/7002", token)).status, 401);
  const busy = await api("demand/7002", token);
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get("retry-after"), "3");
  assert.equal(await busy.text(), "busy");
  assert.equal((await api("demand/7002", token)).status, 200);
  mock.client("t-api").apiScript([{ drop: true }, { delayMs: 100 }]);
  await assert.rejects(api("demand/7002", token), TypeError);
  const started = Date.now();
  assert.equal((await api("demand/7002", token)).status, 200);
  assert.ok(Date.now() - started >= 90);
  assert.deepEqual(mock.client("t-api").stats(), { tokenRequests: 1, tokensIssued: 1, apiRequests: 5, apiUnauthorized: 0 });
});

test("stats are kept per client and totalled", async () => {
  const before = mock.stats();
  const [x, y] = [await getToken("t-iso-x"), await getToken("t-iso-y")];
  mock.client("t-iso-x").apiScript([{ status: 500 }]);
  await api("empty", x);
  await api("empty", y);
  await api("empty", y);
  mock.client("t-iso-y").revoke();
  await api("empty", y);
  await api("empty", x);
  assert.deepEqual(mock.client("t-iso-x").stats(), { tokenRequests: 1, tokensIssued: 1, apiRequests: 2, apiUnauthorized: 0 });
  assert.deepEqual(mock.client("t-iso-y").stats(), { tokenRequests: 1, tokensIssued: 1, apiRequests: 2, apiUnauthorized: 1 });
  const totals = mock.stats();
  assert.deepEqual(
    Object.fromEntries(Object.keys(totals).map((k) => [k, totals[k] - before[k]])),
    { tokenRequests: 2, tokensIssued: 2, apiRequests: 4, apiUnauthorized: 1 },
  );
});

// ---------------------------------------------------------------- control endpoints and CORS

test("control endpoints drive the same state over HTTP", async () => {
  const own = await startMockServer({ port: 0 });
  try {
    const control = (path, body) =>
      fetch(`${own.origin}/__mock/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
    const token = async (id) =>
      fetch(`${own.baseUrl}token`, {
        method: "POST",
        headers: { accept: "application/json", "api-version": "1", authorization: basic(id, `${id}-secret`),
          "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials",
      });
    const id = encodeURIComponent("t-ü");
    assert.deepEqual(await (await control(`clients/${id}/token-script`, [{ status: 503 }])).json(), { ok: true });
    assert.equal((await control(`clients/${id}/config`, { envelope: "flat", expiresIn: "60" })).status, 200);
    assert.equal((await token("t-ü")).status, 503);
    const flat = await (await token("t-ü")).json();
    assert.equal(flat.expires_in, "60");
    assert.equal(own.client("t-ü").stats().tokenRequests, 2, "the JS and HTTP faces share state");

    await control(`clients/${id}/api-script`, [{ status: 418 }]);
    const call = () => fetch(`${own.baseUrl}empty`, { headers: { authorization: `Bearer ${flat.access_token}` } });
    assert.equal((await call()).status, 418);
    assert.equal((await call()).status, 204);
    assert.equal((await control(`clients/${id}/revoke`, {})).status, 200);
    assert.equal((await call()).status, 401);

    assert.deepEqual(await (await control(`clients/${id}/stats`)).json(),
      { tokenRequests: 2, tokensIssued: 1, apiRequests: 2, apiUnauthorized: 1 });
    assert.deepEqual(await (await control("stats")).json(), { tokenRequests: 2, tokensIssued: 1, apiRequests: 2, apiUnauthorized: 1 });
    assert.equal((await control(`clients/${id}/token-script`, { status: 500 })).status, 400, "a script is an array");
    assert.equal((await fetch(`${own.origin}/__mock/clients/x/config`, { method: "POST", body: "{" })).status, 400);
    assert.equal((await control(`clients/${id}/stats`, {})).status, 405);
    assert.equal((await control("nothing-here")).status, 404);

    assert.equal((await control("reset", {})).status, 200);
    assert.deepEqual(own.stats(), { tokenRequests: 0, tokensIssued: 0, apiRequests: 0, apiUnauthorized: 0 });
    assert.equal((await token("t-ü")).status, 200, "reset clears scripts");
  } finally {
    await own.close();
  }
});

test("CORS: preflight and headers on every answer", async () => {
  const before = mock.stats();
  const preflight = await fetch(`${mock.baseUrl}token`, {
    method: "OPTIONS",
    headers: {
      origin: "http://localhost:5173",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type,api-version,x-trace-id",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "http://localhost:5173");
  assert.equal(preflight.headers.get("access-control-allow-methods"), "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  const allowed = preflight.headers.get("access-control-allow-headers").toLowerCase().split(/,\s*/);
  for (const name of ["authorization", "content-type", "api-version", "accept", "x-trace-id"]) assert.ok(allowed.includes(name), name);
  assert.equal(preflight.headers.get("access-control-max-age"), "600");
  assert.deepEqual(mock.stats(), before, "a preflight is not counted as a request");

  const refused = await fetch(`${mock.baseUrl}echo`, { headers: { origin: "https://app.example" } });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("access-control-allow-origin"), "https://app.example");
  assert.equal(refused.headers.get("access-control-expose-headers"), "Retry-After, WWW-Authenticate");
  const anyOrigin = await tokenRequest({ id: "t-cors" });
  assert.equal(anyOrigin.headers.get("access-control-allow-origin"), "*");
});

// ---------------------------------------------------------------- lifecycle

test("close() ends stalled, delayed and keep-alive connections at once", async () => {
  const own = await startMockServer({ port: 0 });
  own.client("t-close").tokenScript([{ stallBody: true }, { delayMs: 60_000 }]);
  const request = () =>
    fetch(`${own.baseUrl}token`, {
      method: "POST",
      headers: { accept: "application/json", "api-version": "1", authorization: basic("t-close", "t-close-secret"),
        "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
  const stalled = await request();
  // Expectations are attached now: the rejections happen while close() runs.
  const stalledBody = assert.rejects(stalled.text());
  const delayed = assert.rejects(request());
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = Date.now();
  await own.close();
  assert.ok(Date.now() - started < 1000, "close() does not wait for open requests");
  await stalledBody;
  await delayed;
  await own.close(); // idempotent
});

test("command line: prints the URL line and writes --url-file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cedato-mock-"));
  const urlFile = join(dir, "url");
  const script = fileURLToPath(new URL("./server.mjs", import.meta.url));
  const child = spawn(process.execPath, [script, "--port", "0", "--url-file", urlFile], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const line = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (out.includes("\n")) resolve(out.trim());
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code}`)));
    });
    const match = /^mock cedato listening on (http:\/\/127\.0\.0\.1:\d+\/api\/)$/.exec(line);
    assert.ok(match, line);
    assert.equal(await readFile(urlFile, "utf8"), match[1]);
    const res = await fetch(`${match[1]}token`, { method: "GET" });
    assert.equal(res.status, 405);
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    await rm(dir, { recursive: true, force: true });
  }
});
