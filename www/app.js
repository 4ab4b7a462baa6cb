// The cedato-auth demo page: plain ES module, no framework. It uses the package's web
// build (wasm-bindgen's `web` target): `await init()` loads the wasm next to the glue.
import init, { CedatoAuth } from "./pkg/web.mjs";
import { toCsv } from "./csv.mjs";

/** What `make demo` serves as /config.json; these defaults fit `node tests/mock/server.mjs`. */
const DEFAULTS = {
  source: "mock",
  baseUrl: "http://127.0.0.1:8787/api/",
  clientId: "demo-client",
  clientSecret: "demo-secret",
  proxyUrl: "http://127.0.0.1:8788/",
  mockControl: true,
  expiresIn: null,
};
const REFRESH_SKEW_MS = 60_000; // the library's default refreshSkewSeconds
const REPORT_PATH = "reports/supplies/extended";
const MAX_PAGES = 100;
const MAX_LOG = 200;

const $ = (id) => document.getElementById(id);
const el = {
  source: $("source"),
  sourceText: $("source-text"),
  warning: $("warning"),
  proxyNote: $("proxy-note"),
  proxyUrl: $("proxy-url"),
  form: $("credentials"),
  fields: $("credential-fields"),
  baseUrl: $("base-url"),
  clientId: $("client-id"),
  clientSecret: $("client-secret"),
  showSecret: $("show-secret"),
  lifetimeField: $("lifetime-field"),
  lifetime: $("lifetime"),
  lifetimeHint: $("lifetime-hint"),
  getToken: $("get-token"),
  refresh: $("refresh"),
  clear: $("clear"),
  tokenState: $("token-state"),
  tokenMasked: $("token-masked"),
  tokenType: $("token-type"),
  tokenObtained: $("token-obtained"),
  tokenExpires: $("token-expires"),
  tokenRequests: $("token-requests"),
  bar: $("bar"),
  barUsed: $("bar-used"),
  barWindow: $("bar-window"),
  barNow: $("bar-now"),
  countdown: $("countdown"),
  windowSize: $("window-size"),
  windowInfo: $("window-info"),
  autoRefresh: $("auto-refresh"),
  libValid: $("lib-valid"),
  libExpires: $("lib-expires"),
  reportForm: $("report-form"),
  start: $("start"),
  end: $("end"),
  limit: $("limit"),
  loadReport: $("load-report"),
  downloadCsv: $("download-csv"),
  csvNote: $("csv-note"),
  summary: $("report-summary"),
  rows: $("report-rows"),
  totals: $("report-totals"),
  errors: $("errors"),
  errorCount: $("error-count"),
  clearErrors: $("clear-errors"),
  logRows: $("log-rows"),
  logCount: $("log-count"),
  clearLog: $("clear-log"),
  stats: document.querySelectorAll("[data-stat]"),
  events: $("events"),
  eventCount: $("event-count"),
  clearEvents: $("clear-events"),
};

const state = {
  config: DEFAULTS,
  mode: "direct",
  auth: null, // the CedatoAuth of the current credentials, made on first use
  lastTokenSentAt: null,
  token: null, // { masked, type, obtainedAt, expiresAt, lifetimeMs }
  autoTriedFor: null, // expiresAt of the token an automatic refresh was tried for
  errors: 0,
  log: 0,
  events: 0,
  report: null, // the loaded report: { rows, start, end, mode }, for Download CSV
};

// ---------------------------------------------------------------- formatting

const number = new Intl.NumberFormat("en-US");
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });
const clock = (ms) => new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
const clockMs = (ms) => `${clock(ms)}.${String(new Date(ms).getMilliseconds()).padStart(3, "0")}`;

/** 83000 -> "1:23", 3723000 -> "1:02:03". */
function duration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** 90000 -> "1 min 30 s", for screen readers and prose. */
function spoken(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return [m && `${m} min`, (s || !m) && `${s} s`].filter(Boolean).join(" ");
}

