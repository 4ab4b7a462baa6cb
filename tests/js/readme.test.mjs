// The npm README's examples, run as written (only their import points at pkg/) against the
// mock server: the events example's stderr is JSON lines, one per event, then the stats;
// the CSV report example writes the report's rows as CSV. Then its figures and names.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { TEST_TIMEOUT, credentials, suiteMock } from "./helpers.mjs";

const mock = suiteMock(); // the suite's mock server (tests/js/helpers.mjs)

const ROOT = fileURLToPath(new URL("../../", import.meta.url));


/** The first ```js block after `heading` in the npm README. */
async function example(heading) {
  const readme = await readFile(join(ROOT, "pkg-template", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf(heading));
  const match = section.match(/```js\n([\s\S]*?)```/);
  assert.ok(match, `a js example under ${heading}`);
  return match[1];
}

/**
 * Runs a README example as written (only its import points at pkg/) in a new directory,
 * with credentials of its own (`tag`) and the mock's base URL in CEDATO_*; calls
 * `check({ stderr, dir, creds })`, then removes the directory.
 */
async function runExample(code, tag, check) {
  const dir = await mkdtemp(join(tmpdir(), "cedato-readme-"));
  try {
    const file = join(dir, "example.mjs");
    await writeFile(file, code.replace('from "cedato-auth"', `from ${JSON.stringify(join(ROOT, "pkg", "node.mjs"))}`));
    const creds = credentials(tag);
    const env = { ...process.env, CEDATO_CLIENT_ID: creds.clientId, CEDATO_CLIENT_SECRET: creds.clientSecret, CEDATO_BASE_URL: mock().baseUrl };
    const { stderr } = await promisify(execFile)(process.execPath, [file], { env, cwd: dir, timeout: 10_000 });
    await check({ stderr, dir, creds });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("README: the events example logs JSON lines (token, api) and the stats", { timeout: TEST_TIMEOUT }, async () => {
  const code = await example("## Events and counters");
  assert.ok(code.split("\n").filter(Boolean).length <= 12, "a ten-line example");
  await runExample(code, "readme", ({ stderr, creds }) => {
    const lines = stderr.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.slice(0, -1).map((e) => e.type),
      ["token", "api"],
    );
    assert.equal(lines[1].path, "/api/reports/supplies/extended");
    assert.ok(!Number.isNaN(Date.parse(lines[0].at)));
    assert.deepEqual(lines.at(-1), { tokenRequests: 1, storeHits: 0, cacheHits: 0, retries: 0, failures: 0, graceServed: 0, apiCalls: 1, apiRetries: 0 });
    assert.ok(!stderr.includes(creds.clientSecret));
  });
});

test("README: the CSV report example writes supplies.csv, the report's rows as CSV", { timeout: TEST_TIMEOUT }, async () => {
  const code = await example("### A CSV report");
  const statements = code.split("\n").filter((line) => line && !line.startsWith("import") && !line.startsWith("const {"));
  assert.equal(statements.length, 3, "the report in three lines");
  await runExample(code, "readme-csv", async ({ dir }) => {
    const lines = (await readFile(join(dir, "supplies.csv"), "utf8")).split("\r\n");
    assert.equal(lines[0], "supply_id,supply_name,impressions,requests,fill_rate,revenue,ecpm");
    assert.equal(lines.length, 1 + 57 + 1);
    assert.match(lines[1], /^3001,Homepage Outstream 640x360,\d+,\d+,/);
  });
});

test("README: its size figure is the shipped wasm and glue, gzipped", { timeout: TEST_TIMEOUT }, async () => {
  const readme = await readFile(join(ROOT, "pkg-template", "README.md"), "utf8");
  const match = readme.match(/Rust compiled to WebAssembly \((\d+) KB gzip: the wasm and wasm-bindgen's\s+glue\)/);
  assert.ok(match, "the opening states the size");
  let total = 0;
  for (const file of ["cedato_auth_bg.wasm", "cedato_auth.js"]) {
    total += gzipSync(await readFile(join(ROOT, "pkg", file)), { level: 9 }).length;
  }
  const kib = total / 1024;
  assert.ok(Math.abs(kib - Number(match[1])) <= 1.5, `README says ${match[1]} KB; the package has ${kib.toFixed(1)} KB`);
});

test("README: every package path it names is in the exports map, and the entries it names exist", { timeout: TEST_TIMEOUT }, async () => {
  const readme = await readFile(join(ROOT, "pkg-template", "README.md"), "utf8");
  const manifest = JSON.parse(await readFile(join(ROOT, "pkg", "package.json"), "utf8"));
  const subpaths = new Set([...readme.matchAll(/["'`]cedato-auth(\/[\w/-]+)?["'`]/g)].map((m) => "." + (m[1] ?? "")));
  assert.ok(subpaths.size >= 5, [...subpaths].join(", "));
  for (const subpath of subpaths) assert.ok(subpath in manifest.exports, `${subpath} in the exports map`);
  // "ES modules and CommonJS": both conditions of the Node entry.
  assert.ok(/ES modules and\s+CommonJS/.test(readme));
  assert.ok(manifest.exports["."].node.require && manifest.exports["."].node.default);
  // "the `edge-light` entry": there is one.
  assert.ok(readme.includes("`edge-light` entry") && manifest.exports["."]["edge-light"]);
  for (const file of readme.matchAll(/\/node_modules\/cedato-auth\/([\w.-]+)/g)) {
    assert.ok(existsSync(join(ROOT, "pkg", file[1])), `${file[1]} ships`);
  }
});
