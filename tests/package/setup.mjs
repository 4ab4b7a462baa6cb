// Shared setup of the packaging suites: the packed tarball, fresh consumer projects, a
// static file server, headless Chromium, and the checks every runtime must pass.
//
// Each *.test.mjs file runs in its own process (node --test), so "pack once per run" is
// done through the file system: the tarball in build/pack/ is keyed by a hash of pkg/'s
// contents and made under a lock; later files (and later runs on an unchanged pkg/)
// reuse it. Every consumer project is created afresh under build/pkgtest/<name>/ and
// installs that tarball with npm, exactly as a user would.
import assert from "node:assert/strict";
import { execFile as execFileCb } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import { dirname, extname, join, normalize, relative, sep } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { startMockServer } from "../mock/server.mjs";
import { launchChromium } from "../support/chromium.mjs";
import { sleep } from "../support/common.mjs";

const execFile = promisify(execFileCb);

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const PKG_DIR = join(ROOT, "pkg");
export const FIXTURES = join(ROOT, "tests", "package", "fixtures");
export const PACK_DIR = join(ROOT, "build", "pack");
export const PROJECTS_DIR = join(ROOT, "build", "pkgtest");
export const BIN = {
  tsc: join(ROOT, "node_modules", "typescript", "bin", "tsc"),
  deno: join(ROOT, "node_modules", ".bin", "deno"),
};

/** npm with its cache, logs and notifier kept inside build/ (nothing written to $HOME). */
export const npmEnv = {
  ...process.env,
  npm_config_cache: join(ROOT, "build", "npm-cache"),
  npm_config_update_notifier: "false",
  npm_config_fund: "false",
  npm_config_audit: "false",
  npm_config_loglevel: "warn",
};


