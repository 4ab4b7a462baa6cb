// The chaos soak (soak.mjs) for 10 seconds, inside `make test`: the same engine and the
// same assertions as `make soak`, shorter. SOAK_SEED picks the schedule (default: a fixed
// seed, so a failure here reproduces with the same schedule); the figures go to
// test-output/soak-test.json.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { formatReport, runSoak, writeResult } from "./soak.mjs";

const SECONDS = 10;
const SEED = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) >>> 0 : 20261128;
const OUT = fileURLToPath(new URL("../../test-output/soak-test.json", import.meta.url));

test(`chaos soak, ${SECONDS} s (seed ${SEED})`, { timeout: 120_000 }, async () => {
  const result = await runSoak({ seconds: SECONDS, seed: SEED });
  writeResult(result, OUT);
  const report = formatReport(result);
  console.log(report);
  const problems = Object.entries(result.violations).map(([kind, v]) => `${kind} (${v.count}): ${v.examples.join(" | ")}`);
  assert.deepEqual(problems, [], `the soak found problems (seed ${SEED}; figures in ${OUT})`);
  assert.equal(result.ok, true);
  // What the run must have exercised for its verdict to mean anything.
  assert.ok(result.calls.byPhase.chaos.failed > 0, "faults made calls fail");
  assert.ok(result.calls.byPhase.quiet.ok > 0, "the quiet phase made calls");
  assert.ok(result.tokenRequests.mock <= result.tokenRequests.bound);
});
