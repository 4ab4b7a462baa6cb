// The benchmarks' baseline: the token part of the cedato-auth contract (/work/shared/SPEC.md,
// sections 2 and 3) written by hand in plain JavaScript, the way a careful user would write
// it without the library. Same options, same parsing rules, same cache, single flight,
// grace, retries and errors. No authenticated fetch()/request(): the benchmarks only time
// the token side.

const DEFAULT_BASE_URL = "https://api.cedato.com/api/";
const ONE_YEAR_S = 365 * 24 * 3600;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
const RETRYABLE_CODES = new Set(["network", "timeout", "rate_limited", "server_error"]);

export class CedatoError extends Error {
  constructor(code, message, fields = {}) {
    super(message);
    this.name = "CedatoError";
    this.code = code;
    const status = fields.status;
    this.retryable =
      RETRYABLE_CODES.has(code) || (code === "http" && (status === 408 || status === 429 || status >= 500));
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) this[key] = value;
  }
}

const configError = (message) => new CedatoError("invalid_config", message);
const invalidResponse = (message, status) => new CedatoError("invalid_response", message, { status });

/** `Basic base64(utf8(id ":" secret))`; btoa alone fails on non-Latin-1 secrets. */
function basicCredentials(clientId, clientSecret) {
  const bytes = new TextEncoder().encode(`${clientId}:${clientSecret}`);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `Basic ${btoa(binary)}`;
}

/** Retry-After as seconds from now: delay-seconds or an HTTP date; undefined otherwise. */
function retryAfterSeconds(value) {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** A 2xx token answer (either envelope) -> { accessToken, expiresIn }. */
function parseTokenAnswer(text, status) {
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalidResponse("the token endpoint answered something that is not JSON", status);
  }
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const fields = isObject(json?.data) ? json.data : json;
  if (!isObject(fields)) throw invalidResponse("the token answer is not a JSON object", status);
  const { access_token: accessToken, token_type: tokenType } = fields;
  if (typeof accessToken !== "string" || !VISIBLE_ASCII.test(accessToken)) {
    throw invalidResponse("the token answer has no usable access_token", status);
  }
  if (tokenType != null && (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer")) {
    throw invalidResponse("the token answer's token_type is not bearer", status);
  }
  let expiresIn = fields.expires_in ?? 3600;
  if (typeof expiresIn === "string" && /^\d+(\.\d+)?$/.test(expiresIn)) expiresIn = Number(expiresIn);
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn < 0) {
    throw invalidResponse("the token answer's expires_in is not a number of seconds", status);
  }
  return { accessToken, expiresIn: Math.min(expiresIn, ONE_YEAR_S) };
}

