// The JS half of CedatoAuth: the waiting. tools/build-pkg.sh appends this file to the
// wasm-bindgen glue, where `CedatoCore` and `cedatoError` (src/js/mod.rs) are in scope.
//
// The Rust half decides everything about tokens: the options, the token request, what an
// answer means (a token, a wait before the next attempt, or the CedatoError to throw), the
// cache with its expiry and refresh window, grace, what the shared store keeps. This half
// sends (`fetch` under an AbortController deadline), waits (timers), lets every caller of
// one token request share its promise, and shapes `fetch`/`request` calls (URL, Headers,
// RequestInit, JSON). A token arrives from Rust as a handle `[id, token, authorization]`,
// plus `[storedValue, ttlSeconds]` when the tokenStore should keep it.

let isolation = false;

/**
 * Switches on request isolation, for runtimes that tie every I/O to the request that
 * started it and cancel it when that request ends (workerd). A caller that waits for a
 * token request then keeps its own request alive with a timer of its own, and a token
 * request whose I/O was cancelled is given up after the longest time a healthy one takes.
 * The package's workerd entry calls it once.
 */
export function isolateRequests() {
  isolation = true;
}

const noop = () => {};

// An AbortSignal that aborts after `ms`; `clearTimeout(deadline.timer)` once the work is
// done. Without `ms`, no deadline: `{ signal: undefined, timer: undefined }`.
function deadline(ms) {
  if (ms === undefined) return { signal: undefined, timer: undefined };
  const controller = new AbortController();
  return { signal: controller.signal, timer: setTimeout(() => controller.abort(), ms) };
}

function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Settles with what `promise` resolves to, or with undefined when it rejects or `ms` pass.
function within(promise, ms) {
  let timer;
  const limit = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise.catch(noop), limit]).finally(() => clearTimeout(timer));
}

// A tokenStore method call: a store that lacks the method, throws, rejects or is slow only
// means "nothing there" / "not written"; it never fails a call.
function storeCall(store, name, args, ms) {
  try {
    const method = store[name];
    if (typeof method !== "function") return Promise.resolve();
    return within(Promise.resolve(method.apply(store, args)), ms);
  } catch {
    return Promise.resolve();
  }
}

// The caller's fetch option or the global fetch (looked up at each call, so a patched
// global is honoured); a synchronous throw becomes a rejection, like fetch's own.
async function send(custom, input, init) {
  const response = await (custom ? custom.call(undefined, input, init) : fetch(input, init));
  if (!(response instanceof Response)) throw response;
  return response;
}

