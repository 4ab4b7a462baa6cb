// The page the browser suites load (chromium.test.mjs, firefox.test.mjs): served from an
// origin of its own (a static server on 127.0.0.1), it loads pkg/web.mjs with `await init()`;
// `callInPage` runs one call of a new CedatoAuth in it; `useRedirectSuite` starts what
// both suites run against.
import { readFile } from "node:fs/promises";
import http from "node:http";
import { extname, join, normalize } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { startMock } from "../js/helpers.mjs";
import { recordingServer } from "./recorder.mjs";

const PKG = fileURLToPath(new URL("../../pkg/", import.meta.url));

const PAGE = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>cedato-auth redirects</title></head>
  <body>
    <script type="module">
      import init, { CedatoAuth } from "/pkg/web.mjs";
      await init();
      window.CedatoAuth = CedatoAuth;
      window.__ready = true;
    </script>
  </body>
</html>`;

const MIME = { ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".wasm": "application/wasm" };

/** The page at `/` and pkg/ at `/pkg/`, on 127.0.0.1 (an origin of its own). */
export async function pageServer() {
  const server = http.createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      if (path === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
        return res.end(PAGE);
      }
      const file = normalize(join(PKG, path.replace(/^\/pkg\//, "")));
      if (!path.startsWith("/pkg/") || !file.startsWith(PKG)) throw new Error("not found");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

/**
 * Runs in the page (its source goes to the browser): `call` ("fetch" or "request") of a new
 * CedatoAuth for `clientId`. Resolves `{ sync, resolved, rejected }`: `sync` is a synchronous
 * throw of the call, `resolved` a summary of the answer (fetch: status, type, url; request:
 * the value).
 */
export const callInPage = async ({ call, clientId, baseUrl, path }) => {
  const describe = (err) => ({ name: err?.name, code: err?.code, status: err?.status, message: String(err?.message) });
  const auth = new window.CedatoAuth({ clientId, clientSecret: `${clientId}-secret`, baseUrl, timeoutMs: 5000, maxRetries: 0 });
  let promise;
  try {
    promise = auth[call](path);
  } catch (err) {
    return { sync: describe(err) };
  }
  try {
    const value = await promise;
    if (call !== "fetch") return { resolved: value };
    const out = { status: value.status, type: value.type, url: value.url, redirected: value.redirected };
    await value.body?.cancel();
    return { resolved: out };
  } catch (err) {
    return { rejected: describe(err) };
  }
};

/**
 * Registers the before/after hooks of a browser redirect suite: the mock server, the other
 * origin (recordingServer), the page server and the browser `launch()` resolves, all at
 * once; then `open(suite)` loads the page. Returns `{ mock, thief, site, browser }`, filled
 * in before the tests run.
 */
export function useRedirectSuite(launch, open) {
  const suite = {};
  before(async () => {
    [suite.mock, suite.thief, suite.site, suite.browser] = await Promise.all([startMock(), recordingServer(), pageServer(), launch()]);
    await open(suite);
  }, { timeout: 90_000 });
  after(async () => {
    await suite.browser?.close();
    await suite.site?.close();
    await suite.mock?.stop();
    await suite.thief?.close();
  });
  return suite;
}
