// One token for a whole Cloudflare Workers fleet: a Durable Object owns the CedatoAuth,
// and every isolate asks it for the token. A Durable Object is a single instance
// worldwide, and CedatoAuth's single flight runs inside it, so however many isolates
// start at once, the token endpoint sees one request per refresh.
//
//   // worker.mjs
//   import { CedatoAuth } from "cedato-auth";
//   import { durableObjectTokenStore } from "cedato-auth/stores/durable-object";
//   export { CedatoTokenBroker } from "cedato-auth/stores/durable-object";
//
//   let auth;
//   export default {
//     async fetch(request, env) {
//       auth ??= new CedatoAuth({ clientId: env.CEDATO_CLIENT_ID, clientSecret: env.CEDATO_CLIENT_SECRET,
//                                 tokenStore: durableObjectTokenStore(env.CEDATO_TOKEN_BROKER) });
//       return Response.json(await auth.request("reports/supplies/extended"));
//     },
//   };
//
// wrangler: a durable_objects binding CEDATO_TOKEN_BROKER with class_name
// "CedatoTokenBroker", and a migration that creates the class.
import { CedatoAuth } from "../workerd.mjs";
import { keptAlive } from "./kept-alive.mjs";
import { configError, currentValue, entryText, sharedFailure, storeKeyPrefix } from "./stored-token.mjs";

/** The broker is only reached through its stub: the host is never resolved. */
const BROKER_URL = "https://cedato-token-broker.invalid/token";
/** Where the broker keeps its token, so it survives the object being evicted. */
const STORAGE_KEY = "cedato-auth:token";

function json(status, body) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/** A stored value's text: what names it in a DELETE and in the broker's memory. */
const textOf = (value) => (value ? entryText(value) : undefined);
/** The header of a DELETE that names the refused value (read at once: no await lets a GET in first). */
const REFUSED_HEADER = "cedato-refused";

/**
 * The Durable Object class. Re-export it from your worker and bind it; it reads
 * CEDATO_CLIENT_ID, CEDATO_CLIENT_SECRET and optionally CEDATO_BASE_URL from its env.
 *
 * HTTP interface (through the stub): `GET` answers the stored value of its token,
 * `{ sealed, expiresAt, refreshAt, expiresInMs }`, sealed by its CedatoAuth, with the
 * time it has left by the broker's clock (the writer's: isolates with other clocks
 * judge it by that, not by the two times) (502 with
 * `{ error, message }` when no token could be had, `{ failure, ... }` when the token
 * request failed); `DELETE` with that value's JSON in a `cedato-refused` header drops it
 * if it is still the current one (or the current one without the header), so the next `GET`
 * fetches a new token. A `key` query parameter (the CedatoAuth store key) must be the
 * broker's own (409): another secret, clientId or baseUrl is another key.
 */
export class CedatoTokenBroker {
  #storage;
  #env;
  #auth;
  /** The store key of the broker's CedatoAuth, as it passed it to its store. */
  #ownKey;
  /** The value its CedatoAuth last wrote to or read from its store (sealed). */
  #kept;
  /** The text of the value last handed out. */
  #served;
  /** The text of a value dropped by DELETE: never handed out again, even if storage still has it. */
  #dropped;
  /** The last failure of the broker's token request, shared until `until` (Retry-After). */
  #failure;

  constructor(ctx, env) {
    this.#storage = ctx?.storage;
    this.#env = env ?? {};
  }

