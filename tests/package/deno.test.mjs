// Deno 2.9.6 (the npm `deno` package's binary): the tarball installed with npm in a fresh
// project, run with network permission for 127.0.0.1 only, against the mock server.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { BIN, checkScenario, credentialsFor, runOk, useMockProject } from "./setup.mjs";

const suite = useMockProject("deno");

test("Deno: token, header, request, token_rejected", { timeout: 90_000 }, async () => {
  const { mock, dir } = suite;
  const creds = credentialsFor("deno");
  const version = await runOk(BIN.deno, ["--version"], { cwd: dir });
  assert.match(version.stdout, /^deno 2\.9\.6\b/);
  const r = await runOk(
    BIN.deno,
    ["run", "--quiet", "--no-prompt", "--allow-net=127.0.0.1", "main.mjs", mock.baseUrl, creds.clientId, creds.clientSecret],
    {
      cwd: dir,
      timeout: 60_000,
      env: { ...process.env, DENO_DIR: join(dir, ".deno"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    },
  );
  const result = JSON.parse(r.stdout.trim().split("\n").at(-1));
  // The `deno` export condition: the entry that carries the wasm inline.
  assert.match(result.resolved, /node_modules\/cedato-auth\/browser\.mjs$/);
  delete result.resolved;
  checkScenario(result, mock, creds.clientId);
  assert.equal(r.stderr.trim(), "", "nothing on stderr");
});
