// A tokenStore on Cloudflare Workers KV. KV is eventually consistent and has no locks:
// isolates that start cold at the same moment each fetch a token (at most one per
// isolate, thanks to CedatoAuth's single flight), and a token written in one location
// can take up to a minute to be seen in another. After that the whole fleet reuses the
// stored token. For exactly one token request per fleet use stores/durable-object.

import { keptAlive } from "./kept-alive.mjs";
import { commonOptions, storedToken, usableToken } from "./stored-token.mjs";

/** KV refuses an expirationTtl below 60 seconds. */
const KV_MIN_TTL_SECONDS = 60;

/**
 * A tokenStore for `new CedatoAuth({ ..., tokenStore })` on a KV namespace binding.
 *
 * Options (all optional): `prefix` (prepended to every key, default ""),
 * `refreshSkewSeconds` (a stored token is no longer handed out this long before it
 * expires, at most half its lifetime, so isolates refresh it in time; default 60).
 */
export function kvTokenStore(kv, options = {}) {
  if (kv === null || typeof kv !== "object" || typeof kv.get !== "function" || typeof kv.put !== "function") {
    throw new TypeError("kvTokenStore: pass a KV namespace binding (env.MY_KV)");
  }
  const { prefix, skew } = commonOptions("kvTokenStore", options);

  // The token this isolate last got or stored, per key: delete() drops the stored token
  // only if it is that one (after a revocation every isolate sees 401s; a late one must
  // not drop the new token another isolate already stored).
  const handedOut = new Map();

  return {
    async get(key) {
      let value;
      try {
        value = await kv.get(prefix + key, "json");
      } catch {
        return null; // not JSON (written by something else)
      }
      const token = usableToken(value);
      if (token) handedOut.set(prefix + key, token.accessToken);
      return token;
    },

    async set(key, token, ttlSeconds) {
      const value = storedToken(token, ttlSeconds, skew);
      // An entry that outlives its token (the 60 s minimum) is harmless: expired tokens
      // are ignored, here and by the library.
      const expirationTtl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds));
      handedOut.set(prefix + key, token.accessToken);
      await keptAlive(kv.put(prefix + key, JSON.stringify(value), { expirationTtl }));
    },

    async delete(key) {
      const refused = handedOut.get(prefix + key);
      handedOut.delete(prefix + key);
      if (refused !== undefined) {
        const stored = await kv.get(prefix + key, "json").catch(() => null);
        if (stored && typeof stored === "object" && stored.accessToken !== refused) return;
      }
      await keptAlive(kv.delete(prefix + key));
    },
  };
}