/** Runs a command; resolves `{ code, stdout, stderr }` (never rejects on a non-zero exit). */
export async function run(cmd, args, { cwd, env, timeout = 120_000 } = {}) {
  try {
    const { stdout, stderr } = await execFile(cmd, args, {
      cwd,
      env: env ?? process.env,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (typeof err.code !== "number" && err.stdout === undefined) throw err;
    return { code: typeof err.code === "number" ? err.code : 1, stdout: err.stdout ?? "", stderr: err.stderr ?? "", signal: err.signal };
  }
}

/** Like `run`, but a non-zero exit is an assertion failure showing the output. */
export async function runOk(cmd, args, options) {
  const r = await run(cmd, args, options);
  assert.equal(r.code, 0, `${cmd} ${args.join(" ")} failed (${r.code}${r.signal ? ", " + r.signal : ""}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The files under `dir`, recursively, as sorted '/'-separated paths relative to it. */
export async function listFiles(dir, base = dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else out.push(relative(base, full).split(sep).join("/"));
  }
  return out.sort();
}

async function hashDir(dir) {
  const hash = createHash("sha256");
  for (const file of await listFiles(dir)) {
    hash.update(file).update("\0").update(await readFile(join(dir, file))).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

/** A cross-process lock (mkdir is atomic); a lock older than 3 minutes is stale. */
export async function withLock(path, fn) {
  for (let i = 0; ; i++) {
    try {
      await mkdir(path);
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 180_000) await rm(path, { recursive: true, force: true });
      if (i > 1800) throw new Error(`lock ${path} held too long`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { recursive: true, force: true });
  }
}

/**
 * The hash of pkg/ once it is complete and no longer changing: tools/build-pkg.sh deletes
 * and refills pkg/, so a build running at the same time (another terminal) is waited for
 * (up to 2 minutes) instead of packing half a package.
 */
async function settledPkg() {
  const deadline = Date.now() + 120_000;
  let last;
  for (;;) {
    const ready = existsSync(join(PKG_DIR, "package.json")) && existsSync(join(PKG_DIR, "cedato_auth_inline.mjs"));
    const key = ready ? await hashDir(PKG_DIR).catch(() => undefined) : undefined;
    if (key && key === last) return key;
    if (Date.now() > deadline) {
      throw new Error("pkg/ is missing or incomplete: build it with tools/build-pkg.sh (or make pkg)");
    }
    last = key;
    await sleep(ready ? 500 : 1000);
  }
}

let packed;
/**
 * `npm pack` of pkg/, once per content of pkg/: `{ tarball, files, manifest }` where
 * `files` lists the paths inside the tarball (relative to the package root).
 */
export function packTarball() {
  packed ??= (async () => {
    await mkdir(join(ROOT, "build"), { recursive: true });
    return withLock(join(ROOT, "build", "pack.lock"), async () => {
      const key = await settledPkg();
      const infoPath = join(PACK_DIR, "pack.json");
      const info = JSON.parse(await readFile(infoPath, "utf8").catch(() => "null"));
      if (info?.key === key && existsSync(info.tarball)) return info;
      await rm(PACK_DIR, { recursive: true, force: true });
      await mkdir(PACK_DIR, { recursive: true });
      const r = await runOk("npm", ["pack", "--json", "--pack-destination", PACK_DIR], { cwd: PKG_DIR, env: npmEnv });
      const [result] = JSON.parse(r.stdout);
      const tarball = join(PACK_DIR, result.filename);
      const manifest = JSON.parse(await readFile(join(PKG_DIR, "package.json"), "utf8"));
      const fresh = { key, tarball, files: result.files.map((f) => f.path).sort(), manifest };
      await writeFile(infoPath, JSON.stringify(fresh, null, 2));
      return fresh;
    });
  })();
  return packed;
}

/**
 * A fresh consumer project build/pkgtest/<name>/ with the tarball installed from npm and
 * the fixture folder tests/package/fixtures/<fixture>/ (if given) copied in, plus
 * tests/package/fixtures/scenario.mjs, and the `page` if given (writeScenarioPage). Resolves
 * its path.
 */
export async function makeProject(name, { fixture, install = true, packageJson = {}, page } = {}) {
  const { tarball } = await packTarball();
  const dir = join(PROJECTS_DIR, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: `pkgtest-${name}`, version: "0.0.0", private: true, type: "module", ...packageJson }, null, 2) + "\n",
  );
  if (install) {
    await runOk("npm", ["install", "--no-audit", "--no-fund", "--offline", tarball], { cwd: dir, env: npmEnv });
    assert.ok(existsSync(join(dir, "node_modules", "cedato-auth", "package.json")), "cedato-auth installed");
  }
  if (fixture) await cp(join(FIXTURES, fixture), dir, { recursive: true });
  await cp(join(FIXTURES, "scenario.mjs"), join(dir, "scenario.mjs"));
  if (page) await writeScenarioPage(dir, page);
  return dir;
}

/**
 * Writes the page of a bundle suite, the same for every bundler, at `path` in `dir`
 * (default index.html): "running" in #out until the bundle's scenario reports there
 * (runScenarioPage of fixtures/scenario.mjs). `script` is its <script> tag's attributes.
 */
export async function writeScenarioPage(dir, { path = "index.html", title, script }) {
  const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <link rel="icon" href="data:," />
    <title>${title}</title>
  </head>
  <body>
    <pre id="out">running</pre>
    <script ${script}></script>
  </body>
</html>
`;
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), page);
}

/**
 * Registers the before/after hooks of a suite that runs a fresh project of its own
 * (makeProject(name) with fixtures/<name>/) against the mock server. Returns `{ mock, dir }`,
 * filled in before the tests run.
 */
export function useMockProject(name) {
  const suite = {};
  before(async () => {
    [suite.mock, suite.dir] = await Promise.all([startMockServer({ port: 0 }), makeProject(name, { fixture: name })]);
  }, { timeout: 180_000 });
  after(() => suite.mock?.close());
  return suite;
}

// ---------------------------------------------------------------- the shared checks

/** Credentials of one runtime: a client id of its own, so the mock's counters are its own. */
export function credentialsFor(runtime) {
  const clientId = `t-pkg-${runtime}`;
  return { clientId, clientSecret: `${clientId}-secret` };
}

/**
 * Asserts what fixtures/scenario.mjs reports (token, header, API call, token_rejected)
 * and that the mock saw exactly one token request and one API call for this client.
 */
export function checkScenario(result, mock, clientId) {
  assert.equal(typeof result, "object", `scenario result: ${JSON.stringify(result)}`);
  assert.equal(result.failure, undefined, `the scenario threw: ${JSON.stringify(result.failure)}`);
  assert.match(result.token, /^[\x21-\x7e]+$/, "a token");
  assert.equal(result.header, `Bearer ${result.token}`);
  assert.equal(result.hasValidToken, true);
  assert.equal(typeof result.expiresAt, "number");
  assert.ok(result.expiresAt > Date.now() + 3000_000, "expiresAt about an hour ahead");
  assert.deepEqual(result.report, { status: "OK", rows: 5, total: 57, limit: 5, firstKeys: REPORT_ROW_KEYS });
  assert.deepEqual(result.events, [
    { type: "token", source: "endpoint", attempts: 1, ms: "number", expiresAt: true },
    { type: "api", method: "GET", path: "/api/reports/supplies/extended", status: 200, ms: "number", retried: false, cooldown: false },
  ]);
  assert.deepEqual(result.stats, {
    tokenRequests: 1,
    storeHits: 0,
    cacheHits: 2,
    retries: 0,
    failures: 0,
    graceServed: 0,
    apiCalls: 1,
    apiRetries: 0,
  });
  assert.deepEqual(result.error, {
    isError: true,
    name: "CedatoError",
    code: "token_rejected",
    status: 401,
    retryable: false,
    oauthError: "invalid_client",
    secretInMessage: false,
  });
  const stats = mock.client(clientId).stats();
  assert.equal(stats.tokenRequests, 1, `token requests of ${clientId}: ${JSON.stringify(stats)}`);
  assert.equal(stats.apiRequests, 1, `API requests of ${clientId}: ${JSON.stringify(stats)}`);
  assert.equal(stats.apiUnauthorized, 0);
}

export const REPORT_ROW_KEYS = ["ecpm", "fill_rate", "impressions", "requests", "revenue", "supply_id", "supply_name"];

// ---------------------------------------------------------------- static files

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".map": "application/json",
  ".svg": "image/svg+xml",
};

