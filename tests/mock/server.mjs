// Mock of the Cedato Platform API for tests, the demo and the benchmarks.
// The contract lives in ./README.md; zero npm dependencies, Node >= 20.
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
// The demo page writes its CSV with the same function (www/csv.mjs).
import { toCsv } from "../../www/csv.mjs";

// Captured at load time so test suites that install fake timers (which replace these
// globals) can neither freeze the mock's delays nor shift its token expiry clock.
const realNow = Date.now.bind(Date);
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

const DEFAULT_EXPIRES_IN = 3600;
const JSON_TYPE = "application/json; charset=utf-8";
const CSV_TYPE = "text/csv; charset=utf-8";
const DEFAULT_ALLOWED_HEADERS = ["Authorization", "Content-Type", "api-version", "accept"];

// ---------------------------------------------------------------- sample data

const SECTIONS = ["Homepage", "Article", "Sports", "News", "Video Hub", "Mobile Web", "Gallery",
  "Recipes", "Travel", "Finance"];
const FORMATS = ["Outstream 640x360", "Instream Preroll 1920x1080", "Inline 300x250",
  "Sticky 320x180", "Interstitial 480x270", "In-Banner 300x600"];
const PARTNERS = ["Google AdX", "SpotX", "Magnite", "PubMatic", "Index Exchange", "OpenX", "Xandr",
  "FreeWheel", "TripleLift", "Sovrn", "Smaato"];
const DEAL_TYPES = ["Open Auction", "Preferred Deal", "PMP"];
const SUPPLY_COUNT = 57;
const DEMAND_COUNT = PARTNERS.length * DEAL_TYPES.length; // 33

/** Deterministic number in [0, 1) from a string (FNV-1a), so rows never change between runs. */
function unit(seed) {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}
const round = (n, digits) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Volume and price of one row: stable per entity, varied and scaled by the date range. */
function traffic(kind, i, range) {
  const daily = 20000 + Math.floor(unit(`${kind}:${i}:daily`) * 180000);
  const swing = 0.85 + 0.3 * unit(`${kind}:${i}:${range.start}:${range.end}`);
  const ecpm = round(1.5 + 10 * unit(`${kind}:${i}:ecpm:${range.start}:${range.end}`), 2);
  return { volume: Math.round(daily * range.days * swing), ecpm };
}

function supplyRow(i, range) {
  const { volume: requests, ecpm } = traffic("supply", i, range);
  const fill_rate = round(0.35 + 0.6 * unit(`supply:${i}:fill`), 4);
  const impressions = Math.round(requests * fill_rate);
  const supply_name = `${SECTIONS[i % SECTIONS.length]} ${FORMATS[Math.floor(i / SECTIONS.length)]}`;
  const revenue = round((impressions * ecpm) / 1000, 2);
  return { supply_id: 3001 + i, supply_name, impressions, requests, fill_rate, revenue, ecpm };
}

const partnerOf = (i) => PARTNERS[i % PARTNERS.length];
const dealTypeOf = (i) => DEAL_TYPES[Math.floor(i / PARTNERS.length)];

function demandRow(i, range) {
  const { volume: impressions, ecpm } = traffic("demand", i, range);
  const revenue = round((impressions * ecpm) / 1000, 2);
  return { demand_id: 7001 + i, demand_name: `${partnerOf(i)} ${dealTypeOf(i)}`, impressions, revenue, ecpm };
}

function demandDetail(i) {
  return {
    demand_id: 7001 + i,
    demand_name: `${partnerOf(i)} ${dealTypeOf(i)}`,
    partner: partnerOf(i),
    deal_type: dealTypeOf(i),
    status: i % 7 === 6 ? "paused" : "active",
    floor_cpm: round(0.5 + 4 * unit(`demand:${i}:floor`), 2),
    currency: "USD",
  };
}

const REPORTS = {
  "/api/reports/supplies/extended": { key: "supplies", total: SUPPLY_COUNT, row: supplyRow },
  "/api/reports/demands/basic": { key: "demands", total: DEMAND_COUNT, row: demandRow },
};

