// webpack 5 with webpack-cli, set up as webpack's getting-started guide does: no
// configuration file (src/index.js -> dist/main.js) and a hand-written dist/index.html,
// loaded in headless Chromium.
import { bundlerPageTest } from "./bundles.mjs";
import { useBrowsers } from "./setup.mjs";

const suite = useBrowsers();

await bundlerPageTest(suite, {
  tool: "webpack",
  label: "webpack",
  setup: "webpack-cli, no config",
  page: { path: "dist/index.html", title: "cedato-auth in a webpack bundle", script: 'src="main.js"' },
  build: "webpack builds dist/main.js",
  args: [],
  served: "dist",
});
