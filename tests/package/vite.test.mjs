// Vite 7 with no configuration: the production build (served by a static server) and the
// dev server (started programmatically), each loaded in headless Chromium.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { build, createServer } from "vite";
import { checkScenarioPage, serveStatic, startBrowserSuite, useBrowsers } from "./setup.mjs";

// The fixture and index.html, the page every bundle suite shares (writeScenarioPage).
const suite = useBrowsers(() =>
  startBrowserSuite("vite", "vite-app", { title: "cedato-auth in a Vite app", script: 'type="module" src="/main.js"' }),
);

test("Vite build: token, header, request, token_rejected in Chromium", { timeout: 90_000 }, async () => {
  const outDir = join(suite.dir, "dist");
  await build({ root: suite.dir, configFile: false, logLevel: "error", build: { outDir, emptyOutDir: true } });
  const assets = await readdir(join(outDir, "assets"));
  assert.ok(assets.some((f) => f.endsWith(".js")), `built assets: ${assets}`);
  const server = await serveStatic(outDir);
  suite.cleanups.push(server.close);
  await checkScenarioPage(suite, server.url, "vite-build");
});

test("Vite dev server: token, header, request, token_rejected in Chromium", { timeout: 90_000 }, async () => {
  const server = await createServer({
    root: suite.dir,
    configFile: false,
    logLevel: "error",
    clearScreen: false,
    cacheDir: join(suite.dir, "node_modules", ".vite-dev"),
    server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false, watch: null },
  });
  suite.cleanups.push(() => server.close());
  await server.listen();
  const url = server.resolvedUrls.local[0];
  await checkScenarioPage(suite, url, "vite-dev");
});
