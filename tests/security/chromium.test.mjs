// The redirect cases of node.test.mjs in headless Chromium: a page on an origin of its own
// (a static server) loads pkg/web.mjs with `await init()` and calls the mock Cedato
// server (another origin, answering CORS), whose API answers are scripted to redirect to
// a third origin that records what reaches it.
//
// A browser hides a redirect from `redirect: "manual"` (an opaque redirect, status 0), so
// the library sends again with `redirect: "follow"` and relies on the browser dropping
// Authorization on the hop to another origin; request() (with "http") and fetch() (with
// "invalid_request") then reject because the answer comes from outside baseUrl's origin.
// The other origin may get a request (and its CORS preflight), but never one carrying a
// Bearer token. firefox.test.mjs runs the same cases in Firefox.
import assert from "node:assert/strict";
import { test } from "node:test";
import { credentials } from "../js/helpers.mjs";
import { launchChromium } from "../support/chromium.mjs";
import { callInPage, useRedirectSuite } from "./page.mjs";
import { bearers } from "./recorder.mjs";

const STATUSES = [301, 302, 303, 307, 308];
const T = { timeout: 30_000 };

let page;
const pageLog = [];

const suite = useRedirectSuite(launchChromium, async ({ browser, site }) => {
  page = await browser.newPage();
  page.on("console", (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => pageLog.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => pageLog.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(site.url);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 20_000 }).catch((err) => {
    err.message += `\npage log:\n${pageLog.join("\n")}`;
    throw err;
  });
});

/**
 * Chromium's HTTP cache keeps a 301 or 308 that has no Cache-Control (they are cacheable
 * by default), and answers later requests of the same URL with it without asking the
 * mock: every test calls a URL of its own (`?case=...`), and the last tests look at that
 * cache on purpose.
 *
 * Runs `call` ("fetch" or "request") of a new CedatoAuth (client `clientId`) in the page.
 * Resolves `{ sync, resolved, rejected }`: `sync` is a synchronous throw of the call,
 * `resolved` a summary of the answer (fetch: status, type, url; request: the value).
 */
function inPage(call, clientId, path = "reports/supplies/extended") {
  return page.evaluate(
    callInPage,
    { call, clientId, baseUrl: suite.mock.baseUrl, path },
  );
}

const askedForAuthorization = (entries) => entries.filter((e) => e.preflight && /(^|,)\s*authorization\s*(,|$)/i.test(e.requestedHeaders));

/** A client whose next two API answers redirect to `location` (the manual send, then the followed one). */
async function redirectingClient(tag, status, location) {
  const creds = credentials(tag);
  await suite.mock.client(creds.clientId).apiScript([{ status, headers: { location } }, { status, headers: { location } }]);
  return creds.clientId;
}

for (const status of STATUSES) {
  test(`chromium: redirect ${status} to another origin: request() rejects with "http", no Bearer reaches the other origin`, T, async (t) => {
    const location = `${suite.thief.origin}/steal/request/${status}`;
    const clientId = await redirectingClient(`sec-chromium-req-${status}`, status, location);
    const before = suite.thief.seen.length;
    const outcome = await inPage("request", clientId, `reports/supplies/extended?case=request-${status}`);
    const reached = suite.thief.seen.slice(before);
    const { apiRequests } = await suite.mock.client(clientId).stats();
    t.diagnostic(`request(): ${JSON.stringify(outcome)}; API requests at the mock: ${apiRequests}; the other origin saw ${JSON.stringify(reached)}`);
    assert.equal(outcome.sync, undefined, "request() did not throw synchronously");
    assert.equal(outcome.resolved, undefined, `request() resolved: ${JSON.stringify(outcome.resolved)}`);
    assert.equal(outcome.rejected.name, "CedatoError");
    assert.equal(outcome.rejected.code, "http", JSON.stringify(outcome.rejected));
    assert.deepEqual(bearers(reached), [], "no Bearer token reached the other origin");
    assert.deepEqual(askedForAuthorization(reached), [], "no preflight asked to send Authorization");
  });

  test(`chromium: redirect ${status} to another origin: fetch() rejects (it never hands out the other origin's answer), no Bearer reaches the other origin`, T, async (t) => {
    const location = `${suite.thief.origin}/steal/fetch/${status}`;
    const clientId = await redirectingClient(`sec-chromium-fetch-${status}`, status, location);
    const before = suite.thief.seen.length;
    const outcome = await inPage("fetch", clientId, `reports/supplies/extended?case=fetch-${status}`);
    const reached = suite.thief.seen.slice(before);
    t.diagnostic(`fetch(): ${JSON.stringify(outcome)}; the other origin saw ${JSON.stringify(reached)}`);
    assert.equal(outcome.sync, undefined, `fetch() threw synchronously: ${JSON.stringify(outcome.sync)}`);
    assert.equal(outcome.resolved, undefined, `fetch() resolved with another origin's answer: ${JSON.stringify(outcome.resolved)}`);
    assert.equal(outcome.rejected?.name, "CedatoError", JSON.stringify(outcome));
    assert.equal(outcome.rejected.code, "invalid_request", JSON.stringify(outcome));
    assert.match(outcome.rejected.message, /redirected to another origin/);
    assert.deepEqual(bearers(reached), [], "no Bearer token reached the other origin");
    assert.deepEqual(askedForAuthorization(reached), [], "no preflight asked to send Authorization");
  });
}

