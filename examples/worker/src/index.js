// A Cloudflare Worker that lets a browser read the Cedato Platform API without ever
// holding a credential: GET /api/<path> is sent to {CEDATO_BASE_URL}<path> with a
// bearer token that only this worker knows.
//
// Secrets (wrangler secret put): CEDATO_CLIENT_ID, CEDATO_CLIENT_SECRET.
// Variables (wrangler.toml [vars]): ALLOWED_ORIGINS (comma-separated, e.g.
// "https://dash.example.com"), CEDATO_BASE_URL (optional, default the Cedato API).
import { CedatoAuth } from "cedato-auth";

const DEFAULT_BASE_URL = "https://api.cedato.com/api/";
const PREFIX = "/api/";

/** Upstream response headers a browser may see; everything else (cookies, auth challenges, …) stays here. */
const FORWARDED_HEADERS = [
  "content-type",
  "content-language",
  "cache-control",
  "etag",
  "last-modified",
  "retry-after",
];

// One CedatoAuth per isolate, so every request of the isolate shares one cached token
// (and one token request when many arrive at once). It is made on the first request,
// because `env` only arrives with a request.
let shared;

/** The isolate's CedatoAuth and what the proxy needs to keep its secrets out of answers. */
function proxyFor(env) {
  if (shared) return shared;
  let baseUrl;
  try {
    baseUrl = new URL(env.CEDATO_BASE_URL || DEFAULT_BASE_URL);
  } catch {
    throw Object.assign(new Error("CEDATO_BASE_URL is not a URL."), { code: "invalid_config" });
  }
  if (!baseUrl.pathname.endsWith("/")) baseUrl.pathname += "/";
  const recentTokens = new Set();
  const auth = new CedatoAuth({
    clientId: env.CEDATO_CLIENT_ID,
    clientSecret: env.CEDATO_CLIENT_SECRET,
    baseUrl: baseUrl.href,
    // Notes the bearer tokens the library sends, so that an API answer that happens to
    // quote one (an echo, a debug field) is redacted before it reaches the browser.
    fetch(input, init) {
      const authorization = new Headers(init?.headers).get("authorization") ?? "";
      if (authorization.startsWith("Bearer ")) {
        recentTokens.add(authorization.slice(7));
        if (recentTokens.size > 4) recentTokens.delete(recentTokens.values().next().value);
      }
      return globalThis.fetch(input, init);
    },
  });
  const basic = base64Utf8(`${env.CEDATO_CLIENT_ID}:${env.CEDATO_CLIENT_SECRET}`);
  const secrets = () => [env.CEDATO_CLIENT_SECRET, basic, ...recentTokens].filter((s) => s && s.length >= 6);
  shared = { auth, baseUrl: baseUrl.href, secrets };
  return shared;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const origin = request.headers.get("origin");
    const allowed = allowedOrigins(env);
    // A page of another origin gets nothing, not even a readable error.
    if (origin !== null && !allowed.has(origin)) {
      return problem(403, "origin_not_allowed", `Origin ${origin} is not in ALLOWED_ORIGINS.`);
    }
    const cors = corsHeaders(origin);
    if (!url.pathname.startsWith(PREFIX)) {
      return problem(404, "not_found", `This proxy serves GET ${PREFIX}* only.`, cors);
    }
    if (request.method === "OPTIONS") return preflight(request, cors);
    if (request.method !== "GET") {
      return problem(405, "method_not_allowed", `${request.method} is not allowed; this proxy is read-only (GET).`, {
        ...cors,
        allow: "GET, OPTIONS",
      });
    }

    let proxy;
    try {
      proxy = proxyFor(env);
    } catch (err) {
      // invalid_config: the secrets or CEDATO_BASE_URL are missing or malformed.
      return failure(err, cors, []);
    }
    const target = upstreamUrl(url, proxy.baseUrl);
    if (!target) return problem(404, "not_found", "This path is not part of the Cedato API.", cors);

    try {
      // The token first, on its own. A token request is shared by every request of the
      // isolate that needs it, but workerd ties its I/O to the request that started it:
      // that request is kept alive until the token is in (waitUntil), even when its
      // client goes away, or the others would wait on a request that no longer exists.
      // Waiting here, rather than inside auth.fetch, also brings this request back to
      // its own context before it does I/O of its own (see README, "Concurrency").
      const token = proxy.auth.getToken();
      ctx.waitUntil(token.then(noop, noop));
      await withDeadline(token, DEADLINE_MS);
      // No header of the browser's is forwarded: above all not its Authorization or
      // cookies. The library adds the bearer token, api-version and accept.
      const pending = proxy.auth.fetch(target, { method: "GET" });
      ctx.waitUntil(pending.then(noop, noop)); // a refresh after a 401 is shared too
      return await relay(await withDeadline(pending, DEADLINE_MS), url, proxy, cors);
    } catch (err) {
      return failure(err, cors, proxy.secrets());
    }
  },
};

