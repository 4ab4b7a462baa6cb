// Parcel 2 with zero configuration: `parcel build index.html` (the page, its module
// script and what that imports) into dist/, loaded in headless Chromium.
import { join } from "node:path";
import { after, before, test } from "node:test";
import { assertWasmOnce, checkBundlePage } from "./bundles.mjs";
import { consumerEnv, consumerProject, runOk, startBrowsers, toolBin, toolVersion } from "./setup.mjs";

let suite;
before(async () => {
  suite = await startBrowsers();
}, { timeout: 120_000 });
after(() => suite?.close());

const version = await toolVersion("parcel");

test(`Parcel ${version} (zero config)`, { timeout: 300_000 }, async (t) => {
  t.diagnostic(`parcel ${version}, setup needed: none`);
  const dir = await consumerProject("parcel");
  await t.test("parcel build index.html", async () => {
    await runOk(toolBin("parcel"), ["build", "index.html", "--cache-dir", ".parcel-cache"], { cwd: dir, env: consumerEnv, timeout: 240_000 });
  });
  await t.test("the bundle carries the wasm once", () => assertWasmOnce(join(dir, "dist")));
  await t.test("token, header, request, token_rejected in Chromium", () =>
    checkBundlePage(suite, join(dir, "dist"), "", "parcel"));
});
