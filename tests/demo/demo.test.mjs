// The demo page (www/) in headless Chromium, served exactly as `make demo` serves it
// (tools/demo.mjs start(): the mock Cedato server, the worker proxy in workerd, the page).
// One page goes through the story in order; each state is saved as a screenshot in
// test-output/screenshots/.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, start } from "../../tools/demo.mjs";
import { startMockServer } from "../mock/server.mjs";
import { launchChromium } from "../support/chromium.mjs";

const SHOTS = join(ROOT, "test-output", "screenshots");
/** A whole access token as the mock issues them: it must never be in the page. */
const FULL_TOKEN = /ct_[0-9a-f]{40}/;

let demo;
let browser;
let page;
const problems = [];
const requests = [];

async function openPage(url, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, colorScheme: "light", deviceScaleFactor: 1 });
  const p = await context.newPage();
  p.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  p.on("console", (m) => {
    // Chromium reports every non-2xx answer as "Failed to load resource"; those are expected here.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  p.on("request", (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers() }));
  await p.goto(url);
  await p.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  return p;
}

const shot = (name, options = {}) => page.screenshot({ path: join(SHOTS, name), fullPage: true, ...options });
const text = async (selector) => (await page.locator(selector).innerText()).replace(/\s+/g, " ").trim();
const tokenCount = async () => Number(await text("#token-requests"));
/** The counters of the Activity card (`auth.stats` as the page shows it). */
const shownStats = () =>
  page.evaluate(() => Object.fromEntries([...document.querySelectorAll("[data-stat]")].map((dd) => [dd.dataset.stat, Number(dd.textContent)])));
/** The text of the Activity log's entries of one type, newest first. */
const eventTexts = (type) => page.locator(`#events li[data-type="${type}"] .event-text`).allTextContents();
const mockTokenRequests = () => demo.mock.client("demo-client").stats().tokenRequests;

/** Waits until the report is loaded (or has failed). */
const waitForReport = (p, state = "done") =>
  p.waitForFunction((s) => document.querySelector("#report-summary").dataset.state === s, state, { timeout: 15_000 });

async function assertNoFullToken() {
  assert.doesNotMatch(await page.content(), FULL_TOKEN, "a whole token in the page");
}

// Each is assigned as soon as it is up, so that `after` stops whatever started even when
// the other failed.
let starting;

before(
  async () => {
    await mkdir(SHOTS, { recursive: true });
    starting = Promise.allSettled([
      start({ outdir: join(ROOT, "test-output", "demo") }).then((d) => (demo = d)),
      launchChromium().then((b) => (browser = b)),
    ]);
    for (const result of await starting) if (result.status === "rejected") throw result.reason;
    page = await openPage(demo.pageUrl);
  },
  { timeout: 120_000 },
);

after(async () => {
  await starting;
  await browser?.close().catch(() => {});
  await demo?.stop();
});

/** Every test is bounded: a hung page or server fails the test instead of the run. */
const BOUNDED = { timeout: 60_000 };

test("the page loads prefilled for the local mock, with the warning about secrets", BOUNDED, async () => {
  assert.equal(await page.getByLabel("Base URL").inputValue(), demo.baseUrl);
  assert.equal(await page.getByLabel("Client id").inputValue(), "demo-client");
  assert.equal(await page.getByLabel("Client secret").inputValue(), "demo-secret");
  assert.equal(await page.getByRole("combobox", { name: /Token lifetime/ }).inputValue(), "120");
  assert.match(await text("#warning"), /readable by anyone who can open the page/);
  assert.match(await text("#warning"), /worker proxy/);
  assert.equal(await text("#token-state"), "No token");
  // Every control has a label (a screen reader and getByLabel find it).
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")].filter((e) => e.labels.length === 0).map((e) => e.id || e.name),
  );
  assert.deepEqual(unlabelled, []);
  await shot("01-loaded.png");
});

