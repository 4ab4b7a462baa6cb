// Rollup 4 with @rollup/plugin-node-resolve ({ browser: true }, as the plugin's docs
// suggest for browser bundles): `rollup -c` writes dist/main.js (an ES module), loaded by
// index.html in headless Chromium.
import { join } from "node:path";
import { after, before, test } from "node:test";
import { assertWasmOnce, checkBundlePage } from "./bundles.mjs";
import { consumerEnv, consumerProject, runOk, startBrowsers, toolBin, toolVersion } from "./setup.mjs";

let suite;
before(async () => {
  suite = await startBrowsers();
}, { timeout: 120_000 });
after(() => suite?.close());

const version = await toolVersion("rollup");

test(`Rollup ${version} (node-resolve, browser)`, { timeout: 300_000 }, async (t) => {
  t.diagnostic(`rollup ${version}, setup needed: none`);
  const dir = await consumerProject("rollup");
  await t.test("rollup -c builds dist/main.js", async () => {
    await runOk(toolBin("rollup"), ["-c"], { cwd: dir, env: consumerEnv, timeout: 240_000 });
  });
  await t.test("the bundle carries the wasm once", () => assertWasmOnce(join(dir, "dist")));
  await t.test("token, header, request, token_rejected in Chromium", () =>
    checkBundlePage(suite, dir, "", "rollup"));
});