  /** Created on first use: the constructor of a Durable Object may not fail. */
  #client() {
    if (this.#auth) return this.#auth;
    const env = this.#env;
    const options = { clientId: env.CEDATO_CLIENT_ID, clientSecret: env.CEDATO_CLIENT_SECRET };
    if (env.CEDATO_BASE_URL) options.baseUrl = env.CEDATO_BASE_URL;
    const storage = this.#storage;
    // The sealed value in the object's storage, so it survives eviction (when there is
    // storage), and in #kept, which GET hands out. No delete: the broker's own CedatoAuth
    // makes no API calls, so nothing refuses its token there; a DELETE request drops it.
    options.tokenStore = {
      get: async (key) => {
        this.#ownKey = key;
        const value = currentValue(await storage?.get(STORAGE_KEY));
        if (!value || textOf(value) === this.#dropped) return null;
        this.#kept = value;
        return value;
      },
      set: async (key, value) => {
        // Synchronous up to the await: GET finds the value once getToken() resolves.
        this.#ownKey = key;
        this.#kept = value;
        await storage?.put(STORAGE_KEY, value);
      },
    };
    this.#auth = new CedatoAuth(options);
    return this.#auth;
  }

  /**
   * Whether a store key (`cedato-auth:v2:<baseUrl>:<clientId>:<fingerprint>`) names other
   * credentials than this broker's (a wiring mistake, or another secret). Exact once the
   * broker's CedatoAuth has used its store; before that, its start (the fingerprint needs
   * the key derivation, and a value sealed under another secret does not open anyway).
   */
  #foreign(key) {
    if (key === null) return false;
    if (this.#ownKey !== undefined) return key !== this.#ownKey;
    let baseUrl;
    try {
      baseUrl = this.#client().toJSON().baseUrl;
    } catch {
      return false; // GET answers the invalid_config error
    }
    return !key.startsWith(storeKeyPrefix(baseUrl, this.#env.CEDATO_CLIENT_ID));
  }

  async fetch(request) {
    const key = new URL(request.url).searchParams.get("key");
    const mismatch = () => json(409, { error: "key_mismatch", message: "this broker holds the token of other credentials" });
    if (this.#foreign(key)) return mismatch();
    if (request.method === "GET") {
      if (this.#failure && Date.now() < this.#failure.until) return json(200, this.#failure.failure);
      this.#failure = undefined;
      let auth;
      try {
        auth = this.#client();
        await auth.getToken();
      } catch (error) {
        if (this.#foreign(key)) return mismatch();
        const code = typeof error?.code === "string" ? error.code : "error";
        const message = String(error?.message ?? error);
        if (SHARED_FAILURES.has(code)) {
          // Shared back-off: the isolates end with this failure (or their grace token)
          // instead of each asking the endpoint; until Retry-After passes, so does the broker.
          const failure = { failure: code, message, status: error.status, retryAfter: error.retryAfter };
          this.#failure = { failure, until: Date.now() + (failure.retryAfter ?? 0) * 1000 };
          return json(200, failure);
        }
        return json(502, { error: code, message });
      }
      if (this.#foreign(key)) return mismatch();
      // The sealed value of the token getToken() answered with (its store wrote or read
      // it): every isolate then refreshes it at the same point, whatever skew each has.
      const expiresAt = auth.expiresAt;
      const kept = this.#kept;
      // (Its CedatoAuth holds the token's times on the broker's clock: the stored ones, to
      // the ms, unless they were clamped to the token's lifetime.)
      const keptIt = typeof kept?.expiresAt === "number" && Math.abs(kept.expiresAt - expiresAt) < 1000;
      if (typeof expiresAt !== "number" || expiresAt <= Date.now() || !keptIt) {
        return json(502, { error: "not_cacheable", message: "the token endpoint sent a token that must not be shared" });
      }
      this.#served = textOf(kept);
      return json(200, { ...kept, expiresInMs: expiresAt - Date.now() });
    }
    if (request.method === "DELETE") {
      const refused = request.headers.get(REFUSED_HEADER);
      const current = this.#served ?? textOf(currentValue(await this.#storage?.get(STORAGE_KEY)));
      if (refused === null || refused === current) {
        this.#dropped = current;
        this.#served = undefined;
        this.#kept = undefined;
        this.#auth?.clear();
        await this.#storage?.delete(STORAGE_KEY);
      }
      return new Response(null, { status: 204 });
    }
    return new Response(null, { status: 405, headers: { allow: "GET, DELETE" } });
  }
}

/** Failures of the broker's token request that every isolate would meet too. */
const SHARED_FAILURES = new Set(["rate_limited", "server_error", "network", "timeout", "token_rejected"]);

/**
 * A tokenStore for `new CedatoAuth({ ..., tokenStore })` that asks the broker bound as
 * `namespace` (e.g. `env.CEDATO_TOKEN_BROKER`). `name` picks the broker instance;
 * default: the store key (one broker per base URL and client id).
 *
 * A broker that is reset (a deploy, an eviction, `ctx.abort()`) rejects the requests in
 * flight: each is sent once more on a fresh stub before this isolate falls back to the
 * token endpoint. An isolate that did fall back (the broker stayed unreachable) reads
 * the broker once more at its next getToken() and takes the broker's token from then on,
 * instead of keeping its own until it expires.
 */
export function durableObjectTokenStore(namespace, options = {}) {
  if (namespace === null || typeof namespace !== "object" || typeof namespace.idFromName !== "function") {
    throw configError("durableObjectTokenStore: pass the Durable Object namespace binding (env.CEDATO_TOKEN_BROKER)");
  }
  const name = options.name;
  if (name !== undefined && (typeof name !== "string" || name === "")) {
    throw configError("durableObjectTokenStore: name must be a non-empty string");
  }
  // The value this store last handed out per key (its text): DELETE names it, so a
  // refusal of an old token that reaches the broker late does not drop the new one.
  const handedOut = new Map();
  const stub = (key) => namespace.get(namespace.idFromName(name ?? key));
  const url = (key) => `${BROKER_URL}?key=${encodeURIComponent(key)}`;
  /** Asks the broker; a rejected fetch (the broker was reset) once more on a fresh stub. */
  const ask = (key, init) => stub(key).fetch(url(key), init).catch(() => stub(key).fetch(url(key), init));

  return {
    async get(key) {
      const response = await ask(key);
      if (!response.ok) {
        await response.body?.cancel();
        return null;
      }
      const value = await response.json();
      // The broker's token request failed: CedatoAuth ends with that (shared back-off).
      if (sharedFailure(value)) return value;
      const current = currentValue(value);
      if (current) handedOut.set(key, textOf(current));
      return current;
    },

    async set(key, value) {
      // The broker fetched and keeps its token; a token this isolate fetched itself
      // (broker unreachable) stays in the isolate, and is the one a later delete names,
      // so its refusal cannot drop the broker's token.
      handedOut.set(key, textOf(value));
    },

    async delete(key) {
      const refused = handedOut.get(key);
      handedOut.delete(key);
      const headers = refused ? { [REFUSED_HEADER]: refused } : {};
      const response = await keptAlive(ask(key, { method: "DELETE", headers }));
      await response.body?.cancel();
    },
  };
}