/** The first and last four characters only; short tokens show less. */
function mask(token) {
  const keep = Math.min(4, Math.floor(token.length / 4));
  return `${token.slice(0, keep)}${"•".repeat(8)}${token.slice(token.length - keep)}`;
}


function node(tag, { className, text, title } = {}, children = []) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  if (title) e.title = title;
  e.append(...children);
  return e;
}

/** An error of the page itself, shaped like a CedatoError (`code`, `status`, `message`). */
function pageError(code, status, message) {
  return Object.assign(new Error(message), { name: "DemoError", code, status });
}

// ---------------------------------------------------------------- errors and the request log

function reportError(where, err) {
  const code = err?.code ?? (err instanceof TypeError ? "network" : err?.name ?? "error");
  const status = err?.status;
  const item = node("li", {}, [
    node("div", { className: "error-head" }, [
      node("span", { className: "error-code", text: code }),
      node("span", { className: "error-status", text: status ? `HTTP ${status}` : "no HTTP status" }),
      node("span", { className: "error-where", text: `· ${where}` }),
      ...(err?.retryable ? [node("span", { className: "tag", text: "retryable" })] : []),
      node("span", { className: "error-time", text: clock(Date.now()) }),
    ]),
    node("p", { className: "error-message", text: err?.message || String(err) }),
  ]);
  item.dataset.code = code;
  el.errors.prepend(item);
  el.errorCount.textContent = String(++state.errors);
}

/** One event of the library (`onEvent`) as a line of text: its fields only, which never hold a secret. */
function describe(e) {
  const ms = (n) => `${Math.round(n)} ms`;
  const status = (s) => (s === undefined ? "" : ` ${s}`);
  const attempts = (n) => `${n} attempt${n === 1 ? "" : "s"}`;
  switch (e.type) {
    case "token":
      return `${e.source} ${attempts(e.attempts)} ${ms(e.ms)}, expires ${clock(e.expiresAt)}`;
    case "retry":
      return `#${e.attempt} ${e.code}${status(e.status)}, wait ${ms(e.waitMs)}${e.retryAfter === undefined ? "" : ` (Retry-After ${e.retryAfter} s)`}`;
    case "grace":
      return `${e.code}: the cached token served`;
    case "failure":
      return `${e.code}${status(e.status)} after ${attempts(e.attempts)} ${ms(e.ms)}`;
    case "api":
      return `${e.method} ${e.path} ${e.status} ${ms(e.ms)}${e.retried ? ", retried with a new token" : ""}${e.cooldown ? ", refused token kept (cool-down)" : ""}`;
    case "store":
      return `${e.op} ${e.outcome} ${ms(e.ms)}`;
    default:
      return Object.entries(e)
        .filter(([key]) => key !== "type")
        .map(([key, value]) => `${key} ${value}`)
        .join(", ");
  }
}

/** The `onEvent` option: the event in the activity log (newest first), then the counters. */
function logEvent(event) {
  const item = node("li", {}, [
    node("span", { className: "time", text: clockMs(Date.now()) }),
    node("span", { className: `tag ${event.type}`, text: event.type }),
    node("span", { className: "event-text", text: describe(event) }),
  ]);
  item.dataset.type = event.type;
  el.events.prepend(item);
  while (el.events.childElementCount > MAX_LOG) el.events.lastElementChild.remove();
  el.eventCount.textContent = String(++state.events);
  renderStats();
}

/** `auth.stats` of the current instance (all 0 before there is one); the token card shows tokenRequests. */
function renderStats() {
  const stats = state.auth?.stats;
  for (const dd of el.stats) dd.textContent = number.format(stats?.[dd.dataset.stat] ?? 0);
  el.tokenRequests.textContent = number.format(stats?.tokenRequests ?? 0);
}

