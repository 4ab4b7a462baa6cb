// Shared helpers for the node:test suites in this folder.
//
// The mock Cedato server runs in a child process: several suites replace `Date.now` in
// this process to drive token expiry, and an in-process mock would see that clock too.
// Its control endpoints are called with node:http, which reads neither `Date.now` nor
// the global `fetch` (some suites watch or replace the latter).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import { after, before } from "node:test";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { CedatoAuth } from "../../pkg/node.mjs";
import { credentials, freePort, sleep } from "../support/common.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const serverPath = join(here, "..", "mock", "server.mjs");

/** The real clock, captured before any suite patches `Date.now`. */
export const realNow = Date.now.bind(Date);

/** Per-test time limit (ms), so a promise that never settles fails instead of hanging. */
export const TEST_TIMEOUT = 15_000;

export { credentials, sleep, uniqueId } from "../support/common.mjs";

/** What the library must send as Basic credentials: base64(utf8(id ":" secret)). */
export function basicValue({ clientId, clientSecret }) {
  return Buffer.from(`${clientId}:${clientSecret}`, "utf8").toString("base64");
}

/** A small JSON-over-HTTP call with node:http; resolves `{ status, body }`. */
function controlCall(baseUrl, method, path, payload) {
  const url = new URL(path, baseUrl);
  const data = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        headers: data ? { "content-type": "application/json", "content-length": data.length } : {},
        agent: false,
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body = text;
          try {
            body = JSON.parse(text);
          } catch {
            // keep the text
          }
          if (res.statusCode >= 300) {
            reject(new Error(`mock control ${method} ${path} answered ${res.statusCode}: ${text}`));
          } else {
            resolve(body);
          }
        });
      },
    );
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error(`mock control ${method} ${path} timed out`)));
    req.end(data);
  });
}

/**
 * Starts the mock server in a child process and resolves a handle:
 * `{ baseUrl, origin, port, client(id), stats(), reset(), stop() }`, where `client(id)` offers
 * `tokenScript(entries)`, `apiScript(entries)`, `configure(config)`, `revoke()`, `stats()`.
 */
export async function startMock() {
  const dir = await mkdtemp(join(tmpdir(), "cedato-mock-"));
  const urlFile = join(dir, "url");
  const child = spawn(process.execPath, [serverPath, "--port", "0", "--url-file", urlFile], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => (stderr += chunk));
  let exited = null;
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve((exited = { code, signal }))));

  let baseUrl = null;
  for (let waited = 0; waited < 15_000 && !baseUrl; waited += 25) {
    if (exited) break;
    try {
      const text = (await readFile(urlFile, "utf8")).trim();
      if (/^http:\/\/.+\/api\/$/.test(text)) baseUrl = text;
    } catch {
      // not written yet
    }
    if (!baseUrl) await sleep(25);
  }
  if (!baseUrl) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw new Error(`mock server did not start (exit ${JSON.stringify(exited)}): ${stderr}`);
  }

  const { origin, port } = new URL(baseUrl);
  const path = (id, action) => `/__mock/clients/${encodeURIComponent(id)}/${action}`;
  return {
    baseUrl,
    origin,
    port: Number(port),
    client(id) {
      return {
        tokenScript: (entries) => controlCall(baseUrl, "POST", path(id, "token-script"), entries),
        apiScript: (entries) => controlCall(baseUrl, "POST", path(id, "api-script"), entries),
        configure: (config) => controlCall(baseUrl, "POST", path(id, "config"), config),
        revoke: () => controlCall(baseUrl, "POST", path(id, "revoke")),
        stats: () => controlCall(baseUrl, "GET", path(id, "stats")),
      };
    },
    stats: () => controlCall(baseUrl, "GET", "/__mock/stats"),
    reset: () => controlCall(baseUrl, "POST", "/__mock/reset"),
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exit;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A server of the file's tests: `start()` before them, `stop(server)` (its `close()` by
 * default) after them. Returns a getter for it (the server exists only once the tests run).
 */
export function suiteServer(start, stop = (server) => server.close()) {
  let server;
  before(async () => {
    server = await start();
  });
  after(async () => {
    if (server) await stop(server);
  });
  return () => server;
}

