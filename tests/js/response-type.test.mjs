// SPEC section 3, RequestOptions.responseType: what request() makes of a 2xx body
// ("json", "text", "auto") for each kind of answer, and that everything else request()
// does (time limit, 401/419 retry, error typing, origin rule) holds for text too.
import assert from "node:assert/strict";
import { test } from "node:test";
import { streamedReport } from "../mock/server.mjs";
import { TEST_TIMEOUT, instanceFactory, rejectsWith, suiteMock } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)
const T = { timeout: TEST_TIMEOUT };
const setup = instanceFactory(mock, { timeoutMs: 3000, maxRetries: 0 });

const RANGE = { start: "2024-01-01", end: "2024-01-03" };
const CSV_HEADER = "supply_id,supply_name,impressions,requests,fill_rate,revenue,ecpm";
const base64 = (text, encoding = "utf8") => Buffer.from(text, encoding).toString("base64");

/** A scripted 200 answer with these bytes and content-type (`null`: no content-type at all). */
const answer = (text, contentType, encoding) => ({
  status: 200,
  base64: base64(text, encoding),
  headers: { "content-type": contentType },
});

test("text/csv: \"text\" and \"auto\" give the CSV as is; \"json\" (the default) is invalid_response", T, async () => {
  const { auth } = setup("rt-csv");
  const query = { ...RANGE, format: "csv" };
  const csv = await auth.request("reports/supplies/extended", { query, responseType: "text" });
  assert.equal(typeof csv, "string");
  const lines = csv.split("\r\n");
  assert.equal(lines[0], CSV_HEADER);
  assert.equal(lines.length, 57 + 2, "57 rows, a header and the final line break");
  assert.equal(lines.at(-1), "");
  // The same rows as the JSON report.
  const json = await auth.request("reports/supplies/extended", { query: { ...RANGE, limit: 100 } });
  assert.deepEqual(
    lines.slice(1, -1).map((line) => line.split(",")[0]),
    json.data.supplies.map((row) => String(row.supply_id)),
  );
  assert.equal(await auth.request("reports/supplies/extended", { query, responseType: "auto" }), csv);
  for (const responseType of ["json", undefined]) {
    const err = await rejectsWith(auth.request("reports/supplies/extended", { query, responseType }), {
      code: "invalid_response",
      status: 200,
    });
    assert.match(err.message, /not JSON/);
  }
});

test("application/json: \"json\" and \"auto\" parse it; \"text\" gives the body's text", T, async () => {
  const { auth } = setup("rt-json");
  const parsed = await auth.request("demand/7001");
  assert.equal(parsed.data.demand.demand_id, 7001);
  assert.deepEqual(await auth.request("demand/7001", { responseType: "json" }), parsed);
  assert.deepEqual(await auth.request("demand/7001", { responseType: "auto" }), parsed);
  const text = await auth.request("demand/7001", { responseType: "text" });
  assert.equal(typeof text, "string");
  assert.equal(text, JSON.stringify(parsed), "the mock's compact JSON, as sent");
});

test("application/problem+json (any +json type): \"auto\" parses it", T, async () => {
  const { auth, client } = setup("rt-problem");
  const body = '{"type":"about:blank","title":"partial report","rows":2}';
  await client.apiScript([
    answer(body, "application/problem+json"),
    answer(body, "application/problem+json; charset=utf-8"),
    answer(body, "Application/Vnd.Cedato+JSON"),
  ]);
  assert.deepEqual(await auth.request("echo", { responseType: "auto" }), JSON.parse(body));
  assert.equal(await auth.request("echo", { responseType: "text" }), body);
  assert.deepEqual(await auth.request("echo", { responseType: "json" }), JSON.parse(body));
});

test("no content-type: \"json\" parses, \"text\" and \"auto\" give the text", T, async () => {
  const { auth, client } = setup("rt-none");
  const body = '{"looks":"like json"}';
  await client.apiScript([answer(body, null), answer(body, null), answer(body, null)]);
  assert.deepEqual(await auth.request("echo"), { looks: "like json" });
  assert.equal(await auth.request("echo", { responseType: "text" }), body);
  assert.equal(await auth.request("echo", { responseType: "auto" }), body);
  // text/plain too (the mock's `text` route).
  assert.equal(await auth.request("text", { responseType: "auto" }), "not json");
});

test("a charset: the body is decoded as it says; UTF-8 without one", T, async () => {
  const { auth, client } = setup("rt-charset");
  // "Цена,10" in windows-1251. (Not windows-1252: Node 20.18.3 and later decode its bytes
  // 0x80-0x9F as Latin-1, nodejs/node#60888; the library uses the engine's TextDecoder.)
  const cp1251 = Buffer.from([0xd6, 0xe5, 0xed, 0xe0, 0x2c, 0x31, 0x30]);
  await client.apiScript([
    { status: 200, base64: cp1251.toString("base64"), headers: { "content-type": "text/csv; charset=windows-1251" } },
    answer("naïve,ü", "text/csv; charset=ISO-8859-1", "latin1"),
    answer('{"name":"Zürich"}', 'application/json; charset="UTF-16LE"', "utf16le"),
    answer("\ufeffid,name\r\n1,Zürich", "text/csv; charset=utf-8"),
    answer("id,name\r\n1,Zürich", "text/csv"),
    // Bytes that are not UTF-8, sent as UTF-8: replaced, never an error.
    { status: 200, base64: Buffer.from([0x61, 0xff, 0x62]).toString("base64"), headers: { "content-type": "text/plain" } },
  ]);
  assert.equal(await auth.request("echo", { responseType: "text" }), "Цена,10");
  assert.equal(await auth.request("echo", { responseType: "text" }), "naïve,ü");
  assert.deepEqual(await auth.request("echo", { responseType: "auto" }), { name: "Zürich" });
  assert.equal(await auth.request("echo", { responseType: "text" }), "id,name\r\n1,Zürich", "a BOM is dropped");
  assert.equal(await auth.request("echo", { responseType: "text" }), "id,name\r\n1,Zürich");
  assert.equal(await auth.request("echo", { responseType: "text" }), "a\ufffdb");
});

