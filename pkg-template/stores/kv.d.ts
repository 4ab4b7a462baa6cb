import type { StoredToken, TokenStore } from "../index.js";

/** The part of a Workers KV namespace binding the store uses. */
export interface KvNamespaceLike {
  get(key: string, type: "json"): Promise<unknown>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

/** Options of `kvTokenStore(kv, options)`. */
export interface KvTokenStoreOptions {
  /** Prepended to every key. Default "". */
  prefix?: string;
  /**
   * A stored token is no longer handed out this many seconds before it expires (at
   * most half its lifetime), so isolates refresh it in time. Default 60.
   */
  refreshSkewSeconds?: number;
}

/** What `kvTokenStore` returns: a TokenStore with all three methods. */
export interface KvTokenStore extends TokenStore {
  get(key: string): Promise<StoredToken | null>;
  set(key: string, token: StoredToken, ttlSeconds: number): Promise<void>;
  /**
   * Drops the stored token if it is the one this store last handed out or stored (the
   * one the API refused), so a late 401 elsewhere in the fleet keeps a newer token.
   */
  delete(key: string): Promise<void>;
}

/**
 * A tokenStore on Cloudflare Workers KV. Eventually consistent and without locks:
 * isolates that start cold together each fetch a token, later ones reuse the stored one.
 *
 * @example
 * import { CedatoAuth } from "cedato-auth";
 * import { kvTokenStore } from "cedato-auth/stores/kv";
 *
 * auth ??= new CedatoAuth({ clientId, clientSecret, tokenStore: kvTokenStore(env.CEDATO_TOKENS) });
 */
export function kvTokenStore(kv: KvNamespaceLike, options?: KvTokenStoreOptions): KvTokenStore;
