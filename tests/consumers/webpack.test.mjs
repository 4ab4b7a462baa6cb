// webpack 5 with webpack-cli, set up as webpack's getting-started guide does: no
// configuration file (src/index.js -> dist/main.js) and a hand-written dist/index.html,
// loaded in headless Chromium.
import { join } from "node:path";
import { after, before, test } from "node:test";
import { assertWasmOnce, checkBundlePage } from "./bundles.mjs";
import { consumerEnv, consumerProject, runOk, startBrowsers, toolBin, toolVersion } from "./setup.mjs";

let suite;
before(async () => {
  suite = await startBrowsers();
}, { timeout: 120_000 });
after(() => suite?.close());

const version = await toolVersion("webpack");

test(`webpack ${version} (webpack-cli, no config)`, { timeout: 300_000 }, async (t) => {
  t.diagnostic(`webpack ${version}, setup needed: none`);
  const dir = await consumerProject("webpack");
  await t.test("webpack builds dist/main.js", async () => {
    await runOk(toolBin("webpack"), [], { cwd: dir, env: consumerEnv, timeout: 240_000 });
  });
  await t.test("the bundle carries the wasm once", () => assertWasmOnce(join(dir, "dist")));
  await t.test("token, header, request, token_rejected in Chromium", () =>
    checkBundlePage(suite, join(dir, "dist"), "", "webpack"));
});