/** Sends a request through `send()` and logs method, URL, status and time: never a header or body. */
async function logged(kind, method, url, send) {
  const started = performance.now();
  const u = new URL(url);
  const status = node("span", { className: "status pending", text: "…" });
  const ms = node("td", { className: "num", text: "" });
  const row = node("tr", {}, [
    node("td", { className: "time", text: clockMs(Date.now()) }),
    node("td", {}, [node("span", { className: "method", text: method })]),
    node("td", { className: "url", title: u.href }, [
      node("span", { className: `tag ${kind}`, text: kind }),
      node("span", { className: "host", text: u.host }),
      document.createTextNode(u.pathname + u.search),
    ]),
    node("td", { className: "num" }, [status]),
    ms,
  ]);
  row.dataset.kind = kind;
  el.logRows.prepend(row);
  while (el.logRows.childElementCount > MAX_LOG) el.logRows.lastElementChild.remove();
  el.logCount.textContent = String(++state.log);
  const done = (text, cls) => {
    status.textContent = text;
    status.className = `status ${cls}`;
    ms.textContent = String(Math.round(performance.now() - started));
  };
  try {
    const res = await send();
    done(String(res.status), `s${String(res.status)[0]}`);
    return res;
  } catch (err) {
    done(err?.name === "AbortError" ? "aborted" : "failed", "failed");
    throw err;
  }
}

// ---------------------------------------------------------------- the CedatoAuth instance

function credentials() {
  return { baseUrl: el.baseUrl.value.trim(), clientId: el.clientId.value.trim(), clientSecret: el.clientSecret.value };
}

/**
 * The CedatoAuth for the form's credentials. Its `fetch` option is a wrapper around the
 * global fetch that notes when a token request was sent and logs every request; its
 * `onEvent` option fills the activity log.
 */
function auth() {
  if (state.auth) return state.auth;
  const { baseUrl, clientId, clientSecret } = credentials();
  // The token URL as the library builds it ({baseUrl}token, baseUrl as it normalised it),
  // known once the constructor has checked the options; read by the fetch below.
  let tokenUrl;
  const instance = new CedatoAuth({
    baseUrl,
    clientId,
    clientSecret,
    fetch(input, init) {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
      const isToken = url === tokenUrl;
      if (isToken) state.lastTokenSentAt = Date.now();
      return logged(isToken ? "token" : "api", method, url, () => globalThis.fetch(input, init));
    },
    // Called synchronously by the library; the events of an instance already dropped are not shown.
    onEvent(event) {
      if (state.auth === instance) logEvent(event);
    },
  });
  tokenUrl = `${instance.toJSON().baseUrl}token`;
  state.auth = instance;
  renderStats();
  return instance;
}

/** Forgets the instance (the credentials changed); the next action makes a new one. */
function dropAuth() {
  if (state.auth) {
    state.auth.clear();
    state.auth.free();
    // The log keeps the old instance's events; the counters start again with the next one.
    if (el.events.childElementCount) {
      el.events.prepend(node("li", { className: "marker", text: "Credentials changed: the next CedatoAuth counts from 0" }));
    }
  }
  state.auth = null;
  state.token = null;
  state.autoTriedFor = null;
  renderToken();
  renderStats();
}

/** Shows `token` (just returned by the library) with the instance's expiry. */
async function showToken(instance, token) {
  const expiresAt = instance.expiresAt;
  const masked = mask(token);
  if (state.token && state.token.masked === masked && state.token.expiresAt === expiresAt) return;
  const header = await instance.getAuthorizationHeader();
  const sentAt = state.lastTokenSentAt ?? Date.now();
  // expiresAt = when the token request was sent + expires_in: the lifetime, to the second.
  const lifetimeMs = expiresAt === undefined ? 0 : Math.max(1000, Math.round((expiresAt - sentAt) / 1000) * 1000);
  state.token = {
    masked,
    type: header.split(" ")[0],
    expiresAt,
    lifetimeMs,
    obtainedAt: expiresAt === undefined ? sentAt : expiresAt - lifetimeMs,
  };
  renderToken();
}

/** After a call that may have fetched a token on its own (a refresh, a 401), show the current one. */
async function syncToken() {
  const instance = state.auth;
  if (!instance) return;
  const expiresAt = instance.expiresAt;
  if (expiresAt === state.token?.expiresAt) return;
  if (expiresAt === undefined) {
    state.token = null;
    renderToken();
  } else if (instance.hasValidToken) {
    await showToken(instance, await instance.getToken()); // served from memory: no request
  }
}

