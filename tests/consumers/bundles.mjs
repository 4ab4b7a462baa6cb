// What the browser-bundle suites (webpack, Rollup, Parcel, Next.js) share: the page check,
// the check that a bundle carries the wasm once, and the whole test of a bundler that
// builds a page. (Each file starts the mock and one Chromium with useBrowsers() of
// setup.mjs.)
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { CONSUMERS, checkScenarioPage, consumerEnv, consumerProject, listFiles, runOk, serveStatic, toolBin, toolVersion } from "./setup.mjs";

/**
 * Registers the test of a bundler that builds a page (webpack, Rollup, Parcel), named
 * "<label> <version> (<setup>)": in a fresh project (consumerProject(tool) with the shared
 * `page`), the step `build` runs `tool args`; the bundle in dist/ carries the wasm once; the
 * page, served from `served` (a folder of the project), passes the scenario in the suite's
 * Chromium.
 */
export async function bundlerPageTest(suite, { tool, label, setup, page, build, args, served }) {
  const version = await toolVersion(tool);
  test(`${label} ${version} (${setup})`, { timeout: 300_000 }, async (t) => {
    t.diagnostic(`${tool} ${version}, setup needed: none`);
    const dir = await consumerProject(tool, { page });
    await t.test(build, async () => {
      await runOk(toolBin(tool), args, { cwd: dir, env: consumerEnv, timeout: 240_000 });
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
