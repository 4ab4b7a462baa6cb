// Rollup 4 with @rollup/plugin-node-resolve ({ browser: true }, as the plugin's docs
// suggest for browser bundles): `rollup -c` writes dist/main.js (an ES module), loaded by
// index.html in headless Chromium.
// The project and its build: PAGE_BUNDLERS.rollup in bundles.mjs.
import { bundlerPageTest } from "./bundles.mjs";

await bundlerPageTest("rollup");