async function tokenAction(button, where, action) {
  button.setAttribute("aria-busy", "true");
  try {
    await action();
  } catch (err) {
    reportError(where, err);
  } finally {
    button.removeAttribute("aria-busy");
    await syncToken().catch(() => {});
    renderToken();
    renderStats();
  }
}

// ---------------------------------------------------------------- the token view

function setPhase(phase, label) {
  el.tokenState.dataset.phase = phase;
  el.tokenState.textContent = label;
  el.bar.dataset.phase = phase;
}

function renderToken() {
  renderLibrary();
  if (state.mode === "proxy") {
    setPhase("proxy", "In the worker");
  }
  const t = state.token;
  if (!t) {
    if (state.mode !== "proxy") setPhase("none", "No token");
    el.tokenMasked.textContent = "—";
    el.tokenType.textContent = "—";
    el.tokenObtained.textContent = "—";
    el.tokenExpires.textContent = "—";
    el.barUsed.style.width = "0%";
    el.barWindow.style.width = "0%";
    el.barNow.style.left = "0%";
    el.countdown.textContent = "—";
    el.windowSize.textContent = "";
    el.windowInfo.textContent = state.auth ? "No token cached." : "Get a token to see its lifetime.";
    el.bar.setAttribute("aria-valuenow", "0");
    el.bar.setAttribute("aria-valuetext", "No token");
    return;
  }
  el.tokenMasked.textContent = t.masked;
  el.tokenType.textContent = t.type;
  el.tokenObtained.textContent = clock(t.obtainedAt);
  if (t.expiresAt === undefined) {
    if (state.mode !== "proxy") setPhase("once", "Single use");
    el.tokenExpires.textContent = "not cached (expires_in 0)";
    el.countdown.textContent = "used once";
    el.windowInfo.textContent = "A token with expires_in 0 is used once and never cached.";
    return;
  }
  el.tokenExpires.textContent = `${clock(t.expiresAt)} (${spoken(t.lifetimeMs)} lifetime)`;
  tick();
}

/** What the library itself says: `hasValidToken` and `expiresAt`, read as the page would. */
function renderLibrary() {
  const instance = state.auth;
  el.libValid.textContent = instance ? String(instance.hasValidToken) : "(no CedatoAuth yet)";
  const at = instance?.expiresAt;
  el.libExpires.textContent = at === undefined ? "undefined" : `${at} (${clock(at)})`;
}

/** Moves the countdown; opens the refresh window; refreshes automatically once per token. */
function tick() {
  const t = state.token;
  if (!t || t.expiresAt === undefined) return;
  const now = Date.now();
  const life = t.lifetimeMs;
  const skew = Math.min(REFRESH_SKEW_MS, life / 2);
  const left = t.expiresAt - now;
  const used = Math.min(1, Math.max(0, (now - t.obtainedAt) / life));
  const phase = left <= 0 ? "expired" : left <= skew ? "window" : "fresh";
  if (state.mode !== "proxy") {
    setPhase(phase, { fresh: "Fresh", window: "Refresh window", expired: "Expired" }[phase]);
  }
  el.barUsed.style.width = `${(used * 100).toFixed(2)}%`;
  el.barNow.style.left = `${(used * 100).toFixed(2)}%`;
  el.barWindow.style.width = `${((skew / life) * 100).toFixed(2)}%`;
  el.windowSize.textContent = `(last ${spoken(skew)})`;
  el.countdown.textContent = left > 0 ? `${duration(left)} left` : `expired ${duration(-left)} ago`;
  el.windowInfo.textContent =
    phase === "fresh"
      ? `Served from memory; the refresh window opens in ${duration(left - skew)}.`
      : phase === "window"
        ? "In the refresh window: the next call fetches a new token (the old one still works until it expires)."
        : "Expired: the next call fetches a new token.";
  el.bar.setAttribute("aria-valuenow", String(Math.round(used * 100)));
  el.bar.setAttribute("aria-valuetext", left > 0 ? `${spoken(left)} left` : "expired");

  if (phase !== "fresh" && el.autoRefresh.checked && state.mode === "direct" && state.auth && state.autoTriedFor !== t.expiresAt) {
    state.autoTriedFor = t.expiresAt;
    const instance = state.auth;
    // Inside the window getToken() refreshes (and keeps the old token if that fails).
    tokenAction(el.refresh, "Automatic refresh", async () => showToken(instance, await instance.getToken()));
  }
}