/** Parses start/end (inclusive, YYYY-MM-DD); absent values default to one fixed week. */
function parseRange(query) {
  const start = query.get("start") ?? "2024-01-01";
  const end = query.get("end") ?? "2024-01-07";
  const [from, to] = [parseDay(start), parseDay(end)];
  if (from === null || to === null || from > to) return null;
  return { start, end, days: (to - from) / 86400000 + 1 };
}

function parseDay(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const [y, m, d] = text.split("-").map(Number);
  const ms = Date.UTC(y, m - 1, d);
  // Date.UTC rolls 2024-02-31 over into March: the round trip rejects such dates.
  return new Date(ms).toISOString().startsWith(text) ? ms : null;
}

const parseCount = (text, fallback) => (text === null ? fallback : /^\d{1,9}$/.test(text) ? Number(text) : null);

function reportPage(report, req, url) {
  const range = parseRange(url.searchParams);
  const format = url.searchParams.get("format") ?? "json";
  const csv = format === "csv";
  // A CSV report is the whole range unless limit/offset are given (no navigation to follow).
  const limit = parseCount(url.searchParams.get("limit"), csv ? report.total : 25);
  const offset = parseCount(url.searchParams.get("offset"), 0);
  if (!range || !limit || offset === null || !["json", "csv"].includes(format)) {
    const error_description = "start/end must be YYYY-MM-DD with start <= end; limit >= 1; offset >= 0; format json or csv";
    return [400, { status: "ERROR", error: "invalid_request", error_description }];
  }
  const size = csv ? limit : Math.min(limit, 100);
  const rows = [];
  for (let i = offset; i < Math.min(offset + size, report.total); i++) rows.push(report.row(i, range));
  if (csv) {
    const filename = `${report.key}-${range.start}-${range.end}.csv`;
    return [200, toCsv(rows), { "content-type": CSV_TYPE, "content-disposition": `attachment; filename="${filename}"` }];
  }
  let next = null;
  if (offset + size < report.total) {
    // Built from the Host header the client used, so the link works through any alias.
    const link = new URL(`${url.pathname}${url.search}`, `http://${req.headers.host}`);
    link.searchParams.set("limit", String(size));
    link.searchParams.set("offset", String(offset + size));
    next = link.href;
  }
  const navigation = { total: report.total, limit: size, offset, next };
  return [200, { status: "OK", data: { [report.key]: rows, navigation } }];
}

// ---------------------------------------------------------------- token exchange

const newCounters = () => ({ tokenRequests: 0, tokensIssued: 0, apiRequests: 0, apiUnauthorized: 0 });
const newClientState = () => ({ tokenScript: [], apiScript: [], config: {}, counters: newCounters() });

/** Client ids that may obtain tokens: the demo pair, and any `t-` id with `<id>-secret`. */
function credentialsValid(id, secret) {
  if (id === "demo-client") return secret === "demo-secret";
  // `<id>-secret:anything` is accepted too: the only way a valid secret can contain ':'.
  return id.startsWith("t-") && (secret === `${id}-secret` || secret.startsWith(`${id}-secret:`));
}

/** Decodes `Basic base64(utf8(id ":" secret))`, splitting at the first ':'; null if malformed. */
function parseBasic(header) {
  const match = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header ?? "");
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(match[1], "base64"));
  } catch {
    return null; // no Basic header, or bytes that are not UTF-8
  }
  const colon = text.indexOf(":");
  return colon < 0 ? null : { id: text.slice(0, colon), secret: text.slice(colon + 1) };
}

const mediaType = (value) => (value ?? "").split(";")[0].trim().toLowerCase();

