#!/usr/bin/env node
// `make demo`: the demo page (www/), the local mock Cedato server and the worker proxy
// (examples/worker in workerd, through miniflare), all on 127.0.0.1, until Ctrl-C.
//
//   node tools/demo.mjs            pages on :8080, mock on :8787, proxy on :8788
//                                  (a busy port is replaced by a free one)
//   DEMO_PORT, DEMO_MOCK_PORT, DEMO_PROXY_PORT   other ports (0 = any free port)
//   CEDATO_BASE_URL, CEDATO_CLIENT_ID, CEDATO_CLIENT_SECRET   the real Cedato API
//                                  instead of the mock (no mock is started then)
//
// As a module, `start()` does the same and resolves the URLs and a `stop()`; the browser
// tests (tests/demo) and the worker tests (tests/worker) use it and `bundleWorker()`.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat, symlink } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildWorker, workerModules } from "./worker-bundle.mjs";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const WORKER_ENTRY = join(ROOT, "examples", "worker", "src", "index.js");
const WWW = join(ROOT, "www");
const PKG = join(ROOT, "pkg");

/** The mock's demo credentials; its tokens live this long in the demo, so the countdown moves. */
export const DEMO_CLIENT = { clientId: "demo-client", clientSecret: "demo-secret" };
export const DEMO_EXPIRES_IN = 120;
const DEFAULT_CEDATO_BASE_URL = "https://api.cedato.com/api/";

// ---------------------------------------------------------------- the worker bundle

/**
 * Bundles worker entries the way wrangler does (tools/worker-bundle.mjs): esbuild with the
 * workerd export conditions, `.wasm` imports kept as separate modules next to the bundle
 * (miniflare loads them as CompiledWasm). `cedato-auth` resolves to the built package in pkg/.
 * `entryPoints` maps output names to source files; resolves `{ name: path }`.
 */
export async function bundleWorker({ outdir, entryPoints = { worker: WORKER_ENTRY } }) {
  if (!existsSync(join(PKG, "package.json"))) {
    throw new Error("pkg/ is missing: build the package first (make pkg)");
  }
  await rm(outdir, { recursive: true, force: true });
  // What `npm install` of examples/worker does (its dependency is file:../../pkg).
  const modules = join(outdir, "node_modules");
  await mkdir(modules, { recursive: true });
  await symlink(PKG, join(modules, "cedato-auth"), "dir");
  await buildWorker({ entryPoints, outdir, outExtension: { ".js": ".mjs" }, nodePaths: [modules] });
  return Object.fromEntries(Object.keys(entryPoints).map((name) => [name, join(outdir, `${name}.mjs`)]));
}

/**
 * Runs a bundled worker in workerd (miniflare). `bindings` are its env (secrets and
 * vars alike). Resolves `{ url, mf, output(), close() }`; `output()` is workerd's own
 * stdout/stderr so far (warnings about cross-request promises and hung requests land there).
 */
