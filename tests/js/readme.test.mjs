// The npm README's events example, run as written (only its import points at pkg/): its
// stderr is JSON lines, one per event, then the stats, against the mock server.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
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

test("README: the events example logs JSON lines (token, api) and the stats", { timeout: TEST_TIMEOUT }, async () => {
  const code = await example("## Events and counters");
  assert.ok(code.split("\n").filter(Boolean).length <= 12, "a ten-line example");
  const dir = await mkdtemp(join(tmpdir(), "cedato-readme-"));
  try {
    const file = join(dir, "example.mjs");
    await writeFile(file, code.replace('from "cedato-auth"', `from ${JSON.stringify(join(ROOT, "pkg", "node.mjs"))}`));
    const creds = credentials("readme");
    const env = { ...process.env, CEDATO_CLIENT_ID: creds.clientId, CEDATO_CLIENT_SECRET: creds.clientSecret, CEDATO_BASE_URL: mock().baseUrl };
    const { stderr } = await promisify(execFile)(process.execPath, [file], { env, timeout: 10_000 });
    const lines = stderr.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.slice(0, -1).map((e) => e.type),
      ["token", "api"],
    );
    assert.equal(lines[1].path, "/api/reports/supplies/extended");
    assert.ok(!Number.isNaN(Date.parse(lines[0].at)));
    assert.deepEqual(lines.at(-1), { tokenRequests: 1, storeHits: 0, cacheHits: 0, retries: 0, failures: 0, graceServed: 0, apiCalls: 1, apiRetries: 0 });
    assert.ok(!stderr.includes(creds.clientSecret));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("README: the CSV report example writes supplies.csv, the report's rows as CSV", { timeout: TEST_TIMEOUT }, async () => {
  const code = await example("### A CSV report");
  const statements = code.split("\n").filter((line) => line && !line.startsWith("import") && !line.startsWith("const {"));
  assert.equal(statements.length, 3, "the report in three lines");
  const dir = await mkdtemp(join(tmpdir(), "cedato-readme-"));
  try {
    const file = join(dir, "example.mjs");
    await writeFile(file, code.replace('from "cedato-auth"', `from ${JSON.stringify(join(ROOT, "pkg", "node.mjs"))}`));
    const creds = credentials("readme-csv");
    const env = { ...process.env, CEDATO_CLIENT_ID: creds.clientId, CEDATO_CLIENT_SECRET: creds.clientSecret, CEDATO_BASE_URL: mock().baseUrl };
    await promisify(execFile)(process.execPath, [file], { env, cwd: dir, timeout: 10_000 });
    const lines = (await readFile(join(dir, "supplies.csv"), "utf8")).split("\r\n");
    assert.equal(lines[0], "supply_id,supply_name,impressions,requests,fill_rate,revenue,ecpm");
    assert.equal(lines.length, 1 + 57 + 1);
    assert.match(lines[1], /^3001,Homepage Outstream 640x360,\d+,\d+,/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
