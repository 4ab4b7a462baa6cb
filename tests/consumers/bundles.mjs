// What the browser-bundle suites (webpack, Rollup, Parcel, Next.js) share: the page check,
// the check that a bundle carries the wasm once, and the whole test of a bundler that
// builds a page (bundlerPageTest). (Each file starts the mock and one Chromium with
// useBrowsers() of setup.mjs.)
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { CONSUMERS, checkScenarioPage, consumerEnv, consumerProject, listFiles, runOk, serveStatic, toolBin, toolVersion, useBrowsers } from "./setup.mjs";

/**
 * The bundlers that build a page, as each one's docs set a project up (the project is
 * fixtures/<tool>/ plus the shared page, written at `page.path`, index.html by default):
 * the test's name, the build step and its arguments, and the folder served.
 */
const PAGE_BUNDLERS = {
  // Zero configuration: `parcel build index.html` follows the page's module script.
  parcel: {
    name: (version) => `Parcel ${version} (zero config)`,
    page: { title: "cedato-auth in a Parcel bundle", script: 'type="module" src="src/index.js"' },
    build: ["parcel build index.html", ["build", "index.html", "--cache-dir", ".parcel-cache"]],
    served: "dist",
  },
  // rollup.config.mjs with node-resolve ({ browser: true }): dist/main.js, loaded by index.html.
  rollup: {
    name: (version) => `Rollup ${version} (node-resolve, browser)`,
    page: { title: "cedato-auth in a Rollup bundle", script: 'type="module" src="dist/main.js"' },
    build: ["rollup -c builds dist/main.js", ["-c"]],
    served: "",
  },
  // No configuration file (src/index.js -> dist/main.js) and a hand-written dist/index.html.
  webpack: {
    name: (version) => `webpack ${version} (webpack-cli, no config)`,
    page: { path: "dist/index.html", title: "cedato-auth in a webpack bundle", script: 'src="main.js"' },
    build: ["webpack builds dist/main.js", []],
    served: "dist",
  },
};

/**
 * Registers the suite of a bundler of PAGE_BUNDLERS (the mock and Chromium: useBrowsers)
 * and its test: in a fresh project, the build step runs the tool; the bundle in dist/
 * carries the wasm once; the page, served from the project's `served` folder, passes the
 * scenario in Chromium.
 */
export async function bundlerPageTest(tool) {
  const { name, page, build, served } = PAGE_BUNDLERS[tool];
  const suite = useBrowsers();
  const version = await toolVersion(tool);
  test(name(version), { timeout: 300_000 }, async (t) => {
    t.diagnostic(`${tool} ${version}, setup needed: none`);
    const dir = await consumerProject(tool, { page });
    await t.test(build[0], async () => {
      await runOk(toolBin(tool), build[1], { cwd: dir, env: consumerEnv, timeout: 240_000 });
    });
    await t.test("the bundle carries the wasm once", () => assertWasmOnce(join(dir, "dist")));
    await t.test("token, header, request, token_rejected in Chromium", () =>
      checkBundlePage(suite, join(dir, served), "", tool));
  });
}

/** Serves `dir` and runs the scenario page at `path` in the suite's Chromium (checkScenarioPage). */
export async function checkBundlePage(suite, dir, path, runtime) {
  const server = await serveStatic(dir);
  suite.cleanups.push(server.close);
  await checkScenarioPage(suite, server.url + path, runtime);
}

/**
 * The copies of the wasm in a built bundle `dist` (or in its `files`, paths relative to
 * it): each emitted `.wasm` file, and each occurrence of the installed package's base64
 * copy in the emitted JavaScript. A bundle should carry it once (`copies.length === 1`).
 */
export async function wasmCopies(dist, files) {
  const inline = await readFile(join(CONSUMERS, "node_modules", "cedato-auth", "cedato_auth_inline.mjs"), "utf8");
  const base64 = /wasmBase64 = "([A-Za-z0-9+/=]+)"/.exec(inline)?.[1];
  assert.ok(base64, "the installed package's base64 copy of the wasm");
  // A stretch of the string that occurs in it once (the module has runs of repeated
  // bytes): the same whichever quotes or line breaks a bundler wraps around the string.
  let marker;
  for (let at = Math.floor(base64.length / 2); !marker && at + 96 <= base64.length; at += 96) {
    const stretch = base64.slice(at, at + 96);
    if (base64.indexOf(stretch) === base64.lastIndexOf(stretch)) marker = stretch;
  }
  assert.ok(marker, "a stretch of the base64 copy that occurs once");
  const copies = [];
  for (const file of files ?? (await listFiles(dist))) {
    if (file.endsWith(".wasm")) copies.push(file);
    if (/\.[cm]?js$/.test(file)) {
      const hits = (await readFile(join(dist, file), "utf8")).split(marker).length - 1;
      for (let i = 0; i < hits; i++) copies.push(`${file} (base64)`);
    }
  }
  return copies;
}

/** Asserts that the bundle in `dist` (or its `files`) carries the wasm once (see wasmCopies). */
export async function assertWasmOnce(dist, files) {
  const copies = await wasmCopies(dist, files);
  assert.equal(copies.length, 1, `the wasm ships once; the bundle has: ${copies.join(", ") || "none"}`);
}
