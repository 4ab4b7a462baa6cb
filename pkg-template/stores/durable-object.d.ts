import type { SharedFailure, StoredToken, StoredTokenAnswer, TokenStore } from "../index.js";

/** The environment the broker reads (its Worker's vars and secrets). */
export interface CedatoTokenBrokerEnv {
  CEDATO_CLIENT_ID: string;
  CEDATO_CLIENT_SECRET: string;
  /** Default "https://api.cedato.com/api/". */
  CEDATO_BASE_URL?: string;
}

/** The part of a Durable Object's storage the broker uses (to survive eviction). */
export interface DurableObjectStorageLike {
  get(key: string): Promise<unknown>;
  put(key: string, value: StoredToken): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

/** The part of a Durable Object's state (`ctx`) the broker uses. */
export interface DurableObjectStateLike {
  readonly storage?: DurableObjectStorageLike;
}

/**
 * The Durable Object that owns the fleet's CedatoAuth. Re-export it from your Worker and
 * bind it (wrangler `durable_objects` binding with `class_name = "CedatoTokenBroker"`).
 *
 * Through its stub: `GET` answers the sealed value of its token, `{ sealed, expiresAt,
 * refreshAt }`, which only instances with its credentials open (502 when no token could be
 * had, 409 for a store key of other credentials); `DELETE` with the refused value's JSON in
 * a `cedato-refused` header drops that value if it is still the current one, so the next
 * `GET` fetches a new token. Its storage holds the same sealed value.
 */
export class CedatoTokenBroker {
  constructor(ctx: DurableObjectStateLike, env: CedatoTokenBrokerEnv);
  fetch(request: Request): Promise<Response>;
}

/** A Durable Object stub: only `fetch` is used. */
export interface DurableObjectStubLike {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** The part of a Durable Object namespace binding the store uses. */
export interface DurableObjectNamespaceLike<Id = unknown> {
  idFromName(name: string): Id;
  get(id: Id): DurableObjectStubLike;
}

/** Options of `durableObjectTokenStore(namespace, options)`. */
export interface DurableObjectTokenStoreOptions {
  /** The broker instance to use (`idFromName(name)`). Default: the store key, i.e. one broker per set of credentials and base URL. */
  name?: string;
}

/** What `durableObjectTokenStore` returns: a TokenStore with all three methods. */
export interface DurableObjectTokenStore extends TokenStore {
  /**
   * The broker's sealed value (the broker fetches a token when it has none), with the
   * time it has left by the broker's clock (`expiresInMs`), or its shared failure. A
   * request the broker rejects (it was reset: a deploy, an eviction) is sent once more on
   * a fresh stub; `null` when the broker is still unreachable (CedatoAuth then fetches a
   * token of its own, and reads the broker again at its next getToken()).
   */
  get(key: string): Promise<StoredTokenAnswer | SharedFailure | null>;
  /** Keeps nothing: the broker keeps the token it fetched. */
  set(key: string, value: StoredToken, ttlSeconds: number): Promise<void>;
  /** Tells the broker the API refused the token of the value it handed out. */
  delete(key: string): Promise<void>;
}

/**
 * A tokenStore that asks the CedatoTokenBroker Durable Object: one token request for the
 * whole fleet.
 *
 * @example
 * import { CedatoAuth } from "cedato-auth";
 * import { durableObjectTokenStore } from "cedato-auth/stores/durable-object";
 * export { CedatoTokenBroker } from "cedato-auth/stores/durable-object";
 *
 * auth ??= new CedatoAuth({ clientId, clientSecret, tokenStore: durableObjectTokenStore(env.CEDATO_TOKEN_BROKER) });
 *
 * @throws A CedatoError with `code` "invalid_config" (also a `TypeError`, `retryable` false) when
 * `namespace` is not a Durable Object namespace binding, or `name` is not a non-empty string.
 */
export function durableObjectTokenStore<Id>(
  namespace: DurableObjectNamespaceLike<Id>,
  options?: DurableObjectTokenStoreOptions,
): DurableObjectTokenStore;
