// The packed tarball itself: every file the exports map (and main/module/types) names is
// in it, every relative import of a shipped module or declaration file points into it,
// README and LICENSE ship, and the types of "cedato-auth" and "cedato-auth/web" (and of
// every other subpath) resolve under tsc's "bundler" and "node16" module resolution.
import assert from "node:assert/strict";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { before, test } from "node:test";
import { makeProject, npmEnv, packTarball, PKG_DIR, PROJECTS_DIR, runOk, tsc } from "./setup.mjs";

/** Every file path the manifest names: `[{ where, target }]`, targets like "./x.mjs". */
export function manifestTargets(manifest) {
  const out = [];
  const walk = (value, where) => {
    if (typeof value === "string") out.push({ where, target: value });
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${where}[${i}]`));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, `${where}[${JSON.stringify(k)}]`);
  };
  walk(manifest.exports, "exports");
  for (const field of ["main", "module", "types", "typings", "browser"]) {
    if (typeof manifest[field] === "string") out.push({ where: field, target: manifest[field] });
  }
  return out;
}

/** The manifest's targets that are not among `files` (paths inside the tarball). */
export function missingFromTarball(manifest, files) {
  const have = new Set(files);
  return manifestTargets(manifest).filter(({ target }) => {
    if (target.includes("*")) {
      const re = new RegExp("^" + posix.normalize(target).replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".+") + "$");
      return !files.some((f) => re.test(f));
    }
    return !have.has(posix.normalize(target));
  });
}

/** Relative specifiers in a module or declaration file (static, dynamic, `require`, `new URL`). */
function relativeImports(text) {
  const specs = new Set();
  const patterns = [
    /\b(?:import|export)\s[^"';]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g,
    /\bimport\s*["'](\.{1,2}\/[^"']+)["']/g,
    /\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g,
    /\brequire\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g,
    /\bnew URL\(\s*["'](\.{1,2}\/[^"']+|[\w.-]+\.wasm)["']\s*,\s*import\.meta\.url\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.add(m[1]);
  return [...specs];
}

let packed;
let dir;
before(async () => {
  packed = await packTarball();
  dir = await makeProject("packaging", { fixture: "types" });
}, { timeout: 180_000 });

test("packaging: the checker reports a file of the exports map missing from the tarball", { timeout: 90_000 }, () => {
  const manifest = {
    exports: { ".": { types: "./index.d.ts", workerd: "./workerd.mjs", default: "./browser.mjs" }, "./web": "./web.js" },
    main: "./node.mjs",
  };
  const files = ["index.d.ts", "browser.mjs", "node.mjs", "web.js", "package.json"];
  assert.deepEqual(missingFromTarball(manifest, files), [{ where: 'exports["."]["workerd"]', target: "./workerd.mjs" }]);
  assert.deepEqual(missingFromTarball(manifest, [...files, "workerd.mjs"]), []);
});

test("packaging: every file the exports map, main, module and types name is in the tarball", { timeout: 90_000 }, () => {
  const { manifest, files } = packed;
  assert.equal(manifest.name, "cedato-auth");
  assert.ok(manifest.exports?.["."] && manifest.exports["./web"], "exports '.' and './web'");
  const targets = manifestTargets(manifest);
  assert.ok(targets.length >= 8, JSON.stringify(targets));
  assert.deepEqual(missingFromTarball(manifest, files), [], `tarball files: ${files.join(", ")}`);
});

test("packaging: each exports entry has its own types condition, placed first", { timeout: 90_000 }, () => {
  for (const [subpath, entry] of Object.entries(packed.manifest.exports)) {
    if (typeof entry === "string" || subpath === "./package.json") continue;
    assert.equal(Object.keys(entry)[0], "types", `exports[${JSON.stringify(subpath)}]: ${JSON.stringify(entry)}`);
  }
});

test("packaging: README.md, LICENSE and package.json ship; nothing from the build tree does", { timeout: 90_000 }, () => {
  for (const f of ["README.md", "LICENSE", "package.json"]) assert.ok(packed.files.includes(f), `${f} in ${packed.files}`);
  for (const f of packed.files) assert.doesNotMatch(f, /(^|\/)(node_modules|target|src|tests?)\//, f);
});

test("packaging: every relative import of a shipped file points into the tarball", { timeout: 90_000 }, async () => {
  const root = join(dir, "node_modules", "cedato-auth");
  const have = new Set(packed.files);
  const broken = [];
  const checked = [];
  for (const file of packed.files.filter((f) => /\.([cm]?js|d\.c?ts)$/.test(f))) {
    const text = await readFile(join(root, file), "utf8");
    for (const spec of relativeImports(text)) {
      checked.push(`${file}: ${spec}`);
      // A bundler's query (`?module`: the wasm as a WebAssembly.Module) names the same file.
      const target = posix.normalize(posix.join(posix.dirname(file), spec.replace(/\?[a-z]+$/, "")));
      // A declaration file's "./x.js" is the declaration "./x.d.ts" ("./x.cjs": "./x.d.cts").
      const candidates = /\.d\.c?ts$/.test(file) ? [target, target.replace(/\.([cm]?)js$/, ".d.$1ts")] : [target];
      if (!candidates.some((c) => have.has(c))) broken.push(`${file}: ${spec}`);
    }
  }
  assert.deepEqual(broken, []);
  // The scan sees what the entries load (so an empty scan cannot pass silently).
  for (const link of [
    "workerd.mjs: ./cedato_auth_bg.wasm",
    "edge-light.mjs: ./cedato_auth_bg.wasm?module",
    "node.mjs: ./node.cjs",
    "node.cjs: ./cedato_auth_inline.cjs",
    "node.cjs: ./cedato_auth.cjs",
    "browser.mjs: ./cedato_auth_inline.mjs",
    "web.mjs: ./cedato_auth_bg.wasm",
    "index.d.ts: ./cedato_auth.js",
    "index.d.cts: ./cedato_auth.cjs",
    "stores/redis.d.cts: ../index.cjs",
  ]) {
    assert.ok(checked.includes(link), `${link} not among ${checked.join("; ")}`);
  }
});

test("packaging: the README covers install, every runtime, the API, the errors and the security note", { timeout: 90_000 }, async () => {
  const readme = await readFile(join(dir, "node_modules", "cedato-auth", "README.md"), "utf8");
  for (const needle of [
    "npm install cedato-auth",
    'from "cedato-auth"',
    'from "cedato-auth/web"',
    "await init()",
    "cloudflare:workers",
    "Deno",
    "Vite",
    "esbuild",
    "getAuthorizationHeader",
    "hasValidToken",
    "RequestOptions",
  ]) {
    assert.ok(readme.includes(needle), `README mentions ${needle}`);
  }
  for (const code of ["invalid_config", "token_rejected", "rate_limited", "server_error", "network", "timeout", "invalid_response", "invalid_request", "http"]) {
    assert.match(readme, new RegExp(`^\\| \`${code}\` \\|`, "m"), `errors table row for ${code}`);
  }
  const prose = readme.replace(/^> ?/gm, "").replace(/\s+/g, " ");
  assert.ok(prose.includes("A client secret in a browser page is readable by anyone who can open that page."), "security note");
  assert.ok(prose.includes("In production keep the credentials in a worker or a server and call the API through it."), "security note");
});