test("Get token: the masked token, its type, times, and a countdown that moves", BOUNDED, async () => {
  await page.getByRole("button", { name: "Get token" }).click();
  await page.waitForFunction(() => document.querySelector("#token-state").textContent === "Fresh");
  assert.match(await text("#token-masked"), /^ct_.•{8}[0-9a-f]{4}$/);
  assert.equal(await text("#token-type"), "Bearer");
  assert.match(await text("#token-obtained"), /^\d\d:\d\d:\d\d$/);
  assert.match(await text("#token-expires"), /^\d\d:\d\d:\d\d \(2 min lifetime\)$/);
  assert.match(await text(".legend-window"), /refresh window \(last 1 min\)/);
  assert.equal(await tokenCount(), 1);
  assert.equal(mockTokenRequests(), 1);

  const before = { countdown: await text("#countdown"), used: Number(await page.locator("#bar").getAttribute("aria-valuenow")) };
  const width = () => page.locator("#bar-used").evaluate((e) => e.getBoundingClientRect().width);
  const widthBefore = await width();
  await page.waitForTimeout(2200);
  const countdown = await text("#countdown");
  assert.match(countdown, /^1:5\d left$/);
  assert.notEqual(countdown, before.countdown, "the countdown moved");
  assert.ok((await width()) > widthBefore, "the bar grew");
  assert.ok(Number(await page.locator("#bar").getAttribute("aria-valuenow")) >= before.used);
  // Get token again: served from memory, no new request.
  await page.getByRole("button", { name: "Get token" }).click();
  await page.waitForTimeout(200);
  assert.equal(await tokenCount(), 1);
  await assertNoFullToken();
  await shot("02-token.png");
});

test("the refresh window opens at min(60 s, lifetime / 2) before expiry and a new token comes", BOUNDED, async () => {
  // A 6 s token: its refresh window is its last 3 s.
  demo.mock.client("demo-client").configure({ expiresIn: 6 });
  await page.getByLabel(/Refresh automatically/).uncheck();
  await page.getByRole("button", { name: "Refresh" }).click();
  await page.waitForFunction(() => /6 s lifetime/.test(document.querySelector("#token-expires").textContent));
  assert.equal(await tokenCount(), 2);
  assert.match(await text(".legend-window"), /last 3 s/);
  const windowShare = await page.locator("#bar-window").evaluate((e) => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width);
  assert.ok(Math.abs(windowShare - 0.5) < 0.02, `the window is half the bar (${windowShare})`);
  await page.waitForFunction(() => document.querySelector("#token-state").textContent === "Refresh window", null, { timeout: 6000 });
  assert.match(await text("#window-info"), /next call fetches a new token/);
  await shot("03-refresh-window.png");
  // Automatic refresh: one token request when the window is open.
  demo.mock.client("demo-client").configure({ expiresIn: 120 });
  await page.getByLabel(/Refresh automatically/).check();
  await page.waitForFunction(() => document.querySelector("#token-state").textContent === "Fresh", null, { timeout: 5000 });
  assert.equal(await tokenCount(), 3);
  assert.equal(mockTokenRequests(), 3);
  assert.match(await text("#token-expires"), /2 min lifetime/);
  // The lifetime selector configures the mock through its control endpoint.
  await page.getByRole("combobox", { name: /Token lifetime/ }).selectOption("600");
  await page.waitForFunction(() => /10 min tokens/.test(document.querySelector("#lifetime-hint").textContent));
  await page.getByRole("button", { name: "Refresh" }).click();
  await page.waitForFunction(() => /10 min lifetime/.test(document.querySelector("#token-expires").textContent));
  assert.equal(await tokenCount(), 4);
});

