// A plain `<script type="module">` page, no bundler: `import init, { CedatoAuth } from
// "cedato-auth/web"; await init();` through an import map, files served as installed.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startMockServer } from "../mock/server.mjs";
import { checkScenario, credentialsFor, launchChromium, makeProject, pageQuery, resultOfPage, serveStatic } from "./setup.mjs";

let mock;
let browser;
let dir;
let server;

before(async () => {
  [mock, browser, dir] = await Promise.all([
    startMockServer({ port: 0 }),
    launchChromium(),
    makeProject("web", { fixture: "web" }),
  ]);
}, { timeout: 180_000 });

after(async () => {
  await server?.close();
  await browser?.close();
  await mock?.close();
});

test("plain module page with cedato-auth/web: token, header, request, token_rejected in Chromium", { timeout: 90_000 }, async () => {
  // The import map's target is what the installed package's "./web" export names.
  const manifest = JSON.parse(await readFile(join(dir, "node_modules", "cedato-auth", "package.json"), "utf8"));
  const web = manifest.exports["./web"];
  const target = typeof web === "string" ? web : (web.browser ?? web.import ?? web.default);
  assert.match(target, /^\.\/[\w.-]+\.m?js$/, `"./web" export: ${JSON.stringify(web)}`);
  const page = join(dir, "index.html");
  await writeFile(page, (await readFile(page, "utf8")).replace("__WEB_ENTRY__", target.slice(2)));

  server = await serveStatic(dir);
  const creds = credentialsFor("web");
  const { result, log } = await resultOfPage(browser, server.url + pageQuery(mock, creds));
  checkScenario(result, mock, creds.clientId);
  assert.deepEqual(log, [], "no console errors or warnings");
});
