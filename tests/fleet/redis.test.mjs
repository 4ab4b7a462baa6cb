// Redis: fleets of Node.js processes share one token through a private redis-server
// (started here on a free 127.0.0.1 port, no persistence, stopped at the end) and the
// `redis` (node-redis) client. The lock makes one process fetch; the others wait for it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { createClient } from "redis";
import { startMockServer } from "../mock/server.mjs";
import { open } from "../support/sealed.mjs";
import { credentials, makeProject, PKG_DIR, sleep, startRedis, storeKey } from "./setup.mjs";

let mock;
let redisServer;
let admin;
let dir;
let CedatoAuth;
let redisTokenStore;
const members = new Set();

before(async () => {
  [mock, redisServer, dir] = await Promise.all([
    startMockServer({ port: 0 }),
    startRedis(),
    makeProject("redis", ["redis-member.mjs", "clock-offset.mjs"]),
  ]);
  admin = createClient({ url: redisServer.url });
  admin.on("error", () => {});
  await admin.connect();
  ({ CedatoAuth } = await import(pathToFileURL(join(PKG_DIR, "node.mjs")).href));
  ({ redisTokenStore } = await import(pathToFileURL(join(PKG_DIR, "stores", "redis.mjs")).href));
});

after(async () => {
  for (const m of members) m.child.kill("SIGKILL");
  await Promise.all([...members].map((m) => m.exited));
  await admin?.quit().catch(() => {});
  await redisServer?.stop();
  await mock?.close();
});

/** Runs `fn` with a client connected to the private redis-server, and quits it after. */
async function withClient(fn) {
  const c = await createClient({ url: redisServer.url }).connect();
  try {
    return await fn(c);
  } finally {
    await c.quit();
  }
}

/**
 * A fleet member process (fixtures/redis-member.mjs): `{ child, pid, events, next(name),
 * exited }`, where next(name) resolves the first event of that name (past or future).
 */
