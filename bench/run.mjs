// Benchmarks of cedato-auth (pkg/, the built npm package) against bench/baseline.mjs, a
// hand-written plain-JS implementation of the same token contract, side by side in one
// run, against the mock Cedato server (tests/mock/server.mjs) on 127.0.0.1.
//
//   node bench/run.mjs            (make bench: builds pkg/ first)
//   node bench/run.mjs --quick    (fewer repetitions, for trying things out)
//   node bench/run.mjs --only=cold (one section's raw samples as JSON)
//   node bench/run.mjs --on-event  (the library with an onEvent listener that counts every
//                                   event: what listening costs; writes results-on-event.json)
//
// Prints a table (library, baseline, library/baseline) and the targets, and writes the
// same figures to bench/results.json. The machine is shared and small: library and
// baseline samples are interleaved (alternating which goes first) and medians reported.
import { execFile as execFileCb } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { startMockServer } from "../tests/mock/server.mjs";
import { buildWorker, workerModules } from "../tools/worker-bundle.mjs";
import { CedatoAuth as BaselineAuth } from "./baseline.mjs";

const execFile = promisify(execFileCb);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PKG = join(ROOT, "pkg");
const BENCH = join(ROOT, "bench");
if (!existsSync(join(PKG, "node.mjs")) || !existsSync(join(PKG, "cedato_auth_bg.wasm"))) {
  console.error("bench: pkg/ is not built; run `make bench` (or `make pkg` first)");
  process.exit(1);
}
// The library through its Node entry, exactly as `import { CedatoAuth } from "cedato-auth"`.
const { CedatoAuth: NodeEntryAuth } = await import(new URL("../pkg/node.mjs", import.meta.url));
const QUICK = process.argv.includes("--quick");
const ON_EVENT = process.argv.includes("--on-event");
const events = { count: 0, last: null };
const RESULTS = ON_EVENT ? "results-on-event.json" : "results.json";
/** With --on-event, every instance has a listener that counts (and keeps) each event. */
const LibraryAuth = ON_EVENT
  ? class extends NodeEntryAuth {
      constructor(options) {
        super({ ...options, onEvent: (e) => ((events.last = e), events.count++) });
      }
    }
  : NodeEntryAuth;
// --only=cached|cold|coldMany|firstToken|nodeLoad|memory|workerd: one section's raw samples
// as JSON (no table, no results.json).
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);

const CONFIG = {
  loopCalls: 200_000, // (a) awaited loop, per sample
  loopSamples: QUICK ? 3 : 15,
  batchSize: 10_000, // (b) concurrent calls per batch
  batchSamples: QUICK ? 8 : 30,
  warmupCalls: 50_000,
  coldCallers: 1_000,
  coldSamples: QUICK ? 4 : 15,
  coldManyCallers: 4_000, // the same with more callers: how the cold path scales
  coldManySamples: QUICK ? 2 : 5,
  firstTokenInstances: QUICK ? 20 : 50,
  nodeLoadProcesses: QUICK ? 6 : 20,
  memoryProcesses: QUICK ? 1 : 3,
  workerdRuns: QUICK ? 2 : 5,
};

const IMPLS = [
  { name: "library", CedatoAuth: LibraryAuth },
  { name: "baseline", CedatoAuth: BaselineAuth },
];
/** Both implementations, the order alternating with `i` (interleaved sampling). */
const inOrder = (i) => (i % 2 === 0 ? IMPLS : [...IMPLS].reverse());

const now = () => performance.now();
// A minor GC (scavenge) before every in-process sample, untimed, so no sample pays for the
// young garbage of the one before it. Not a full GC: a forced full GC slows the sample right
// after it (the baseline's cold path about twice), which would skew the comparison.
setFlagsFromString("--expose-gc");
const v8gc = runInNewContext("gc");
const gc = () => v8gc({ type: "minor" });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
/** Non-integers to 6 significant digits (for results.json). */
const round = (x) => (typeof x !== "number" || Number.isInteger(x) ? x : Number(x.toPrecision(6)));
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

