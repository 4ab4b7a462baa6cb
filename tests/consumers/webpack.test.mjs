// webpack 5 with webpack-cli, set up as webpack's getting-started guide does: no
// configuration file (src/index.js -> dist/main.js) and a hand-written dist/index.html,
// loaded in headless Chromium.
// The project and its build: PAGE_BUNDLERS.webpack in bundles.mjs.
import { bundlerPageTest } from "./bundles.mjs";

await bundlerPageTest("webpack");
