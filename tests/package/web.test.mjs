// A plain `<script type="module">` page, no bundler: `import init, { CedatoAuth } from
// "cedato-auth/web"; await init();` through an import map, files served as installed.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { checkScenarioPage, serveStatic, startBrowserSuite, useBrowsers } from "./setup.mjs";

const suite = useBrowsers(() => startBrowserSuite("web", "web"));

test("plain module page with cedato-auth/web: token, header, request, token_rejected in Chromium", { timeout: 90_000 }, async () => {
  const { dir } = suite;
  // The import map's target is what the installed package's "./web" export names.
  const manifest = JSON.parse(await readFile(join(dir, "node_modules", "cedato-auth", "package.json"), "utf8"));
  const web = manifest.exports["./web"];
  const target = typeof web === "string" ? web : (web.browser ?? web.import ?? web.default);
  assert.match(target, /^\.\/[\w.-]+\.m?js$/, `"./web" export: ${JSON.stringify(web)}`);
  const page = join(dir, "index.html");
  await writeFile(page, (await readFile(page, "utf8")).replace("__WEB_ENTRY__", target.slice(2)));

  const server = await serveStatic(dir);
  suite.cleanups.push(server.close);
  await checkScenarioPage(suite, server.url, "web");
});