export async function startWorker({ script, bindings, host = "127.0.0.1", port = 0, outboundService, echo = false }) {
  const { Miniflare } = await import("miniflare");
  let output = "";
  const mf = new Miniflare({
    ...workerModules(script),
    bindings,
    host,
    port,
    ...(outboundService ? { outboundService } : {}),
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        stream.on("data", (chunk) => {
          output += chunk;
          if (echo) process.stderr.write(`[worker] ${chunk}`);
        });
      }
    },
  });
  let timer;
  try {
    const url = await Promise.race([
      mf.ready,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`workerd did not start within 60 s:\n${output}`)), 60_000);
      }),
    ]);
    return { url: url.href, mf, output: () => output, close: () => mf.dispose() };
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- the page

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/** www/ at `/`, pkg/ at `/pkg/`, and `/config.json` from `config()`; nothing else. */
async function serveDemo({ host, port, config }) {
  const server = http.createServer(async (req, res) => {
    const headers = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
    try {
      if (req.method !== "GET" && req.method !== "HEAD") throw Object.assign(new Error(), { status: 405 });
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      if (path === "/config.json") {
        res.writeHead(200, { ...headers, "content-type": MIME[".json"] });
        return res.end(JSON.stringify(config()));
      }
      const [dir, rest] = path.startsWith("/pkg/") ? [PKG, path.slice(4)] : [WWW, path];
      const file = normalize(join(dir, rest.endsWith("/") ? `${rest}index.html` : rest));
      if (!file.startsWith(dir + sep)) throw Object.assign(new Error(), { status: 404 });
      if (!(await stat(file)).isFile()) throw Object.assign(new Error(), { status: 404 });
      const body = await readFile(file);
      res.writeHead(200, { ...headers, "content-type": MIME[extname(file)] ?? "application/octet-stream" });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (err) {
      const status = err.status ?? 404;
      res.writeHead(status, { ...headers, "content-type": "text/plain; charset=utf-8" });
      res.end(status === 405 ? "method not allowed\n" : "not found\n");
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive ones too, so close() cannot wait on them
      }),
  };
}

// ---------------------------------------------------------------- start / stop

/** `preferred` if it is free on `host`, else (or when 0) any free port. */
async function freePort(host, preferred) {
  const tryPort = (port) =>
    new Promise((resolve) => {
      const probe = net.createServer();
      probe.once("error", () => resolve(null));
      probe.listen(port, host, () => {
        const { port: got } = probe.address();
        probe.close(() => resolve(got));
      });
    });
  return (preferred ? await tryPort(preferred) : null) ?? (await tryPort(0));
}

/**
 * Starts the demo: the mock (unless CEDATO_* point at the real API), the worker proxy
 * and the page. Ports: `port` (page), `mockPort`, `proxyPort`; 0 = any free port, a
 * busy preferred port is replaced by a free one. `outdir` receives the worker bundle
 * (default: build/demo-<pid>/, removed by stop()). Resolves
 * `{ pageUrl, baseUrl, proxyUrl, mock, real, worker, stop() }`.
 */
export async function start({
  host = "127.0.0.1",
  port = 0,
  mockPort = 0,
  proxyPort = 0,
  env = process.env,
  outdir,
  echoWorker = false,
} = {}) {
  const real = Boolean(env.CEDATO_BASE_URL || env.CEDATO_CLIENT_ID || env.CEDATO_CLIENT_SECRET);
  const stops = [];
  const stop = async () => {
    for (const close of stops.reverse()) await close().catch(() => {});
    stops.length = 0;
  };
  if (!outdir) {
    // A bundle of this run's own, removed on stop: two demos never share one.
    outdir = join(ROOT, "build", `demo-${process.pid}`);
    const dir = outdir;
    stops.push(() => rm(dir, { recursive: true, force: true }));
  }
  try {
    let mock = null;
    let upstream;
    if (real) {
      upstream = {
        baseUrl: env.CEDATO_BASE_URL || DEFAULT_CEDATO_BASE_URL,
        clientId: env.CEDATO_CLIENT_ID ?? "",
        clientSecret: env.CEDATO_CLIENT_SECRET ?? "",
      };
    } else {
      const { startMockServer } = await import(pathToFileURL(join(ROOT, "tests", "mock", "server.mjs")).href);
      mock = await startMockServer({ host, port: await freePort(host, mockPort) });
      stops.push(() => mock.close());
      mock.client(DEMO_CLIENT.clientId).configure({ expiresIn: DEMO_EXPIRES_IN });
      upstream = { baseUrl: mock.baseUrl, ...DEMO_CLIENT };
    }

    let proxyUrl = null;
    const page = await serveDemo({
      host,
      port: await freePort(host, port),
      config: () => ({
        source: real ? "cedato" : "mock",
        baseUrl: upstream.baseUrl,
        clientId: upstream.clientId,
        // A real secret is never put into a page; the mock's demo secret is public anyway.
        clientSecret: real ? "" : upstream.clientSecret,
        proxyUrl,
        mockControl: !real,
        expiresIn: real ? null : DEMO_EXPIRES_IN,
      }),
    });
    stops.push(() => page.close());
    const pageUrl = `http://${host}:${page.port}/`;

    const { worker } = await bundleWorker({ outdir: join(outdir, "worker") });
    const proxy = await startWorker({
      script: worker,
      host,
      port: await freePort(host, proxyPort),
      echo: echoWorker,
      bindings: {
        CEDATO_BASE_URL: upstream.baseUrl,
        CEDATO_CLIENT_ID: upstream.clientId,
        CEDATO_CLIENT_SECRET: upstream.clientSecret,
        ALLOWED_ORIGINS: [pageUrl, `http://localhost:${page.port}/`].map((u) => u.slice(0, -1)).join(","),
      },
    });
    stops.push(() => proxy.close());
    proxyUrl = proxy.url;

    return { pageUrl, baseUrl: upstream.baseUrl, proxyUrl, mock, real, worker: proxy, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------- command line

const portFrom = (value, fallback) => {
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`not a port: ${value}`);
  return port;
};

async function main() {
  const env = process.env;
  const demo = await start({
    port: portFrom(env.DEMO_PORT, 8080),
    mockPort: portFrom(env.DEMO_MOCK_PORT, 8787),
    proxyPort: portFrom(env.DEMO_PROXY_PORT, 8788),
    echoWorker: true,
  });
  const lines = [
    "",
    "  cedato-auth demo",
    "",
    `  page          ${demo.pageUrl}`,
    `  worker proxy  ${demo.proxyUrl}  (examples/worker in workerd; GET /api/*)`,
    demo.real
      ? `  Cedato API    ${demo.baseUrl}  (CEDATO_* from the environment; the page gets no secret)`
      : `  mock Cedato   ${demo.baseUrl}  (demo-client / demo-secret, tokens live ${DEMO_EXPIRES_IN} s)`,
    "",
    "  Ctrl-C stops everything.",
    "",
  ];
  console.log(lines.join("\n"));
  let stopping = 0;
  const shutdown = async (signal) => {
    // A second Ctrl-C stops at once; one that comes with the first (some tools send the
    // signal to the process and its group alike) does not count.
    if (stopping) return Date.now() - stopping > 1000 && process.exit(130);
    stopping = Date.now();
    console.log(`\n  ${signal}: stopping the page, the worker proxy and the mock…`);
    setTimeout(() => process.exit(1), 10_000).unref();
    await demo.stop();
    console.log("  stopped.");
    process.exit(0);
  };
  // miniflare's own handlers kill workerd and exit at once; these stop everything in order
  // (miniflare's exit handler stays, in case the process ends another way).
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.removeAllListeners(signal);
    process.on(signal, () => shutdown(signal));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`demo: ${err.message}`);
    process.exit(1);
  });
}