// `value[key]` when it is a string, else undefined; never throws (a thrown value may be
// anything, a getter that throws or null included).
function stringField(value, key) {
  try {
    const v = value[key];
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

// A thrown JS value in a sentence: its message, and its cause's message or code.
function describe(error) {
  let out = stringField(error, "message") ?? (typeof error === "string" ? error : "unknown error");
  let cause;
  try {
    cause = error.cause;
  } catch {}
  const more = stringField(cause, "message") ?? stringField(cause, "code");
  if (more !== undefined) out += ` (${more})`;
  return out;
}

function withCause(code, message, cause, status) {
  const error = cedatoError(code, message, status);
  error.cause = cause;
  return error;
}

const invalid = (message) => cedatoError("invalid_request", message);

const isObject = (value) => typeof value === "object" && value !== null;

// Appends `query` (string, number or boolean values; undefined and null skipped).
function addQuery(url, query) {
  if (query === undefined || query === null) return;
  if (!isObject(query)) throw invalid("options.query must be an object");
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    const type = typeof value;
    if (type !== "string" && type !== "number" && type !== "boolean") {
      throw invalid("options.query values must be strings, numbers or booleans");
    }
    url.searchParams.append(key, String(value));
  }
}

/**
 * Cedato Platform API credentials exchanged for an access token, cached in memory with
 * expiry tracking, and authenticated calls.
 */
export class CedatoAuth {
  #core;
  #fetch;
  #store;
  // What the Rust half derived from the options, read once.
  #tokenUrl;
  #tokenInit;
  #storeKey;
  #timeoutMs;
  #longestFlightMs;
  #baseUrl;
  #origin;
  #apiVersion;
  /** The token request in flight: `{ promise, done, settled, shared }`. */
  #flight;
  /**
   * `[refreshAt, tokenPromise, headerPromise]` of the cached token (CedatoCore.memo):
   * cached calls are answered here until refreshAt. `null` when the Rust half has no
   * fresh token (only a token landing changes that: time only makes tokens staler);
   * `undefined`, to be asked again, whenever its cache may have changed (a token lands,
   * clear, forget).
   */
  #memo;

  /**
   * Validates the options; throws a `CedatoError` with code `invalid_config`. Makes no
   * request, sets no timer (a worker may construct it at module scope).
   */
  constructor(options) {
    this.#core = new CedatoCore(options);
    // The Rust half checked both: fetch is a function or absent, tokenStore an object
    // with get and set methods or absent.
    this.#fetch = options.fetch ?? undefined;
    this.#store = options.tokenStore ?? undefined;
    [
      this.#tokenUrl,
      this.#tokenInit,
      this.#storeKey,
      this.#timeoutMs,
      this.#longestFlightMs,
      this.#baseUrl,
      this.#origin,
      this.#apiVersion,
    ] = this.#core.settings();
  }

  /** The access token: from memory while fresh, else fetched (one request for all callers). */
  getToken() {
    // The cached path, inline: one time check, no call into wasm.
    const memo = this.#memo;
    if (memo && Date.now() < memo[0]) return memo[1];
    return this.#promise(1, false);
  }

  /** `"Bearer <token>"`, for the `Authorization` header. */
  getAuthorizationHeader() {
    const memo = this.#memo;
    if (memo && Date.now() < memo[0]) return memo[2];
    return this.#promise(2, false);
  }

  /** A new token now, joining a request already in flight; no grace on failure. */
  refresh() {
    return this.#promise(1, true);
  }

  /** Forgets the cached token. A request already in flight is not cancelled. */
  clear() {
    this.#memo = undefined;
    this.#core.clear();
  }

  /** When the cached token expires, in ms since the epoch; `undefined` when none is cached. */
  get expiresAt() {
    return this.#core.expiresAt;
  }

  /** Whether a token is cached and outside the refresh window. */
  get hasValidToken() {
    return this.#core.hasValidToken;
  }

  /**
   * `fetch` with the token: a relative URL resolves against `baseUrl`; an absolute one must
   * share its origin. A 401 or 419 answer gets one retry with a new token (when the body
   * can be sent again). Resolves with the `Response`.
   */
  async fetch(input, init) {
    const [response] = await this.#authedFetch(this.#resolve(input), init);
    return response;
  }

  /**
   * A JSON call through `fetch`: resolves with the parsed body of a 2xx answer (`undefined`
   * when empty), rejects with `http` on another status.
   */
  async request(path, options) {
    if (typeof path !== "string") throw invalid("request() takes a path string");
    const given = options !== undefined && options !== null;
    if (given && !isObject(options)) throw invalid("request() options must be an object");
    const url = this.#resolve(path);
    const field = (key) => (given ? options[key] : undefined);
    addQuery(url, field("query"));
    let method = field("method") ?? "GET";
    if (typeof method !== "string") throw invalid("options.method must be a string");
    const headers = {};
    const extra = field("headers");
    if (isObject(extra)) Object.assign(headers, extra);
    else if (extra !== undefined && extra !== null) throw invalid("options.headers must be an object");
    const init = { method, headers };
    const body = field("body");
    if (body !== undefined) {
      let text;
      try {
        text = JSON.stringify(body);
      } catch {}
      if (typeof text !== "string") throw invalid("options.body cannot be encoded as JSON");
      init.body = text;
      if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) {
        headers["content-type"] = "application/json";
      }
    }
    const [response, limit] = await this.#authedFetch(url, init, this.#timeoutMs);
    let text;
    try {
      text = await response.text();
    } catch (cause) {
      throw withCause(limit.signal.aborted ? "timeout" : "network", "reading the API answer failed", cause);
    } finally {
      clearTimeout(limit.timer);
    }
    const status = response.status;
    // "GET reports/... answered HTTP 404", the start of either error below.
    const message = `${method} ${path} answered HTTP ${status}`;
    if (status < 200 || status > 299) {
      throw cedatoError("http", message, status, text, response.headers.get("retry-after") ?? undefined);
    }
    if (text === "") return undefined;
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw withCause("invalid_response", `${message} with a body that is not JSON`, cause, status);
    }
  }

  /** Releases the wasm memory of this instance; calls still pending settle. */
  free() {
    this.#memo = undefined;
    this.#core.free();
  }

  /** `CedatoAuth(<baseUrl>)`: never a credential. */
  toString() {
    return this.#core.toString();
  }

  /** What `JSON.stringify` shows: the base URL and the token's state, never a credential. */
  toJSON() {
    return this.#core.toJSON();
  }

  // The token (part 1) or header (part 2): an already settled promise while the token is
  // fresh (the same one for every call on the same token), else through the token request.
  #promise(part, refresh) {
    if (!refresh) {
      let memo = this.#memo;
      if (memo === undefined) memo = this.#memo = this.#core.memo() ?? null;
      if (memo !== null) {
        if (Date.now() < memo[0]) return memo[part];
        this.#memo = null;
      }
      if (!isolation) {
        // All callers of one token request share one promise per part, made on first use
        // (a thousand cold callers cost a thousand lookups, not a thousand chains).
        const flight = this.#start(false);
        const shared = (flight.shared ??= []);
        shared[0] ??= this.#graced(flight.promise);
        return (shared[part] ??= shared[0].then((handle) => handle[part]));
      }
    }
    return this.#requested(refresh).then((handle) => handle[part]);
  }

  // `flight` with grace: a failure gives way to the cached token while it has not expired.
  #graced(flight) {
    return flight.catch((error) => {
      const old = this.#core.grace();
      if (old) return old;
      throw error;
    });
  }

  // A handle for an API call: fresh from memory, else from the token request (with grace).
  #token() {
    return Promise.resolve(this.#core.fresh() ?? this.#requested(false));
  }

  // A handle from the token request in flight (with grace, unless `refresh`).
  #requested(refresh) {
    const joined = this.#join(refresh);
    return refresh ? joined : this.#graced(joined);
  }

  // Waits for the token request in flight (starting one if needed). With request
  // isolation (workerd), each caller waits on the flight with a timer of its own (its
  // request is not hung meanwhile) and gives up a flight that has not settled in the
  // longest time a healthy one takes: the request that started it ended and took its I/O.
  async #join(refresh) {
    if (!isolation) return this.#start(refresh).promise;
    const limit = this.#longestFlightMs;
    const alive = setTimeout(noop, limit);
    try {
      for (let i = 0; i < 2; i++) {
        const flight = this.#start(refresh);
        await (flight.settled ??= within(flight.promise, limit));
        if (flight.done) return await flight.promise;
        if (this.#flight === flight) this.#flight = undefined;
      }
      throw cedatoError("timeout", "the token request in flight never finished");
    } finally {
      clearTimeout(alive);
    }
  }

  // The token request in flight, started when there is none (`skipStoreRead` for a new
  // token: the store may hold the very token being replaced).
  #start(skipStoreRead) {
    if (this.#flight) return this.#flight;
    const flight = { done: false };
    this.#flight = flight;
    flight.promise = this.#obtain(skipStoreRead).finally(() => {
      flight.done = true;
      if (this.#flight === flight) this.#flight = undefined;
    });
    // Every caller awaits it; this keeps a flight whose callers all gave up from being
    // reported as an unhandled rejection.
    flight.promise.catch(noop);
    return flight;
  }

  // From the store when it has a token usable now, else from the endpoint (then shared
  // through the store).
  async #obtain(skipStoreRead) {
    const store = this.#store;
    if (store && !skipStoreRead) {
      const handle = this.#core.stored(await storeCall(store, "get", [this.#storeKey], this.#timeoutMs));
      if (handle) {
        this.#memo = undefined;
        return handle;
      }
    }
    const handle = await this.#exchange();
    if (store && handle.length > 3) {
      await storeCall(store, "set", [this.#storeKey, handle[3], handle[4]], this.#timeoutMs);
    }
    return handle;
  }

  // The token request with its retries: each attempt within timeoutMs, body included.
  async #exchange() {
    const core = this.#core;
    const timeoutMs = this.#timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const sentAt = Date.now();
      let answer;
      let failure;
      let limit;
      try {
        limit = deadline(timeoutMs);
        const response = await send(this.#fetch, this.#tokenUrl, { ...this.#tokenInit, signal: limit.signal });
        answer = [response.status, response.headers.get("retry-after") ?? undefined, await response.text()];
      } catch (error) {
        failure = error;
      } finally {
        clearTimeout(limit?.timer);
      }
      const next = answer
        ? core.answer(answer[0], answer[1], answer[2], sentAt, attempt)
        : core.failed(limit?.signal.aborted === true, describe(failure), attempt);
      if (typeof next !== "number") {
        this.#memo = undefined;
        return next;
      }
      await wait(next);
    }
  }

  // The absolute URL for `input`: relative ones resolve against baseUrl; the result must
  // have baseUrl's origin, so the token never leaves it.
  #resolve(input) {
    const origin = this.#origin;
    let text;
    if (typeof input === "string") text = input;
    else if (input instanceof URL) text = input.href;
    else throw invalid("the URL must be a string or a URL object");
    let url;
    try {
      url = new URL(text, this.#baseUrl);
    } catch (cause) {
      throw withCause("invalid_request", "the URL cannot be parsed", cause);
    }
    if (url.origin !== origin) {
      throw invalid(`refused to send the token outside ${origin} (the origin of baseUrl)`);
    }
    return url;
  }

  // Fetches `url` with the caller's `init` plus the token, retrying once on 401/419. With
  // `timeoutMs`, each attempt is aborted after that time; the deadline returned
  // (`{ signal, timer }`) is the caller's to clear once it has read the body.
  async #authedFetch(url, init, timeoutMs) {
    if (init !== undefined && init !== null && !isObject(init)) throw invalid("init must be an object");
    const base = Object.assign({}, init);
    let headers;
    try {
      headers = new Headers(base.headers);
    } catch (cause) {
      throw withCause("invalid_request", "init.headers is not a valid set of headers", cause);
    }
    for (const [name, value] of [["api-version", this.#apiVersion], ["accept", "application/json"]]) {
      if (!headers.has(name)) headers.set(name, value);
    }
    const body = base.body;
    // A stream is used up by the first send: no retry then.
    const resendable = !(typeof ReadableStream === "function" && body instanceof ReadableStream);
    for (let retried = false; ; retried = true) {
      const token = await this.#token();
      try {
        headers.set("authorization", token[2]);
      } catch (cause) {
        throw withCause("invalid_request", "cannot set the Authorization header", cause);
      }
      const attempt = { ...base, headers };
      const limit = deadline(timeoutMs);
      if (limit.signal) attempt.signal = limit.signal;
      let response;
      try {
        response = await send(this.#fetch, url.href, attempt);
      } catch (error) {
        clearTimeout(limit.timer);
        throw this.#fetchFailure(error, limit, token);
      }
      const status = response.status;
      if ((status === 401 || status === 419) && resendable && !retried) {
        const [id] = token;
        this.#memo = undefined;
        if (this.#core.forget(id) && this.#store) {
          await storeCall(this.#store, "delete", [this.#storeKey], this.#timeoutMs);
        }
        // Free the connection of the refused answer before the retry.
        await response.text().catch(noop);
        clearTimeout(limit.timer);
        continue;
      }
      return [response, limit];
    }
  }

  // The CedatoError for an API fetch that threw: `timeout` when a time limit (ours, or an
  // AbortSignal.timeout() of the caller) ended it, else `network`.
  #fetchFailure(error, limit, token) {
    const name = stringField(error, "name");
    if (limit.signal?.aborted) {
      return withCause("timeout", "the API did not answer within timeoutMs", error);
    }
    if (name === "TimeoutError") return withCause("timeout", "the request timed out (init.signal)", error);
    if (name === "AbortError") return withCause("network", "the request was aborted (init.signal)", error);
    let detail = describe(error);
    for (const secret of [token[2], token[1]]) {
      if (secret.length >= 4) detail = detail.split(secret).join("[redacted]");
    }
    return withCause("network", `the API request failed: ${detail}`, error);
  }
}

if (typeof Symbol.dispose === "symbol") CedatoAuth.prototype[Symbol.dispose] = CedatoAuth.prototype.free;
