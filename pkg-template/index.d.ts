// Declarations of `import { CedatoAuth } from "cedato-auth"` (and of "cedato-auth/web"
// through web.d.ts). The option, request and error types are the ones written in
// src/js/typings.rs, extracted by tools/build-pkg.sh into cedato_auth_types.d.ts. The class
// is written in JS (src/js/driver.mjs, around the wasm's CedatoCore), so it is declared
// here; `[Symbol.dispose]` is left out of the declaration (an error for consumers whose
// `lib` predates esnext.disposable, unless skipLibCheck), though the class has it.
import type { CedatoAuthOptions, RequestOptions } from "./cedato_auth_types.js";

export * from "./cedato_auth_types.js";

/**
 * Cedato Platform API credentials exchanged for an access token, cached in memory with
 * expiry tracking, and authenticated calls.
 *
 * ```js
 * const auth = new CedatoAuth({ clientId, clientSecret });
 * const report = await auth.request("reports/supplies/extended", { query: { start, end } });
 * ```
 */
export declare class CedatoAuth {
  /**
   * Validates the options; throws a `CedatoError` with code `invalid_config`. Makes no
   * request, sets no timer (a worker may construct it at module scope).
   */
  constructor(options: CedatoAuthOptions);
  /**
   * The access token: from memory while it is valid outside the refresh window, else
   * fetched (one request however many callers ask at once).
   */
  getToken(): Promise<string>;
  /** `"Bearer <token>"`, for the `Authorization` header. */
  getAuthorizationHeader(): Promise<string>;
  /**
   * A new token now, joining a request already in flight. Rejects on failure even
   * while the old token is still valid.
   */
  refresh(): Promise<string>;
  /** Forgets the cached token. A request already in flight is not cancelled. */
  clear(): void;
  /** When the cached token expires, in ms since the epoch; `undefined` when none is cached. */
  readonly expiresAt: number | undefined;
  /** Whether a token is cached and outside the refresh window. */
  readonly hasValidToken: boolean;
  /**
   * `fetch` with the token: a relative URL is resolved against `baseUrl`; an absolute
   * one must share its origin. A 401 or 419 answer gets one retry with a new token
   * (when the body can be sent again). Resolves with the `Response`, like `fetch`.
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /**
   * A JSON call through `fetch`: resolves with the parsed body of a 2xx answer
   * (`undefined` when empty), rejects with `http` on another status.
   */
  request(path: string, options?: RequestOptions): Promise<unknown>;
  /** Releases the wasm memory of this instance; it must not be used afterwards. */
  free(): void;
  /** What `JSON.stringify` shows: the base URL and the token's state, never a credential. */
  toJSON(): { baseUrl: string; hasValidToken: boolean; expiresAt?: number };
  /** `CedatoAuth(<baseUrl>)`: never a credential. */
  toString(): string;
}