// ---------------------------------------------------------------- the report

function appendRows(supplies) {
  const cells = (r) => [
    node("td", { className: "id", text: String(r.supply_id) }),
    node("td", { className: "name", text: String(r.supply_name) }),
    node("td", { className: "num", text: number.format(r.requests) }),
    node("td", { className: "num", text: number.format(r.impressions) }),
    node("td", { className: "num", text: percent.format(r.fill_rate) }),
    node("td", { className: "num", text: money.format(r.revenue) }),
    node("td", { className: "num", text: money.format(r.ecpm) }),
  ];
  el.rows.append(...supplies.map((r) => node("tr", {}, cells(r))));
}

function showTotals(rows) {
  const sum = (key) => rows.reduce((acc, r) => acc + (Number(r[key]) || 0), 0);
  const impressions = sum("impressions");
  const requests = sum("requests");
  const revenue = sum("revenue");
  el.totals.replaceChildren(
    node("tr", {}, [
      node("td", { text: "Total" }),
      node("td", { text: `${rows.length} supplies` }),
      node("td", { className: "num", text: number.format(requests) }),
      node("td", { className: "num", text: number.format(impressions) }),
      node("td", { className: "num", text: requests ? percent.format(impressions / requests) : "—" }),
      node("td", { className: "num", text: money.format(revenue) }),
      node("td", { className: "num", text: impressions ? money.format((revenue / impressions) * 1000) : "—" }),
    ]),
  );
}