/** The suite's mock server (suiteServer): started with startMock, stopped after the tests. */
export const suiteMock = () => suiteServer(startMock, (mock) => mock.stop());

/**
 * `setup(tag, options)` for a suite: a new CedatoAuth on the suite's mock with its own
 * client id, `defaults` under the caller's `options`. Resolves to
 * `{ auth, creds, client, requests }`, `requests()` being the token requests so far.
 */
export function instanceFactory(mockOf, defaults) {
  return (tag, options = {}) => {
    const mock = mockOf();
    const creds = credentials(tag);
    const auth = new CedatoAuth({ ...creds, baseUrl: mock.baseUrl, ...defaults, ...options });
    const client = mock.client(creds.clientId);
    const requests = async () => (await client.stats()).tokenRequests;
    return { auth, creds, client, requests };
  };
}

/**
 * Replaces `Date.now` with a clock that only moves when told to (`set`, `advance`).
 * Always call `restore()` (use try/finally).
 */
export function installClock(start = realNow()) {
  const original = Date.now;
  let now = start;
  Date.now = () => now;
  return {
    get now() {
      return now;
    },
    set(t) {
      now = t;
    },
    advance(ms) {
      now += ms;
    },
    restore() {
      Date.now = original;
    },
  };
}

/** Asserts that `err` is a CedatoError whose listed properties equal `expected`. */
export function assertCedatoError(err, expected = {}) {
  assert.ok(err instanceof Error, `expected an Error, got ${inspect(err)}`);
  assert.equal(err.name, "CedatoError", `error name (message: ${err.message})`);
  assert.equal(typeof err.message, "string");
  assert.ok(err.message.length > 0, "the error has a message");
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(err[key], value, `err.${key} (code ${err.code}, message: ${err.message})`);
  }
  return err;
}

/** Awaits a promise that must reject with a CedatoError matching `expected`; returns the error. */
export async function rejectsWith(promise, expected = {}) {
  let value;
  try {
    value = await promise;
  } catch (err) {
    return assertCedatoError(err, expected);
  }
  assert.fail(`expected a rejection with ${inspect(expected)}, got the value ${inspect(value)}`);
}

/** Asserts `fn()` throws synchronously a CedatoError matching `expected`; returns it. */
export function throwsWith(fn, expected = {}) {
  let result;
  try {
    result = fn();
  } catch (err) {
    return assertCedatoError(err, expected);
  }
  assert.fail(`expected a synchronous throw with ${inspect(expected)}, got ${inspect(result)}`);
}

/** Calls `fn` and asserts it did not throw synchronously and returned a promise. */
export function callAsync(fn, label = "call") {
  let result;
  try {
    result = fn();
  } catch (err) {
    assert.fail(`${label} threw synchronously: ${err && err.stack}`);
  }
  assert.ok(result && typeof result.then === "function", `${label} returns a promise`);
  return result;
}

/** Resolves `{ ok, value | error }` once `promise` settles, or fails after `ms`. */
export async function settles(promise, ms = 5000, label = "promise") {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ ok: true, value }),
        (error) => ({ ok: false, error }),
      ),
      limit,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds an async function takes, by the real (monotonic) clock. */
export async function timed(fn) {
  const start = performance.now();
  let value;
  let error;
  let failed = false;
  try {
    value = await fn();
  } catch (err) {
    error = err;
    failed = true;
  }
  return { ms: performance.now() - start, value, error, failed };
}

/**
 * Times `fn()`, which must return a promise that rejects with a CedatoError matching
 * `expected`: `{ ms, error }`.
 */
export async function timedRejection(fn, expected) {
  const start = performance.now();
  const error = await rejectsWith(callAsync(fn), expected);
  return { ms: performance.now() - start, error };
}

/** A port on 127.0.0.1 where nothing listens (listened on, then closed). */
export const closedPort = freePort;

/** A local HTTP server that counts the requests it receives (an "other origin"). */
export async function countingServer() {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    get hits() {
      return hits;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Visible ASCII only (0x21-0x7E), as an access token must be. */
export const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