test("Call the API: every page of the supplies report, as a table", BOUNDED, async () => {
  await page.getByLabel("Rows per page").fill("20");
  await page.getByRole("button", { name: "Load report" }).click();
  await waitForReport(page);
  assert.match(await text("#report-summary"), /^57 rows in 3 pages, \d+ ms, through cedato-auth in this page\.$/);
  assert.equal(await page.locator("#report-rows tr").count(), 57);
  assert.equal(await page.locator("#report-rows tr").first().locator("td").first().innerText(), "3001");
  assert.equal(await page.locator("#report-rows tr").last().locator("td").first().innerText(), "3057");
  assert.match(await text("#report-totals"), /Total\s+57 supplies/);
  // The request log: three report pages with their status, the token cached (no new request).
  const reportCalls = await page.locator('#log-rows tr[data-kind="api"]').allInnerTexts();
  assert.equal(reportCalls.length, 3, reportCalls.join("\n"));
  for (const row of reportCalls) assert.match(row, /GET\s+api.*reports\/supplies\/extended.*\s200\s/is);
  assert.equal(await tokenCount(), 4);
  assert.equal(demo.mock.client("demo-client").stats().apiRequests, 3);
  await assertNoFullToken();
  await shot("04-report.png");
});

test("Activity: auth.stats and the library's events, newest first, with no secret or token", BOUNDED, async () => {
  const stats = await shownStats();
  assert.deepEqual(Object.keys(stats), ["tokenRequests", "storeHits", "cacheHits", "retries", "failures", "graceServed", "apiCalls", "apiRetries"]);
  assert.equal(stats.tokenRequests, 4, "the four tokens so far, one instance");
  assert.equal(stats.tokenRequests, await tokenCount(), "the token card shows the same count");
  assert.equal(stats.apiCalls, 3);
  assert.equal(stats.failures, 0);
  assert.ok(stats.cacheHits >= 1, "the report's pages took the cached token");
  // The library's own view agrees with what the page shows.
  assert.equal(await page.evaluate(() => document.querySelector("[data-stat=apiCalls]").textContent), "3");
  const tokens = await eventTexts("token");
  assert.equal(tokens.length, 4, tokens.join("\n"));
  for (const t of tokens) assert.match(t, /^endpoint 1 attempt \d+ ms, expires \d\d:\d\d:\d\d$/);
  const apis = await eventTexts("api");
  assert.equal(apis.length, 3, apis.join("\n"));
  for (const a of apis) assert.match(a, /^GET \/api\/reports\/supplies\/extended 200 \d+ ms$/);
  // Newest first: the last report page is the first entry; each entry has its time and type.
  assert.match(await page.locator("#events li").first().innerText(), /^\d\d:\d\d:\d\d\.\d{3}\s+api\s+GET /i);
  assert.equal(Number(await text("#event-count")), 7);
  const log = await page.locator("#events").innerText();
  assert.doesNotMatch(log, /demo-secret|Basic |Bearer |ct_[0-9a-f]{8}|start=|limit=/);
  assert.equal(await page.locator("#events").getAttribute("role"), "log");
  assert.equal(await page.locator("#events").getAttribute("aria-live"), "polite");
  await page.locator("#activity-card").screenshot({ path: join(SHOTS, "04b-activity.png") });
  // Clear empties the log; the counters are the library's and stay.
  await page.getByRole("button", { name: "Clear the activity log" }).click();
  assert.equal(await page.locator("#events li").count(), 0);
  assert.equal(await text("#event-count"), "0");
  assert.equal(await text("#events-empty"), "No events yet.");
  assert.equal((await shownStats()).apiCalls, 3);
});

/** The report table's rows, cell texts. */
const tableRows = () => page.locator("#report-rows tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));

/** Clicks Download CSV; resolves the downloaded file's name and text. */
async function downloadCsv() {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  return { name: download.suggestedFilename(), csv: await readFile(await download.path(), "utf8") };
}

/** Asserts that the CSV's rows are the table's, cell by cell (formatted as the page formats them). */
function assertCsvMatchesTable(csv, table) {
  const lines = csv.split("\r\n");
  assert.equal(lines.at(-1), "", "CRLF after every line");
  const [header, ...rows] = lines.slice(0, -1).map((line) => line.split(","));
  assert.deepEqual(header, ["supply_id", "supply_name", "impressions", "requests", "fill_rate", "revenue", "ecpm"]);
  assert.equal(rows.length, table.length);
  const number = new Intl.NumberFormat("en-US");
  const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });
  rows.forEach(([id, name, impressions, requests, fillRate, revenue, ecpm], i) => {
    const shown = [id, name, number.format(requests), number.format(impressions), percent.format(fillRate), money.format(revenue), money.format(ecpm)];
    assert.deepEqual(shown, table[i], `row ${i + 1}`);
  });
}

