// A shared store grants nothing the credentials don't (issue "sealed stored tokens"),
// in Node: two tenants share one real redis-server; an instance with a tenant's clientId
// and a wrong secret never gets that tenant's token; a reader of Redis gets nothing
// usable; values that do not open (altered, plain, another tenant's, the old v1 form)
// are misses with a `store` event `invalid`, one token request each and no storm; and a
// polluted Object.prototype changes nothing. The same in workerd over Workers KV:
// stores-workerd.test.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "redis";
import { CedatoAuth } from "../../pkg/node.mjs";
import { redisTokenStore } from "../../pkg/stores/redis.mjs";
import { startRedis } from "../fleet/setup.mjs";
import { TEST_TIMEOUT, VISIBLE_ASCII, rejectsWith, suiteMock } from "../js/helpers.mjs";
import { credentials } from "../support/common.mjs";
import { open, seal, storeKeyOf } from "../support/sealed.mjs";

const mock = suiteMock();
const T = { timeout: TEST_TIMEOUT };

let redisServer;
let admin;
const clients = [];

before(async () => {
  redisServer = await startRedis();
  admin = createClient({ url: redisServer.url });
  await admin.connect();
});

after(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => {})));
  await admin?.quit().catch(() => {});
  await redisServer?.stop();
});

/** An instance (another process of a tenant) on the shared Redis: `{ auth, events }`. */
async function member(creds, options = {}) {
  const client = createClient({ url: redisServer.url });
  await client.connect();
  clients.push(client);
  const events = [];
  const auth = new CedatoAuth({
    ...creds,
    baseUrl: mock().baseUrl,
    timeoutMs: 3000,
    maxRetries: 0,
    tokenStore: redisTokenStore(client, { pollMs: 10 }),
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { auth, events, storeEvents: () => events.filter((e) => e.type === "store").map((e) => `${e.op} ${e.outcome}`) };
}

const stats = (creds) => mock().client(creds.clientId).stats();
const settle = (promise) => promise.then((token) => ({ token }), (error) => ({ error }));
const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));
/** A sealed value with one base64url character changed. */
const flip = (value) => ({ ...value, sealed: value.sealed.slice(0, 30) + (value.sealed[30] === "A" ? "B" : "A") + value.sealed.slice(31) });

/** Every key and value in Redis, as text. */
async function redisDump() {
  const keys = await admin.keys("*");
  const values = await Promise.all(keys.map((k) => admin.get(k)));
  return keys.map((k, i) => [k, values[i]]);
}

test("multi-tenant Redis: a wrong secret never gets the tenant's token; it makes its own token request instead", T, async () => {
  const a = credentials("sec-store-a");
  const b = credentials("sec-store-b");
  const intruderCreds = { clientId: a.clientId, clientSecret: `${a.clientId}-guess` };
  const [a1, a2, b1] = await Promise.all([member(a), member(a), member(b)]);
  const tokenA = await a1.auth.getToken();
  assert.equal(await a2.auth.getToken(), tokenA, "a tenant's processes share its token");
  const tokenB = await b1.auth.getToken();
  assert.notEqual(tokenB, tokenA);
  assert.deepEqual([(await stats(a)).tokensIssued, (await stats(b)).tokensIssued], [1, 1]);

  // Tenant B's code (or anyone) with tenant A's clientId and a guessed secret.
  const intruder = await member(intruderCreds);
  const got = await settle(intruder.auth.getToken());
  assert.equal(got.token, undefined, "the intruder got no token");
  assert.equal(got.error?.code, "token_rejected", "it asked the endpoint itself, which refused the secret");
  await tick();
  assert.deepEqual(intruder.storeEvents(), ["get miss", "release written"], "its own key: nothing stored there");
  assert.equal((await stats(a)).tokenRequests, 2, "A's one request and the intruder's own");
  assert.equal((await stats(a)).tokensIssued, 1);

  // Even A's stored value copied under the intruder's key does not open for it.
  const keyA = storeKeyOf(a, mock().baseUrl);
  const keyIntruder = storeKeyOf(intruderCreds, mock().baseUrl);
  assert.notEqual(keyIntruder, keyA);
  await admin.set(keyIntruder, await admin.get(keyA), { PX: 60_000 });
  intruder.events.length = 0;
  const again = await settle(intruder.auth.getToken());
  assert.equal(again.token, undefined);
  assert.equal(again.error?.code, "token_rejected");
  assert.equal(intruder.storeEvents()[0], "get invalid");
  await admin.del(keyIntruder);
});

test("a reader of Redis gets nothing usable: no token, no secret, only sealed values and their times", T, async () => {
  const a = credentials("sec-reader-a");
  const b = credentials("sec-reader-b");
  const [a1, b1] = await Promise.all([member(a), member(b)]);
  const tokens = [await a1.auth.getToken(), await b1.auth.getToken()];
  await tick();
  const dump = await redisDump();
  const text = JSON.stringify(dump);
  for (const secret of [...tokens, a.clientSecret, b.clientSecret, Buffer.from(`${a.clientId}:${a.clientSecret}`).toString("base64")]) {
    assert.ok(!text.includes(secret), `Redis holds ${secret}`);
  }
  for (const creds of [a, b]) {
    const value = JSON.parse(await admin.get(storeKeyOf(creds, mock().baseUrl)));
    assert.deepEqual(Object.keys(value), ["sealed", "expiresAt", "refreshAt"]);
    assert.ok(value.refreshAt < value.expiresAt && value.expiresAt > Date.now());
    // Only the credentials open it (tests/support/sealed.mjs, from the documented form).
    assert.match(open(creds, mock().baseUrl, value).accessToken, VISIBLE_ASCII);
    assert.throws(() => open({ ...creds, clientSecret: "a-guess" }, mock().baseUrl, value));
  }
});