const noop = () => {};

/**
 * How long a request waits for the token, then for the API's answer. The library bounds
 * token requests itself (timeoutMs, retries); this bounds the rest, so that a request
 * never waits on I/O that workerd has cancelled, whatever the reason.
 */
const DEADLINE_MS = 30_000;

function withDeadline(promise, ms) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(`No answer from the Cedato API within ${ms / 1000} s.`), { code: "timeout", retryable: true }));
    }, ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function allowedOrigins(env) {
  return new Set(
    String(env.ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim().replace(/\/+$/, ""))
      .filter(Boolean),
  );
}

function corsHeaders(origin) {
  if (origin === null) return { vary: "Origin" };
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": "Retry-After",
    vary: "Origin",
  };
}

function preflight(request, cors) {
  const method = request.headers.get("access-control-request-method");
  if (method !== null && method !== "GET") {
    return problem(405, "method_not_allowed", `${method} is not allowed; this proxy is read-only (GET).`, {
      ...cors,
      allow: "GET, OPTIONS",
    });
  }
  return new Response(null, {
    status: 204,
    headers: {
      ...cors,
      "access-control-allow-methods": "GET, OPTIONS",
      "access-control-allow-headers": "accept, content-type",
      "access-control-max-age": "600",
    },
  });
}

/**
 * The Cedato URL for `/api/<path>?<query>`, or null when it would leave the API's base
 * path or reach the token endpoint (the proxy hands out data, never tokens).
 */
function upstreamUrl(url, baseUrl) {
  const path = url.pathname.slice(PREFIX.length);
  if (path === "" || path.startsWith("/") || path.includes("\\")) return null;
  const target = new URL(path + url.search, baseUrl);
  if (!target.href.startsWith(baseUrl)) return null;
  const rest = target.pathname.slice(new URL(baseUrl).pathname.length).replace(/\/+$/, "");
  if (rest.toLowerCase() === "token") return null;
  return target.href;
}

/** The upstream answer with allow-listed headers, secrets redacted, and links back through the proxy. */
async function relay(upstream, url, proxy, cors) {
  const secrets = proxy.secrets();
  const headers = new Headers(cors);
  for (const name of FORWARDED_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) headers.set(name, redact(value, secrets));
  }
  if (!headers.has("cache-control")) headers.set("cache-control", "private, no-store");
  headers.set("x-content-type-options", "nosniff");
  const nullBody = [101, 204, 205, 304].includes(upstream.status);
  let body = null;
  if (!nullBody) {
    // Links to more pages (data.navigation.next) point at the Cedato API; the browser
    // follows them through the proxy instead.
    const here = `${url.origin}${PREFIX}`;
    body = redact(await upstream.text(), secrets)
      .replaceAll(proxy.baseUrl, here)
      .replaceAll(proxy.baseUrl.replaceAll("/", "\\/"), here.replaceAll("/", "\\/"));
  }
  return new Response(body, { status: upstream.status, headers });
}

const STATUS_OF = {
  invalid_config: 500,
  invalid_request: 400,
  token_rejected: 502,
  rate_limited: 503,
  server_error: 502,
  network: 502,
  timeout: 504,
  invalid_response: 502,
  http: 502,
};

/** A CedatoError (or anything thrown) as a JSON error; the message is redacted all the same. */
function failure(err, cors, secrets) {
  const code = typeof err?.code === "string" ? err.code : "internal";
  const message = redact(String(err?.message ?? err), secrets);
  const extra = err?.retryAfter ? { "retry-after": String(Math.ceil(err.retryAfter)) } : {};
  return problem(STATUS_OF[code] ?? 500, code, message, { ...cors, ...extra }, {
    status: err?.status,
    retryable: err?.retryable,
  });
}

function problem(status, code, message, headers = {}, details = {}) {
  return new Response(JSON.stringify({ error: { code, message, ...details } }), {
    status,
    headers: { ...headers, "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

function redact(text, secrets) {
  let out = text;
  for (const secret of secrets) out = out.replaceAll(secret, "[redacted]");
  return out;
}

function base64Utf8(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