let directCsv; // the CSV the mock served, compared with the one built in proxy mode

test("Download CSV: the report through the library as text (format=csv), the table's rows", BOUNDED, async () => {
  const from = requests.length;
  const apiBefore = demo.mock.client("demo-client").stats().apiRequests;
  const { name, csv } = await downloadCsv();
  assert.equal(name, "supplies-2024-01-01-2024-01-07.csv");
  assertCsvMatchesTable(csv, await tableRows());
  assert.equal((await tableRows()).length, 57);
  // One call, for the whole range as CSV, through the library (the token is cached).
  const calls = requests.slice(from).filter((r) => new URL(r.url).pathname.endsWith("/reports/supplies/extended"));
  assert.equal(calls.length, 1, JSON.stringify(calls.map((r) => r.url)));
  assert.equal(new URL(calls[0].url).searchParams.get("format"), "csv");
  assert.match(calls[0].headers.authorization ?? "", /^Bearer /);
  assert.equal(demo.mock.client("demo-client").stats().apiRequests, apiBefore + 1);
  assert.match(await text("#csv-note"), /^supplies-2024-01-01-2024-01-07\.csv: 57 rows, as CSV from the API \(responseType: "text"\)\.$/);
  directCsv = csv;
  await assertNoFullToken();
});

test("keyboard only: Tab through the credentials, Enter gets a token", BOUNDED, async () => {
  await page.getByRole("button", { name: "Clear", exact: true }).click();
  assert.equal(await text("#token-state"), "No token");
  await page.getByLabel("Client id").focus();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "client-secret");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "show-secret");
  await page.keyboard.press("Enter");
  assert.equal(await page.getByLabel("Client secret").getAttribute("type"), "text");
  assert.equal(await page.locator("#show-secret").getAttribute("aria-pressed"), "true");
  await page.keyboard.press("Enter");
  assert.equal(await page.getByLabel("Client secret").getAttribute("type"), "password");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "lifetime");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "get-token");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("#token-state").textContent === "Fresh");
  assert.equal(await tokenCount(), 5);
});

test("a wrong secret: token_rejected with status 401 in the error panel, the secret nowhere", BOUNDED, async () => {
  await page.getByLabel("Client secret").fill("not-the-demo-secret");
  await page.getByRole("button", { name: "Get token" }).click();
  const error = page.locator('#errors li[data-code="token_rejected"]').first();
  await error.waitFor();
  const shown = await error.innerText();
  assert.match(shown, /token_rejected/);
  assert.match(shown, /HTTP 401/);
  assert.match(shown, /Get token/);
  assert.doesNotMatch(await page.locator("#errors").innerText(), /not-the-demo-secret/);
  assert.doesNotMatch(await page.locator("#log").innerText(), /not-the-demo-secret|demo-secret/);
  assert.equal(await text("#token-state"), "No token", "the new credentials have no token");
  // New credentials, a new CedatoAuth: its counters start again.
  assert.equal(await tokenCount(), 1);
  assert.equal(mockTokenRequests(), 6);
  const stats = await shownStats();
  assert.equal(stats.tokenRequests, 1);
  assert.equal(stats.failures, 1);
  assert.equal(stats.apiCalls, 0);
  const [failure] = await eventTexts("failure");
  assert.match(failure, /^token_rejected 401 after 1 attempt \d+ ms$/);
  assert.equal(await page.locator("#events li.marker").first().innerText(), "Credentials changed: the next CedatoAuth counts from 0");
  assert.doesNotMatch(await page.locator("#activity-card").innerText(), /not-the-demo-secret|demo-secret/);
  const tokenRow = await page.locator('#log-rows tr[data-kind="token"]').first().innerText();
  assert.match(tokenRow, /POST\s+token.*\/api\/token\s+401/is);
  await shot("05-token-rejected.png");
  await page.getByLabel("Client secret").fill("demo-secret");
});

