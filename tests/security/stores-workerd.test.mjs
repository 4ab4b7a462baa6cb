// The cases of stores.test.mjs in workerd (miniflare), over one Workers KV namespace that
// three workers share: tenant A, tenant B, and an intruder with A's clientId and a wrong
// secret. The intruder never gets A's token; KV holds nothing usable; values that do not
// open are misses with a `store` event `invalid`; a polluted Object.prototype changes
// nothing. A CedatoAuth with a tokenStore is also made at module scope, where workerd
// allows no cryptography: keys are derived at the first store use.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { buildWorker, workerModules } from "../../tools/worker-bundle.mjs";
import { startMock } from "../js/helpers.mjs";
import { credentials } from "../support/common.mjs";
import { open, seal, storeKeyOf } from "../support/sealed.mjs";

const PKG = fileURLToPath(new URL("../../pkg/", import.meta.url));
const T = { timeout: 30_000 };
const PREFIX = "sec:";

// One fresh CedatoAuth per request (another isolate of the fleet, as far as the store is
// concerned), its store events, and its token or error.
const WORKER = `
import { CedatoAuth } from "cedato-auth";
import { kvTokenStore } from "cedato-auth/stores/kv";

// Module scope: no I/O, no timers, no cryptography allowed here.
const early = new CedatoAuth({ clientId: "t-early", clientSecret: "t-early-secret", tokenStore: { get: async () => null, set: async () => {} } });

const json = (value) => new Response(JSON.stringify(value), { headers: { "content-type": "application/json" } });

async function attempt(env, tokenStore) {
  const events = [];
  const auth = new CedatoAuth({
    clientId: env.CLIENT_ID,
    clientSecret: env.CLIENT_SECRET,
    baseUrl: env.BASE_URL,
    maxRetries: 0,
    tokenStore,
    onEvent: (e) => e.type === "store" && events.push(e.op + " " + e.outcome),
  });
  const result = await auth.getToken().then((token) => ({ token }), (e) => ({ error: { code: e.code, message: e.message } }));
  // The background write (or release) reports its event a moment later.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { ...result, events };
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/early") return json({ hasValidToken: early.hasValidToken });
    const store = kvTokenStore(env.TOKENS, { prefix: "${PREFIX}" });
    if (path === "/token") return json(await attempt(env, store));
    if (path === "/polluted") {
      const fields = { failure: "token_rejected", message: "polluted", sealed: "polluted", expiresAt: 9e15, refreshAt: 9e15 };
      for (const [name, value] of Object.entries(fields)) Object.prototype[name] = value;
      try {
        const plain = { get: async () => ({}), set: async () => {} };
        return json({ plain: await attempt(env, plain), kv: await attempt(env, store) });
      } finally {
        for (const name of Object.keys(fields)) delete Object.prototype[name];
      }
    }
    return new Response("not found", { status: 404 });
  },
};
`;

const a = credentials("sec-kv-a");
const b = credentials("sec-kv-b");
const intruderCreds = { clientId: a.clientId, clientSecret: `${a.clientId}-guess` };
let mock;
let mf;
let dir;
let kv;

before(async () => {
  mock = await startMock();
  dir = await mkdtemp(join(tmpdir(), "cedato-sec-kv-"));
  const modules = join(dir, "modules");
  await mkdir(modules);
  await symlink(PKG, join(modules, "cedato-auth"), "dir");
  await writeFile(join(dir, "worker.mjs"), WORKER);
  const outfile = join(dir, "dist", "worker.mjs");
  await buildWorker({ entryPoints: [join(dir, "worker.mjs")], outfile, nodePaths: [modules] });
  const worker = (name, creds) => ({
    ...workerModules(outfile),
    name,
    bindings: { BASE_URL: mock.baseUrl, CLIENT_ID: creds.clientId, CLIENT_SECRET: creds.clientSecret },
    kvNamespaces: { TOKENS: "shared-tokens" },
  });
  mf = new Miniflare({ workers: [worker("a", a), worker("b", b), worker("intruder", intruderCreds)] });
  await mf.ready;
  kv = await mf.getKVNamespace("TOKENS", "a");
}, { timeout: 90_000 });

