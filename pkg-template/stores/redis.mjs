// A tokenStore on Redis for fleets of Node.js processes: one token request per refresh
// for the whole fleet, coordinated by a short lock.
//
//   get(key): the stored token if there is one; else try `SET <key>:lock <random> NX PX
//   lockMs`. The process that gets the lock reads the token once more (a holder may have
//   stored it meanwhile), then answers null: its CedatoAuth asks the token endpoint and
//   calls set, or release when it has nothing to share (a failure, a use-once token);
//   either unlocks at once. While the request is in flight the holder renews the lock
//   every lockMs / 2, so a slow but healthy refresh keeps it. Other processes poll for
//   the token and try for the lock again when it disappears (its holder crashed); calls in
//   the holder's own process wait for its request without polling. After maxWaitMs, or
//   when CedatoAuth aborts the call's signal, a waiter answers null: the caller then asks
//   the endpoint itself, so a stuck fleet never fails a call. maxWaitMs should stay below
//   CedatoAuth's timeoutMs (default 10000), after which the library gives up on the store.
//
// Redis holds the sealed value CedatoAuth hands over (stores/stored-token.mjs): a reader
// of Redis learns when the token expires, and nothing usable. The key expires at the
// fleet's refresh point (PX, relative: Redis's clock, not the writer's), and get reads
// the value and its PTTL in one round trip (a script), so it answers the time left as
// Redis measures it (`expiresInMs`): members whose clocks are minutes apart still share
// one token and one refresh point, and none serves it expired. Without EVAL (scripting
// disabled), a plain GET, and the stored times are judged on this process's clock.
//
// The package does not depend on a Redis client: pass your own, a node-redis v4/v5
// client (`createClient()` from the `redis` package) or an ioredis client.

import { setTimeout as delay } from "node:timers/promises";
import { commonOptions, configError, currentValue, refreshPointOf, withRefreshIn } from "./stored-token.mjs";

/** Deletes KEYS[1] only while it still holds ARGV[1]: a lock's owner, or a refused value. */
const RELEASE_SCRIPT =
  'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end';
/** The value of KEYS[1] and its PTTL, in one round trip: `[value or nil, ms]`. */
const READ_SCRIPT = 'return {redis.call("get", KEYS[1]), redis.call("pttl", KEYS[1])}';
/** Extends the lock (ARGV[2] ms) only while it is still this holder's (ARGV[1]). */
const RENEW_SCRIPT =
  'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end';

/**
 * Waits `ms`, or less: until `signal` aborts (the caller gave up) or `settled` settles (the
 * process's own token request ended). Its timer is cleared when the wait ends, so none
 * outlives it to hold a Node process open.
 */
async function wait(ms, signal, settled) {
  if (signal?.aborted) return;
  const stop = new AbortController();
  const abort = () => stop.abort();
  signal?.addEventListener("abort", abort, { once: true });
  try {
    await Promise.race([delay(ms, undefined, { signal: stop.signal }), settled].filter(Boolean));
  } catch {
    // The delay was aborted: the wait is over.
  } finally {
    signal?.removeEventListener("abort", abort);
    stop.abort();
  }
}

/** A positive finite number, or the default; anything else is an `invalid_config` error. */
function positive(value, name, fallback) {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw configError(`redisTokenStore: ${name} must be a positive number of ms`);
  }
  return value;
}

/** The two client styles: node-redis takes an options object, ioredis positional words. */
function commandsOf(client, style) {
  const ioredis = style === "ioredis" || (style === undefined && !("isOpen" in client) && typeof client.status === "string");
  if (ioredis) {
    return {
      get: (key) => client.get(key),
      setLock: (key, value, ms) => client.set(key, value, "PX", ms, "NX"),
      setFor: (key, value, ms) => client.set(key, value, "PX", ms),
      del: (key) => client.del(key),
      release: (key, value) => client.eval(RELEASE_SCRIPT, 1, key, value),
      renew: (key, value, ms) => client.eval(RENEW_SCRIPT, 1, key, value, String(ms)),
      read: (key) => client.eval(READ_SCRIPT, 1, key),
    };
  }
  return {
    get: (key) => client.get(key),
    setLock: (key, value, ms) => client.set(key, value, { NX: true, PX: ms }),
    setFor: (key, value, ms) => client.set(key, value, { PX: ms }),
    del: (key) => client.del(key),
    release: (key, value) => client.eval(RELEASE_SCRIPT, { keys: [key], arguments: [value] }),
    renew: (key, value, ms) => client.eval(RENEW_SCRIPT, { keys: [key], arguments: [value, String(ms)] }),
    read: (key) => client.eval(READ_SCRIPT, { keys: [key] }),
  };
}

/**
 * The stored value in `raw` (Redis text) while it is current, or null: with the key's
 * `pttl` (ms to the refresh point, where the key expires), with the time it has left by
 * Redis's clock; without one (no EVAL, or a key without expiry), by its stored times.
 */
function currentIn(raw, pttl) {
  if (raw === null || raw === undefined) return null;
  let value;
  try {
    value = JSON.parse(String(raw));
  } catch {
    return null;
  }
  return typeof pttl === "number" && pttl >= 0 ? withRefreshIn(value, pttl) : currentValue(value);
}

/**
 * A tokenStore for `new CedatoAuth({ ..., tokenStore })` on a Redis client you connected.
 *
 * Options (all optional): `prefix` (prepended to every key, default ""), `lockMs` (how
 * long a refresh may hold the lock, default 5000), `pollMs` (how often waiters look for
 * the token, default 50), `maxWaitMs` (when a waiter gives up and asks the endpoint
 * itself, default 8000), `clientStyle` ("node-redis" or "ioredis"; detected when
 * absent). A value is kept in Redis until its `refreshAt`, the fleet's refresh point;
 * `refreshSkewSeconds` is accepted and has no effect.
 */
