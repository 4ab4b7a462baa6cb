// A tokenStore on Cloudflare Workers KV. KV is eventually consistent and has no locks:
// isolates that start cold at the same moment each fetch a token (at most one per
// isolate, thanks to CedatoAuth's single flight), and a token written in one location
// can take up to a minute to be seen in another. After that the whole fleet reuses the
// stored token, until its refresh point: there, with stale reads, each isolate fetches a
// token of its own again, so KV costs one token request per isolate per refresh window.
// For exactly one token request per fleet use stores/durable-object. KV has no clock to
// measure the time left: CedatoAuth bounds a value by the token's lifetime after it first
// saw it.
// KV holds the sealed value CedatoAuth hands over (stores/stored-token.mjs): the KV
// dashboard shows when the token expires, and nothing usable.

import { keptAlive } from "./kept-alive.mjs";
import { commonOptions, configError, currentValue, refreshPointOf } from "./stored-token.mjs";

/** KV refuses an expirationTtl below 60 seconds. */
const KV_MIN_TTL_SECONDS = 60;

/** The value in `text` (JSON), or null. */
function parsed(text) {
  try {
    return typeof text === "string" ? JSON.parse(text) : null;
  } catch {
    return null; // not JSON (written by something else)
  }
}

/**
 * A tokenStore for `new CedatoAuth({ ..., tokenStore })` on a KV namespace binding.
 *
 * Options (all optional): `prefix` (prepended to every key, default "");
 * `refreshSkewSeconds` is accepted and has no effect (each value carries its refresh point).
 */
export function kvTokenStore(kv, options = {}) {
  if (kv === null || typeof kv !== "object" || typeof kv.get !== "function" || typeof kv.put !== "function") {
    throw configError("kvTokenStore: pass a KV namespace binding (env.MY_KV)");
  }
  const { prefix } = commonOptions("kvTokenStore", options);

  // The text this isolate last got or stored, per key: delete() drops the stored value
  // only if it is that one (after a revocation every isolate sees 401s; a late one must
  // not drop the new value another isolate already stored).
  const handedOut = new Map();

  return {
    async get(key) {
      const text = await kv.get(prefix + key, "text");
      const value = currentValue(parsed(text));
      if (value) handedOut.set(prefix + key, text);
      return value;
    },

    async set(key, value, ttlSeconds) {
      refreshPointOf("kvTokenStore", value);
      const text = JSON.stringify(value);
      // An entry that outlives its token (the 60 s minimum) is harmless: expired values
      // are ignored, here and by the library.
      const expirationTtl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds));
      handedOut.set(prefix + key, text);
      await keptAlive(kv.put(prefix + key, text, { expirationTtl }));
    },

    async delete(key) {
      const refused = handedOut.get(prefix + key);
      handedOut.delete(prefix + key);
      if (refused !== undefined) {
        const stored = await kv.get(prefix + key, "text").catch(() => null);
        if (stored !== null && stored !== refused) return;
      }
      await keptAlive(kv.delete(prefix + key));
    },
  };
}
