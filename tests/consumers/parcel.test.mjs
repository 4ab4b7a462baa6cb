// Parcel 2 with zero configuration: `parcel build index.html` (the page, its module
// script and what that imports) into dist/, loaded in headless Chromium.
// The project and its build: PAGE_BUNDLERS.parcel in bundles.mjs.
import { bundlerPageTest } from "./bundles.mjs";

await bundlerPageTest("parcel");