after(async () => {
  await mf?.dispose().catch(() => {});
  await mock?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The JSON answer of `path` on worker `name`. */
async function call(name, path = "/token") {
  const res = await (await mf.getWorker(name)).fetch(`http://worker.test${path}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

const keyOf = (creds) => PREFIX + storeKeyOf(creds, mock.baseUrl);
const stats = (creds) => mock.client(creds.clientId).stats();

test("workerd: a CedatoAuth with a tokenStore made at module scope loads (no cryptography there)", T, async () => {
  assert.deepEqual(await call("a", "/early"), { hasValidToken: false });
});

test("workerd, multi-tenant KV: a wrong secret never gets the tenant's token; it makes its own token request", T, async () => {
  const first = await call("a");
  assert.deepEqual(first.events, ["get miss", "set written"]);
  const again = await call("a");
  assert.equal(again.token, first.token, "tenant A's isolates share its token");
  assert.deepEqual(again.events, ["get hit"]);
  const other = await call("b");
  assert.notEqual(other.token, first.token);

  const intruder = await call("intruder");
  assert.equal(intruder.token, undefined, "the intruder got no token");
  assert.equal(intruder.error.code, "token_rejected");
  assert.deepEqual(intruder.events, ["get miss", "release written"], "its own key: nothing stored there");
  assert.deepEqual([(await stats(a)).tokenRequests, (await stats(a)).tokensIssued], [2, 1]);

  // A's value copied under the intruder's key does not open for it.
  await kv.put(keyOf(intruderCreds), await kv.get(keyOf(a), "text"));
  const copied = await call("intruder");
  assert.equal(copied.token, undefined);
  assert.equal(copied.error.code, "token_rejected");
  assert.deepEqual(copied.events, ["get invalid", "release written"]);
  await kv.delete(keyOf(intruderCreds));
});

test("workerd: a reader of KV gets nothing usable", T, async () => {
  const tokens = [(await call("a")).token, (await call("b")).token];
  const { keys } = await kv.list();
  const entries = await Promise.all(keys.map(async ({ name }) => [name, await kv.get(name, "text")]));
  assert.ok(entries.length >= 2);
  const text = JSON.stringify(entries);
  for (const secret of [...tokens, a.clientSecret, b.clientSecret]) assert.ok(!text.includes(secret), `KV holds ${secret}`);
  for (const [, value] of entries) assert.deepEqual(Object.keys(JSON.parse(value)), ["sealed", "expiresAt", "refreshAt"]);
  assert.equal(open(a, mock.baseUrl, JSON.parse(await kv.get(keyOf(a), "text"))).accessToken, tokens[0]);
});

test("workerd: altered, foreign and plain values are misses with a store event 'invalid', then replaced", T, async () => {
  const now = Date.now();
  const token = { accessToken: "planted-token", expiresAt: now + 3_600_000, refreshAt: now + 3_540_000 };
  const good = seal(a, mock.baseUrl, token);
  const planted = {
    altered: { ...good, sealed: good.sealed.slice(0, 30) + (good.sealed[30] === "A" ? "B" : "A") + good.sealed.slice(31) },
    "tenant B's": seal(b, mock.baseUrl, token),
    plain: { accessToken: "planted-token", tokenType: "bearer", expiresAt: token.expiresAt, expiresIn: 3600, refreshAt: token.refreshAt },
  };
  for (const [name, value] of Object.entries(planted)) {
    await kv.put(keyOf(a), JSON.stringify(value));
    const before = (await stats(a)).tokenRequests;
    const got = await call("a");
    assert.notEqual(got.token, "planted-token", name);
    assert.deepEqual(got.events, ["get invalid", "set written"], name);
    assert.equal((await stats(a)).tokenRequests, before + 1, `${name}: one token request`);
    assert.equal(open(a, mock.baseUrl, JSON.parse(await kv.get(keyOf(a), "text"))).accessToken, got.token, `${name}: replaced`);
  }
  await kv.put(keyOf(a), JSON.stringify(good));
  assert.equal((await call("a")).token, "planted-token", "the untouched value opens in workerd too");
});

test("workerd: a polluted Object.prototype changes nothing", T, async () => {
  const { plain, kv: shipped } = await call("a", "/polluted");
  for (const [label, result] of [["a store of plain objects", plain], ["the KV store", shipped]]) {
    assert.equal(typeof result.token, "string", `${label}: ${JSON.stringify(result.error)}`);
    assert.ok(!result.events.includes("get failure"), `${label}: ${result.events}`);
  }
});