test("a 503 from the token endpoint: a retry entry, then the token after 2 attempts", BOUNDED, async () => {
  demo.mock.client("demo-client").tokenScript([{ status: 503 }]);
  await page.getByRole("button", { name: "Get token" }).click();
  await page.waitForFunction(() => document.querySelector("#token-state").textContent === "Fresh");
  const [retry] = await eventTexts("retry");
  assert.match(retry, /^#1 server_error 503, wait \d+ ms/);
  const [token] = await eventTexts("token");
  assert.match(token, /^endpoint 2 attempts \d+ ms, expires /);
  const stats = await shownStats();
  assert.equal(stats.retries, 1);
  assert.equal(stats.tokenRequests, 2);
  assert.equal(await tokenCount(), 2);
});

test("worker proxy mode: the report comes back through the worker, no credential leaves the page", BOUNDED, async () => {
  const proxy = new URL(demo.proxyUrl);
  const from = requests.length;
  const tokenRequestsBefore = demo.mock.stats().tokenRequests;
  await page.getByRole("radio", { name: /Worker proxy/ }).check();
  assert.equal(await page.locator("#warning").isVisible(), false);
  assert.equal(await page.locator("#proxy-note").isVisible(), true);
  assert.equal(await page.getByLabel("Client secret").isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: "Get token" }).isDisabled(), true);
  assert.equal(await text("#token-state"), "In the worker");
  assert.match(await text("#activity-card .proxy-only"), /library runs in the worker/);
  assert.equal(await page.locator("#activity-card .direct-only").isVisible(), false);

  await page.getByRole("button", { name: "Load report" }).click();
  await waitForReport(page);
  assert.match(await text("#report-summary"), /57 rows in 3 pages, \d+ ms, through the worker proxy/);
  assert.equal(await page.locator("#report-rows tr").count(), 57);
  const sent = requests.slice(from);
  const toProxy = sent.filter((r) => new URL(r.url).origin === proxy.origin);
  assert.equal(toProxy.length, 3, JSON.stringify(sent.map((r) => r.url)));
  for (const r of toProxy) {
    assert.equal(r.method, "GET");
    assert.ok(new URL(r.url).pathname.startsWith("/api/reports/supplies/extended"), r.url);
    assert.equal(r.headers.authorization, undefined, "no Authorization header from the page");
  }
  assert.deepEqual(sent.filter((r) => new URL(r.url).origin === new URL(demo.baseUrl).origin), [], "nothing sent to Cedato directly");
  // The worker got its own token once (demo-client, shared by its requests).
  assert.equal(demo.mock.stats().tokenRequests, tokenRequestsBefore + 1);
  const proxyRows = await page.locator('#log-rows tr[data-kind="proxy"]').allInnerTexts();
  assert.equal(proxyRows.length, 3);
  await assertNoFullToken();
  await shot("06-proxy.png");
});

test("worker proxy mode: Download CSV builds the file from the table's JSON rows, the same file", BOUNDED, async () => {
  const from = requests.length;
  const { name, csv } = await downloadCsv();
  assert.equal(name, "supplies-2024-01-01-2024-01-07.csv");
  assertCsvMatchesTable(csv, await tableRows());
  assert.equal(csv, directCsv, "the mock's CSV and the one built from the JSON rows are the same");
  assert.deepEqual(requests.slice(from).map((r) => r.url).filter((url) => !url.startsWith("blob:")), [], "nothing sent");
  assert.match(await text("#csv-note"), /57 rows, built from the table's JSON rows\.$/);
});

test("worker proxy mode: errors of the worker show code, status and message", BOUNDED, async () => {
  demo.mock.client("demo-client").apiScript([{ status: 503, body: { error: "maintenance" } }]);
  await page.getByRole("button", { name: "Load report" }).click();
  await waitForReport(page, "failed");
  const first = await page.locator("#errors li").first().innerText();
  assert.match(first, /http/);
  assert.match(first, /HTTP 503/);
  assert.match(first, /Call the API/);
  await page.getByRole("radio", { name: /Direct/ }).check();
  assert.equal(await page.locator("#warning").isVisible(), true);
});

test("a narrow screen: one column, nothing wider than the screen", BOUNDED, async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  await shot("07-narrow.png");
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(problems, []);
});