test("chromium: a redirect inside the origin is followed with the token", T, async () => {
  const creds = credentials("sec-chromium-inside");
  const location = "/api/echo?hop=1";
  await suite.mock.client(creds.clientId).apiScript([{ status: 302, headers: { location } }, { status: 302, headers: { location } }]);
  const before = suite.thief.seen.length;
  const outcome = await inPage("request", creds.clientId, "reports/supplies/extended?case=inside");
  assert.equal(outcome.rejected, undefined, `request() rejected: ${JSON.stringify(outcome.rejected)}`);
  const echo = outcome.resolved;
  assert.equal(echo.path, "/api/echo", JSON.stringify(echo));
  assert.deepEqual(echo.query, { hop: "1" });
  assert.equal(echo.headers.token_valid, true, "the token went with the hop inside the origin");
  assert.equal(suite.thief.seen.length, before, "nothing reached the other origin");
});

test("chromium: a 301 the browser cached sends the next request straight to the other origin, still without the token", T, async (t) => {
  const path = "reports/supplies/extended?case=cached-301";
  const location = `${suite.thief.origin}/steal/cached/301`;
  const first = await redirectingClient("sec-chromium-cache-1", 301, location);
  await inPage("request", first, path);
  // A client with no script: the mock would answer 200 with the report, if it were asked.
  const second = credentials("sec-chromium-cache-2").clientId;
  const before = suite.thief.seen.length;
  const outcome = await inPage("request", second, path);
  const reached = suite.thief.seen.slice(before);
  const stats = await suite.mock.client(second).stats();
  t.diagnostic(`request() after the cached 301: ${JSON.stringify(outcome)}; mock stats ${JSON.stringify(stats)}; the other origin saw ${JSON.stringify(reached)}`);
  assert.equal(stats.apiRequests, 0, "the mock was not asked: the browser used its cached 301");
  assert.equal(outcome.rejected?.code, "http", JSON.stringify(outcome));
  assert.ok(reached.some((e) => !e.preflight), "the browser went to the other origin");
  assert.deepEqual(bearers(reached), [], "no Bearer token reached the other origin");
});

// The control: a page that sends a Bearer header to the other origin itself gets it
// there (the recorder's CORS lets it through), so the checks above would see a leak.
test("chromium control: a Bearer header sent straight to the other origin is recorded", T, async () => {
  const before = suite.thief.seen.length;
  const status = await page.evaluate(async (url) => (await fetch(url, { headers: { authorization: "Bearer control" } })).status, `${suite.thief.origin}/control`);
  assert.equal(status, 200);
  const reached = suite.thief.seen.slice(before);
  assert.equal(askedForAuthorization(reached).length, 1, JSON.stringify(reached));
  assert.deepEqual(bearers(reached).map((e) => e.authorization), ["Bearer control"]);
});

test("chromium: no page errors", () => {
  assert.deepEqual(pageLog.filter((line) => /^pageerror/.test(line)), [], pageLog.join("\n"));
});