test("values that do not open are misses with a store event 'invalid': one token request each, then replaced", T, async () => {
  const a = credentials("sec-invalid");
  const other = credentials("sec-invalid-other");
  const key = storeKeyOf(a, mock().baseUrl);
  const now = Date.now();
  const token = { accessToken: "planted-token", expiresAt: now + 3_600_000, refreshAt: now + 3_540_000 };
  const good = seal(a, mock().baseUrl, token);
  const planted = {
    altered: flip(good),
    "times moved": { ...good, refreshAt: good.refreshAt + 60_000 },
    "another tenant's, moved under this key": seal(other, mock().baseUrl, token),
    "plain (the v1 form under the v2 key)": { accessToken: "planted-token", tokenType: "bearer", expiresAt: token.expiresAt, expiresIn: 3600, refreshAt: token.refreshAt },
  };
  let requests = 0;
  for (const [name, value] of Object.entries(planted)) {
    await admin.set(key, JSON.stringify(value), { PX: 60_000 });
    const m = await member(a);
    const got = await m.auth.getToken();
    assert.notEqual(got, "planted-token", name);
    assert.equal((await stats(a)).tokenRequests, ++requests, `${name}: one token request`);
    await tick();
    assert.deepEqual(m.storeEvents(), ["get invalid", "set written"], name);
    assert.equal(open(a, mock().baseUrl, JSON.parse(await admin.get(key))).accessToken, got, `${name}: replaced`);
  }
  // An entry of the old v1 format under its v1 key is never read.
  await admin.del(key);
  await admin.set(`cedato-auth:v1:${mock().baseUrl}:${a.clientId}`, JSON.stringify({ accessToken: "v1-token", tokenType: "bearer", expiresAt: now + 3_600_000 }));
  const m = await member(a);
  assert.notEqual(await m.auth.getToken(), "v1-token");
  assert.equal(m.storeEvents()[0], "get miss");
  assert.equal((await stats(a)).tokenRequests, ++requests);
  // The untouched value opens.
  await admin.set(key, JSON.stringify(good), { PX: 60_000 });
  assert.equal(await (await member(a)).auth.getToken(), "planted-token");
  assert.equal((await stats(a)).tokenRequests, requests);
});

test("an altered value makes no request storm: each process asks once, then the fleet shares again", T, async (t) => {
  const a = credentials("sec-storm");
  const key = storeKeyOf(a, mock().baseUrl);
  const now = Date.now();
  const good = seal(a, mock().baseUrl, { accessToken: "x-token", expiresAt: now + 3_600_000, refreshAt: now + 3_540_000 });
  await admin.set(key, JSON.stringify(flip(good)), { PX: 60_000 });
  const first = await Promise.all(Array.from({ length: 6 }, () => member(a)));
  // Each process calls 20 times at once: single flight inside each, at most one request per process.
  const results = await Promise.all(first.flatMap((m) => Array.from({ length: 20 }, () => m.auth.getToken())));
  assert.ok(results.every((t) => VISIBLE_ASCII.test(t) && t !== "x-token"));
  const afterBurst = (await stats(a)).tokenRequests;
  t.diagnostic(`an altered value read by 6 processes x 20 callers at once -> ${afterBurst} token request(s)`);
  assert.ok(afterBurst >= 1 && afterBurst <= 6, `${afterBurst} token requests for 6 processes`);
  await tick();
  const later = await Promise.all(Array.from({ length: 6 }, () => member(a)));
  const shared = new Set(await Promise.all(later.map((m) => m.auth.getToken())));
  assert.equal(shared.size, 1, "the replaced value is shared");
  assert.equal((await stats(a)).tokenRequests, afterBurst, "no more token requests");
});

test("a polluted Object.prototype changes nothing: stored values are read as own properties", T, async () => {
  const a = credentials("sec-proto");
  const fields = { failure: "token_rejected", message: "polluted", sealed: "polluted", expiresAt: 9e15, refreshAt: 9e15, accessToken: "polluted-token" };
  // A store of plain objects (what a custom store may hand back), and the shipped Redis store.
  const map = new Map();
  const plain = { get: async (k) => map.get(k) ?? {}, set: async (k, v) => void map.set(k, { ...v }) };
  for (const [name, value] of Object.entries(fields)) Object.prototype[name] = value;
  try {
    for (const [label, options] of [["a store of plain objects", { tokenStore: plain }], ["the Redis store", {}]]) {
      const m = await member(a, options);
      const token = await m.auth.getToken();
      assert.match(token, VISIBLE_ASCII, label);
      assert.notEqual(token, "polluted-token", label);
      assert.ok(!m.storeEvents().includes("get failure"), `${label}: ${m.storeEvents()}`);
      // A second instance takes the stored token (the stores read their own fields too).
      const other = await member(a, options);
      assert.equal(await other.auth.getToken(), token, label);
    }
  } finally {
    for (const name of Object.keys(fields)) delete Object.prototype[name];
  }
});

test("the error a wrong secret gets names neither the tenant's token nor the guessed secret", T, async () => {
  const a = credentials("sec-intruder-error");
  const holder = await member(a);
  const token = await holder.auth.getToken();
  const intruder = await member({ clientId: a.clientId, clientSecret: `${a.clientId}-guess` });
  const err = await rejectsWith(intruder.auth.getToken(), { code: "token_rejected" });
  assert.ok(!`${err.message} ${err.stack}`.includes(token));
  assert.ok(!`${err.message} ${err.stack}`.includes(`${a.clientId}-guess`));
});