test("make demo with CEDATO_* set: no mock, no secret in the page, the worker holds the credentials", BOUNDED, async () => {
  const cedato = await startMockServer({ port: 0 }); // stands in for the real API
  const other = await start({
    outdir: join(ROOT, "test-output", "demo-real"),
    env: { CEDATO_BASE_URL: cedato.baseUrl, CEDATO_CLIENT_ID: "t-demo-real", CEDATO_CLIENT_SECRET: "t-demo-real-secret" },
  });
  const realPage = await openPage(other.pageUrl);
  try {
    assert.equal(other.real, true);
    assert.equal(other.mock, null);
    const config = await (await fetch(new URL("config.json", other.pageUrl))).json();
    assert.equal(config.source, "cedato");
    assert.equal(config.clientId, "t-demo-real");
    assert.equal(config.clientSecret, "");
    assert.equal(config.mockControl, false);
    const html = await realPage.content();
    assert.ok(!html.includes("t-demo-real-secret"));
    assert.equal(await realPage.getByRole("radio", { name: /Worker proxy/ }).isChecked(), true);
    assert.equal(await realPage.locator("#lifetime-field").isVisible(), false);
    assert.match(await realPage.locator("#source-text").innerText(), /^Cedato API/);
    await realPage.getByRole("button", { name: "Load report" }).click();
    await waitForReport(realPage);
    assert.match(await realPage.locator("#report-summary").innerText(), /^57 rows in 3 pages/);
    assert.equal(cedato.client("t-demo-real").stats().tokenRequests, 1);
    await realPage.screenshot({ path: join(SHOTS, "08-cedato-env.png"), fullPage: false });
  } finally {
    await realPage.context().close();
    await other.stop();
    await cedato.close();
  }
});

test("node tools/demo.mjs prints the URLs, serves, and Ctrl-C stops everything", BOUNDED, async () => {
  const child = spawn(process.execPath, [join(ROOT, "tools", "demo.mjs")], {
    cwd: ROOT,
    env: { ...process.env, DEMO_PORT: "0", DEMO_MOCK_PORT: "0", DEMO_PROXY_PORT: "0", CEDATO_BASE_URL: "", CEDATO_CLIENT_ID: "", CEDATO_CLIENT_SECRET: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  try {
    const deadline = Date.now() + 30_000;
    while (!out.includes("Ctrl-C stops everything")) {
      assert.ok(Date.now() < deadline, `no start-up message:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = (name) => new RegExp(`${name}\\s+(http://127\\.0\\.0\\.1:\\d+/\\S*)`).exec(out)?.[1];
    const [pageUrl, proxyUrl, mockUrl] = [url("page"), url("worker proxy"), url("mock Cedato")];
    assert.ok(pageUrl && proxyUrl && mockUrl, out);
    assert.equal((await fetch(pageUrl)).status, 200);
    const report = await fetch(new URL("api/reports/supplies/extended?limit=1", proxyUrl), { headers: { origin: pageUrl.slice(0, -1) } });
    assert.equal(report.status, 200);
    child.kill("SIGINT");
    const { code } = await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`no exit:\n${out}`)), 15_000))]);
    assert.equal(code, 0, out);
    assert.match(out, /stopped\./);
    for (const u of [pageUrl, proxyUrl, mockUrl]) {
      await assert.rejects(fetch(u, { signal: AbortSignal.timeout(3000) }), undefined, `${u} still answers`);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});