for (const resolution of ["bundler", "node16"]) {
  test(`packaging: types of "cedato-auth" and "cedato-auth/web" resolve (${resolution})`, { timeout: 90_000 }, async () => {
    const r = await tsc(dir, ["resolve.ts"], resolution, ["--listFiles"]);
    assert.equal(r.code, 0, r.output);
    // Resolved to the declarations the exports map names, not to an untyped fallback.
    for (const subpath of [".", "./web"]) {
      // An ES module consumer's declarations (`types` may be split by `require`).
      const { types: named } = packed.manifest.exports[subpath];
      const types = (named.default ?? named).slice(2);
      assert.ok(r.output.includes(`node_modules/cedato-auth/${types}`), `${subpath} -> ${types} in:\n${r.output}`);
    }
  });

  test(`packaging: every typed subpath of the exports map compiles for a consumer (${resolution})`, { timeout: 90_000 }, async () => {
    const subpaths = Object.entries(packed.manifest.exports).filter(([k, v]) => k !== "./package.json" && v?.types);
    const source = subpaths
      .map(([k], i) => `import * as m${i} from ${JSON.stringify(posix.join("cedato-auth", k))};\nexport const used${i}: object = m${i};\n`)
      .join("");
    await writeFile(join(dir, `subpaths-${resolution}.ts`), source);
    const r = await tsc(dir, [`subpaths-${resolution}.ts`], resolution);
    assert.equal(r.code, 0, r.output);
  });
}

test("packaging: the checks catch a broken package (a copy of pkg/ without index.d.ts and workerd.mjs)", { timeout: 120_000 }, async () => {
  const work = join(PROJECTS_DIR, "packaging-broken");
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, "consumer"), { recursive: true });
  await cp(PKG_DIR, join(work, "pkg"), { recursive: true });
  await rm(join(work, "pkg", "index.d.ts"));
  await rm(join(work, "pkg", "workerd.mjs"));
  const r = await runOk("npm", ["pack", "--json", "--pack-destination", work], { cwd: join(work, "pkg"), env: npmEnv });
  const [result] = JSON.parse(r.stdout);
  const files = result.files.map((f) => f.path);
  const missing = missingFromTarball(packed.manifest, files).map((m) => m.target);
  assert.ok(missing.includes("./index.d.ts") && missing.includes("./workerd.mjs"), JSON.stringify(missing));

  // Installed, the "." types no longer resolve: strict tsc fails on the consumer.
  const consumer = join(work, "consumer");
  await writeFile(join(consumer, "package.json"), JSON.stringify({ name: "broken-consumer", private: true, type: "module" }));
  await runOk("npm", ["install", "--no-audit", "--no-fund", "--offline", join(work, result.filename)], { cwd: consumer, env: npmEnv });
  await cp(join(dir, "resolve.ts"), join(consumer, "resolve.ts"));
  for (const resolution of ["bundler", "node16"]) {
    const t = await tsc(consumer, ["resolve.ts"], resolution);
    assert.notEqual(t.code, 0, `${resolution}: tsc accepted the broken package`);
    assert.ok(t.errors.some((e) => e.file === "resolve.ts" && /"cedato-auth"|'cedato-auth'/.test(e.message)), `${resolution}:\n${t.output}`);
  }
  await rm(work, { recursive: true, force: true });
});
