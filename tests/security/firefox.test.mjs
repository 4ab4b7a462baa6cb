// The cross-origin redirect cases of chromium.test.mjs in headless Firefox (geckodriver over
// WebDriver): Firefox, too, hides a redirect from `redirect: "manual"` and follows it itself
// without Authorization; the answer it ends with is from another origin, and neither
// fetch() (invalid_request) nor request() (http) hands it out. The other origin never gets
// a Bearer token.
import assert from "node:assert/strict";
import { test } from "node:test";
import { credentials } from "../js/helpers.mjs";
import { launchFirefox } from "../support/firefox.mjs";
import { callInPage, useRedirectSuite } from "./page.mjs";
import { bearers } from "./recorder.mjs";

const STATUSES = [301, 302, 303, 307, 308];
const T = { timeout: 30_000 };

const suite = useRedirectSuite(launchFirefox, async ({ browser: firefox, site }) => {
  await firefox.goto(site.url);
  const ready = await firefox.evaluate(async () => {
    for (let i = 0; i < 200 && !window.__ready; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    return window.__ready === true;
  });
  assert.equal(ready, true, "the page loaded the package");
});

for (const status of STATUSES) {
  test(`firefox: redirect ${status} to another origin: fetch() rejects with invalid_request, request() with http, no Bearer reaches the other origin`, T, async (t) => {
    const creds = credentials(`sec-firefox-${status}`);
    const location = `${suite.thief.origin}/steal/firefox/${status}`;
    // Two answers per call: the manual send, then the one the browser follows.
    await suite.mock.client(creds.clientId).apiScript(Array.from({ length: 4 }, () => ({ status, headers: { location } })));
    const before = suite.thief.seen.length;
    const path = `reports/supplies/extended?case=firefox-${status}`;
    const fetched = await suite.browser.evaluate(callInPage, { call: "fetch", clientId: creds.clientId, baseUrl: suite.mock.baseUrl, path });
    const requested = await suite.browser.evaluate(callInPage, { call: "request", clientId: creds.clientId, baseUrl: suite.mock.baseUrl, path: `${path}&r=1` });
    const reached = suite.thief.seen.slice(before);
    t.diagnostic(`fetch(): ${JSON.stringify(fetched)}; request(): ${JSON.stringify(requested)}; the other origin saw ${JSON.stringify(reached)}`);
    assert.equal(fetched.resolved, undefined, `fetch() resolved with another origin's answer: ${JSON.stringify(fetched)}`);
    assert.equal(fetched.rejected?.code, "invalid_request", JSON.stringify(fetched));
    assert.match(fetched.rejected.message, /redirected to another origin/);
    assert.equal(requested.rejected?.code, "http", JSON.stringify(requested));
    assert.deepEqual(bearers(reached), [], "no Bearer token reached the other origin");
  });
}