export function redisTokenStore(client, options = {}) {
  if (client === null || typeof client !== "object" || typeof client.get !== "function" || typeof client.set !== "function") {
    throw configError("redisTokenStore: pass a connected Redis client (node-redis createClient() or ioredis)");
  }
  const { prefix } = commonOptions("redisTokenStore", options);
  const lockMs = Math.ceil(positive(options.lockMs, "lockMs", 5000));
  const pollMs = positive(options.pollMs, "pollMs", 50);
  const maxWaitMs = positive(options.maxWaitMs, "maxWaitMs", 8000);
  const style = options.clientStyle;
  if (style !== undefined && style !== "node-redis" && style !== "ioredis") {
    throw configError('redisTokenStore: clientStyle must be "node-redis" or "ioredis"');
  }
  const redis = commandsOf(client, style);
  // The locks this process holds, per token key: `{ owner, renewal, done, finish }`.
  // set() and release() unlock only their own lock; `done` settles then, for the calls
  // of this process that wait for its request.
  const held = new Map();
  // The text this process last got or stored, per token key: delete() drops the stored
  // value only if it is that one, so a late refusal of an old token (every process sees
  // the 401s after a revocation) does not drop the new one another process just stored.
  const handedOut = new Map();

  /**
   * The token's text in Redis and its value while current (`{ raw, value }`), from one
   * round trip; without EVAL, a GET.
   */
  async function read(tokenKey) {
    let raw;
    let pttl;
    try {
      const reply = await redis.read(tokenKey);
      if (!Array.isArray(reply)) throw new TypeError("not a reply of the read script");
      [raw, pttl] = [reply[0] ?? null, Number(reply[1])];
    } catch {
      raw = await redis.get(tokenKey);
    }
    return { raw, value: currentIn(raw, pttl) };
  }

  /** Deletes `key` while it holds `value` (a lock's owner, or a refused stored value). */
  async function deleteIfHolds(key, value) {
    try {
      await redis.release(key, value);
    } catch {
      // No EVAL (disabled or unsupported): compare, then delete. A lock may expire in
      // between and be taken by another process; deleting it then costs one extra token
      // request at worst.
      if ((await redis.get(key)) === value) await redis.del(key);
    }
  }

  /** Takes the lock of `tokenKey` for this process, renewed until `unlock`. */
  async function lock(tokenKey) {
    const lockKey = `${tokenKey}:lock`;
    const owner = globalThis.crypto.randomUUID();
    if ((await redis.setLock(lockKey, owner, lockMs)) === null) return false;
    let finish;
    const done = new Promise((resolve) => (finish = resolve));
    const renewal = setInterval(() => redis.renew(lockKey, owner, lockMs).catch(() => {}), lockMs / 2);
    renewal.unref?.(); // a renewal keeps no Node process alive
    held.set(tokenKey, { owner, renewal, done, finish });
    return true;
  }

  /** Gives the lock of `tokenKey` back, if this process holds it. */
  async function unlock(tokenKey) {
    const mine = held.get(tokenKey);
    if (mine === undefined) return;
    held.delete(tokenKey);
    clearInterval(mine.renewal);
    try {
      await deleteIfHolds(`${tokenKey}:lock`, mine.owner);
    } finally {
      mine.finish();
    }
  }

  return {
    async get(key, options) {
      const signal = options?.signal;
      const tokenKey = prefix + key;
      const lockKey = `${tokenKey}:lock`;
      const giveUpAt = Date.now() + maxWaitMs;
      let stored = await read(tokenKey);
      let lockSeen = null; // not known to be held: try for it
      for (;;) {
        if (stored.value) {
          handedOut.set(tokenKey, String(stored.raw));
          return stored.value;
        }
        if (signal?.aborted) return null; // CedatoAuth gave up on this call
        const mine = held.get(tokenKey);
        if (mine !== undefined) {
          // This process refreshes already: wait for that, not for the lock to expire.
          await wait(Math.max(0, giveUpAt - Date.now()), signal, mine.done);
          if (signal?.aborted || Date.now() >= giveUpAt) return null;
          stored = await read(tokenKey);
          continue;
        }
        if (lockSeen === null || lockSeen === undefined) {
          if (await lock(tokenKey)) {
            // A holder may have stored the token between the read and the lock.
            const again = await read(tokenKey);
            if (again.value) {
              await unlock(tokenKey);
              handedOut.set(tokenKey, String(again.raw));
              return again.value;
            }
            return null; // this process refreshes; set() or release() unlocks
          }
        }
        // Another process is refreshing: wait for its token, or for its lock to go.
        if (Date.now() + pollMs > giveUpAt) return null;
        await wait(pollMs, signal);
        if (signal?.aborted) return null;
        [stored, lockSeen] = await Promise.all([read(tokenKey), redis.get(lockKey)]);
      }
    },

    async set(key, value) {
      const tokenKey = prefix + key;
      const text = JSON.stringify(value);
      handedOut.set(tokenKey, text);
      try {
        const keepMs = Math.max(1, Math.floor(refreshPointOf("redisTokenStore", value) - Date.now()));
        await redis.setFor(tokenKey, text, keepMs);
      } finally {
        await unlock(tokenKey);
      }
    },

    /** The token request after this process's miss ended with nothing to store. */
    async release(key) {
      await unlock(prefix + key);
    },

    async delete(key) {
      const tokenKey = prefix + key;
      const refused = handedOut.get(tokenKey);
      handedOut.delete(tokenKey);
      if (refused === undefined) {
        await redis.del(tokenKey);
        return;
      }
      // Only while it still holds the refused value (no EVAL: compare, then delete).
      await deleteIfHolds(tokenKey, refused);
    },
  };
}