/** The error for a non-2xx answer of the token endpoint. */
function endpointError(status, text, headers) {
  let oauthError, oauthErrorDescription;
  try {
    const body = JSON.parse(text);
    if (typeof body?.error === "string") oauthError = body.error;
    if (typeof body?.error_description === "string") oauthErrorDescription = body.error_description;
  } catch {}
  const code =
    status === 400 || status === 401 || status === 403 ? "token_rejected"
    : status === 429 ? "rate_limited"
    : status >= 500 ? "server_error"
    : "http";
  const detail = oauthError ? ` (${oauthError}${oauthErrorDescription ? `: ${oauthErrorDescription}` : ""})` : "";
  const hint = code === "token_rejected" ? "; check the client id and secret" : "";
  return new CedatoError(code, `the Cedato token endpoint answered HTTP ${status}${detail}${hint}`, {
    status,
    oauthError,
    oauthErrorDescription,
    retryAfter: retryAfterSeconds(headers.get("retry-after")),
    body: code === "http" ? text.slice(0, 1024) : undefined,
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class CedatoAuth {
  #tokenUrl;
  #headers;
  #skewSeconds;
  #timeoutMs;
  #maxRetries;
  #fetch;
  #token; // { accessToken, expiresAt, refreshAt, promise, headerPromise }
  #flight; // the one token request in the air

  constructor(options) {
    const { clientId, clientSecret, baseUrl = DEFAULT_BASE_URL, apiVersion = "1" } = options ?? {};
    const { refreshSkewSeconds = 60, timeoutMs = 10_000, maxRetries = 2, fetch } = options ?? {};
    if (typeof clientId !== "string" || clientId === "") throw configError("clientId must be a non-empty string");
    if (clientId.includes(":")) throw configError("clientId cannot contain ':' (Basic credentials)");
    if (typeof clientSecret !== "string" || clientSecret === "") throw configError("clientSecret must be a non-empty string");
    let base;
    try {
      base = new URL(baseUrl);
    } catch {
      throw configError("baseUrl is not a URL");
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") throw configError("baseUrl must be http(s)");
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    if (typeof apiVersion !== "string" || !VISIBLE_ASCII.test(apiVersion)) throw configError("apiVersion must be visible ASCII");
    if (typeof refreshSkewSeconds !== "number" || !(refreshSkewSeconds >= 0) || !Number.isFinite(refreshSkewSeconds)) {
      throw configError("refreshSkewSeconds must be a number >= 0");
    }
    if (typeof timeoutMs !== "number" || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw configError("timeoutMs must be > 0");
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw configError("maxRetries must be an integer >= 0");
    if (fetch !== undefined && typeof fetch !== "function") throw configError("fetch must be a function");
    this.#tokenUrl = new URL("token", base).href;
    this.#headers = {
      accept: "application/json",
      "api-version": apiVersion,
      authorization: basicCredentials(clientId, clientSecret),
      "content-type": "application/x-www-form-urlencoded",
    };
    this.#skewSeconds = refreshSkewSeconds;
    this.#timeoutMs = timeoutMs;
    this.#maxRetries = maxRetries;
    this.#fetch = fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  get expiresAt() {
    return this.#token?.expiresAt;
  }

  get hasValidToken() {
    return this.#token !== undefined && Date.now() < this.#token.refreshAt;
  }

  getToken() {
    const token = this.#token;
    if (token !== undefined && Date.now() < token.refreshAt) return token.promise;
    return this.#renew().then((t) => t.accessToken);
  }

  getAuthorizationHeader() {
    const token = this.#token;
    if (token !== undefined && Date.now() < token.refreshAt) return token.headerPromise;
    return this.#renew().then((t) => `Bearer ${t.accessToken}`);
  }

  /** A new token now (joins a request in flight); no grace: a failure rejects. */
  refresh() {
    return this.#request().then((t) => t.accessToken);
  }

  clear() {
    this.#token = undefined;
  }

  /** A new token, or the old one while it has not really expired when that fails (grace). */
  async #renew() {
    const old = this.#token;
    try {
      return await this.#request();
    } catch (err) {
      if (old !== undefined && this.#token === old && Date.now() < old.expiresAt) return old;
      throw err;
    }
  }

  /** Single flight: every caller shares the one request in the air. */
  #request() {
    this.#flight ??= this.#fetchToken().finally(() => {
      this.#flight = undefined;
    });
    return this.#flight;
  }

  async #fetchToken() {
    for (let attempt = 0; ; attempt++) {
      const sentAt = Date.now();
      let error;
      try {
        const { status, text, headers } = await this.#attempt();
        if (status >= 200 && status < 300) {
          const { accessToken, expiresIn } = parseTokenAnswer(text, status);
          const expiresAt = sentAt + expiresIn * 1000;
          const refreshAt = expiresAt - Math.min(this.#skewSeconds, expiresIn / 2) * 1000;
          const promise = Promise.resolve(accessToken);
          const headerPromise = Promise.resolve(`Bearer ${accessToken}`);
          const token = { accessToken, expiresAt, refreshAt, promise, headerPromise };
          if (expiresIn > 0) this.#token = token; // 0: used once, never cached
          return token;
        }
        error = endpointError(status, text, headers);
      } catch (err) {
        if (err.code === "invalid_response") throw err;
        error = err;
      }
      if (!RETRYABLE_CODES.has(error.code) || attempt >= this.#maxRetries) throw error;
      if (error.retryAfter > 60) throw error; // not worth waiting for: fail at once
      await sleep(error.retryAfter !== undefined ? error.retryAfter * 1000 : Math.random() * Math.min(250 * 2 ** attempt, 5000));
    }
  }

  /** One attempt, body included, aborted after timeoutMs. */
  async #attempt() {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    try {
      const fetch = this.#fetch;
      const res = await fetch(this.#tokenUrl, {
        method: "POST",
        headers: this.#headers,
        body: "grant_type=client_credentials",
        signal: controller.signal,
      });
      return { status: res.status, text: await res.text(), headers: res.headers };
    } catch (err) {
      if (controller.signal.aborted) {
        throw new CedatoError("timeout", `the token request took longer than ${this.#timeoutMs} ms`);
      }
      throw new CedatoError("network", `the token request could not be made: ${err?.message ?? err}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
