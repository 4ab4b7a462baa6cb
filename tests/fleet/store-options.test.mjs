// What a shipped store throws for a bad argument: a CedatoError like the constructor's
// (`name` "CedatoError", `code` "invalid_config", `retryable` false) that is also a
// TypeError; `invalid_request` for a value handed to set() that is not CedatoAuth's. Redis
// in Node (the ES module and the CommonJS build), KV and the Durable Object store in workerd.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { Miniflare } from "miniflare";
import { bundleWorker, makeProject, PKG_DIR, workerOptions } from "./setup.mjs";

let CedatoAuth;
let esm;
let cjs;
let mf;

before(async () => {
  ({ CedatoAuth } = await import(pathToFileURL(join(PKG_DIR, "node.mjs")).href));
  esm = await import(pathToFileURL(join(PKG_DIR, "stores", "redis.mjs")).href);
  cjs = createRequire(import.meta.url)(join(PKG_DIR, "stores", "redis.cjs"));
});

after(async () => {
  await mf?.dispose();
});

/** The fields a caller tells errors apart by. */
const shapeOf = (e) => ({ name: e.name, code: e.code, retryable: e.retryable, isTypeError: e instanceof TypeError, isError: e instanceof Error });

/** The constructor's own invalid_config error, which the stores' match. */
function constructorError() {
  try {
    new CedatoAuth({ clientId: "", clientSecret: "" });
  } catch (e) {
    return e;
  }
  assert.fail("the constructor accepted an empty clientId");
}

const CONFIG = { name: "CedatoError", code: "invalid_config", retryable: false, isTypeError: true, isError: true };
const REQUEST = { ...CONFIG, code: "invalid_request" };

test("store options: the constructor's error has the name, code and retryable the stores use", () => {
  const e = constructorError();
  assert.deepEqual({ name: e.name, code: e.code, retryable: e.retryable }, { name: CONFIG.name, code: CONFIG.code, retryable: CONFIG.retryable });
});

test("store options: redisTokenStore throws invalid_config CedatoErrors (ES module and CommonJS)", async () => {
  const client = { isOpen: true, get: async () => null, set: async () => null, del: async () => 0, eval: async () => null };
  for (const [build, { redisTokenStore }] of [["esm", esm], ["cjs", cjs]]) {
    assert.doesNotThrow(() => redisTokenStore(client, { prefix: "p:", lockMs: 100, pollMs: 10, maxWaitMs: 50, clientStyle: "node-redis" }));
    const bad = {
      "no client": [undefined, {}, /pass a connected Redis client/],
      "a client without set": [{ get() {} }, {}, /pass a connected Redis client/],
      "lockMs 0": [client, { lockMs: 0 }, /lockMs must be a positive number of ms/],
      'pollMs "50"': [client, { pollMs: "50" }, /pollMs must be a positive number of ms/],
      "maxWaitMs NaN": [client, { maxWaitMs: Number.NaN }, /maxWaitMs must be a positive number of ms/],
      "clientStyle redis-py": [client, { clientStyle: "redis-py" }, /clientStyle must be/],
      "prefix 7": [client, { prefix: 7 }, /prefix must be a string/],
      "refreshSkewSeconds -1": [client, { refreshSkewSeconds: -1 }, /refreshSkewSeconds must be a number >= 0/],
    };
    for (const [name, [c, options, message]] of Object.entries(bad)) {
      let thrown;
      assert.throws(() => redisTokenStore(c, options), (e) => ((thrown = e), true), `${build}: ${name}`);
      assert.deepEqual(shapeOf(thrown), CONFIG, `${build}: ${name}`);
      assert.match(thrown.message, message, `${build}: ${name}`);
      assert.match(thrown.message, /^redisTokenStore: /, `${build}: ${name}`);
    }
    const store = redisTokenStore(client);
    let rejected;
    await assert.rejects(store.set("k", { sealed: "x" }, 60), (e) => ((rejected = e), true));
    assert.deepEqual(shapeOf(rejected), REQUEST, `${build}: set() with a value that is not CedatoAuth's`);
  }
});

test("store options: the Workers stores throw the same errors in workerd", { timeout: 60_000 }, async () => {
  const dir = await makeProject("options", ["options-worker.mjs"]);
  mf = new Miniflare(workerOptions(await bundleWorker(dir, "options-worker.mjs"), {}));
  const answers = await (await mf.dispatchFetch("http://options.test/")).json();
  const expected = {
    "kv: good options": "no error",
    "kv: no binding": CONFIG,
    "kv: a prefix that is no string": CONFIG,
    "kv: a negative refreshSkewSeconds": CONFIG,
    "kv: set() with a value that is not CedatoAuth's": REQUEST,
    "durable-object: good options": "no error",
    "durable-object: no binding": CONFIG,
    "durable-object: an empty name": CONFIG,
  };
  assert.deepEqual(Object.keys(answers), Object.keys(expected));
  for (const [name, want] of Object.entries(expected)) {
    const got = answers[name];
    if (want === "no error") {
      assert.equal(got, want, name);
      continue;
    }
    const { message, ...shape } = got;
    assert.deepEqual(shape, want, name);
    assert.match(message, name.startsWith("kv") ? /^kvTokenStore: / : /^durableObjectTokenStore: /, name);
  }
});
