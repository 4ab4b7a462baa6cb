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
import { storedToken, usableToken } from "./stored-token.mjs";

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

function bearerOf(request) {
  const header = request.headers.get("authorization") ?? "";
  return /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
}

/**
 * The Durable Object class. Re-export it from your worker and bind it; it reads
 * CEDATO_CLIENT_ID, CEDATO_CLIENT_SECRET and optionally CEDATO_BASE_URL from its env.
 *
 * HTTP interface (through the stub): `GET` answers `{ accessToken, tokenType, expiresAt,
 * expiresIn }` (502 with `{ error, message }` when no token could be had); `DELETE`
 * drops the token named by `Authorization: Bearer <token>` if it is still the current
 * one (or the current token when no header is sent), so the next `GET` fetches a new
 * one. A `key` query parameter (the CedatoAuth store key) must match the broker's
 * credentials (409).
 */
export class CedatoTokenBroker {
  #storage;
  #env;
  #auth;
  /** The token last handed out. */
  #served;
  /** What the store of the broker's CedatoAuth last wrote or read: the token's lifetime. */
  #kept;
  /** A token dropped by DELETE: never handed out again, even if storage still has it. */
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
    // The token in the object's storage, so it survives eviction (when there is storage),
    // and in #kept, for the lifetime (expiresIn) that GET passes on. No delete: the
    // broker's own CedatoAuth makes no API calls, so nothing refuses its token there; a
    // DELETE request drops it (below).
    options.tokenStore = {
      get: async () => {
        const token = usableToken(await storage?.get(STORAGE_KEY));
        if (!token || token.accessToken === this.#dropped) return null;
        this.#kept = token;
        return token;
      },
      set: async (_key, token, ttlSeconds) => {
        this.#kept = token;
        // The refresh point CedatoAuth handed over; 60 s only for a token without one.
        await storage?.put(STORAGE_KEY, storedToken(token, ttlSeconds, 60));
      },
    };
    this.#auth = new CedatoAuth(options);
    return this.#auth;
  }

  /**
   * Whether a store key (`cedato-auth:v1:<baseUrl>:<clientId>`) names other credentials
   * than this broker's (a wiring mistake). The base URL is compared as CedatoAuth
   * normalised it; with options it refuses, there is no key of its own to compare.
   */
  #foreignKey(key) {
    let baseUrl;
    try {
      baseUrl = this.#client().toJSON().baseUrl;
    } catch {
      return false; // GET answers the invalid_config error
    }
    return key !== `cedato-auth:v1:${baseUrl}:${this.#env.CEDATO_CLIENT_ID}`;
  }

  async fetch(request) {
    const key = new URL(request.url).searchParams.get("key");
    if (key !== null && this.#foreignKey(key)) {
      return json(409, { error: "key_mismatch", message: "this broker holds the token of other credentials" });
    }
    if (request.method === "GET") {
      if (this.#failure && Date.now() < this.#failure.until) return json(200, this.#failure.failure);
      this.#failure = undefined;
      try {
        const auth = this.#client();
        const accessToken = await auth.getToken();
        const expiresAt = auth.expiresAt;
        if (typeof expiresAt !== "number" || expiresAt <= Date.now()) {
          return json(502, { error: "not_cacheable", message: "the token endpoint sent a token that must not be shared" });
        }
        this.#served = accessToken;
        // The lifetime and the refresh point of the token as the broker keeps it: every
        // isolate then refreshes it at the same point, whatever skew each is configured with.
        const kept = this.#kept?.accessToken === accessToken ? this.#kept : undefined;
        return json(200, { accessToken, tokenType: "bearer", expiresAt, expiresIn: kept?.expiresIn, refreshAt: kept?.refreshAt });
      } catch (error) {
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
    }
    if (request.method === "DELETE") {
      const refused = bearerOf(request);
      const current = this.#served ?? usableToken(await this.#storage?.get(STORAGE_KEY))?.accessToken;
      if (refused === undefined || refused === current) {
        this.#dropped = current;
        this.#served = undefined;
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
 */
export function durableObjectTokenStore(namespace, options = {}) {
  if (namespace === null || typeof namespace !== "object" || typeof namespace.idFromName !== "function") {
    throw new TypeError("durableObjectTokenStore: pass the Durable Object namespace binding (env.CEDATO_TOKEN_BROKER)");
  }
  const name = options.name;
  if (name !== undefined && (typeof name !== "string" || name === "")) {
    throw new TypeError("durableObjectTokenStore: name must be a non-empty string");
  }
  // The token this store last handed out per key: DELETE names it, so a refusal of an
  // old token that reaches the broker late does not drop the new one.
  const handedOut = new Map();
  const stub = (key) => namespace.get(namespace.idFromName(name ?? key));
  const url = (key) => `${BROKER_URL}?key=${encodeURIComponent(key)}`;

  return {
    async get(key) {
      const response = await stub(key).fetch(url(key));
      if (!response.ok) {
        await response.body?.cancel();
        return null;
      }
      const value = await response.json();
      // The broker's token request failed: CedatoAuth ends with that (shared back-off).
      if (typeof value?.failure === "string") return value;
      const token = usableToken(value);
      if (token) handedOut.set(key, token.accessToken);
      return token;
    },

    async set(key, token) {
      // The broker fetched and keeps its token; a token this isolate fetched itself
      // (broker unreachable) stays in the isolate, and is the one a later delete names,
      // so its refusal cannot drop the broker's token.
      handedOut.set(key, token.accessToken);
    },

    async delete(key) {
      const refused = handedOut.get(key);
      handedOut.delete(key);
      const headers = refused ? { authorization: `Bearer ${refused}` } : {};
      const response = await keptAlive(stub(key).fetch(url(key), { method: "DELETE", headers }));
      await response.body?.cancel();
    },
  };
}
