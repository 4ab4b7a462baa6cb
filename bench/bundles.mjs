// What a browser page pays for cedato-auth, by bundler and by the way the wasm travels
// (issue 17): webpack 5, Vite 7, Rollup 4 and Parcel 2 each bundle the same page, in two
// variants of the package:
//   inline  the package as shipped: browser.mjs carries the wasm as base64 and compiles it
//           from bytes (async init, top-level await);
//   asset   a patched COPY of the package (the shipped one is not touched) whose browser.mjs
//           does `init({ module_or_path: new URL("./cedato_auth_bg.wasm", import.meta.url) })`:
//           the bundler emits the .wasm as a file and the page compiles it while it streams.
// Each page is served gzip -9 compressed and loaded in headless Chromium, in a fresh
// browser context each time (no cache), and measured for:
//   transfer     the bytes of every response from the page's server (encoded, i.e. gzip,
//                bodies as Chromium received them; raw: the files' own size);
//   first token  performance.now() when the first getToken() resolves: from navigation
//                start to a token from the mock server (load, compile, token request),
//                median of --runs runs, on the loopback and on a mobile profile (Lighthouse's:
//                1.6 Mbit/s, 150 ms RTT, CPU slowed 4x).
// Rollup copies no `new URL(..., import.meta.url)` asset without a plugin: in the asset
// variant the .wasm is copied next to its bundle by hand (what a user would have to set up).
//
//   node bench/bundles.mjs [--runs=N]   (make bench-bundles: builds pkg/ first)
//
// Prints a table and writes the figures and every sample to bench/bundles.json.
import { cp, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build as viteBuild } from "vite";
import { wasmCopies } from "../tests/consumers/bundles.mjs";
import {
  CONSUMERS,
  consumerEnv,
  consumerProject,
  credentialsFor,
  FIXTURES as PACKAGE_FIXTURES,
  listFiles,
  pageQuery,
  runOk,
  serveStatic,
  toolBin,
  toolVersion,
} from "../tests/consumers/setup.mjs";
import { startMockServer } from "../tests/mock/server.mjs";
import { launchChromium } from "../tests/support/chromium.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RUNS = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice(7) ?? 9);

// The page the bench loads in place of the test scenario: the fixtures' entries call
// runScenarioPage(CedatoAuth) from ./scenario.mjs, so each tool's test project is reused.
const BENCH_SCENARIO = `// bench/bundles.mjs: the time from navigation start to the first token.
export function runScenarioPage(CedatoAuth) {
  const q = new URLSearchParams(location.search);
  const auth = new CedatoAuth({ baseUrl: q.get("base"), clientId: q.get("id"), clientSecret: q.get("secret") });
  auth.getToken().then(
    () => (window.__result = { firstToken: performance.now() }),
    (err) => (window.__result = { error: String(err) }),
  );
}
`;

// The asset variant's browser.mjs.
const ASSET_ENTRY = `// bench/bundles.mjs "asset" variant: the wasm as a file beside the bundle, compiled
// while it streams.
import init from "./cedato_auth.js";

await init({ module_or_path: new URL("./cedato_auth_bg.wasm", import.meta.url) });

export { CedatoAuth } from "./cedato_auth.js";
`;

const bin = (name) => (dir, args) => runOk(toolBin(name), args, { cwd: dir, env: consumerEnv, timeout: 300_000 });

/** Each tool: its project (the consumer test's fixture), its build, and what to serve. */
const TOOLS = [
  {
    name: "webpack",
    version: () => toolVersion("webpack"),
    fixture: "webpack",
    build: (dir) => bin("webpack")(dir, []),
    serve: "dist",
    dist: "dist",
  },
  {
    name: "Vite",
    version: async () => JSON.parse(await readFile(join(ROOT, "node_modules", "vite", "package.json"), "utf8")).version,
    fixture: join(PACKAGE_FIXTURES, "vite-app"),
    build: (dir) =>
      viteBuild({ root: dir, configFile: false, logLevel: "error", build: { outDir: join(dir, "dist"), emptyOutDir: true } }),
    serve: "dist",
    dist: "dist",
  },
  {
    name: "Rollup",
    version: () => toolVersion("rollup"),
    fixture: "rollup",
    build: async (dir, variant) => {
      await bin("rollup")(dir, ["-c"]);
      // No plugin, no copy: Rollup leaves `new URL("./cedato_auth_bg.wasm", import.meta.url)`
      // pointing beside the bundle and emits no file there.
      if (variant === "asset") {
        await cp(join(dir, "node_modules", "cedato-auth", "cedato_auth_bg.wasm"), join(dir, "dist", "cedato_auth_bg.wasm"));
      }
    },
    serve: ".",
    dist: "dist",
  },
  {
    name: "Parcel",
    version: () => toolVersion("parcel"),
    fixture: "parcel",
    build: (dir) => bin("parcel")(dir, ["build", "index.html", "--cache-dir", ".parcel-cache"]),
    serve: "dist",
    dist: "dist",
  },
];
const VARIANTS = ["inline", "asset"];
const NETWORKS = [
  { name: "local", label: "loopback" },
  {
    name: "mobile",
    label: "1.6 Mbit/s, 150 ms RTT, CPU x4",
    conditions: { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 0.75e6 / 8 },
    cpuSlowdown: 4,
  },
];