/**
 * A tiny static server for `dir` on 127.0.0.1: `{ url, close() }`. With `gzip`, bodies go
 * out gzip -9 compressed to clients that accept it (as a production server sends them).
 */
export async function serveStatic(dir, { gzip = false } = {}) {
  const server = http.createServer(async (req, res) => {
    try {
      let path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      if (path.endsWith("/")) path += "index.html";
      const file = normalize(join(dir, path));
      if (!file.startsWith(normalize(dir + sep))) throw Object.assign(new Error("outside"), { status: 403 });
      const headers = { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" };
      let body = await readFile(file);
      if (gzip && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
        body = gzipSync(body, { level: 9 });
        headers["content-encoding"] = "gzip";
      }
      res.writeHead(200, headers);
      res.end(body);
    } catch (err) {
      res.writeHead(err.status ?? 404, { "content-type": "text/plain" });
      res.end(String(err.status ?? 404));
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------- Chromium

/**
 * Opens `url` in a new page and waits for `window.__result` (set by the fixture page).
 * Resolves `{ result, log }`: `log` lists console errors and warnings (except the expected
 * 401 of the token endpoint), page errors and failed requests; it is also appended to the
 * message of a timeout.
 */
export async function resultOfPage(browser, url, { timeout = 30_000 } = {}) {
  const page = await browser.newPage();
  const log = [];
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return;
    const at = m.location()?.url ?? "";
    // The wrong-credentials check makes the token endpoint answer 401: Chromium logs that.
    if (/status of 401/.test(m.text()) && /\/api\/token$/.test(at)) return;
    log.push(`console.${m.type()}: ${m.text()} (${at})`);
  });
  page.on("pageerror", (e) => log.push(`pageerror: ${e.message}`));
  page.on("requestfailed", async (r) => {
    // A body read to its end through a stream reader (cedato-auth reads answers that way,
    // to bound them) is now and then reported by Chromium as ERR_ABORTED after its answer
    // arrived; seen with a plain page too. A request that got no answer is a failure.
    const answered = await r.response().catch(() => null);
    if (answered && r.failure()?.errorText === "net::ERR_ABORTED") return;
    log.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });
  try {
    await page.goto(url);
    const handle = await page.waitForFunction(() => window.__result, null, { timeout });
    return { result: await handle.jsonValue(), log };
  } catch (err) {
    err.message += `\npage log:\n${log.join("\n")}`;
    throw err;
  } finally {
    await page.close();
  }
}

/** `?base=...&id=...&secret=...` for the fixture pages. */
export function pageQuery(mock, { clientId, clientSecret }) {
  return "?" + new URLSearchParams({ base: mock.baseUrl, id: clientId, secret: clientSecret });
}

/**
 * The mock server and headless Chromium of a browser suite, started together. Resolves
 * `{ mock, browser, cleanups, close() }`: a test pushes onto `cleanups` what it started
 * (servers' close functions); `close()` runs them, last first, then closes Chromium and
 * the mock.
 */
export async function startBrowsers() {
  const [mock, browser] = await Promise.all([startMockServer({ port: 0 }), launchChromium()]);
  const cleanups = [];
  return {
    mock,
    browser,
    cleanups,
    async close() {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      await browser.close();
      await mock.close();
    },
  };
}

/**
 * What a browser suite of the package starts before its tests, all at once: startBrowsers()
 * and the consumer project build/pkgtest/<name>/ with fixtures/<fixture>/ (as `dir`) and
 * the `page` if given (writeScenarioPage).
 */
export async function startBrowserSuite(name, fixture, page = undefined) {
  const [suite, dir] = await Promise.all([startBrowsers(), makeProject(name, { fixture, page })]);
  return Object.assign(suite, { dir });
}

/**
 * Registers the before/after hooks of a browser suite: `start()` (startBrowsers() by
 * default) before the tests, its `close()` after them. Returns the suite, filled in before
 * the tests run.
 */
export function useBrowsers(start = startBrowsers) {
  const suite = {};
  before(async () => Object.assign(suite, await start()), { timeout: 180_000 });
  after(() => suite.close?.());
  return suite;
}

/**
 * Opens the fixture page at `url` (with credentials of `runtime`'s own in its query) in
 * the suite's Chromium and asserts its scenario result (checkScenario) and that the page
 * logged no errors or warnings.
 */
export async function checkScenarioPage({ browser, mock }, url, runtime) {
  const creds = credentialsFor(runtime);
  const { result, log } = await resultOfPage(browser, url + pageQuery(mock, creds));
  checkScenario(result, mock, creds.clientId);
  assert.deepEqual(log, [], "no console errors or warnings");
}



// ---------------------------------------------------------------- TypeScript

export const RESOLUTION = {
  bundler: ["--module", "esnext", "--moduleResolution", "bundler"],
  node16: ["--module", "node16", "--moduleResolution", "node16"],
  nodenext: ["--module", "nodenext", "--moduleResolution", "nodenext"],
  // Bundler resolution where `import x = require()` (a .cts file) is CommonJS.
  preserve: ["--module", "preserve", "--moduleResolution", "bundler"],
};

/**
 * `tsc --strict --noEmit` on `files` in `dir` with the given module resolution (no
 * skipLibCheck: the shipped .d.ts files are checked too), by the TypeScript at `bin`
 * (default: the root install's). Resolves `{ code, output, errors: [{ file, line, col,
 * code, message }] }`.
 */
export async function tsc(dir, files, resolution, extra = [], { bin = BIN.tsc } = {}) {
  const args = [
    bin,
    "--strict",
    "--noEmit",
    "--pretty",
    "false",
    "--target",
    "es2022",
    "--lib",
    "es2022,dom",
    ...RESOLUTION[resolution],
    ...extra,
    ...files,
  ];
  const r = await run(process.execPath, args, { cwd: dir, timeout: 120_000 });
  const output = r.stdout + r.stderr;
  const errors = [];
  for (const m of output.matchAll(/^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/gm)) {
    errors.push({ file: m[1], line: Number(m[2]), col: Number(m[3]), code: m[4], message: m[5] });
  }
  return { code: r.code, output, errors };
}

/**
 * Asserts `tsc`'s result `r` on the misuse file `file` (its text is `source`): each line
 * marked `// misuse TSxxxx:` is reported with that error code, and no other line, nor any
 * other file, has an error. Resolves the number of misuse lines.
 */
export function checkMisuses(file, source, r) {
  const expected = new Map();
  source.split("\n").forEach((text, i) => {
    const m = text.match(/\/\/ misuse (TS\d+):/);
    if (m) expected.set(i + 1, m[1]);
  });
  assert.ok(expected.size > 0, `no misuse lines in ${file}`);
  assert.notEqual(r.code, 0, `tsc must fail on ${file}`);
  const elsewhere = r.errors.filter((e) => e.file !== file);
  assert.deepEqual(elsewhere, [], `errors outside ${file} (e.g. in the shipped .d.ts)`);

  const reported = new Map();
  for (const e of r.errors) reported.set(e.line, [...(reported.get(e.line) ?? []), e.code]);
  const missing = [...expected.keys()].filter((line) => !reported.has(line));
  assert.deepEqual(
    missing.map((line) => `${line}: ${source.split("\n")[line - 1].trim()}`),
    [],
    `misuses tsc accepted:\n${r.output}`,
  );
  const unexpected = [...reported.keys()].filter((line) => !expected.has(line));
  assert.deepEqual(unexpected, [], `errors on lines that are not misuses:\n${r.output}`);
  for (const [line, code] of expected) {
    assert.ok(reported.get(line).includes(code), `line ${line}: expected ${code}, got ${reported.get(line)}\n${r.output}`);
  }
  return expected.size;
}