/** A JSON body, or a page error shaped like a CedatoError. */
async function readJson(res, url) {
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw pageError("invalid_response", res.status, `GET ${new URL(url).pathname} answered HTTP ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const e = body?.error;
    if (e && typeof e === "object") throw Object.assign(pageError(e.code ?? "http", e.status ?? res.status, e.message ?? `HTTP ${res.status}`), { retryable: e.retryable });
    throw pageError("http", res.status, `GET ${new URL(url).pathname} answered HTTP ${res.status}`);
  }
  return body;
}

/** Direct mode: every page through auth.request(). */
function directPages(query) {
  const instance = auth();
  return {
    first: () => instance.request(REPORT_PATH, { query }),
    // `next` is an absolute URL on baseUrl's origin: auth.request() sends the token there
    // (and refuses any other origin).
    next: (next) => instance.request(next),
    via: "cedato-auth in this page",
  };
}

/** Proxy mode: plain fetch to the worker, no credential; the worker rewrites `next` to itself. */
function proxyPages(query) {
  const proxy = new URL(state.config.proxyUrl);
  const get = async (url) => {
    if (new URL(url).origin !== proxy.origin) {
      throw pageError("invalid_request", undefined, `not following a link outside the proxy: ${new URL(url).origin}`);
    }
    const res = await logged("proxy", "GET", url, () => fetch(url, { headers: { accept: "application/json" } }));
    return readJson(res, url);
  };
  return {
    first: () => get(new URL(`api/${REPORT_PATH}?${new URLSearchParams(query)}`, proxy).href),
    next: get,
    via: `the worker proxy (${proxy.host})`,
  };
}

async function loadReport() {
  const query = { start: el.start.value, end: el.end.value, limit: el.limit.value };
  state.report = null;
  el.downloadCsv.disabled = true;
  const source = state.mode === "proxy" ? proxyPages(query) : directPages(query);
  const started = performance.now();
  const rows = [];
  let pages = 0;
  el.rows.replaceChildren();
  el.totals.replaceChildren();
  el.summary.dataset.state = "loading";
  el.summary.textContent = "Loading the first page…";
  el.loadReport.setAttribute("aria-busy", "true");
  el.loadReport.disabled = true;
  try {
    let page = await source.first();
    for (;;) {
      const supplies = page?.data?.supplies;
      if (!Array.isArray(supplies)) throw pageError("invalid_response", undefined, "the answer has no data.supplies list");
      pages += 1;
      rows.push(...supplies);
      appendRows(supplies);
      const total = page.data.navigation?.total ?? rows.length;
      const next = page.data.navigation?.next;
      el.summary.textContent = `${rows.length} of ${total} rows, page ${pages}${next ? "; loading the next page…" : ""}`;
      if (!next) break;
      if (pages >= MAX_PAGES) throw pageError("invalid_response", undefined, `stopped after ${MAX_PAGES} pages`);
      page = await source.next(next);
    }
    showTotals(rows);
    state.report = { rows, start: query.start, end: query.end, mode: state.mode };
    el.downloadCsv.disabled = false;
    delete el.csvNote.dataset.state;
    el.csvNote.textContent = `Download CSV saves these ${rows.length} rows as supplies-${query.start}-${query.end}.csv.`;
    const ms = Math.round(performance.now() - started);
    el.summary.dataset.state = "done";
    el.summary.replaceChildren(
      node("strong", { text: `${rows.length} rows` }),
      document.createTextNode(` in ${pages} page${pages === 1 ? "" : "s"}, ${ms} ms, through ${source.via}.`),
    );
  } catch (err) {
    el.summary.dataset.state = "failed";
    el.summary.textContent = `Failed after ${pages} page${pages === 1 ? "" : "s"}: ${err?.code ?? "error"}. See Errors.`;
    reportError("Call the API", err);
  } finally {
    el.loadReport.removeAttribute("aria-busy");
    el.loadReport.disabled = false;
    await syncToken().catch(() => {});
    renderStats();
  }
}

// ---------------------------------------------------------------- the report as CSV

/**
 * The loaded report as a CSV file. The mock serves reports as CSV (`format=csv`): then the
 * file comes through the library as text (`responseType: "text"`), the same range in one
 * answer. Otherwise (the real API, whose CSV parameter this page does not assume, or the
 * worker proxy) it is built from the JSON rows in the table.
 */
async function downloadCsv() {
  const report = state.report;
  if (!report) return;
  const asText = report.mode === "direct" && state.config.source === "mock";
  el.downloadCsv.disabled = true;
  el.downloadCsv.setAttribute("aria-busy", "true");
  try {
    const csv = asText
      ? await auth().request(REPORT_PATH, { query: { start: report.start, end: report.end, format: "csv" }, responseType: "text" })
      : toCsv(report.rows);
    const name = `supplies-${report.start}-${report.end}.csv`;
    const link = node("a");
    link.href = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    const lines = csv.split(/\r?\n/).filter(Boolean).length - 1;
    el.csvNote.dataset.state = "done";
    el.csvNote.textContent = `${name}: ${lines} rows, ${asText ? "as CSV from the API (responseType: \"text\")" : "built from the table's JSON rows"}.`;
  } catch (err) {
    el.csvNote.dataset.state = "failed";
    el.csvNote.textContent = `Download failed: ${err?.code ?? "error"}. See Errors.`;
    reportError("Download CSV", err);
  } finally {
    el.downloadCsv.removeAttribute("aria-busy");
    el.downloadCsv.disabled = !state.report;
    renderStats();
  }
}

// ---------------------------------------------------------------- mode, mock lifetime, wiring

function setMode(mode) {
  state.mode = mode;
  document.body.dataset.mode = mode;
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.checked = radio.value === mode;
  const proxy = mode === "proxy";
  el.warning.hidden = proxy;
  el.proxyNote.hidden = !proxy;
  el.fields.disabled = proxy;
  for (const b of [el.getToken, el.refresh, el.clear, el.autoRefresh]) b.disabled = proxy;
  renderToken();
}

async function setMockLifetime() {
  const seconds = Number(el.lifetime.value);
  const { baseUrl, clientId } = credentials();
  const url = new URL(`/__mock/clients/${encodeURIComponent(clientId)}/config`, baseUrl).href;
  try {
    const res = await logged("mock", "POST", url, () =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ expiresIn: seconds }) }),
    );
    if (!res.ok) throw pageError("http", res.status, `the mock refused the lifetime (HTTP ${res.status})`);
    el.lifetimeHint.textContent = `The mock now issues ${spoken(seconds * 1000)} tokens to ${clientId}; applies to the next token.`;
  } catch (err) {
    reportError("Token lifetime", err);
  }
}

function wire() {
  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    tokenAction(el.getToken, "Get token", async () => {
      const instance = auth();
      await showToken(instance, await instance.getToken());
    });
  });
  el.refresh.addEventListener("click", () =>
    tokenAction(el.refresh, "Refresh", async () => {
      const instance = auth();
      await showToken(instance, await instance.refresh());
    }),
  );
  el.clear.addEventListener("click", () => {
    state.auth?.clear();
    state.token = null;
    state.autoTriedFor = null;
    renderToken();
    renderStats();
  });
  for (const input of [el.baseUrl, el.clientId, el.clientSecret]) input.addEventListener("input", dropAuth);
  el.showSecret.addEventListener("click", () => {
    const show = el.clientSecret.type === "password";
    el.clientSecret.type = show ? "text" : "password";
    el.showSecret.textContent = show ? "Hide" : "Show";
    el.showSecret.setAttribute("aria-pressed", String(show));
  });
  el.lifetime.addEventListener("change", setMockLifetime);
  el.reportForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (el.reportForm.reportValidity()) loadReport();
  });
  el.downloadCsv.addEventListener("click", downloadCsv);
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => radio.checked && setMode(radio.value));
  }
  for (const link of document.querySelectorAll("[data-switch]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      setMode(link.dataset.switch);
      document.querySelector(`input[name="mode"][value="${link.dataset.switch}"]`).focus();
    });
  }
  el.clearErrors.addEventListener("click", () => {
    el.errors.replaceChildren();
    el.errorCount.textContent = String((state.errors = 0));
  });
  el.clearLog.addEventListener("click", () => {
    el.logRows.replaceChildren();
    el.logCount.textContent = String((state.log = 0));
  });
  el.clearEvents.addEventListener("click", () => {
    el.events.replaceChildren();
    el.eventCount.textContent = String((state.events = 0));
  });
  // Ten times a second: the bar moves smoothly even for a token of a few seconds.
  setInterval(() => {
    tick();
    renderLibrary();
  }, 100);
}

async function loadConfig() {
  try {
    const res = await fetch("./config.json", { cache: "no-store" });
    return res.ok ? await res.json() : {};
  } catch {
    return {}; // served by another static server: the defaults fit a local mock
  }
}

async function main() {
  wire();
  const config = { ...DEFAULTS, ...(await loadConfig()) };
  state.config = config;
  el.baseUrl.value = config.baseUrl;
  el.clientId.value = config.clientId;
  el.clientSecret.value = config.clientSecret;
  if (!config.clientSecret) el.clientSecret.placeholder = "not in the page: paste it, or use the proxy";
  el.proxyUrl.textContent = config.proxyUrl ?? "(not running)";
  if (!config.proxyUrl) document.querySelector('input[name="mode"][value="proxy"]').disabled = true;
  el.lifetimeField.hidden = !config.mockControl;
  if (config.expiresIn) el.lifetime.value = String(config.expiresIn);
  const host = new URL(config.baseUrl).host;
  el.sourceText.textContent = config.source === "mock" ? `Local mock Cedato server · ${host}` : `Cedato API · ${host}`;
  // Without the secret in the page, the worker is the way in.
  setMode(config.source !== "mock" && !config.clientSecret && config.proxyUrl ? "proxy" : "direct");
  try {
    await init();
    el.source.dataset.state = "ready";
    document.body.dataset.ready = "true";
  } catch (err) {
    el.source.dataset.state = "failed";
    reportError("Loading the wasm module", Object.assign(err, { code: err.code ?? "wasm_load" }));
  }
}

main();
