// esbuild with no plugin or loader: a browser bundle (format esm, platform browser)
// served by a static server and loaded in headless Chromium.
import assert from "node:assert/strict";
import { copyFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as esbuild from "esbuild";
import { checkScenarioPage, serveStatic, startBrowserSuite } from "./setup.mjs";

let suite;

before(async () => {
  suite = await startBrowserSuite("esbuild", "esbuild");
}, { timeout: 180_000 });

after(() => suite?.close());

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
