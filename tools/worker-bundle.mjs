// A Cloudflare worker bundled the way wrangler bundles one, for miniflare/workerd. One
// definition for every place that runs the package in workerd: tools/demo.mjs (the demo's
// worker proxy, tests/worker, tests/demo), tests/package/workerd.test.mjs, tests/fleet and
// bench/run.mjs.
import { copyFile, mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** esbuild options of wrangler's worker bundle (entry and output are the caller's). */
const WRANGLER_OPTIONS = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  // The export conditions wrangler resolves packages with: "workerd" picks cedato-auth's
  // workerd entry.
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["browser", "module", "main"],
  external: ["cloudflare:*"],
  logLevel: "silent",
};

/**
 * What wrangler does with `.wasm` imports: each imported file is copied into `outdir` and
 * the import kept as `./<file>.wasm`, external, so it is a module of its own next to the
 * bundle, which miniflare loads as a CompiledWasm module (a `modulesRules` entry of type
 * "CompiledWasm" for the `.wasm` files).
 */
const wasmModules = (outdir) => ({
  name: "wasm-modules",
  setup(build) {
    build.onResolve({ filter: /\.wasm$/ }, async (args) => {
      const source = join(args.resolveDir, args.path);
      await mkdir(outdir, { recursive: true });
      await copyFile(source, join(outdir, basename(source)));
      return { path: `./${basename(source)}`, external: true };
    });
  },
});

/**
 * Bundles a worker like wrangler does (esbuild from this repository's node_modules).
 * `options` are esbuild build options added to wrangler's: `entryPoints` and either
 * `outfile` or `outdir` (the `.wasm` modules are copied into `outdir`, or the folder of
 * `outfile`), and whatever else the caller needs (`metafile`, `nodePaths`, `outExtension`).
 * Resolves esbuild's build result (`result.metafile` when `metafile: true`).
 */
export async function buildWorker(options) {
  const esbuild = await import("esbuild");
  const outdir = options.outdir ?? dirname(options.outfile);
  return esbuild.build({ ...WRANGLER_OPTIONS, plugins: [wasmModules(outdir)], ...options });
}

/**
 * The Miniflare worker options that load a bundle of `buildWorker` (bindings, ports and
 * the rest are the caller's): ES modules named relative to the bundle's folder, and its
 * `.wasm` files as CompiledWasm modules.
 */
export function workerModules(scriptPath) {
  return {
    scriptPath,
    modules: true,
    modulesRoot: dirname(scriptPath),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-05-03",
  };
}
