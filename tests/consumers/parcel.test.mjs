// Parcel 2 with zero configuration: `parcel build index.html` (the page, its module
// script and what that imports) into dist/, loaded in headless Chromium.
import { bundlerPageTest } from "./bundles.mjs";
import { useBrowsers } from "./setup.mjs";

const suite = useBrowsers();

await bundlerPageTest(suite, {
  tool: "parcel",
  label: "Parcel",
  setup: "zero config",
  page: { title: "cedato-auth in a Parcel bundle", script: 'type="module" src="src/index.js"' },
  build: "parcel build index.html",
  args: ["build", "index.html", "--cache-dir", ".parcel-cache"],
  served: "dist",
});
