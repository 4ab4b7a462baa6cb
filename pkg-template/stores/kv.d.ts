import type { StoredToken, TokenStore } from "../index.js";

/** The part of a Workers KV namespace binding the store uses. */
export interface KvNamespaceLike {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

/** Options of `kvTokenStore(kv, options)`. */
export interface KvTokenStoreOptions {
  /** Prepended to every key. Default "". */
  prefix?: string;
  /**
   * @deprecated Accepted and checked, with no effect: every stored value carries the
   * fleet's refresh point (`refreshAt`), which the store keeps it until.
   */
  refreshSkewSeconds?: number;
}

/** What `kvTokenStore` returns: a TokenStore with all three methods. */
export interface KvTokenStore extends TokenStore {
  /**
   * The stored value while it is before its `refreshAt` by this isolate's clock, as it
   * was stored (KV has no clock of its own to measure the time left: CedatoAuth bounds it
   * by the token's lifetime after it first saw it).
   */
  get(key: string): Promise<StoredToken | null>;
  /**
   * Keeps the value CedatoAuth hands over, as JSON, for `ttlSeconds` (at least 60).
   * Rejects with a CedatoError `invalid_request` (also a `TypeError`) for a value without
   * finite `expiresAt` and `refreshAt`.
   */
  set(key: string, value: StoredToken, ttlSeconds: number): Promise<void>;
  /**
   * Drops the stored value if it is the one this store last handed out or stored (the
   * one whose token the API refused), so a late 401 elsewhere in the fleet keeps a newer one.
   */
  delete(key: string): Promise<void>;
}

/**
 * A tokenStore on Cloudflare Workers KV. Eventually consistent and without locks:
 * isolates that start cold together each fetch a token, later ones reuse the stored one;
 * with stale reads (up to a minute between locations) that is one token request per
 * isolate per refresh window. The Durable Object broker makes one per fleet.
 * KV holds the sealed value CedatoAuth hands over (`{ sealed, expiresAt, refreshAt }`):
 * nothing usable without the credentials.
 *
 * @example
 * import { CedatoAuth } from "cedato-auth";
 * import { kvTokenStore } from "cedato-auth/stores/kv";
 *
 * auth ??= new CedatoAuth({ clientId, clientSecret, tokenStore: kvTokenStore(env.CEDATO_TOKENS) });
 *
 * @throws A CedatoError with `code` "invalid_config" (also a `TypeError`, `retryable` false) when
 * `kv` is not a KV binding, or `prefix` or `refreshSkewSeconds` has the wrong type.
 */
export function kvTokenStore(kv: KvNamespaceLike, options?: KvTokenStoreOptions): KvTokenStore;
