import type { StoredToken, StoredTokenAnswer, TokenStore } from "../index.js";

/**
 * The part of a node-redis v4/v5 client (`createClient()` from the `redis` package) the
 * store uses. Results are read defensively, so they are typed `unknown`.
 */
export interface NodeRedisClientLike {
  readonly isOpen: boolean;
  get(key: string): Promise<unknown>;
  set(key: string, value: string, options: { NX?: boolean; PX?: number }): Promise<unknown>;
  del(key: string): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments?: string[] }): Promise<unknown>;
}

/** The part of an ioredis client the store uses. */
export interface IoRedisClientLike {
  readonly status: string;
  get(key: string): Promise<unknown>;
  set(key: string, value: string, px: "PX", milliseconds: number, nx: "NX"): Promise<unknown>;
  set(key: string, value: string, px: "PX", milliseconds: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
  eval(script: string, numberOfKeys: number, ...keysAndArguments: string[]): Promise<unknown>;
}

/** Options of `redisTokenStore(client, options)`. */
export interface RedisTokenStoreOptions {
  /** Prepended to every key (the token key, and its lock `<key>:lock`). Default "". */
  prefix?: string;
  /**
   * How long the process that refreshes may hold the lock, in ms. Default 5000. If it
   * dies, the others take over after this long. Keep it below CedatoAuth's timeoutMs.
   */
  lockMs?: number;
  /** How often a waiting process looks for the token, in ms. Default 50. */
  pollMs?: number;
  /**
   * When a waiting process gives up and asks the token endpoint itself, in ms.
   * Default 8000. Must be below CedatoAuth's timeoutMs (default 10000), after which the
   * library stops waiting for the store anyway.
   */
  maxWaitMs?: number;
  /**
   * @deprecated Accepted and checked, with no effect: every stored value carries the
   * fleet's refresh point (`refreshAt`), which the store keeps it until.
   */
  refreshSkewSeconds?: number;
  /** Which client API to call; detected from the client when absent. */
  clientStyle?: "node-redis" | "ioredis";
}

/** What `redisTokenStore` returns: a TokenStore with all three methods. */
export interface RedisTokenStore extends TokenStore {
  /**
   * The stored value while its key lives (it expires at the fleet's refresh point), with
   * `expiresInMs`: the time it has left by Redis's clock, from the key's PTTL read with
   * the value in one round trip (a script), so members whose clocks are apart share one
   * token and one refresh point. Without EVAL, a GET, judged by the stored times on this
   * process's clock. When there is none: the lock, or a wait.
   */
  get(key: string): Promise<StoredTokenAnswer | null>;
  /**
   * Keeps the value CedatoAuth hands over, as JSON, until its `refreshAt` (a relative PX);
   * unlocks. Rejects with a CedatoError `invalid_request` (also a `TypeError`) for a value
   * without finite `expiresAt` and `refreshAt`.
   */
  set(key: string, value: StoredToken, ttlSeconds: number): Promise<void>;
  /**
   * Drops the stored value if it is the one this store last handed out or stored (the
   * one whose token the API refused), so a late 401 elsewhere in the fleet keeps a newer one.
   */
  delete(key: string): Promise<void>;
}

/**
 * A tokenStore on Redis for fleets of Node.js processes: one process refreshes the token
 * (behind `SET <key>:lock NX PX lockMs`), the others wait for it. Redis holds the sealed
 * value CedatoAuth hands over (`{ sealed, expiresAt, refreshAt }`): nothing usable
 * without the credentials.
 *
 * @example
 * import { createClient } from "redis";
 * import { CedatoAuth } from "cedato-auth";
 * import { redisTokenStore } from "cedato-auth/stores/redis";
 *
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const auth = new CedatoAuth({ clientId, clientSecret, tokenStore: redisTokenStore(redis) });
 *
 * @throws A CedatoError with `code` "invalid_config" (also a `TypeError`, `retryable` false) when
 * `client` has no `get` and `set`, or an option has the wrong type or is not positive.
 */
export function redisTokenStore(
  client: NodeRedisClientLike | IoRedisClientLike,
  options?: RedisTokenStoreOptions,
): RedisTokenStore;
