//! The TypeScript that cannot be derived from a Rust type: the options, the store
//! interface, the error, `request()`'s overloads, and names kept for the derived types.
//!
//! The events (`CedatoEvent`), the counters (`CedatoAuthStats`), the stored value
//! (`StoredTokenAnswer`) and the error codes (`CedatoErrorCode`) are derived from their
//! Rust types by tsify (src/core/events.rs, store.rs, error.rs); wasm-bindgen writes both
//! into the package's `.d.ts`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Options of `new CedatoAuth(options)`. */
export interface CedatoAuthOptions {
  /** Client id from the Cedato dashboard (Network Settings -> Platform API Key). Non-empty, no ':'. */
  clientId: string;
  /** Client secret. Never appears in errors or logs. */
  clientSecret: string;
  /**
   * Default "https://api.cedato.com/api/". https:, or http: to a loopback host (localhost,
   * 127.0.0.0/8, [::1]) only, unless allowInsecureHttp; a missing trailing "/" is added.
   */
  baseUrl?: string;
  /**
   * Default false. true permits an http: baseUrl to any host: the credentials and the
   * tokens then travel in clear.
   */
  allowInsecureHttp?: boolean;
  /** Sent as the api-version header. Default "1"; visible ASCII. */
  apiVersion?: string;
  /** Refresh this many seconds before expiry (at most half the token's lifetime). Default 60; >= 0. */
  refreshSkewSeconds?: number;
  /** Time limit of one attempt, body included, in ms. Default 10000; > 0. */
  timeoutMs?: number;
  /** Retries of a token request after network errors, timeouts, 5xx and 429. Default 2; 0 to 10. */
  maxRetries?: number;
  /**
   * After the API refused a token (401/419) and it was replaced, how long a refused token
   * is kept instead of being replaced again, in ms (default 5000; 0: every refusal gets a
   * new token). An API that refuses every token then costs one token request per
   * instance per cool-down, not one per call.
   */
  unauthorizedCooldownMs?: number;
  /** The fetch to use. Default: the global fetch. */
  fetch?: (input: Request | string, init?: RequestInit) => Promise<Response>;
  /**
   * A store shared by many instances (isolates, processes) so they share one token.
   * Lookup order: memory, then the store, then the token endpoint. A store that throws,
   * rejects or takes longer than timeoutMs is skipped; it never fails a call. What it
   * keeps is sealed under the credentials (see StoredToken). Needs the engine's Web
   * Crypto (crypto.subtle): without it the constructor throws invalid_config.
   */
  tokenStore?: TokenStore;
  /**
   * Called synchronously with each event (a plain object) as it happens: token requests,
   * retries, failures, grace, store calls and authenticated calls. A cached getToken()
   * emits nothing. Events never carry the secret, the Basic value, a token or a query
   * string. What the callback throws is ignored; it never changes a call's outcome.
   */
  onEvent?: (event: CedatoEvent) => void;
}

/** A token obtained, from the shared store (attempts 0) or the token endpoint. */
export type CedatoTokenEvent = Extract<CedatoEvent, { type: "token" }>;
/** A token request attempt failed; another follows after waitMs. */
export type CedatoRetryEvent = Extract<CedatoEvent, { type: "retry" }>;
/** A refresh failed and its callers got the cached token, which has not expired yet. */
export type CedatoGraceEvent = Extract<CedatoEvent, { type: "grace" }>;
/** A token request gave up (attempts 0: the store shared the fleet's failure). */
export type CedatoFailureEvent = Extract<CedatoEvent, { type: "failure" }>;
/** An authenticated call (auth.fetch / auth.request) answered. */
export type CedatoApiEvent = Extract<CedatoEvent, { type: "api" }>;
/** A tokenStore call ended. */
export type CedatoStoreEvent = Extract<CedatoEvent, { type: "store" }>;

/**
 * What a shared store keeps, as CedatoAuth hands it to `set` and takes it back from `get`:
 * the token sealed under the credentials, and its two times. A store reads only the times
 * (to expire the entry) and keeps the whole value as it is; it learns when the token
 * expires, and nothing usable. Only an instance with the same clientId, secret and
 * baseUrl opens it; one that does not open is a miss (a `store` event "invalid").
 *
 * @example
 * // under "cedato-auth:v2:<baseUrl>:<clientId>:<fingerprint: 43 base64url characters>"
 * {
 *   "sealed": "r5RA1OuNkkdp6sxJjykUBKh_xkzjB-W-4p-Pk2vGD_ovhRAh2QIKBuV5mAeDX3II1BMah7QtPgQBQlC-EtgVNv1j5VDBvtUtHU89e0tUOw",
 *   "expiresAt": 1796662164913,
 *   "refreshAt": 1796662104913
 * }
 */
