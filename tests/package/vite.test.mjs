// Vite 7 with no configuration: the production build (served by a static server) and the
// dev server (started programmatically), each loaded in headless Chromium.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { build, createServer } from "vite";
import { startMockServer } from "../mock/server.mjs";
import { checkScenario, credentialsFor, launchChromium, makeProject, pageQuery, resultOfPage, serveStatic } from "./setup.mjs";

let mock;
let browser;
let dir;
const cleanups = [];

before(async () => {
  [mock, browser, dir] = await Promise.all([
    startMockServer({ port: 0 }),
    launchChromium(),
    makeProject("vite", { fixture: "vite-app" }),
  ]);
}, { timeout: 180_000 });

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
  await mock?.close();
});

test("Vite build: token, header, request, token_rejected in Chromium", { timeout: 90_000 }, async () => {
  const outDir = join(dir, "dist");
  await build({ root: dir, configFile: false, logLevel: "error", build: { outDir, emptyOutDir: true } });
  const assets = await readdir(join(outDir, "assets"));
  assert.ok(assets.some((f) => f.endsWith(".js")), `built assets: ${assets}`);
  const server = await serveStatic(outDir);
  cleanups.push(server.close);
  const creds = credentialsFor("vite-build");
  const { result, log } = await resultOfPage(browser, server.url + pageQuery(mock, creds));
  checkScenario(result, mock, creds.clientId);
  assert.deepEqual(log, [], "no console errors or warnings");
});

test("Vite dev server: token, header, request, token_rejected in Chromium", { timeout: 90_000 }, async () => {
  const server = await createServer({
    root: dir,
    configFile: false,
    logLevel: "error",
    clearScreen: false,
    cacheDir: join(dir, "node_modules", ".vite-dev"),
    server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false, watch: null },
  });
  cleanups.push(() => server.close());
  await server.listen();
  const url = server.resolvedUrls.local[0];
  const creds = credentialsFor("vite-dev");
  const { result, log } = await resultOfPage(browser, url + pageQuery(mock, creds));
  checkScenario(result, mock, creds.clientId);
  assert.deepEqual(log, [], "no console errors or warnings");
});