/**
 * The project tests/consumers/build/bench-<tool>-<variant>/: the tool's fixture, the bench's
 * scenario.mjs, and its own copy of the installed package in its node_modules (patched for
 * the asset variant), which the bundlers resolve before the shared install.
 */
async function benchProject(tool, variant) {
  const local = !tool.fixture.includes("/");
  const dir = await consumerProject(`bench-${tool.name.toLowerCase()}-${variant}`, { fixture: local ? tool.fixture : null });
  if (!local) await cp(tool.fixture, dir, { recursive: true });
  await writeFile(join(dir, "scenario.mjs"), BENCH_SCENARIO);
  const pkg = join(dir, "node_modules", "cedato-auth");
  await cp(join(CONSUMERS, "node_modules", "cedato-auth"), pkg, { recursive: true });
  if (variant === "asset") await writeFile(join(pkg, "browser.mjs"), ASSET_ENTRY);
  return dir;
}

/** One page load in a fresh context: `{ firstToken, responses: [{ path, encoded, raw }] }`. */
async function loadPage(browser, url, network) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    if (network.conditions) {
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", network.conditions);
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: network.cpuSlowdown });
    }
    const origin = new URL(url).origin;
    const sized = [];
    page.on("requestfinished", (req) => {
      if (!req.url().startsWith(origin)) return;
      sized.push(
        (async () => {
          const [sizes, response] = await Promise.all([req.sizes(), req.response()]);
          const body = await response.body();
          return { path: new URL(req.url()).pathname, encoded: sizes.responseBodySize + sizes.responseHeadersSize, raw: body.length };
        })(),
      );
    });
    await page.goto(url, { timeout: 60_000 });
    const result = await (await page.waitForFunction(() => window.__result, null, { timeout: 60_000 })).jsonValue();
    if (result.error) throw new Error(`the page failed: ${result.error}`);
    await page.waitForLoadState("networkidle");
    return { firstToken: result.firstToken, responses: await Promise.all(sized) };
  } finally {
    await context.close();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const kb = (n) => (n / 1024).toFixed(1);

const [mock, browser] = await Promise.all([startMockServer({ port: 0 }), launchChromium()]);
const chromium = browser.version();
const cells = [];
const servers = [];
try {
  for (const tool of TOOLS) {
    for (const variant of VARIANTS) {
      const dir = await benchProject(tool, variant);
      const started = Date.now();
      await tool.build(dir, variant);
      const buildMs = Date.now() - started;
      const dist = join(dir, tool.dist);
      const files = [];
      for (const path of await listFiles(dist)) {
        const bytes = await readFile(join(dist, path));
        files.push({ path, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
      }
      const server = await serveStatic(join(dir, tool.serve), { gzip: true });
      servers.push(server);
      cells.push({
        tool: tool.name,
        version: await tool.version(),
        variant,
        buildMs,
        files,
        wasmCopies: await wasmCopies(dist),
        url: server.url + pageQuery(mock, credentialsFor("bench-bundles")),
        samples: Object.fromEntries(NETWORKS.map((n) => [n.name, []])),
      });
      console.error(`built ${tool.name} (${variant}) in ${buildMs} ms`);
    }
  }
  // Runs interleaved (every cell once per round) so that the shared machine's load
  // drifts over all of them alike.
  for (const network of NETWORKS) {
    for (let run = 0; run < RUNS; run++) {
      for (const cell of cells) {
        const { firstToken, responses } = await loadPage(browser, cell.url, network);
        cell.samples[network.name].push(firstToken);
        if (network.name === "local" && run === 0) cell.responses = responses;
      }
    }
    console.error(`measured ${network.name}`);
  }
} finally {
  for (const server of servers) await server.close();
  await browser.close();
  await mock.close();
}

for (const cell of cells) {
  cell.transfer = {
    requests: cell.responses.length,
    encoded: cell.responses.reduce((s, r) => s + r.encoded, 0),
    raw: cell.responses.reduce((s, r) => s + r.raw, 0),
  };
  cell.firstToken = Object.fromEntries(Object.entries(cell.samples).map(([n, xs]) => [n, Math.round(median(xs))]));
  delete cell.url;
}

const header = ["tool", "variant", "requests", "transfer KiB (gzip)", "raw KiB", "wasm copies", ...NETWORKS.map((n) => `first token ms, ${n.name}`)];
const rows = cells.map((c) => [
  `${c.tool} ${c.version}`,
  c.variant,
  String(c.transfer.requests),
  kb(c.transfer.encoded),
  kb(c.transfer.raw),
  c.wasmCopies.join(" + ") || "none",
  ...NETWORKS.map((n) => String(c.firstToken[n.name])),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((v, i) => v.padEnd(widths[i])).join("  ");
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log(`\nmedians of ${RUNS} runs; ${NETWORKS.map((n) => `${n.name}: ${n.label}`).join("; ")}`);
console.log("transfer: every response from the page's server (gzip -9 bodies + headers); the mock's token request not counted");

const out = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavg: loadavg() },
  chromium,
  runs: RUNS,
  networks: NETWORKS,
  cells,
};
await writeFile(join(ROOT, "bench", "bundles.json"), JSON.stringify(out, null, 2) + "\n");