function startMember(config, { clockOffsetMs = 0 } = {}) {
  // The member's wall clock, set clockOffsetMs away (fixtures/clock-offset.mjs).
  const clock = ["--import", pathToFileURL(join(dir, "clock-offset.mjs")).href];
  const child = spawn(process.execPath, [...clock, join(dir, "redis-member.mjs"), JSON.stringify(config)], {
    cwd: dir,
    env: { ...process.env, CLOCK_OFFSET_MS: String(clockOffsetMs) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const events = [];
  const waiters = [];
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  createInterface({ input: child.stdout }).on("line", (line) => {
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    events.push(event);
    for (const w of waiters.filter((w) => w.name === event.event)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(event);
    }
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const member = {
    child,
    pid: child.pid,
    events,
    exited,
    stderr: () => stderr,
    next(name) {
      const seen = events.find((e) => e.event === name);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ name, resolve });
        exited.then(({ code, signal }) => {
          // Lines are all read before "exit" is handled only if the stream ended first.
          setTimeout(() => reject(new Error(`member ${child.pid} exited (${code ?? signal}) before "${name}":\n${stderr}`)), 50);
        });
      });
    },
  };
  members.add(member);
  exited.then(() => members.delete(member));
  return member;
}

/** Starts `count` members and waits until all are connected to Redis. */
async function startFleet(count, config) {
  const fleet = Array.from({ length: count }, () => startMember(config));
  await Promise.all(fleet.map((m) => m.next("ready")));
  return fleet;
}

test("redis: 8 processes x 100 concurrent callers, cold, make exactly one token request", async (t) => {
  const creds = credentials("redis-a");
  const fleet = await startFleet(8, {
    redisUrl: redisServer.url,
    baseUrl: mock.baseUrl,
    clientId: creds.clientId,
    callers: 100,
    store: { lockMs: 5000, pollMs: 50 },
  });
  for (const m of fleet) m.child.stdin.write("go\n");
  const results = await Promise.all(fleet.map((m) => m.next("done")));
  const tokens = new Set(results.flatMap((r) => r.tokens));
  for (const r of results) {
    assert.deepEqual(r.failures, [], `pid ${r.pid}`);
    assert.equal(r.ok, 100);
  }
  assert.equal(tokens.size, 1, "all 800 callers got the same token");
  const stats = mock.client(creds.clientId).stats();
  const fetchers = fleet.filter((m) => m.events.some((e) => e.event === "token-request")).length;
  const slowest = Math.max(...results.map((r) => r.maxMs));
  t.diagnostic(
    `redis: 8 processes x 100 callers -> ${stats.tokenRequests} token request(s), ${tokens.size} distinct token, ` +
      `${fetchers} process(es) fetched, slowest caller ${slowest} ms`,
  );
  assert.equal(stats.tokenRequests, 1, JSON.stringify(stats));
  assert.equal(fetchers, 1);
  const stored = JSON.parse(await admin.get(storeKey(mock.baseUrl, creds)));
  assert.equal(open(creds, mock.baseUrl, stored).accessToken, [...tokens][0]);
  await Promise.all(fleet.map((m) => m.exited));
  assert.equal(await admin.get(`${storeKey(mock.baseUrl, creds)}:lock`), null, "the lock was released");
});

test("redis: the lock holder is killed mid-request; the others take over after lockMs", async (t) => {
  const creds = credentials("redis-b");
  const lockMs = 1500;
  // The first token request answers after 3 s: its process is killed before that.
  mock.client(creds.clientId).tokenScript([{ ok: true, delayMs: 3000 }]);
  const fleet = await startFleet(4, {
    redisUrl: redisServer.url,
    baseUrl: mock.baseUrl,
    clientId: creds.clientId,
    callers: 10,
    store: { lockMs, pollMs: 50 },
  });
  for (const m of fleet) m.child.stdin.write("go\n");
  const holder = await Promise.race(fleet.map((m) => m.next("token-request").then(() => m)));
  // Killed once its request is at the mock (which then holds it for 3 s).
  for (let i = 0; mock.client(creds.clientId).stats().tokenRequests === 0; i++) {
    assert.ok(i < 200, "the holder's token request reaches the mock");
    await sleep(10);
  }
  const lockKey = `${storeKey(mock.baseUrl, creds)}:lock`;
  assert.notEqual(await admin.get(lockKey), null, "the fetching process holds the lock");
  holder.child.kill("SIGKILL");
  const killed = await holder.exited;
  assert.equal(killed.signal, "SIGKILL");
  const survivors = fleet.filter((m) => m !== holder);
  const results = await Promise.all(survivors.map((m) => m.next("done")));
  const tokens = new Set(results.flatMap((r) => r.tokens));
  for (const r of results) {
    assert.deepEqual(r.failures, [], `pid ${r.pid}`);
    assert.equal(r.ok, 10);
  }
  assert.equal(tokens.size, 1, `the survivors share one token: ${JSON.stringify(results)}`);
  const slowest = Math.max(...results.map((r) => r.maxMs));
  const stats = mock.client(creds.clientId).stats();
  t.diagnostic(
    `redis: holder killed -> survivors got a token after at most ${slowest} ms (lockMs ${lockMs}); ` +
      `${stats.tokenRequests} token request(s) in total (the killed one included)`,
  );
  assert.ok(slowest < lockMs + 2500, `survivors waited ${slowest} ms`);
  assert.ok(slowest >= lockMs - 200, `survivors waited for the lock to expire (${slowest} ms)`);
  assert.equal(stats.tokenRequests, 2, JSON.stringify(stats));
  await Promise.all(survivors.map((m) => m.exited));
});

test("redis: after a revocation the stored token is replaced once, not by every process", async (t) => {
  const creds = credentials("redis-revoke");
  // A short timeoutMs (lockMs and maxWaitMs below it): CedatoAuth keeps a timer of
  // timeoutMs pending after each store call, which would hold this process that long.
  const options = { ...creds, baseUrl: mock.baseUrl, timeoutMs: 2000 };
  const storeOptions = { lockMs: 1000, maxWaitMs: 1500 };
  // Two instances with a store (and connection) each: two processes, as far as Redis knows.
  const clients = await Promise.all([0, 1].map(() => createClient({ url: redisServer.url }).connect()));
  try {
    const [a, b] = clients.map((c) => new CedatoAuth({ ...options, tokenStore: redisTokenStore(c, storeOptions) }));
    const first = await a.getToken();
    assert.equal(await b.getToken(), first);
    assert.equal(mock.client(creds.clientId).stats().tokenRequests, 1);
    mock.client(creds.clientId).revoke();
    // b meets the 401: drops the stored token, gets the lock, fetches and stores a new one.
    await b.request("reports/supplies/extended", { query: { limit: 1 } });
    // a meets the 401 with the old token: the stored token is no longer the one refused,
    // so a keeps it and retries with it.
    await a.request("reports/supplies/extended", { query: { limit: 1 } });
    const second = await a.getToken();
    assert.notEqual(second, first);
    assert.equal(await b.getToken(), second);
    const stats = mock.client(creds.clientId).stats();
    t.diagnostic(`redis: revoke, two processes meet the 401 -> ${stats.tokenRequests} token request(s) in total`);
    assert.equal(stats.tokenRequests, 2, JSON.stringify(stats));
    assert.equal(stats.apiUnauthorized, 2);
    a.free();
    b.free();
  } finally {
    await Promise.all(clients.map((c) => c.quit()));
  }
});

test("redis: while the API refuses every token for 2 s, 6 processes x 10 callers make at most 12 token requests", async (t) => {
  // Each process replaces a refused token once per unauthorizedCooldownMs (5 s); with no
  // cool-down (the behaviour before it) every refused call fetched a new token. The Redis
  // lock slows such a storm down; processes without a shared store show it whole.
  const storm = async (tag, options, store = undefined) => {
    const creds = credentials(tag);
    const client = mock.client(creds.clientId);
    const fleet = await startFleet(6, {
      redisUrl: redisServer.url,
      baseUrl: mock.baseUrl,
      clientId: creds.clientId,
      callers: 10,
      callMs: 2_000,
      options,
      store,
    });
    client.configure({ refuseTokensMs: 2_000 });
    for (const m of fleet) m.child.stdin.write("go\n");
    const results = await Promise.all(fleet.map((m) => m.next("done")));
    for (const r of results) assert.deepEqual(r.failures, [], `pid ${r.pid}`);
    const refused = results.reduce((n, r) => n + (r.statuses[401] ?? 0), 0);
    return { ...client.stats(), refused };
  };
  const runs = {
    "no cool-down, Redis store": await storm("storm-0-redis", { unauthorizedCooldownMs: 0 }),
    "no cool-down, no store": await storm("storm-0", { unauthorizedCooldownMs: 0 }, false),
    "5 s cool-down, Redis store": await storm("storm-5s-redis", {}),
    "5 s cool-down, no store": await storm("storm-5s", {}, false),
  };
  for (const [name, r] of Object.entries(runs)) {
    t.diagnostic(`401 storm, 6 processes x 10 callers, 2 s, ${name}: ${r.tokenRequests} token requests, ${r.apiUnauthorized} API 401s`);
  }
  for (const name of ["5 s cool-down, Redis store", "5 s cool-down, no store"]) {
    assert.ok(runs[name].tokenRequests <= 12, `${name}: ${JSON.stringify(runs[name])}`);
    assert.ok(runs[name].refused > 0, "the callers met the refusals");
  }
  const before = runs["no cool-down, no store"];
  assert.ok(before.tokenRequests > 12, `without a cool-down the storm is real: ${JSON.stringify(before)}`);
});

test("redis: members 10 min and 60 s apart serve no expired token, and make one token request per refresh window", async (t) => {
  // Issue 19: readers judged the writer's absolute times on their own clocks. A member
  // behind served the token after it expired (API 401s); one ahead refused a fresh one
  // and fetched its own. Now the time left is Redis's: the value and its PTTL together.
  const creds = credentials("redis-clocks");
  const client = mock.client(creds.clientId);
  const expiresIn = 10; // a 5 s refresh window (min(refreshSkewSeconds, expires_in / 2))
  const callMs = 20_000;
  client.configure({ expiresIn });
  const offsets = [-600_000, -60_000, 0, 60_000, 600_000];
  const config = {
    redisUrl: redisServer.url,
    baseUrl: mock.baseUrl,
    clientId: creds.clientId,
    callers: 2,
    callMs,
    pauseMs: 50,
    store: { lockMs: 3000, pollMs: 20 },
  };
  const fleet = offsets.map((clockOffsetMs) => startMember(config, { clockOffsetMs }));
  await Promise.all(fleet.map((m) => m.next("ready")));
  for (const m of fleet) m.child.stdin.write("go\n");
  const results = await Promise.all(fleet.map((m) => m.next("done")));
  const stats = client.stats();
  const ok = results.reduce((n, r) => n + (r.statuses[200] ?? 0), 0);
  const refused = results.reduce((n, r) => n + (r.statuses[401] ?? 0), 0);
  const windows = callMs / ((expiresIn / 2) * 1000);
  t.diagnostic(
    `redis, 5 members at ${offsets.map((o) => o / 1000).join("/")} s, ${expiresIn} s tokens, ${callMs / 1000} s ` +
      `(${windows} refresh windows): ${stats.tokenRequests} token requests, ${stats.apiUnauthorized} API 401s ` +
      `(expired tokens served), ${ok} calls answered 200, ${refused} callers saw a 401`,
  );
  for (const r of results) assert.deepEqual(r.failures, [], `pid ${r.pid}`);
  assert.ok(ok > 0);
  assert.equal(stats.apiUnauthorized, 0, "no expired token served");
  // At most one per refresh window for the fleet, two on the cold start.
  assert.ok(stats.tokenRequests <= windows + 2, JSON.stringify(stats));
  await Promise.all(fleet.map((m) => m.exited));
});

test("redis: ioredis-style clients (positional SET ... PX ms NX, EVAL numkeys) work too", async () => {
  await withClient(async (c) => {
    const calls = [];
    const send = (args) => (calls.push(args[0]), c.sendCommand(args.map(String)));
    // The shape of an ioredis client: positional arguments, a `status` string.
    const ioredisLike = {
      status: "ready",
      get: (key) => send(["GET", key]),
      set: (...args) => send(["SET", ...args]),
      del: (key) => send(["DEL", key]),
      eval: (script, keys, ...rest) => send(["EVAL", script, keys, ...rest]),
    };
    const store = redisTokenStore(ioredisLike, { prefix: "io:", lockMs: 3000 });
    const key = "cedato-auth:v2:http://127.0.0.1/api/:t-io:fingerprint";
    assert.equal(await store.get(key), null, "nothing stored: this caller gets the lock");
    const pttl = await c.pTTL(`io:${key}:lock`);
    assert.ok(pttl > 0 && pttl <= 3000, `lock with PX: ${pttl}`);
    const now = Date.now();
    const value = { sealed: "opaque-to-the-store", expiresAt: now + 3600_000, refreshAt: now + 3540_000 };
    await store.set(key, value, 3600);
    assert.equal(await c.exists(`io:${key}:lock`), 0, "set released the lock");
    const ttl = await c.pTTL(`io:${key}`);
    assert.ok(ttl > 3_530_000 && ttl <= 3_540_000, `kept until its refreshAt: ${ttl}`);
    // get hands CedatoAuth the value as it was stored, with the time it has left by
    // Redis's clock (the key's PTTL, read with it in one script, plus the refresh window).
    const { expiresInMs, ...got } = await store.get(key);
    assert.deepEqual(got, value);
    assert.ok(expiresInMs > 3_590_000 && expiresInMs <= 3_600_000, `time left by Redis: ${expiresInMs}`);
    await store.delete(key);
    assert.equal(await c.exists(`io:${key}`), 0);
    assert.ok(calls.includes("EVAL"), "compare-and-delete ran as a script");
  });
});

test("redis: without EVAL (scripting disabled) get reads with GET and judges the stored times on this clock", async () => {
  await withClient(async (c) => {
    const noScripts = {
      isOpen: true,
      get: (k) => c.get(k),
      set: (...args) => c.set(...args),
      del: (...args) => c.del(...args),
      eval: async () => {
        throw new Error("NOPERM this user has no permissions to run the 'eval' command");
      },
    };
    const store = redisTokenStore(noScripts);
    const key = "cedato-auth:v2:http://127.0.0.1/api/:t-noeval:fingerprint";
    const now = Date.now();
    const value = { sealed: "x", expiresAt: now + 3600_000, refreshAt: now + 3540_000 };
    await c.set(key, JSON.stringify(value), { PX: 60_000 });
    assert.deepEqual(await store.get(key), value, "as stored, without expiresInMs");
    const past = { sealed: "y", expiresAt: now + 30_000, refreshAt: now - 1 };
    await c.set(key, JSON.stringify(past), { PX: 60_000 });
    await c.set(`${key}:lock`, "someone-else", { PX: 60_000 });
    const waiter = redisTokenStore(noScripts, { maxWaitMs: 100, pollMs: 20 });
    assert.equal(await waiter.get(key), null, "past its refresh point by this clock: not handed out");
  });
});

test("redis: a waiter gives up after maxWaitMs when the lock is never released", async () => {
  await withClient(async (c) => {
    const key = "cedato-auth:v2:http://127.0.0.1/api/:t-stuck:fingerprint";
    await c.set(`${key}:lock`, "someone-else", { PX: 60_000 });
    const store = redisTokenStore(c, { maxWaitMs: 400, pollMs: 50 });
    const started = Date.now();
    assert.equal(await store.get(key), null);
    const waited = Date.now() - started;
    assert.ok(waited >= 300 && waited < 1000, `gave up after ${waited} ms`);
  });
});

// ------------------------------------------------------------ faults (in this process)

/** A CedatoAuth on a shared redisTokenStore over a client of its own; `close()` quits it. */
async function memberHere(creds, { store: storeOptions = {}, ...options } = {}) {
  const client = createClient({ url: redisServer.url });
  client.on("error", () => {});
  await client.connect();
  const tokenStore = redisTokenStore(client, { lockMs: 5000, pollMs: 20, ...storeOptions });
  const auth = new CedatoAuth({ ...creds, baseUrl: mock.baseUrl, tokenStore, ...options });
  return { auth, tokenStore, close: () => client.quit() };
}

const timedMs = async (fn) => {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
};

test("redis: after a failed token request the lock is released at once; the next call does not wait lockMs", async (t) => {
  const creds = credentials("redis-fail");
  const member = await memberHere(creds, { maxRetries: 0 });
  try {
    mock.client(creds.clientId).tokenScript([{ status: 503 }]);
    await assert.rejects(member.auth.getToken(), { code: "server_error" });
    const { ms } = await timedMs(() => member.auth.getToken());
    t.diagnostic(`the call after the failure took ${Math.round(ms)} ms (lockMs 5000)`);
    assert.ok(ms < 1500, `waited ${ms} ms for a lock nobody held any more`);
    assert.equal(mock.client(creds.clientId).stats().tokenRequests, 2);
  } finally {
    await member.close();
  }
});

test("redis: use-once tokens (expires_in 0) cost no wait for the lock", async (t) => {
  const creds = credentials("redis-once");
  mock.client(creds.clientId).configure({ expiresIn: 0 });
  const member = await memberHere(creds);
  try {
    const { ms } = await timedMs(async () => {
      for (let i = 0; i < 3; i++) await member.auth.getToken();
    });
    t.diagnostic(`3 use-once tokens in ${Math.round(ms)} ms (lockMs 5000)`);
    assert.ok(ms < 2000, `three calls took ${ms} ms`);
    assert.equal(mock.client(creds.clientId).stats().tokenRequests, 3);
  } finally {
    await member.close();
  }
});

test("redis: a fleet with refreshSkewSeconds 65 (above the default 60) still makes one token request per refresh", async (t) => {
  const creds = credentials("redis-skew");
  const key = storeKey(mock.baseUrl, creds);
  const members = [];
  try {
    const writer = await memberHere(creds, { refreshSkewSeconds: 65 });
    members.push(writer);
    const first = await writer.auth.getToken();
    await sleep(50); // the background write
    // Redis keeps the value until the fleet's refresh point, 65 s before expiry (PX:
    // Redis's clock, not a reader's), and no longer.
    const pttl = await admin.pTTL(key);
    assert.ok(pttl > 3_530_000 && pttl <= 3_535_000, `kept until the refresh point: ${pttl}`);
    // Redis's clock reaches that point (as 3535 s later): the key expires.
    await admin.pExpire(key, 1);
    await sleep(20);
    for (let i = 0; i < 5; i++) members.push(await memberHere(creds, { refreshSkewSeconds: 65 }));
    const tokens = await Promise.all(members.slice(1).map((m) => m.auth.getToken()));
    const requests = mock.client(creds.clientId).stats().tokenRequests;
    t.diagnostic(`5 instances at the refresh point -> ${requests - 1} token request(s)`);
    assert.equal(new Set(tokens).size, 1, "they share one new token");
    assert.notEqual(tokens[0], first);
    assert.equal(requests, 2, "one request for the fleet's refresh");
  } finally {
    await Promise.all(members.map((m) => m.close()));
  }
});

test("redis: the lock lives as long as a slow but healthy refresh (7 s endpoint, lockMs 3000): one token request", async (t) => {
  const creds = credentials("redis-slow");
  mock.client(creds.clientId).tokenScript([{ ok: true, delayMs: 7000 }]);
  const a = await memberHere(creds, { store: { lockMs: 3000, maxWaitMs: 9000 } });
  const b = await memberHere(creds, { store: { lockMs: 3000, maxWaitMs: 9000 } });
  try {
    const first = a.auth.getToken();
    await sleep(300); // a holds the lock and waits for the endpoint
    const [ta, tb] = await Promise.all([first, b.auth.getToken()]);
    const requests = mock.client(creds.clientId).stats().tokenRequests;
    t.diagnostic(`7 s refresh, lockMs 3000 -> ${requests} token request(s)`);
    assert.equal(ta, tb);
    assert.equal(requests, 1, "the lock was renewed while the request was in flight");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("redis: a 429 with Retry-After 6 (lockMs 5000) keeps the lock: no second process asks the endpoint meanwhile", async (t) => {
  const creds = credentials("redis-429");
  mock.client(creds.clientId).tokenScript([{ status: 429, headers: { "retry-after": "6" } }]);
  const a = await memberHere(creds, { store: { maxWaitMs: 9000 } });
  const b = await memberHere(creds, { store: { maxWaitMs: 9000 } });
  try {
    const first = a.auth.getToken();
    await sleep(300);
    const [ta, tb] = await Promise.all([first, b.auth.getToken()]);
    const requests = mock.client(creds.clientId).stats().tokenRequests;
    t.diagnostic(`429 + Retry-After 6 -> ${requests} token request(s) (the 429 included)`);
    assert.equal(ta, tb);
    assert.equal(requests, 2, "the 429 and the retry after it, by the lock holder only");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("redis: an app starts and gets tokens while Redis is down (connect() not awaited, errors handled)", async (t) => {
  const { freePort } = await import("../support/common.mjs");
  const creds = credentials("redis-down");
  // The README's setup for a Redis that may be down: handle "error", do not await connect.
  const client = createClient({ url: `redis://127.0.0.1:${await freePort()}`, socket: { reconnectStrategy: () => 200 } });
  client.on("error", () => {});
  client.connect().catch(() => {});
  const auth = new CedatoAuth({ ...creds, baseUrl: mock.baseUrl, timeoutMs: 1000, tokenStore: redisTokenStore(client) });
  try {
    const { ms, value } = await timedMs(() => auth.getToken());
    t.diagnostic(`cold getToken() with Redis down: ${Math.round(ms)} ms (timeoutMs 1000)`);
    assert.match(value, /^[\x21-\x7e]+$/);
    // The store read's timeoutMs, not also the write's (callers do not wait for it).
    assert.ok(ms < 1600, `took ${ms} ms`);
  } finally {
    await client.disconnect().catch(() => {});
  }
});

test("redis: the lock winner reads the token once more: one stored between its read and its lock is used", async () => {
  await withClient(async (c) => {
    const key = "cedato-auth:v2:http://127.0.0.1/api/:t-race:fingerprint";
    const value = { sealed: "stored-meanwhile", expiresAt: Date.now() + 3600_000, refreshAt: Date.now() + 3540_000 };
    let reads = 0;
    // node-redis, but the first read of the token key (the script that reads it with its
    // PTTL) misses while another holder stores the token right after it.
    const racing = {
      isOpen: true,
      set: (...args) => c.set(...args),
      del: (...args) => c.del(...args),
      get: (k) => c.get(k),
      eval: async (script, options) => {
        if (options.keys[0] === key && /pttl/.test(script) && reads++ === 0) {
          await c.set(key, JSON.stringify(value), { PX: 60_000 });
          return [null, -2];
        }
        return c.eval(script, options);
      },
    };
    const store = redisTokenStore(racing, { lockMs: 3000 });
    const got = await store.get(key);
    assert.equal(got?.sealed, "stored-meanwhile", "the value stored meanwhile, not a second token request");
    assert.equal(await c.exists(`${key}:lock`), 0, "the lock went back");
  });
});

test("redis: a get() CedatoAuth gave up on stops: it takes no lock when the other holder's goes", async () => {
  const creds = credentials("redis-abort");
  const key = storeKey(mock.baseUrl, creds);
  // A use-once token: nothing gets stored that the abandoned get() could find instead.
  mock.client(creds.clientId).configure({ expiresIn: 0 });
  await admin.set(`${key}:lock`, "someone-else", { PX: 10_000 });
  const member = await memberHere(creds, { timeoutMs: 300, store: { maxWaitMs: 9000 } });
  try {
    assert.match(await member.auth.getToken(), /^[\x21-\x7e]+$/, "the library gave up on the store and fetched");
    await admin.del(`${key}:lock`); // the other holder goes
    await sleep(300);
    assert.equal(await admin.exists(`${key}:lock`), 0, "the abandoned get() took no lock");
  } finally {
    await member.close();
  }
});

// ------------------------------------------------------------ waits end cleanly

test("redis: a process exits at once after its last call, though a call waited for its own token request", { timeout: 30_000 }, async (t) => {
  // get() takes the lock; a second get() in the same process waits for this process's
  // request (up to maxWaitMs, 20 s); set() ends that wait. Then the client quits: nothing
  // of the wait may keep the process alive.
  const script = `
    import { createClient } from "redis";
    import { redisTokenStore } from "cedato-auth/stores/redis";
    const [url, key] = process.argv.slice(1);
    const redis = await createClient({ url }).connect();
    const store = redisTokenStore(redis, { maxWaitMs: 20000 });
    if ((await store.get(key)) !== null) throw new Error("the first get() should take the lock");
    const waiting = store.get(key);
    await new Promise((resolve) => setTimeout(resolve, 200)); // it waits by now (it reads first)
    const now = Date.now();
    await store.set(key, { sealed: "own-request", expiresAt: now + 60000, refreshAt: now + 30000 });
    const got = await waiting;
    await redis.quit();
    process.stdout.write(JSON.stringify({ got: got?.sealed }));
  `;
  const key = `cedato-auth:v2:http://127.0.0.1/api/:t-exit-${process.pid}:fingerprint`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script, redisServer.url, key], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let answeredAt;
  child.stdout.on("data", (d) => {
    stdout += d;
    answeredAt ??= performance.now();
  });
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, at: performance.now() })));
  const outcome = await Promise.race([exited, sleep(10_000).then(() => null)]);
  if (outcome === null) child.kill("SIGKILL");
  assert.ok(outcome, `the process was still running 10 s after its last call (maxWaitMs 20000): ${stdout} ${stderr}`);
  assert.equal(outcome.code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { got: "own-request" }, "the waiting get() got the stored value");
  const lingered = outcome.at - answeredAt;
  t.diagnostic(`the process exited ${Math.round(lingered)} ms after its last call`);
  assert.ok(lingered < 2000, `the process lingered ${lingered} ms`);
  await admin.del(key);
});

test("redis: an abort ends a wait for this process's own request at once", async () => {
  const key = `cedato-auth:v2:http://127.0.0.1/api/:t-abort-own-${process.pid}:fingerprint`;
  await withClient(async (c) => {
    const store = redisTokenStore(c, { maxWaitMs: 5000 });
    assert.equal(await store.get(key), null, "the first get() takes the lock");
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    const { ms, value } = await timedMs(() => store.get(key, { signal: caller.signal }));
    assert.equal(value, null);
    assert.ok(ms >= 90 && ms < 1000, `the aborted wait took ${ms} ms (maxWaitMs 5000)`);
    const already = await timedMs(() => store.get(key, { signal: AbortSignal.abort() }));
    assert.equal(already.value, null);
    assert.ok(already.ms < 500, `a get() aborted before it began took ${already.ms} ms`);
    await store.release(key);
    assert.equal(await c.exists(`${key}:lock`), 0, "release() unlocked");
  });
});

test("redis: an abort ends a wait for another process's lock at once, mid-poll", async () => {
  const key = `cedato-auth:v2:http://127.0.0.1/api/:t-abort-poll-${process.pid}:fingerprint`;
  await withClient(async (c) => {
    try {
      await c.set(`${key}:lock`, "someone-else", { PX: 30_000 });
      const store = redisTokenStore(c, { pollMs: 5000, maxWaitMs: 20_000 });
      const caller = new AbortController();
      setTimeout(() => caller.abort(), 100);
      const { ms, value } = await timedMs(() => store.get(key, { signal: caller.signal }));
      assert.equal(value, null);
      assert.ok(ms >= 90 && ms < 1000, `the aborted wait took ${ms} ms (pollMs 5000)`);
      assert.equal(await c.get(`${key}:lock`), "someone-else", "the other holder's lock is untouched");
    } finally {
      await c.del(`${key}:lock`);
    }
  });
});
