// Rollup 4 with @rollup/plugin-node-resolve ({ browser: true }, as the plugin's docs
// suggest for browser bundles): `rollup -c` writes dist/main.js (an ES module), loaded by
// index.html in headless Chromium.
import { bundlerPageTest } from "./bundles.mjs";
import { useBrowsers } from "./setup.mjs";

const suite = useBrowsers();

await bundlerPageTest(suite, {
  tool: "rollup",
  label: "Rollup",
  setup: "node-resolve, browser",
  page: { title: "cedato-auth in a Rollup bundle", script: 'type="module" src="dist/main.js"' },
  build: "rollup -c builds dist/main.js",
  args: ["-c"],
  served: "",
});