let idCounter = 0;
/** A client id of its own for every measurement, so the mock's counters are per measurement. */
const freshId = (label) => `t-bench-${process.pid}-${label}-${++idCounter}`;
const optionsFor = (mock, id) => ({ clientId: id, clientSecret: `${id}-secret`, baseUrl: mock.baseUrl });

// ---------------------------------------------------------------------------------------
// Cached getToken(): (a) an awaited loop, (b) batches of concurrent calls (Promise.all).

async function awaitedLoop(auth, calls) {
  const t = now();
  for (let i = 0; i < calls; i++) await auth.getToken();
  return (calls / (now() - t)) * 1000;
}

/** Calls only, nothing awaited: the cost of the call itself (the memoised settled promise). */
function callsOnly(auth, calls) {
  let last;
  const t = now();
  for (let i = 0; i < calls; i++) last = auth.getToken();
  const rate = (calls / (now() - t)) * 1000;
  return last.then(() => rate);
}

async function batch(auth, size) {
  const promises = new Array(size);
  const t = now();
  for (let i = 0; i < size; i++) promises[i] = auth.getToken();
  await Promise.all(promises);
  return (size / (now() - t)) * 1000;
}

async function measureCached(mock) {
  const auths = {};
  for (const { name, CedatoAuth } of IMPLS) {
    const auth = new CedatoAuth(optionsFor(mock, freshId(`cached-${name}`)));
    const token = await auth.getToken();
    // Warm-up: both code paths hot (and optimised) before any sample.
    for (let i = 0; i < CONFIG.warmupCalls; i++) if ((await auth.getToken()) !== token) throw new Error(`${name}: token changed`);
    for (let i = 0; i < 5; i++) await batch(auth, CONFIG.batchSize);
    auths[name] = auth;
  }
  const loop = { library: [], baseline: [] };
  const batches = { library: [], baseline: [] };
  const calls = { library: [], baseline: [] };
  for (let i = 0; i < CONFIG.loopSamples; i++) {
    for (const { name } of inOrder(i)) {
      gc();
      loop[name].push(await awaitedLoop(auths[name], CONFIG.loopCalls));
    }
  }
  for (let i = 0; i < CONFIG.loopSamples; i++) {
    for (const { name } of inOrder(i)) {
      gc();
      calls[name].push(await callsOnly(auths[name], CONFIG.loopCalls));
    }
  }
  for (let i = 0; i < CONFIG.batchSamples; i++) {
    for (const { name } of inOrder(i)) {
      gc();
      batches[name].push(await batch(auths[name], CONFIG.batchSize));
    }
  }
  return { loop, batches, calls };
}

// ---------------------------------------------------------------------------------------
// Cold: 1000 concurrent getToken() on a fresh instance; token requests and wall time.