export type StoredToken = Omit<StoredTokenAnswer, "expiresInMs">;

/**
 * A store's answer when the fleet's shared token request failed (the Durable Object
 * broker's): CedatoAuth then ends with this error, or serves its grace token, instead of
 * asking the token endpoint itself (shared back-off).
 */
export interface SharedFailure {
  /** The error's code. */
  failure: CedatoErrorCode;
  message: string;
  status?: number;
  retryAfter?: number;
}

/** What CedatoAuth passes last to every tokenStore call. */
export interface TokenStoreCallOptions {
  /** Aborted when CedatoAuth gives up on the call (after timeoutMs): the store may stop. */
  signal: AbortSignal;
}

/**
 * Where a fleet shares its token. The key is `cedato-auth:v2:<baseUrl>:<clientId>:<fingerprint>`,
 * the fingerprint a one-way HKDF-SHA-256 derivation of the credentials: another secret is
 * another key. A fetched token is sealed, handed to its callers, and `set` (and `delete`,
 * `release`) run in the background, each within timeoutMs. Values are read from their own
 * properties only.
 */
export interface TokenStore {
  /**
   * The stored value as `set` got it (optionally with the time it has left by the
   * store's measure, `expiresInMs`), nothing (`null`), or the failure of the fleet's
   * shared token request.
   */
  get(key: string, options?: TokenStoreCallOptions): Promise<StoredTokenAnswer | SharedFailure | null | undefined>;
  set(key: string, value: StoredToken, ttlSeconds: number, options?: TokenStoreCallOptions): Promise<void>;
  /** Called when the API refused the stored token (401/419). */
  delete?(key: string, options?: TokenStoreCallOptions): Promise<void>;
  /**
   * Called when the token request that followed a miss (`get` found nothing usable) ended
   * without a token to `set` (it failed, or the token is use-once): a store that locks on
   * a miss unlocks here, so nobody waits for that token.
   */
  release?(key: string, options?: TokenStoreCallOptions): Promise<void>;
}

/** Options of `auth.request(path, options)`. */
export interface RequestOptions {
  /** Default "GET". */
  method?: string;
  /** Appended to the URL's query string; undefined and null values are skipped. */
  query?: Record<string, string | number | boolean | null | undefined>;
  /** JSON-encoded when present (content-type: application/json unless set). */
  body?: unknown;
  /** Extra request headers. Authorization is always the library's. */
  headers?: Record<string, string>;
  /**
   * What a 2xx body becomes. "json" (default): parsed as JSON whatever the content-type,
   * `undefined` when empty. "text": the body as a string whatever the content-type, ""
   * when empty (CSV reports). "auto": as "json" when the content-type is a JSON type
   * (application/json, text/json, any "+json"), else as "text". The body is decoded as the
   * content-type's charset, or as UTF-8 when it names none or one the runtime cannot decode.
   */
  responseType?: "json" | "text" | "auto";
}

/** `auth.request()`'s overloads: merged into the class (`responseType: "text"` gives a string). */
export interface CedatoAuth {
  /**
   * A call through `auth.fetch` (same origin rule and 401/419 retry), within `timeoutMs`
   * per attempt, body included. Resolves with the 2xx body as text; rejects with a
   * `CedatoError` (`http` with `status` and `body` for another status).
   */
  request(path: string, options: RequestOptions & { responseType: "text" }): Promise<string>;
  /**
   * A call through `auth.fetch` (same origin rule and 401/419 retry), within `timeoutMs`
   * per attempt, body included. Resolves with the 2xx body as `options.responseType` says
   * (parsed JSON by default, `undefined` when empty); rejects with a `CedatoError`
   * (`http` with `status` and `body` for another status, `invalid_response` for a body
   * that should be JSON and is not).
   */
  request(path: string, options?: RequestOptions): Promise<unknown>;
}

/** Every failure of the library: an Error with `name === "CedatoError"`. */
export interface CedatoError extends Error {
  name: "CedatoError";
  code: CedatoErrorCode;
  /** HTTP status, whenever an answer came (2xx included). */
  status?: number;
  /** True when trying again later may succeed. */
  retryable: boolean;
  /** RFC 6749 section 5.2 `error` sent by the token endpoint. */
  oauthError?: string;
  /** RFC 6749 section 5.2 `error_description` sent by the token endpoint. */
  oauthErrorDescription?: string;
  /** Seconds the server asked to wait (Retry-After). */
  retryAfter?: number;
  /** The first 1 KB of the answer's text (code "http"). */
  body?: string;
  /** The underlying JS error, when there was one. */
  cause?: unknown;
}
"#;
