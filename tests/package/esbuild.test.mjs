// esbuild with no plugin or loader: a browser bundle (format esm, platform browser)
// served by a static server and loaded in headless Chromium.
import assert from "node:assert/strict";
import { copyFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import * as esbuild from "esbuild";
import { checkScenarioPage, serveStatic, startBrowserSuite, useBrowsers } from "./setup.mjs";

// The fixture and index.html, the page every bundle suite shares (writeScenarioPage).
const suite = useBrowsers(() =>
  startBrowserSuite("esbuild", "esbuild", { title: "cedato-auth in an esbuild bundle", script: 'type="module" src="./entry.js"' }),
);

test("esbuild bundle: token, header, request, token_rejected in Chromium", { timeout: 90_000 }, async () => {
  const outdir = join(suite.dir, "dist");
  const built = await esbuild.build({
    entryPoints: [join(suite.dir, "entry.js")],
    outdir,
    bundle: true,
    format: "esm",
    platform: "browser",
    minify: true,
    logLevel: "silent",
  });
  assert.deepEqual(built.errors, []);
  await copyFile(join(suite.dir, "index.html"), join(outdir, "index.html"));
  assert.deepEqual((await readdir(outdir)).sort(), ["entry.js", "index.html"], "one self-contained bundle");
  const server = await serveStatic(outdir);
  suite.cleanups.push(server.close);
  await checkScenarioPage(suite, server.url, "esbuild");
});