/** Checks a token request as the vendor documents it; returns [status, body, headers] or null. */
function tokenRequestProblem(req, body, credentials) {
  const invalid = (error_description) => [400, { error: "invalid_request", error_description }];
  if (req.method !== "POST") {
    return [405, { error: "invalid_request", error_description: "use POST" }, { allow: "POST, OPTIONS" }];
  }
  if ((req.headers["api-version"] ?? "").trim() !== "1") return invalid("api-version: 1 is required");
  if (!(req.headers.accept ?? "").toLowerCase().includes("application/json")) {
    return invalid("accept must include application/json");
  }
  if (mediaType(req.headers["content-type"]) !== "application/x-www-form-urlencoded") {
    return invalid("content-type must be application/x-www-form-urlencoded");
  }
  if (new URLSearchParams(body).get("grant_type") !== "client_credentials") {
    return [400, { error: "unsupported_grant_type", error_description: "grant_type must be client_credentials" }];
  }
  if (!credentials || !credentialsValid(credentials.id, credentials.secret)) {
    const error = { error: "invalid_client", error_description: "Client authentication failed" };
    return [401, error, { "www-authenticate": 'Basic realm="cedato"' }];
  }
  return null;
}

// ---------------------------------------------------------------- HTTP helpers

const corsHeaders = (req) => ({
  "access-control-allow-origin": req.headers.origin ?? "*",
  "access-control-expose-headers": "Retry-After, WWW-Authenticate",
  vary: "Origin",
});

/** Header names in lower case; a `null` value removes the header (e.g. the default content-type). */
const lowerKeys = (headers) =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value === null ? null : String(value)]));
const withoutNulls = (headers) => Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== null));

/**
 * Sends a string as is (UTF-8), a Buffer as its bytes, or any other value as JSON; the
 * given headers win over defaults.
 */
