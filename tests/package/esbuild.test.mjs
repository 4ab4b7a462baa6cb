// esbuild with no plugin or loader: a browser bundle (format esm, platform browser)
// served by a static server and loaded in headless Chromium.
import assert from "node:assert/strict";
import { copyFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as esbuild from "esbuild";
import { startMockServer } from "../mock/server.mjs";
import { checkScenario, credentialsFor, launchChromium, makeProject, pageQuery, resultOfPage, serveStatic } from "./setup.mjs";

let mock;
let browser;
let dir;
let server;

before(async () => {
  [mock, browser, dir] = await Promise.all([
    startMockServer({ port: 0 }),
    launchChromium(),
    makeProject("esbuild", { fixture: "esbuild" }),
  ]);
}, { timeout: 180_000 });

after(async () => {
  await server?.close();
  await browser?.close();
  await mock?.close();
});

test("esbuild bundle: token, header, request, token_rejected in Chromium", { timeout: 90_000 }, async () => {
  const outdir = join(dir, "dist");
  const built = await esbuild.build({
    entryPoints: [join(dir, "entry.js")],
    outdir,
    bundle: true,
    format: "esm",
    platform: "browser",
    minify: true,
    logLevel: "silent",
  });
  assert.deepEqual(built.errors, []);
  await copyFile(join(dir, "index.html"), join(outdir, "index.html"));
  assert.deepEqual((await readdir(outdir)).sort(), ["entry.js", "index.html"], "one self-contained bundle");
  server = await serveStatic(outdir);
  const creds = credentialsFor("esbuild");
  const { result, log } = await resultOfPage(browser, server.url + pageQuery(mock, creds));
  checkScenario(result, mock, creds.clientId);
  assert.deepEqual(log, [], "no console errors or warnings");
});