async function measureCold(mock, callers = CONFIG.coldCallers, samples = CONFIG.coldSamples) {
  const out = {};
  for (const { name } of IMPLS) out[name] = { wallMs: [], issueMs: [], tokenRequests: [] };
  for (let i = 0; i < samples; i++) {
    for (const { name, CedatoAuth } of inOrder(i)) {
      const id = freshId(`cold${callers}-${name}`);
      const auth = new CedatoAuth(optionsFor(mock, id));
      const promises = new Array(callers);
      gc();
      const t = now();
      for (let c = 0; c < callers; c++) promises[c] = auth.getToken();
      const issued = now();
      const tokens = await Promise.all(promises);
      out[name].wallMs.push(now() - t);
      out[name].issueMs.push(issued - t);
      if (new Set(tokens).size !== 1) throw new Error(`${name}: cold callers got different tokens`);
      out[name].tokenRequests.push(mock.client(id).stats().tokenRequests);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// First token: a fresh instance (constructor included) to its first token, sequentially.

async function measureFirstToken(mock) {
  const out = { library: [], baseline: [] };
  for (let i = 0; i < CONFIG.firstTokenInstances; i++) {
    for (const { name, CedatoAuth } of inOrder(i)) {
      const options = optionsFor(mock, freshId(`first-${name}`));
      gc();
      const t = now();
      const auth = new CedatoAuth(options);
      await auth.getToken();
      out[name].push(now() - t);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Fresh Node processes (bench/child.mjs): module load / wasm instantiation, and memory.

async function child(args, nodeFlags = []) {
  const { stdout } = await execFile(process.execPath, [...nodeFlags, join(BENCH, "child.mjs"), ...args], {
    cwd: ROOT,
    timeout: 120_000,
  });
  return JSON.parse(stdout.trim().split("\n").pop());
}

async function measureNodeLoad() {
  const out = { library: [], baseline: [] };
  for (let i = 0; i < CONFIG.nodeLoadProcesses; i++) {
    for (const { name } of inOrder(i)) out[name].push(await child(["load", name]));
  }
  return out;
}

async function measureMemory(mock) {
  const out = { library: [], baseline: [] };
  for (let i = 0; i < CONFIG.memoryProcesses; i++) {
    for (const { name } of inOrder(i)) {
      out[name].push(await child(["memory", name, mock.baseUrl, freshId(`memory-${name}`)], ["--expose-gc"]));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// workerd through miniflare: a cold worker to its first response. The library's worker is
// bundled as wrangler does (tools/worker-bundle.mjs: esbuild, conditions
// workerd/worker/browser, the .wasm kept as a CompiledWasm module); the package is resolved by name from a node_modules/cedato-auth
// symlink to pkg/, so its package.json "exports" pick the entry.

const WORKER_SOURCE = (importFrom) => `
import { env } from "cloudflare:workers";
import { CedatoAuth } from ${JSON.stringify(importFrom)};
const auth = new CedatoAuth({ clientId: env.CLIENT_ID, clientSecret: env.CLIENT_ID + "-secret", baseUrl: env.BASE_URL });
export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/token") return new Response(await auth.getToken());
    return new Response(String(auth.hasValidToken));
  },
};
`;

async function buildWorkers(dir) {
  await mkdir(join(dir, "node_modules"), { recursive: true });
  await symlink(PKG, join(dir, "node_modules", "cedato-auth"), "dir");
  const sources = { library: "cedato-auth", baseline: join(BENCH, "baseline.mjs") };
  const built = {};
  for (const [name, from] of Object.entries(sources)) {
    const outdir = join(dir, `dist-${name}`);
    await mkdir(outdir, { recursive: true });
    await writeFile(join(dir, `${name}.mjs`), WORKER_SOURCE(from));
    const result = await buildWorker({
      entryPoints: [join(dir, `${name}.mjs`)],
      outfile: join(outdir, "worker.mjs"),
      metafile: true,
    });
    const inputs = Object.keys(result.metafile.inputs);
    if (name === "library" && !inputs.some((p) => p.endsWith("cedato-auth/workerd.mjs") || p.endsWith("pkg/workerd.mjs"))) {
      throw new Error(`the library worker did not bundle the package's workerd entry: ${inputs.join(", ")}`);
    }
    let bytes = (await stat(join(outdir, "worker.mjs"))).size;
    if (name === "library") bytes += (await stat(join(outdir, "cedato_auth_bg.wasm"))).size;
    built[name] = { scriptPath: join(outdir, "worker.mjs"), bytes };
  }
  return built;
}

async function measureWorkerd(mock) {
  const { Miniflare } = await import("miniflare");
  const dir = await mkdtemp(join(tmpdir(), "cedato-bench-"));
  try {
    const built = await buildWorkers(dir);
    const out = {
      library: { firstResponseMs: [], readyMs: [], firstTokenMs: [], bundleBytes: built.library.bytes },
      baseline: { firstResponseMs: [], readyMs: [], firstTokenMs: [], bundleBytes: built.baseline.bytes },
    };
    for (let i = 0; i < CONFIG.workerdRuns; i++) {
      for (const { name } of inOrder(i)) {
        let runtimeOutput = "";
        const t0 = now();
        const mf = new Miniflare({
          ...workerModules(built[name].scriptPath),
          bindings: { BASE_URL: mock.baseUrl, CLIENT_ID: freshId(`workerd-${name}`) },
          // workerd's own output is kept off the table, shown only when the worker fails.
          handleRuntimeStdio(stdout, stderr) {
            stdout.on("data", (chunk) => (runtimeOutput += chunk));
            stderr.on("data", (chunk) => (runtimeOutput += chunk));
          },
        });
        try {
          await mf.ready.catch((err) => {
            throw new Error(`${name} worker did not start: ${err.message}\n${runtimeOutput}`);
          });
          const t1 = now();
          const first = await mf.dispatchFetch("http://bench.test/");
          if ((await first.text()) !== "false") throw new Error(`${name} worker: unexpected first answer`);
          const t2 = now();
          const second = await mf.dispatchFetch("http://bench.test/token");
          if (second.status !== 200 || !(await second.text())) throw new Error(`${name} worker: no token`);
          const t3 = now();
          out[name].firstResponseMs.push(t2 - t0);
          out[name].readyMs.push(t1 - t0);
          out[name].firstTokenMs.push(t3 - t2);
        } finally {
          await mf.dispose().catch(() => {}); // a failed start rejects here too; reported above
        }
      }
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// The table, the targets, results.json.

function fmt(value, unit) {
  if (value === null || value === undefined) return "—";
  switch (unit) {
    case "calls/s":
      return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M/s` : `${(value / 1e3).toFixed(0)} k/s`;
    case "ms":
      return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(2)} ms`;
    case "B":
      return value >= 1 << 20 ? `${(value / (1 << 20)).toFixed(2)} MiB` : `${(value / 1024).toFixed(1)} KiB`;
    default:
      return String(value);
  }
}

/** The measurements in the order they run: `[key, progress line, measure(mock)]`. */
const SECTIONS = [
  ["cached", "cached getToken() ...", measureCached],
  ["cold", "cold callers ...", (mock) => measureCold(mock)],
  ["coldMany", null, (mock) => measureCold(mock, CONFIG.coldManyCallers, CONFIG.coldManySamples)],
  ["firstToken", "first token ...", measureFirstToken],
  ["nodeLoad", `module load in ${2 * CONFIG.nodeLoadProcesses} fresh Node processes ...`, measureNodeLoad],
  ["memory", "memory (fresh Node processes) ...", measureMemory],
  ["workerd", "workerd (miniflare) ...", measureWorkerd],
];

/** The memory stages measured, with their labels in the table. */
const MEMORY_STAGES = [["loaded", "after load"], ["firstToken", "after first token"], ["after100kCached", "after 100k cached calls"], ["after1kRefresh", "after 1k refresh()"]];

async function main() {
  const started = now();
  const mock = await startMockServer({ port: 0 });
  const results = {};
  if (ONLY) {
    const section = SECTIONS.find(([key]) => key === ONLY);
    if (!section) throw new Error(`--only: one of ${SECTIONS.map(([key]) => key).join(", ")}`);
    try {
      console.log(JSON.stringify(await section[2](mock), null, 1));
    } finally {
      await mock.close();
    }
    return;
  }
  try {
    log(`mock on ${mock.baseUrl}`);
    for (const [key, progress, measure] of SECTIONS) {
      if (progress) log(progress);
      results[key] = await measure(mock);
    }
  } finally {
    await mock.close();
  }

  const R = results;
  const pick = (samples, key) => samples.map((s) => s[key]);
  const memMedian = (name, stage, key) => median(R.memory[name].map((m) => m[stage][key]));
  const rows = [];
  const row = (key, label, unit, better, library, baseline) =>
    rows.push({ key, label, unit, better, library, baseline, ratio: library != null && baseline != null ? library / baseline : null });
  const both = (f) => [f("library"), f("baseline")];

  row("cachedLoop", `cached getToken(), awaited loop of ${CONFIG.loopCalls / 1000}k (median of ${CONFIG.loopSamples})`, "calls/s", "higher", ...both((n) => median(R.cached.loop[n])));
  row("cachedBatch", `cached getToken(), ${CONFIG.batchSize / 1000}k concurrent (median of ${CONFIG.batchSamples} batches)`, "calls/s", "higher", ...both((n) => median(R.cached.batches[n])));
  row("cachedCalls", `cached getToken(), the call alone, not awaited (median of ${CONFIG.loopSamples} x ${CONFIG.loopCalls / 1000}k)`, "calls/s", "higher", ...both((n) => median(R.cached.calls[n])));
  row("coldWall", `cold: ${CONFIG.coldCallers} concurrent getToken(), wall (median of ${CONFIG.coldSamples})`, "ms", "lower", ...both((n) => median(R.cold[n].wallMs)));
  row("coldRequests", `cold: token requests made (max over ${CONFIG.coldSamples})`, "", "lower", ...both((n) => Math.max(...R.cold[n].tokenRequests)));
  row("coldIssue", `cold: issuing the ${CONFIG.coldCallers} calls (synchronous part, median)`, "ms", "lower", ...both((n) => median(R.cold[n].issueMs)));
  row("coldManyWall", `cold: ${CONFIG.coldManyCallers} concurrent getToken(), wall (median of ${CONFIG.coldManySamples})`, "ms", "lower", ...both((n) => median(R.coldMany[n].wallMs)));
  row("coldManyRequests", `cold: ${CONFIG.coldManyCallers} callers, token requests (max)`, "", "lower", ...both((n) => Math.max(...R.coldMany[n].tokenRequests)));
  row("firstTokenMedian", `first token, fresh instance (median of ${CONFIG.firstTokenInstances})`, "ms", "lower", ...both((n) => median(R.firstToken[n])));
  row("firstTokenP95", `first token, fresh instance (p95 of ${CONFIG.firstTokenInstances})`, "ms", "lower", ...both((n) => percentile(R.firstToken[n], 95)));
  row("nodeInstantiate", `Node: wasm compile+instantiate vs baseline import (median of ${CONFIG.nodeLoadProcesses} processes)`, "ms", "lower",
    median(R.nodeLoad.library.map((t) => t.compileMs + t.instantiateMs)), median(pick(R.nodeLoad.baseline, "loadMs")));
  row("nodeLoad", `Node: module load total, import to ready (median of ${CONFIG.nodeLoadProcesses})`, "ms", "lower", ...both((n) => median(pick(R.nodeLoad[n], "loadMs"))));
  row("nodeStartToInstance", `Node: process start to first instance (median of ${CONFIG.nodeLoadProcesses})`, "ms", "lower", ...both((n) => median(pick(R.nodeLoad[n], "sinceProcessStartMs"))));
  row("workerdFirstResponse", `workerd: new Miniflare to first response (median of ${CONFIG.workerdRuns})`, "ms", "lower", ...both((n) => median(R.workerd[n].firstResponseMs)));
  row("workerdFirstToken", `workerd: first getToken() in the worker (median of ${CONFIG.workerdRuns})`, "ms", "lower", ...both((n) => median(R.workerd[n].firstTokenMs)));
  row("workerdBundle", "workerd: bundle size (JS + wasm)", "B", "lower", ...both((n) => R.workerd[n].bundleBytes));
  for (const [stage, label] of MEMORY_STAGES) {
    row(`wasmMemory_${stage}`, `wasm memory ${label}`, "B", "lower", memMedian("library", stage, "wasmMemory"), null);
  }
  for (const [stage, label] of MEMORY_STAGES) {
    row(`heapUsed_${stage}`, `heapUsed ${label} (fresh process, median of ${CONFIG.memoryProcesses})`, "B", "lower", ...both((n) => memMedian(n, stage, "heapUsed")));
  }

  // Targets.
  const get = (key) => rows.find((r) => r.key === key);
  const memGrowth = R.memory.library.map((m) => m.after100kCached.wasmMemory - m.firstToken.wasmMemory);
  const refreshGrowth = R.memory.library.map((m) => m.after1kRefresh.wasmMemory - m.after100kCached.wasmMemory);
  const targets = [
    { target: "cached getToken(), awaited loop >= 0.5x the baseline's throughput", value: `${get("cachedLoop").ratio.toFixed(2)}x`, met: get("cachedLoop").ratio >= 0.5 },
    { target: "cached getToken(), concurrent batch >= 0.5x the baseline's throughput", value: `${get("cachedBatch").ratio.toFixed(2)}x`, met: get("cachedBatch").ratio >= 0.5 },
    { target: `cold: ${CONFIG.coldCallers} callers make exactly one token request (every sample)`, value: `[${R.cold.library.tokenRequests.join(",")}]`, met: R.cold.library.tokenRequests.every((n) => n === 1) },
    { target: "cold: wall time <= 2x the baseline's", value: `${get("coldWall").ratio.toFixed(2)}x`, met: get("coldWall").ratio <= 2 },
    { target: "wasm memory does not grow over 100,000 cached calls", value: `+${Math.max(...memGrowth)} B`, met: memGrowth.every((g) => g === 0) },
    { target: "wasm memory does not grow over 1,000 refresh() calls", value: `+${Math.max(...refreshGrowth)} B`, met: refreshGrowth.every((g) => g === 0) },
  ];

  // Print.
  const header = ["figure", "library", "baseline", "lib/base"];
  const lines = rows.map((r) => [r.label + (r.unit === "calls/s" ? " ↑" : ""), fmt(r.library, r.unit), fmt(r.baseline, r.unit), r.ratio == null ? "—" : r.ratio.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const out = [];
  out.push(`cedato-auth benchmarks — Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  out.push("lib/base = library / baseline. ↑ throughput rows: > 1 means the library is faster. All other rows (times, sizes, counts): > 1 means the library takes more.");
  out.push("");
  out.push(line(header));
  out.push(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) out.push(line(l));
  out.push("");
  out.push("targets:");
  for (const t of targets) out.push(`  [${t.met ? "met" : "MISSED"}] ${t.target}: ${t.value}`);
  const seconds = (now() - started) / 1000;
  out.push("");
  if (ON_EVENT) out.push(`library with an onEvent listener: ${events.count} events received in the in-process sections`);
  out.push(`(run took ${seconds.toFixed(1)} s; figures in bench/${RESULTS})`);
  console.log(out.join("\n"));

  const json = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadavg: loadavg(),
    seconds: round(seconds),
    config: CONFIG,
    notes: {
      ratio: "library / baseline; for calls/s > 1 means the library is faster, for ms and bytes > 1 means it costs more",
      nodeInstantiate: "library: new WebAssembly.Module(bytes) + the glue's initSync({ module }) in a fresh process; baseline: import() of bench/baseline.mjs in a fresh process",
    },
    figures: Object.fromEntries(rows.map((r) => [r.key, { label: r.label, unit: r.unit, better: r.better, library: round(r.library), baseline: round(r.baseline), ratio: round(r.ratio) }])),
    targets,
    samples: {
      cachedLoop: R.cached.loop,
      cachedBatch: R.cached.batches,
      cold: R.cold,
      coldMany: R.coldMany,
      cachedCalls: R.cached.calls,
      firstToken: R.firstToken,
      nodeLoad: R.nodeLoad,
      memory: R.memory,
      workerd: R.workerd,
    },
  };
  await writeFile(join(BENCH, RESULTS), JSON.stringify(json, (k, v) => (typeof v === "number" ? round(v) : v), 2) + "\n");
}

await main();