test("a charset the runtime does not know: decoded as UTF-8", T, async () => {
  const { auth, client } = setup("rt-unknown-charset");
  await client.apiScript([answer("id,name\r\n1,Zürich", "text/csv; charset=x-no-such-charset")]);
  assert.equal(await auth.request("echo", { responseType: "text" }), "id,name\r\n1,Zürich");
});

test("204 and empty 2xx answers: \"text\" gives \"\", \"json\" undefined, \"auto\" by content-type", T, async () => {
  const { auth, client } = setup("rt-empty");
  assert.equal(await auth.request("empty", { responseType: "text" }), "");
  assert.equal(await auth.request("empty", { responseType: "json" }), undefined);
  assert.equal(await auth.request("empty", { responseType: "auto" }), "", "204 has no content-type: text");
  await client.apiScript([answer("", "application/json"), answer("", "application/json"), answer("", "text/csv")]);
  assert.equal(await auth.request("echo", { responseType: "auto" }), undefined, "empty JSON: undefined");
  assert.equal(await auth.request("echo", { responseType: "text" }), "");
  assert.equal(await auth.request("echo", { responseType: "auto" }), "");
});

test("a non-2xx text answer: http with its status and the text in `body`, whatever the responseType", T, async () => {
  const { auth, client } = setup("rt-http");
  const csv = "error,detail\r\nbad_range,end before start\r\n";
  for (const responseType of ["text", "auto", "json"]) {
    await client.apiScript([{ status: 422, body: csv, headers: { "content-type": "text/csv" } }]);
    const err = await rejectsWith(auth.request("echo", { responseType }), { code: "http", status: 422, body: csv });
    assert.match(err.message, /GET echo answered HTTP 422/);
  }
  // Only the first 1 KB is kept.
  await client.apiScript([{ status: 503, body: "x".repeat(5000), headers: { "content-type": "text/plain" } }]);
  const err = await rejectsWith(auth.request("echo", { responseType: "text" }), { code: "http", status: 503, retryable: true });
  assert.equal(err.body, "x".repeat(1024));
});

test("a non-2xx answer that echoes the secret or the token: redacted in `body`", T, async () => {
  const { auth, client, creds } = setup("rt-redact");
  const token = await auth.getToken();
  await client.apiScript([{ status: 400, body: `secret=${creds.clientSecret},token=${token}`, headers: { "content-type": "text/csv" } }]);
  const err = await rejectsWith(auth.request("echo", { responseType: "text" }), { code: "http", status: 400 });
  assert.ok(!err.body.includes(creds.clientSecret) && !err.body.includes(token), err.body);
  assert.match(err.body, /^secret=.*redacted.*,token=.*redacted/);
});

test("a bad responseType is invalid_request, and nothing is sent", T, async () => {
  const { auth, client } = setup("rt-bad");
  for (const responseType of ["csv", "TEXT", "", 1, true, {}, ["text"]]) {
    const err = await rejectsWith(auth.request("echo", { responseType }), { code: "invalid_request" });
    assert.match(err.message, /responseType/);
  }
  assert.equal(await auth.request("empty", { responseType: null }), undefined, "null means the default");
  assert.equal((await client.stats()).apiRequests, 1, "only the last call was sent");
});

test("\"text\" keeps the 401/419 retry, the time limit and the origin rule", T, async () => {
  const { auth, client } = setup("rt-rules", { timeoutMs: 300 });
  const query = { ...RANGE, format: "csv" };
  await client.apiScript([{ status: 401 }]);
  const csv = await auth.request("reports/supplies/extended", { query, responseType: "text" });
  assert.ok(csv.startsWith(CSV_HEADER));
  // (Another instance for the 419: one instance replaces a refused token once per
  // unauthorizedCooldownMs.)
  const other = setup("rt-rules-419");
  await other.client.apiScript([{ status: 419 }]);
  assert.ok((await other.auth.request("reports/supplies/extended", { query, responseType: "text" })).startsWith(CSV_HEADER));
  assert.equal((await client.stats()).tokenRequests, 2, "a new token after the 401");
  assert.equal((await other.client.stats()).tokenRequests, 2, "a new token after the 419");
  // A body that never ends: timeout, within timeoutMs.
  await client.apiScript([{ stallBody: true }]);
  await rejectsWith(auth.request("echo", { responseType: "text" }), { code: "timeout" });
  // Another origin: refused before sending.
  await rejectsWith(auth.request("http://127.0.0.2:9/reports.csv", { responseType: "text" }), { code: "invalid_request" });
});

test("a large text answer (20 MB, streamed by the mock) arrives whole", { timeout: 60_000 }, async () => {
  const { auth } = setup("rt-large", { timeoutMs: 30_000 });
  const bytes = 20 << 20;
  const text = await auth.request("reports/stream", { query: { bytes }, responseType: "text" });
  assert.equal(text.length, bytes);
  assert.ok(text === Buffer.concat([...streamedReport(bytes)]).toString("latin1"), "byte for byte");
});
