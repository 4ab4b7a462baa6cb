// Node.js ESM: `import { CedatoAuth } from "cedato-auth"` from the installed tarball, in a
// child process of a fresh project, against the mock server.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { checkScenario, credentialsFor, runOk, useMockProject } from "./setup.mjs";

const suite = useMockProject("node");

test("Node ESM: token, header, request, token_rejected", { timeout: 90_000 }, async () => {
  const { mock, dir } = suite;
  const creds = credentialsFor("node");
  const r = await runOk(process.execPath, [join(dir, "main.mjs"), mock.baseUrl, creds.clientId, creds.clientSecret], {
    cwd: dir,
    timeout: 30_000,
  });
  checkScenario(JSON.parse(r.stdout), mock, creds.clientId);
});

test("Node ESM: the package resolves to its node entry", { timeout: 90_000 }, async () => {
  const { dir } = suite;
  const r = await runOk(process.execPath, ["--input-type=module", "-e", 'console.log(import.meta.resolve("cedato-auth"))'], { cwd: dir });
  assert.match(r.stdout.trim(), /node_modules\/cedato-auth\/node\.mjs$/);
});