function send(res, status, body, headers = {}) {
  if (res.destroyed || res.headersSent) return;
  const noBody = status === 204 || status === 304 || body === undefined;
  const contentType = noBody ? {} : { "content-type": JSON_TYPE };
  res.writeHead(status, withoutNulls({ ...corsHeaders(res.req), ...contentType, ...lowerKeys(headers) }));
  res.end(noBody ? "" : typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

/** The CSV lines of `GET reports/stream`, 64 KB at a time, `bytes` in all (the last line may be cut). */
export function* streamedReport(bytes) {
  const lines = ["row,supply_id,revenue\r\n"];
  for (let i = 0, size = lines[0].length; size < 65_536; i++) {
    const line = `${i},${3001 + (i % SUPPLY_COUNT)},${((i * 7919) % 100_000) / 100}\r\n`;
    lines.push(line);
    size += line.length;
  }
  const block = Buffer.from(lines.join(""));
  for (let sent = 0; sent < bytes; sent += block.length) yield block.subarray(0, Math.min(block.length, bytes - sent));
}

/** Resolves when `res` can take more data, or is gone. */
function drainOrClose(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

/** Streams `bytes` of CSV with backpressure; after `failAt` bytes the socket is destroyed. */
async function streamReport(res, url) {
  const bytes = parseCount(url.searchParams.get("bytes"), 1 << 20);
  const failAt = parseCount(url.searchParams.get("failAt"), null);
  if (bytes === null) return send(res, 400, { status: "ERROR", error: "invalid_request", error_description: "bytes >= 0" });
  res.writeHead(200, { ...corsHeaders(res.req), "content-type": CSV_TYPE });
  let written = 0;
  for (const chunk of streamedReport(bytes)) {
    const part = failAt === null ? chunk : chunk.subarray(0, Math.max(0, failAt - written));
    if (res.destroyed) return;
    if (!res.write(part)) await drainOrClose(res);
    written += part.length;
    if (failAt !== null && written >= failAt) {
      // Let what was written reach the client, then break the connection mid-body.
      await new Promise((resolve) => res.socket ? res.socket.write("", resolve) : resolve());
      res.socket?.destroy();
      return;
    }
  }
  res.end();
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

// ---------------------------------------------------------------- server

/** Starts the mock on 127.0.0.1 (port 0 = any free port); see README.md for the result. */
export async function startMockServer({ port = 0, host = "127.0.0.1" } = {}) {
  const clients = new Map(); // client id -> state; "" collects requests with no known client
  const tokens = new Map(); // token -> { clientId, expiresAt, revoked, singleUse, used }
  const timers = new Set();

  const stateOf = (id) => {
    if (!clients.has(String(id))) clients.set(String(id), newClientState());
    return clients.get(String(id));
  };

  /** A delay that close() can cancel; the abandoned request then simply never resumes. */
  const sleep = (ms) =>
    new Promise((resolve) => {
      const timer = realSetTimeout(() => (timers.delete(timer), resolve()), Math.max(0, Number(ms) || 0));
      timers.add(timer);
    });

  function issueToken(clientId, expiresIn) {
    const token = `ct_${randomBytes(20).toString("hex")}`;
    const lifetime = typeof expiresIn === "number" && Number.isFinite(expiresIn) ? expiresIn : DEFAULT_EXPIRES_IN;
    const expiresAt = realNow() + lifetime * 1000;
    // expires_in 0 means "use once" (SPEC section 2), so such a token is good for one API call.
    tokens.set(token, { clientId, expiresAt, revoked: false, singleUse: lifetime === 0, used: false });
    stateOf(clientId).counters.tokensIssued++;
    return token;
  }

  /** Plays a script entry's delay and failure modes; true when the request is answered. */
  async function playScripted(entry, res) {
    if (entry.delayMs) await sleep(entry.delayMs);
    if (res.destroyed) return true; // the client gave up while we waited
    if (entry.drop) {
      res.socket?.destroy();
      return true;
    }
    if (entry.stallBody) {
      // Headers of a normal 200 and the start of a body that never ends.
      res.writeHead(200, { ...corsHeaders(res.req), "content-type": JSON_TYPE, ...lowerKeys(entry.headers) });
      res.write('{"status":"OK","data":{');
      return true;
    }
    if (entry.status !== undefined && !entry.ok) {
      send(res, entry.status, entry.base64 !== undefined ? Buffer.from(entry.base64, "base64") : entry.body ?? {}, entry.headers);
      return true;
    }
    return false;
  }

  async function handleToken(req, res) {
    const credentials = parseBasic(req.headers.authorization);
    const state = stateOf(credentials?.id ?? "");
    state.counters.tokenRequests++;
    const entry = state.tokenScript.shift() ?? {}; // taken on arrival: queue order = request order
    const body = await readBody(req);
    if (await playScripted(entry, res)) return;
    // A timed outage (config `outageMs` from when it was configured): every token request fails.
    if (state.config.outageUntil && realNow() < state.config.outageUntil) {
      return send(res, state.config.outageStatus ?? 503, { error: "temporarily_unavailable" });
    }

    const noStore = { "cache-control": "no-store", pragma: "no-cache" };
    const problem = tokenRequestProblem(req, body, credentials);
    if (problem) {
      const [status, error, headers] = problem;
      return send(res, status, error, { ...noStore, ...headers, ...entry.headers });
    }
    const headers = { ...noStore, ...entry.headers };
    if (entry.body !== undefined) return send(res, entry.status ?? 200, entry.body, headers);

    const { config } = state;
    const pick = (key, fallback) => (key in entry ? entry[key] : key in config ? config[key] : fallback);
    const expiresIn = pick("expiresIn", DEFAULT_EXPIRES_IN);
    const fields = {
      access_token: issueToken(credentials.id, expiresIn),
      token_type: pick("tokenType", "bearer"),
      expires_in: expiresIn,
    };
    const answer = config.envelope === "flat" ? fields : { status: "OK", data: fields };
    send(res, entry.status ?? 200, answer, headers);
  }

  // ------------------------------------------------------------ Platform API

  /** Checks the bearer token; `clientId` says whom to count a refusal against ("" if unknown). */
  function authenticate(req) {
    const match = /^(Bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    const record = match ? tokens.get(match[2]) : undefined;
    if (!record) return { ok: false, clientId: "" };
    const ok = !record.revoked && (record.singleUse ? !record.used : realNow() < record.expiresAt);
    if (ok) record.used = true;
    return { ok, clientId: record.clientId, scheme: match[1], token: match[2] };
  }

  async function handleApi(req, res, url) {
    const auth = authenticate(req);
    const state = stateOf(auth.clientId);
    // A timed refusal (config `refuseTokensMs`): the API answers 401 to every token of the
    // client, valid ones too (a permission problem, a node that does not know them yet).
    if (auth.ok && state.config.refuseTokensUntil && realNow() < state.config.refuseTokensUntil) auth.ok = false;
    if (!auth.ok) {
      state.counters.apiUnauthorized++;
      return send(res, 401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' });
    }
    state.counters.apiRequests++;
    const entry = state.apiScript.shift() ?? {};
    const body = await readBody(req);
    if (await playScripted(entry, res)) return;
    if (url.pathname === "/api/reports/stream") return streamReport(res, url);
    const [status, answer, headers] = route(req, url, body, auth);
    const scripted = entry.base64 !== undefined ? Buffer.from(entry.base64, "base64") : entry.body;
    send(res, entry.status ?? status, scripted ?? answer, { ...headers, ...entry.headers });
  }

  /** The Platform API proper; returns [status, body, headers?]. Methods are not checked. */
  function route(req, url, body, auth) {
    const path = url.pathname;
    if (path === "/api/echo") return [200, echo(req, url, body, auth)];
    if (REPORTS[path]) return reportPage(REPORTS[path], req, url);
    const demand = /^\/api\/demand\/(\d+)$/.exec(path);
    const index = demand ? Number(demand[1]) - 7001 : -1;
    if (index >= 0 && index < DEMAND_COUNT) return [200, { status: "OK", data: { demand: demandDetail(index) } }];
    if (path === "/api/empty") return [204, undefined];
    if (path === "/api/text") return [200, "not json", { "content-type": "text/plain; charset=utf-8" }];
    return [404, { status: "ERROR", error: "not_found" }];
  }

  /** Mirrors the request; the token is never echoed, whichever header or body carries it. */
  function echo(req, url, body, auth) {
    const scrub = (text) => text.split(auth.token).join("[redacted]");
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name !== "authorization") headers[name] = scrub(String(value));
    }
    Object.assign(headers, { authorization_scheme: auth.scheme, token_valid: true });
    const query = Object.fromEntries([...url.searchParams].map(([k, v]) => [scrub(k), scrub(v)]));
    return { method: req.method, path: url.pathname, query, headers, body: scrub(body) };
  }

  // ------------------------------------------------------------ control

  const api = {
    client(id) {
      const state = stateOf(id);
      const handle = {
        tokenScript: (entries) => (state.tokenScript.push(...entries), handle),
        apiScript: (entries) => (state.apiScript.push(...entries), handle),
        configure: (config) => {
          Object.assign(state.config, config);
          if (typeof config.outageMs === "number") state.config.outageUntil = realNow() + config.outageMs;
          if (typeof config.refuseTokensMs === "number") state.config.refuseTokensUntil = realNow() + config.refuseTokensMs;
          return handle;
        },
        revoke() {
          for (const record of tokens.values()) if (record.clientId === String(id)) record.revoked = true;
          return handle;
        },
        stats: () => ({ ...state.counters }),
      };
      return handle;
    },
    stats() {
      const total = newCounters();
      for (const { counters } of clients.values()) for (const key in total) total[key] += counters[key];
      return total;
    },
    reset() {
      clients.clear();
      tokens.clear();
    },
  };

  // The HTTP face of `api` for browsers and workers: [method, action, payload check or null].
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const isScript = (v) => Array.isArray(v) && v.every(isObject);
  const CLIENT_ACTIONS = {
    "token-script": ["POST", (client, entries) => client.tokenScript(entries), isScript],
    "api-script": ["POST", (client, entries) => client.apiScript(entries), isScript],
    config: ["POST", (client, config) => client.configure(config), isObject],
    revoke: ["POST", (client) => client.revoke(), null],
    stats: ["GET", (client) => client.stats(), null],
  };

  async function handleControl(req, res, url) {
    const match = /^\/__mock\/clients\/([^/]+)\/([a-z-]+)$/.exec(url.pathname);
    let action;
    if (url.pathname === "/__mock/stats") action = ["GET", () => api.stats(), null];
    else if (url.pathname === "/__mock/reset") action = ["POST", () => api.reset(), null];
    else if (match && Object.hasOwn(CLIENT_ACTIONS, match[2])) action = CLIENT_ACTIONS[match[2]];
    if (!action) return send(res, 404, { error: "not_found" });
    const [method, run, check] = action;
    if (req.method !== method) return send(res, 405, { error: "method_not_allowed" }, { allow: method });

    let payload;
    if (check) {
      try {
        payload = JSON.parse(await readBody(req));
      } catch {
        return send(res, 400, { error: "invalid_json" });
      }
      if (!check(payload)) return send(res, 400, { error: "invalid_payload" });
    }
    const answer = run(match ? api.client(decodeURIComponent(match[1])) : null, payload);
    send(res, 200, method === "GET" ? answer : { ok: true });
  }

  /** CORS preflight: always allows the token exchange's headers, plus whatever was asked. */
  function preflight(req, res) {
    const known = new Set(DEFAULT_ALLOWED_HEADERS.map((name) => name.toLowerCase()));
    const requested = (req.headers["access-control-request-headers"] ?? "").split(",").map((h) => h.trim());
    const extra = requested.filter((name) => name && !known.has(name.toLowerCase()));
    send(res, 204, undefined, {
      "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
      "access-control-allow-headers": [...DEFAULT_ALLOWED_HEADERS, ...extra].join(", "),
      "access-control-max-age": "600",
    });
  }

  async function dispatch(req, res) {
    const url = new URL(req.url, "http://mock.invalid");
    if (req.method === "OPTIONS") return preflight(req, res);
    if (url.pathname === "/api/token") return handleToken(req, res);
    if (url.pathname.startsWith("/api/")) return handleApi(req, res, url);
    if (url.pathname.startsWith("/__mock/")) return handleControl(req, res, url);
    send(res, 404, { error: "not_found" });
  }

  const server = createServer((req, res) => {
    dispatch(req, res).catch((error) => send(res, 500, { error: "mock_failure", error_description: error.message }));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });

  const address = server.address();
  const hostPart = address.address.includes(":") ? `[${address.address}]` : address.address;
  const origin = `http://${hostPart}:${address.port}`;
  let closing;
  return {
    ...api,
    origin,
    baseUrl: `${origin}/api/`,
    port: address.port,
    /** Stops listening and ends every socket and pending delay, so no test can hang on it. */
    close() {
      closing ??= new Promise((resolve) => {
        for (const timer of timers) realClearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        // Keep-alive and stalled connections too, instead of waiting on them.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------- command line

function parseArgs(argv) {
  const names = { "--port": "port", "--host": "host", "--url-file": "urlFile" };
  const options = { port: "8787", host: "127.0.0.1" };
  for (let i = 0; i < argv.length; i += 2) {
    if (!names[argv[i]] || argv[i + 1] === undefined) {
      throw new Error("usage: node server.mjs [--port 8787] [--host 127.0.0.1] [--url-file FILE]");
    }
    options[names[argv[i]]] = argv[i + 1];
  }
  return { ...options, port: Number(options.port) };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const mock = await startMockServer(options);
  if (options.urlFile) {
    // Written to a temporary file and renamed, so a waiting script never reads half a URL.
    const { writeFile, rename } = await import("node:fs/promises");
    await writeFile(`${options.urlFile}.tmp`, mock.baseUrl);
    await rename(`${options.urlFile}.tmp`, options.urlFile);
  }
  console.log(`mock cedato listening on ${mock.baseUrl}`);
  const stop = () => mock.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(`mock cedato: ${error.message}`);
    process.exit(1);
  });
}
