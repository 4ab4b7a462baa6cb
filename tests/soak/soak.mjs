// Chaos soak of cedato-auth (issue 11, section 3): many callers over several CedatoAuth
// instances that share one tokenStore, while a seeded schedule injects faults through the
// mock Cedato server (5xx, 429 with Retry-After, hung, stalled and dropped connections,
// token revocations) and through the store (throws, rejections, hangs). Then a quiet
// phase, in which every call must succeed.
//
//   node --expose-gc tests/soak/soak.mjs [--seconds 150] [--seed N] [--out FILE]
//   (make soak; env SOAK_SECONDS, SOAK_SEED, SOAK_OUT do the same)
//
// Asserts: every call settles within a limit computed from the options (a watchdog per
// call) with a token, an answer or a CedatoError of an expected code; every call of the
// quiet phase succeeds; token requests stay within a bound derived from what the soak
// caused; no secret in any error or event; heap and wasm memory flat after warm-up.
// Prints a table and writes the figures as JSON (test-output/soak.json by default).
// tests/soak/soak.test.mjs runs it for 10 seconds inside `make test`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { CedatoAuth } from "../../pkg/node.mjs";
import { initSync } from "../../pkg/cedato_auth.js";
import { startMockServer } from "../mock/server.mjs";
import { facesOf } from "../support/common.mjs";
import { open } from "../support/sealed.mjs";
import { ChaosStore, Histogram, ScriptQueue, SecretScanner, bump, mulberry32 } from "./chaos.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// The glue's initSync hands back the exports of the instance pkg/node.mjs already made
// (tests/security/memory.mjs does the same): its memory is the library's linear memory.
const wasmExports = initSync({ module: readFileSync(new URL("../../pkg/cedato_auth_bg.wasm", import.meta.url)) });

/** A full GC: the one --expose-gc gives, or the same function fetched through V8's flags. */
const gc = (() => {
  if (typeof globalThis.gc === "function") return globalThis.gc;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc");
})();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
const MB = 1024 * 1024;

/** Every code a CedatoError may carry (SPEC section 3, Errors). */
const KNOWN_CODES = new Set(["invalid_config", "token_rejected", "rate_limited", "server_error", "network", "timeout",
  "invalid_response", "invalid_request", "http"]);
/** Codes the faults this soak injects can explain, by operation. */
const EXPECTED_CODES = {
  getToken: new Set(["rate_limited", "server_error", "network", "timeout"]),
  refresh: new Set(["rate_limited", "server_error", "network", "timeout"]),
  // request(): the token's errors, the API's own time limit and dropped connections, and
  // `http` for an injected 5xx, or a 401 when the retry met another revoked token.
  request: new Set(["rate_limited", "server_error", "network", "timeout", "http"]),
};
/** `retryable` by code (SPEC: true for network, timeout, rate_limited, server_error; http with 408/429/5xx). */
const retryableOf = (err) =>
  ["network", "timeout", "rate_limited", "server_error"].includes(err.code) ||
  (err.code === "http" && (err.status === 408 || err.status === 429 || err.status >= 500));
const EVENT_TYPES = new Set(["token", "retry", "grace", "failure", "api", "store"]);
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** The soak's settings for a run of `seconds`; everything else derives from these. */
export function soakConfig({ seconds = 150, seed = randomSeed() } = {}) {
  const timeoutMs = 500; // short, so hangs cost little; not so short that a busy machine times out
  const maxRetries = 2;
  const maxRetryAfterS = 2; // the largest Retry-After the soak sends
  // Tokens short enough that refresh windows are crossed several times in the run.
  const tokenLifetimeS = seconds >= 60 ? 20 : Math.max(6, Math.round(seconds * 0.6));
  const refreshSkewSeconds = tokenLifetimeS / 4;
  const quietS = Math.min(10, Math.max(3, Math.round(seconds * 0.2)));
  // The longest a token request (a flight) may take: the store's read (timeoutMs), every
  // attempt at its limit, and the longest wait before each retry (the injected Retry-After,
  // or the backoff's cap of 250 ms * 2^n, whichever is longer).
  let waitsMs = 0;
  for (let n = 0; n < maxRetries; n++) waitsMs += Math.max(maxRetryAfterS * 1000, Math.min(5000, 250 * 2 ** n));
  const flightMs = timeoutMs + (maxRetries + 1) * timeoutMs + waitsMs;
  // request(): a flight, the API attempt; after a 401 a second flight and attempt.
  const computed = { getToken: flightMs, refresh: flightMs, request: 2 * (flightMs + timeoutMs) };
  // Generous slack: two shared cores, GC pauses of the memory samples, the mock in-process.
  const limitsMs = Object.fromEntries(Object.entries(computed).map(([op, ms]) => [op, Math.round(ms * 1.5 + 2000)]));
  return {
    seconds,
    seed,
    instances: 6,
    callers: 50,
    timeoutMs,
    maxRetries,
    maxRetryAfterS,
    tokenLifetimeS,
    refreshSkewSeconds,
    chaosS: seconds - quietS,
    quietS,
    flightMs,
    computedLimitsMs: computed,
    limitsMs,
    thinkMs: [30, 150], // a caller's pause between two calls
    // Chances, per call, of the occasional refresh() and clear().
    refreshChance: 0.0004,
    clearChance: 0.0006,
    apiShare: 0.45, // the rest are getToken()
    chaosTickMs: [150, 450],
    // What each chaos tick does, in proportion.
    actions: { token: 30, window: 5, api: 30, store: 25, revoke: 4, nothing: 6 },
    warmupS: Math.min(60, seconds * 0.2), // memory: the reference sample
    sampleEveryS: Math.max(1, Math.min(5, seconds / 30)),
  };
}

export function randomSeed() {
  return Math.floor(Math.random() * 2 ** 32);
}

/** Runs the soak; resolves to its result (`result.ok`, `result.violations`, figures). */
export async function runSoak(options = {}) {
  const cfg = soakConfig(options);
  const log = options.log ?? (() => {});
  const rng = mulberry32(cfg.seed);
  const mock = await startMockServer({ port: 0 });
  const clientId = `t-soak-${cfg.seed}-${process.pid}`;
  const creds = { clientId, clientSecret: `${clientId}-secret` };
  const mockClient = mock.client(clientId);
  mockClient.configure({ expiresIn: cfg.tokenLifetimeS });
  const basic = Buffer.from(`${clientId}:${creds.clientSecret}`, "utf8").toString("base64");

  const violations = new Map(); // kind -> { count, examples }
  const violation = (kind, detail) => {
    const v = violations.get(kind) ?? { count: 0, examples: [] };
    v.count += 1;
    if (v.examples.length < 5) v.examples.push(detail);
    violations.set(kind, v);
  };

  const scanner = new SecretScanner({ clientSecret: creds.clientSecret, basic });
  const store = new ChaosStore();
  // What each revocation revoked that an instance may still pick up after it refused its
  // own cached token: the token the store held at that moment, and tokens requested
  // before it but written to the store after it ("late").
  const revocations = []; // { at, stored: 0 | 1, late }
  let windowOutage = null; // the timer of a "window" fault
  // The store sees sealed values: the soak opens them with the credentials, as an instance would.
  store.onToken = (value) => {
    const { expiresAt } = value;
    scanner.rememberToken(open(creds, mock.baseUrl, value).accessToken);
    const sentAt = expiresAt - cfg.tokenLifetimeS * 1000; // SPEC: expiresAt = sent + expires_in
    const revokedBy = revocations.find((r) => r.at > sentAt);
    if (revokedBy) revokedBy.late += 1;
  };

  // ---------------------------------------------------------------- events and instances
  const events = {};
  let eventsSeen = 0;
  const flights = { attempts: 0, endpointTokens: 0 }; // from the token and failure events
  const flightEnds = []; // per instance: when its last token flight ended (Date.now())
  const TOKEN_CODES = EXPECTED_CODES.getToken;
  /**
   * Checks one event of instance `index` against the contract and the SPEC's retry rules;
   * counts it. A token or failure event ends a flight that began `ms` before: single
   * flight means an instance's flights never overlap.
   */
  const onEvent = (index, event) => {
    eventsSeen += 1;
    try {
      const type = event?.type;
      if (type === "token" || type === "failure") {
        const end = Date.now();
        const start = end - event.ms;
        // 2 ms for the millisecond clock on both sides.
        if (start < (flightEnds[index] ?? -Infinity) - 2) {
          violation("two token flights of one instance overlapped", `instance ${index}: began ${flightEnds[index] - start} ms before the last one ended`);
        }
        flightEnds[index] = end;
      }
      bump(events, String(type));
      if (!EVENT_TYPES.has(type)) violation("event of an unknown type", JSON.stringify(event));
      if (type === "token") {
        bump(events, `token:${event.source}`);
        flights.attempts += event.attempts;
        if (event.source === "endpoint") flights.endpointTokens += 1;
      }
      if (type === "failure") flights.attempts += event.attempts;
      if (type === "token" || type === "failure") {
        if (!(event.attempts <= cfg.maxRetries + 1)) violation("more attempts than maxRetries + 1", JSON.stringify(event));
      }
      if (type === "retry" || type === "failure" || type === "grace") {
        bump(events, `${type}:${event.code}`);
        if (!TOKEN_CODES.has(event.code)) violation(`unexpected code in a ${type} event`, JSON.stringify(event));
      }
      if (type === "retry") {
        // SPEC: Retry-After replaces the backoff; else full jitter in [0, 250 ms * 2^n], at most 5 s.
        const cap = event.retryAfter !== undefined ? event.retryAfter * 1000 : Math.min(5000, 250 * 2 ** (event.attempt - 1));
        if (!(event.waitMs >= 0 && event.waitMs <= cap + 1)) violation("retry wait outside the SPEC", JSON.stringify(event));
        if (event.retryAfter !== undefined && event.retryAfter > cfg.maxRetryAfterS) {
          violation("Retry-After above what was sent", JSON.stringify(event));
        }
      }
      if (type === "store") bump(events, `store:${event.op}:${event.outcome}`);
      if (type === "api") bump(events, `api:${event.status}`);
      if (scanner.scan(`a ${type} event`, facesOf(event))) {
        violation("secret in an event", type);
      }
    } catch (err) {
      violation("event could not be read", String(err));
    }
  };
  const auths = Array.from(
    { length: cfg.instances },
    (_, index) =>
      new CedatoAuth({
        ...creds,
        baseUrl: mock.baseUrl,
        timeoutMs: cfg.timeoutMs,
        maxRetries: cfg.maxRetries,
        refreshSkewSeconds: cfg.refreshSkewSeconds,
        tokenStore: store,
        onEvent: (event) => onEvent(index, event),
      }),
  );

  // ---------------------------------------------------------------- calls and their judging
  let phase = "chaos";
  const counts = { refreshCalls: 0, clearCalls: 0 };
  const outcomes = {}; // op -> { ok, <code>: n }
  const byPhase = {}; // phase -> { calls, ok, failed }
  const latency = { getToken: new Histogram(), refresh: new Histogram(), request: new Histogram() };
  const pending = new Set(); // calls in the air: { op, phase, start }
  const hungCalls = new Set(); // calls past their watchdog that have not settled yet
  const quietTimeouts = []; // { from, to, detail }: judged against `stalls` at the end
  let hung = 0;

  /** Checks what a successful call gave. */
  function checkValue(op, value, detail) {
    if (op === "request") {
      const { key, expected } = detail;
      const rows = value?.data?.[key];
      if (value?.status !== "OK" || !Array.isArray(rows) || rows.length !== expected) {
        violation("wrong API answer", `${key}: ${inspect(value, { depth: 1 }).slice(0, 200)}`);
      }
    } else if (typeof value !== "string" || !VISIBLE_ASCII.test(value)) {
      violation("not a token", `${op} gave ${inspect(value).slice(0, 80)}`);
    }
  }

  /** Checks a rejection: a CedatoError of an expected code, its fields, no secret. */
  function checkError(op, err, call) {
    const code = err?.code;
    if (!(err instanceof Error) || err.name !== "CedatoError") {
      violation("not a CedatoError", `${op}: ${inspect(err).slice(0, 300)}`);
      return "not-a-CedatoError";
    }
    if (!KNOWN_CODES.has(code)) violation("unknown error code", `${op}: ${code}`);
    else if (!EXPECTED_CODES[op].has(code)) violation("unexpected error code", `${op}: ${code}: ${err.message}`);
    if (code === "http" && !(err.status >= 500 || err.status === 401)) {
      violation("unexpected error code", `${op}: http ${err.status}: ${err.message}`);
    }
    if (typeof err.message !== "string" || err.message.length === 0) violation("error without a message", `${op}: ${code}`);
    // The fields the SPEC gives each code (every 429 and some 503s of the soak carry a
    // Retry-After of 0-2 s).
    const statusOk = {
      rate_limited: err.status === 429 && err.retryAfter >= 0 && err.retryAfter <= cfg.maxRetryAfterS,
      server_error: err.status >= 500 && err.status <= 599,
      http: Number.isInteger(err.status) && typeof err.body === "string",
    }[code];
    if (statusOk === false) violation("error fields wrong for its code", `${op}: ${code} status ${err.status} retryAfter ${err.retryAfter}`);
    if (err.retryAfter !== undefined && !(err.retryAfter >= 0 && err.retryAfter <= cfg.maxRetryAfterS)) {
      violation("error retryAfter above what was sent", `${op}: ${code} retryAfter ${err.retryAfter}`);
    }
    if (err.retryable !== retryableOf(err)) violation("wrong retryable", `${op}: ${code} ${err.status} retryable=${err.retryable}`);
    if (scanner.scan(`a ${op} error (${code})`, facesOf(err))) violation("secret in an error", `${op}: ${code}`);
    if (call.phase === "quiet") {
      const detail = `${op} at ${((call.start - startedAt) / 1000).toFixed(2)} s: ${code}: ${err.message}`;
      // A time limit missed while the whole process stood still is the machine's doing:
      // judged at the end, against the event-loop stalls seen around it.
      if (code === "timeout" && quietTimeouts.length < 10_000) quietTimeouts.push({ from: call.start, to: now(), detail });
      else violation("failure in the quiet phase", detail);
    }
    return code;
  }

  /**
   * Makes one call through `run()` under a watchdog: records its outcome, latency and
   * phase; a call still pending after its limit is a hang (and is watched until it ends).
   */
  async function observe(op, run, detail) {
    const call = { op, phase, start: now() };
    const tally = (byPhase[call.phase] ??= { calls: 0, ok: 0, failed: 0 });
    tally.calls += 1;
    let promise;
    try {
      promise = run();
    } catch (err) {
      violation("synchronous throw", `${op}: ${inspect(err).slice(0, 200)}`);
      promise = Promise.reject(err);
    }
    if (!promise || typeof promise.then !== "function") violation("no promise", `${op} returned ${typeof promise}`);
    pending.add(call);
    const settled = Promise.resolve(promise).then(
      (value) => ({ ok: true, value }),
      (error) => ({ ok: false, error }),
    );
    let timer;
    const watchdog = new Promise((resolve) => (timer = setTimeout(resolve, cfg.limitsMs[op], null)));
    const first = await Promise.race([settled, watchdog]);
    clearTimeout(timer);
    if (first === null) {
      hung += 1;
      pending.delete(call);
      hungCalls.add(call);
      violation("call did not settle within its limit", `${op} (limit ${cfg.limitsMs[op]} ms, started in ${call.phase} at ${((call.start - startedAt) / 1000).toFixed(1)} s)`);
      settled.then(() => {
        hungCalls.delete(call);
        violation("late settle", `${op} after ${(now() - call.start).toFixed(0)} ms`);
      });
      return;
    }
    pending.delete(call);
    const ms = now() - call.start;
    latency[op].add(ms);
    const results = (outcomes[op] ??= {});
    if (first.ok) {
      tally.ok += 1;
      bump(results, "ok");
      checkValue(op, first.value, detail);
    } else {
      tally.failed += 1;
      const code = checkError(op, first.error, call);
      bump(results, code === "http" ? `http ${first.error.status}` : code);
    }
  }

  const REPORTS = [
    { path: "reports/supplies/extended", key: "supplies", total: 57 },
    { path: "reports/demands/basic", key: "demands", total: 33 },
  ];
  const refresh = (auth) => {
    counts.refreshCalls += 1;
    return observe("refresh", () => auth.refresh());
  };

  /**
   * SPEC, grace: a failed refresh gives way to the cached token while it has not expired,
   * so getToken() rejects only when the instance holds no unexpired token (read at once,
   * before anything else can land a token).
   */
  const graceCheck = (auth) => (err) => {
    const left = auth.expiresAt - Date.now();
    if (left > 0) violation("getToken() failed with an unexpired token cached (no grace)", `${err?.code}: ${left} ms left`);
    throw err;
  };

  /** One caller: a loop of calls on its instance, with its own seeded choices. */
  let stopping = false;
  async function caller(index) {
    const auth = auths[index % auths.length];
    const r = mulberry32((cfg.seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0);
    await sleep(r.int(0, 200));
    while (!stopping) {
      const x = r.rand();
      if (x < cfg.refreshChance) {
        await refresh(auth);
      } else if (x < cfg.refreshChance + cfg.clearChance) {
        counts.clearCalls += 1;
        try {
          auth.clear();
        } catch (err) {
          violation("synchronous throw", `clear(): ${inspect(err).slice(0, 200)}`);
        }
      } else if (r.rand() < cfg.apiShare) {
        const report = REPORTS[r.int(0, REPORTS.length - 1)];
        const limit = r.int(1, 20);
        const offset = r.int(0, report.total - 1);
        const query = { start: "2026-01-01", end: "2026-01-31", limit, offset };
        const expected = Math.min(limit, report.total - offset);
        await observe("request", () => auth.request(report.path, { query }), { key: report.key, expected });
      } else {
        await observe("getToken", () => auth.getToken().catch(graceCheck(auth)));
      }
      await sleep(r.int(...cfg.thinkMs));
    }
  }

  // ---------------------------------------------------------------- faults
  const faults = {}; // kind -> entries or windows injected
  const tokenQueue = new ScriptQueue(() => mockClient.stats().tokenRequests, (e) => mockClient.tokenScript(e));
  const apiQueue = new ScriptQueue(() => mockClient.stats().apiRequests, (e) => mockClient.apiScript(e));
  const hangMs = () => rng.int(cfg.timeoutMs + 200, cfg.timeoutMs * 8);
  const retryAfter = () => String(rng.int(0, cfg.maxRetryAfterS));

  const TOKEN_FAULTS = {
    "token 5xx": () => ({ status: [500, 502, 503, 504][rng.int(0, 3)] }),
    "token 429 + Retry-After": () => ({ status: 429, headers: { "retry-after": retryAfter() } }),
    "token 503 + Retry-After": () => ({ status: 503, headers: { "retry-after": retryAfter() } }),
    "token hung (delayMs)": () => ({ delayMs: hangMs() }),
    "token stalled body": () => ({ stallBody: true }),
    "token dropped": () => ({ drop: true }),
  };
  const API_FAULTS = {
    "api 5xx": () => ({ status: [500, 502, 503][rng.int(0, 2)] }),
    "api 503 + Retry-After": () => ({ status: 503, headers: { "retry-after": retryAfter() } }),
    "api hung (delayMs)": () => ({ delayMs: hangMs() }),
    "api stalled body": () => ({ stallBody: true }),
    "api dropped": () => ({ drop: true }),
  };
  const burst = (table, length) => {
    const kinds = Object.keys(table);
    return Array.from({ length }, () => {
      const kind = kinds[rng.int(0, kinds.length - 1)];
      bump(faults, kind);
      return table[kind]();
    });
  };

  const ACTIONS = {
    // A burst of failing token answers, only when the last one is used up (so none is
    // left for the quiet phase); a third of them as long as a whole flight (all attempts).
    token() {
      if (tokenQueue.look() > 0) return bump(faults, "skipped (token queue busy)");
      const length = rng.rand() < 1 / 3 ? cfg.maxRetries + 1 : rng.int(1, cfg.maxRetries);
      tokenQueue.push(burst(TOKEN_FAULTS, length));
      // Some bursts are met by a refresh() at once, the others by the next token request
      // (a refresh window, a revocation, a clear()).
      if (rng.rand() < 0.4) refresh(auths[rng.int(0, auths.length - 1)]);
    },
    // An outage of the token endpoint at the next refresh point of an instance: every
    // flight of every instance fails there (I x (maxRetries + 1) failing answers), and the
    // callers inside the refresh window are served their unexpired token (grace).
    window() {
      const skewMs = Math.min(cfg.refreshSkewSeconds, cfg.tokenLifetimeS / 2) * 1000;
      const at = Math.min(...auths.map((auth) => (auth.expiresAt ?? 0) - skewMs).filter((t) => t > Date.now()));
      if (windowOutage || !Number.isFinite(at) || at - Date.now() > cfg.tokenLifetimeS * 1000) {
        return bump(faults, "skipped (window outage pending)");
      }
      windowOutage = setTimeout(() => {
        windowOutage = null;
        if (phase !== "chaos" || tokenQueue.look() > 0) return bump(faults, "skipped (token queue busy)");
        bump(faults, "token outage at a refresh window");
        tokenQueue.push(burst(TOKEN_FAULTS, cfg.instances * (cfg.maxRetries + 1)));
      }, at - Date.now() - 20);
    },
    api() {
      if (apiQueue.look() >= 3) return bump(faults, "skipped (api queue busy)");
      apiQueue.push(burst(API_FAULTS, rng.int(1, 3)));
    },
    // `first`: the run's first store fault, a get() fault met at once, so that even a
    // short run has the library meet a failing store.
    store(first = false) {
      const op = first ? "get" : rng.weighted({ get: 5, set: 2.5, delete: 1.5, release: 1 });
      const mode = rng.weighted({ throw: 1, reject: 1.5, hang: 2 });
      store.inject(op, mode, rng.int(500, 2500));
      bump(faults, `store ${op} ${mode} (windows)`);
      // Store calls come with token needs: half the windows get one at once (a clear()
      // sends the instance's next call to the store, a refresh() writes to it).
      if (first || rng.rand() < 0.5) {
        const auth = auths[rng.int(0, auths.length - 1)];
        if (op === "get") {
          counts.clearCalls += 1;
          auth.clear();
        } else if (op === "set") {
          refresh(auth);
        }
      }
    },
    revoke() {
      const at = Date.now();
      const stored = store.peek(store.keys.values().next().value);
      revocations.push({ at, stored: stored?.expiresAt > at ? 1 : 0, late: 0 });
      mockClient.revoke();
      bump(faults, "revocation");
    },
    nothing() {},
  };

  /** The chaos schedule: each kind of action once early (shuffled), then drawn by weight. */
  async function chaos(until) {
    const first = rng.shuffled(["token", "window", "api", "store", "revoke"]);
    while (now() < until) {
      await sleep(rng.int(...cfg.chaosTickMs));
      if (now() >= until) break;
      const action = first.shift();
      if (action) ACTIONS[action](true);
      else ACTIONS[rng.weighted(cfg.actions)]();
    }
  }

  // ---------------------------------------------------------------- memory and event loop
  const memory = [];
  const sampleMemory = (label) => {
    gc();
    gc();
    const sample = {
      t: Math.round((now() - startedAt) / 100) / 10,
      phase: label ?? phase,
      heapUsed: process.memoryUsage().heapUsed,
      wasmMemory: wasmExports.memory.buffer.byteLength,
    };
    memory.push(sample);
    return sample;
  };
  // The event loop's lag, its stalls (the process not running for half a timeoutMs or
  // more: GC, a shared machine), and where Linux tells, the time the main thread was
  // ready to run but waited for a CPU (the run-queue wait of /proc/self/schedstat):
  // during a stall or such a wait any time limit may pass, whatever the library does.
  const loopLag = new Histogram();
  const stalls = []; // { from, to }
  const runQueue = []; // { t, waitMs }: the last 2,400 samples (2 minutes)
  const runQueueWait = () => {
    try {
      return Number(readFileSync("/proc/self/schedstat", "utf8").split(" ")[1]) / 1e6;
    } catch {
      return null; // not Linux
    }
  };
  let lagAt = now();
  const lagTimer = setInterval(() => {
    const lag = Math.max(0, now() - lagAt - 50);
    loopLag.add(lag);
    if (lag >= cfg.timeoutMs / 2 && stalls.length < 10_000) stalls.push({ from: lagAt, to: now() });
    lagAt = now();
    const waitMs = runQueueWait();
    if (waitMs !== null) runQueue.push({ t: lagAt, waitMs });
    if (runQueue.length > 2400) runQueue.shift();
  }, 50);
  /** Run-queue wait (ms) of the main thread between `from` and `to`, as far as sampled. */
  const starvedMs = (from, to) => {
    const before = runQueue.findLast((x) => x.t <= from) ?? runQueue[0];
    const after = runQueue.find((x) => x.t >= to) ?? runQueue[runQueue.length - 1];
    return before && after ? after.waitMs - before.waitMs : 0;
  };

  // ---------------------------------------------------------------- the run
  const startedAt = now();
  const startedAtEpoch = Date.now();
  log(`soak: seed ${cfg.seed}, ${cfg.seconds} s (${cfg.chaosS} s chaos, ${cfg.quietS} s quiet), ${cfg.instances} instances, ${cfg.callers} callers, mock ${mock.baseUrl}`);
  sampleMemory("start");
  let sampling = true;
  const sampler = (async () => {
    for (let k = 1; sampling; k++) {
      const at = startedAt + k * cfg.sampleEveryS * 1000;
      while (sampling && now() < at) await sleep(Math.min(100, at - now()));
      if (sampling) sampleMemory();
    }
  })();

  const loops = Array.from({ length: cfg.callers }, (_, i) => caller(i));
  await chaos(startedAt + cfg.chaosS * 1000);

  clearTimeout(windowOutage);
  // Drain: no new faults; the store heals; the faults still queued at the mock are used
  // up (by refresh() for the token queue); every call started in chaos settles.
  phase = "drain";
  store.heal();
  const drainStart = now();
  const drainLimit = 2 * Math.max(...Object.values(cfg.limitsMs));
  for (;;) {
    const chaosCalls = [...pending].filter((c) => c.phase === "chaos").length;
    if (tokenQueue.look() === 0 && apiQueue.look() === 0 && chaosCalls === 0) break;
    if (now() - drainStart > drainLimit) {
      violation("drain did not finish", `token queue ${tokenQueue.queued}, api queue ${apiQueue.queued}, chaos calls pending ${chaosCalls}`);
      break;
    }
    if (tokenQueue.queued > 0) await refresh(auths[rng.int(0, auths.length - 1)]);
    else await sleep(100);
  }
  const drainMs = now() - drainStart;

  // Quiet: no fault anywhere; every call must succeed.
  phase = "quiet";
  await sleep(cfg.quietS * 1000);
  stopping = true;
  await Promise.all(loops);
  sampling = false;
  await sampler;
  // The store's hung calls end when the library aborts them (within timeoutMs).
  const hangDeadline = now() + cfg.timeoutMs * 2 + 2000;
  while (store.hanging.size > 0 && now() < hangDeadline) await sleep(50);
  for (const call of store.hanging) {
    violation("store call never aborted", `${call.op} hung for ${(now() - call.since).toFixed(0)} ms (signal ${call.signal ? "not aborted" : "missing"})`);
  }
  const end = sampleMemory("end");
  // A quiet-phase timeout is the machine's when the event loop stalled during it, or the
  // main thread waited a fifth of timeoutMs or more for a CPU while it was pending.
  let excusedTimeouts = 0;
  for (const t of quietTimeouts) {
    const stalled = stalls.some((s) => s.from <= t.to && s.to >= t.from);
    const starved = starvedMs(t.from, t.to);
    if (stalled || starved >= cfg.timeoutMs / 5) excusedTimeouts += 1;
    else violation("failure in the quiet phase", `${t.detail} (run-queue wait ${starved.toFixed(0)} ms meanwhile)`);
  }
  clearInterval(lagTimer);
  const durationS = (now() - startedAt) / 1000;

  // ---------------------------------------------------------------- secrets in the instances
  for (const [i, auth] of auths.entries()) {
    if (scanner.scan(`instance ${i}`, facesOf(auth))) violation("secret in an instance", `instance ${i}`);
  }
  for (const key of store.keys) {
    if (scanner.find(key)) violation("secret in a store key", key);
  }

  // ---------------------------------------------------------------- token requests against the bound
  // Every token request either took one injected fault (each entry of a token script is
  // one request), or was answered with a token; such a token is one the library fetched
  // and wrote to the store, or one it had stopped waiting for (its attempt timed out).
  // Tokens fetched: an instance fetches only when it has no usable token and the store
  // has none it may use; counting the worst case (every instance fetches at every such
  // need, so the store's own faults, misses and races need no term of their own), the
  // needs are its first token, each refresh window its token clock crosses, and each
  // reset of that clock: refresh(), clear(), a refetch after a 401. A reset fetches, and
  // moves the window, which may be crossed once more before the run ends. (This bound is
  // loose by design; single flight itself is asserted from the events: see onEvent.)
  const mockStats = mockClient.stats();
  tokenQueue.look();
  apiQueue.look();
  const lifetime = cfg.tokenLifetimeS;
  const intervalS = lifetime - Math.min(cfg.refreshSkewSeconds, lifetime / 2);
  const windows = Math.ceil(durationS / intervalS);
  // A revoked token costs an instance that meets it one refetch (after the 401 it refuses
  // that token). Each instance meets its own cached token, and at most every revoked token
  // that went through the store (a token gets there once: written after its fetch). And
  // there are no more refetches than 401 answers (one refetch per 401).
  const revokedTokens = revocations.reduce((sum, r) => sum + 1 + r.stored + r.late, 0);
  const refetches = Math.min(mockStats.apiUnauthorized, cfg.instances * revokedTokens);
  // A reset (refresh(), clear(), a refetch) starts a new token clock: besides its own
  // fetch it may cost one refresh window crossing more.
  const resets = counts.refreshCalls + counts.clearCalls + refetches;
  const lost = Math.max(0, mockStats.tokensIssued - store.sets);
  const terms = {
    "I: first token of each instance": cfg.instances,
    "I x W: refresh windows crossed": cfg.instances * windows,
    "refresh() + clear() calls": counts.refreshCalls + counts.clearCalls,
    "refetches after revocations": refetches,
    "one window crossing more per reset": resets,
    "injected token faults used (1 request each)": tokenQueue.consumed,
    "answers the library gave up on (issued, never stored)": lost,
  };
  const bound = Object.values(terms).reduce((a, b) => a + b, 0);
  const tokenRequests = {
    mock: mockStats.tokenRequests,
    tokensIssued: mockStats.tokensIssued,
    tokensStored: store.sets,
    bound,
    terms,
    windowS: intervalS,
    windowsW: windows,
    revocations: revocations.length,
    revokedTokens,
    refetchBound: `min(401 answers ${mockStats.apiUnauthorized}, I x (own + stored + late) ${cfg.instances * revokedTokens})`,
    refreshCalls: counts.refreshCalls,
    clearCalls: counts.clearCalls,
    injectedTokenFaults: tokenQueue.pushed,
    injectedTokenFaultsUsed: tokenQueue.consumed,
    apiUnauthorized: mockStats.apiUnauthorized,
  };
  if (mockStats.tokenRequests > bound) {
    violation("token requests above the bound", `${mockStats.tokenRequests} > ${bound} (${JSON.stringify(terms)})`);
  }
  // The mock's own accounting: a request either took an injected fault or got a token.
  const unexplained = mockStats.tokenRequests - tokenQueue.consumed - mockStats.tokensIssued;
  tokenRequests.unexplained = unexplained;
  if (unexplained !== 0) violation("token requests neither faulted nor answered", `${unexplained}`);

  // The library's own counters, once it has them (auth.stats).
  let stats = null;
  if (auths.every((auth) => auth.stats && typeof auth.stats === "object")) {
    stats = {};
    for (const auth of auths) for (const [k, v] of Object.entries(auth.stats)) stats[k] = (stats[k] ?? 0) + v;
    if (stats.tokenRequests !== mockStats.tokenRequests) {
      violation("stats.tokenRequests differs from the mock", `library ${stats.tokenRequests}, mock ${mockStats.tokenRequests}`);
    }
  }

  // The events against the library's counters and against what the store saw.
  if (eventsSeen > 0) {
    // A token the mock issued but the library never stored is an answer that came after
    // the attempt's time limit: there are no more of those than attempts that timed out.
    const timedOut = (events["retry:timeout"] ?? 0) + (events["failure:timeout"] ?? 0);
    tokenRequests.timedOutAttempts = timedOut;
    if (lost > timedOut) violation("tokens issued but not stored exceed the timed-out attempts", `${lost} > ${timedOut}`);
    if (stats && flights.attempts !== stats.tokenRequests) {
      violation("token requests in events differ from stats", `events ${flights.attempts}, stats ${stats.tokenRequests}`);
    }
    // Every token from the endpoint (expires_in 20, no use-once) is handed to set().
    if (flights.endpointTokens !== store.sets) {
      violation("endpoint tokens differ from store writes", `token events ${flights.endpointTokens}, set() calls ${store.sets}`);
    }
    // A store call the library gave up on is aborted (the store saw its signal), one that
    // failed is an error.
    const total = (suffixes) =>
      Object.entries(store.calls).filter(([k]) => suffixes.some((x) => k.endsWith(`:${x}`))).reduce((a, [, n]) => a + n, 0);
    const eventTotal = (outcome) =>
      Object.entries(events).filter(([k]) => /^store:/.test(k) && k.endsWith(`:${outcome}`)).reduce((a, [, n]) => a + n, 0);
    const storeChecks = { timeout: [eventTotal("timeout"), total(["aborted"])], error: [eventTotal("error"), total(["throw", "reject"])] };
    for (const [outcome, [reported, caused]] of Object.entries(storeChecks)) {
      if (reported !== caused) violation(`store ${outcome} events differ from the store`, `events ${reported}, store ${caused}`);
    }
  }

  // ---------------------------------------------------------------- memory
  const warm = memory.filter((s) => s.t >= cfg.warmupS)[0] ?? memory[0];
  const lastWindowS = Math.max(cfg.warmupS, cfg.sampleEveryS);
  const late = memory.filter((s) => s.t >= durationS - lastWindowS && s.t > warm.t);
  const heapLate = Math.max(...late.map((s) => s.heapUsed), end.heapUsed);
  const wasmLate = Math.max(...late.map((s) => s.wasmMemory), end.wasmMemory);
  const heapLimit = Math.max(warm.heapUsed * 1.2, warm.heapUsed + 5 * MB);
  const memoryResult = {
    reference: warm,
    end,
    heapLateMax: heapLate,
    heapLimit: Math.round(heapLimit),
    wasmLateMax: wasmLate,
    samples: memory,
  };
  if (heapLate > heapLimit) {
    violation("heap grew", `${(warm.heapUsed / MB).toFixed(1)} MB at ${warm.t} s -> ${(heapLate / MB).toFixed(1)} MB (limit ${(heapLimit / MB).toFixed(1)} MB)`);
  }
  if (wasmLate > warm.wasmMemory) {
    violation("wasm memory grew", `${warm.wasmMemory} bytes at ${warm.t} s -> ${wasmLate} bytes`);
  }

  // ---------------------------------------------------------------- coverage: a soak that injected nothing proves nothing
  const injected = (prefix) => Object.entries(faults).some(([k, n]) => k.startsWith(prefix) && n > 0);
  for (const kind of ["token", "api", "store", "revocation"]) {
    if (!injected(kind)) violation("fault kind never injected", kind);
  }
  if (tokenQueue.consumed === 0) violation("no injected token fault was used", "");
  if (apiQueue.consumed === 0) violation("no injected API fault was used", "");
  if (Object.values(store.faultedCalls).every((n) => n === 0)) violation("no store call met a fault", "");
  if (!byPhase.quiet || byPhase.quiet.calls < cfg.callers) violation("too few calls in the quiet phase", JSON.stringify(byPhase.quiet));
  if (!byPhase.chaos?.failed) violation("chaos caused no failed call", "");

  for (const auth of auths) auth.free();
  await mock.close();

  const totalCalls = Object.values(byPhase).reduce((sum, p) => sum + p.calls, 0);
  const result = {
    ok: violations.size === 0,
    seed: cfg.seed,
    seconds: cfg.seconds,
    startedAt: new Date(startedAtEpoch).toISOString(),
    durationS: Math.round(durationS * 10) / 10,
    drainS: Math.round(drainMs / 100) / 10,
    config: cfg,
    calls: {
      total: totalCalls,
      clear: counts.clearCalls,
      byPhase,
      outcomes,
      hung,
      stillPending: pending.size + hungCalls.size,
      quietTimeoutsDuringStalls: excusedTimeouts,
    },
    latencyMs: {
      getToken: latency.getToken.summary(),
      refresh: latency.refresh.summary(),
      request: latency.request.summary(),
      eventLoopLag: { ...loopLag.summary(), stalls: stalls.length },
      runQueueWaitMs: runQueue.length ? Math.round(starvedMs(startedAt, now())) : null,
    },
    tokenRequests,
    stats,
    memory: memoryResult,
    faults,
    store: { calls: store.calls, faultedCalls: store.faultedCalls, tokensStored: store.sets },
    events: { supported: eventsSeen > 0, total: eventsSeen, byType: events },
    secrets: { leaks: scanner.leaks, examples: scanner.examples },
    violations: Object.fromEntries(violations),
  };
  return result;
}

// ---------------------------------------------------------------- report

const fmtMB = (bytes) => `${(bytes / MB).toFixed(2)} MB`;
const pad = (s, n) => String(s).padEnd(n);

/** The human-readable table of a result. */
export function formatReport(r) {
  const lines = [];
  const row = (k, v) => lines.push(`  ${pad(k, 44)} ${v}`);
  const section = (title) => lines.push("", title);
  lines.push(`cedato-auth soak: seed ${r.seed}, ${r.durationS} s (chaos ${r.config.chaosS} s, drain ${r.drainS} s, quiet ${r.config.quietS} s), ${r.config.instances} instances, ${r.config.callers} callers, timeoutMs ${r.config.timeoutMs}, maxRetries ${r.config.maxRetries}, token lifetime ${r.config.tokenLifetimeS} s (skew ${r.config.refreshSkewSeconds} s)`);
  section("calls");
  row("total", r.calls.total);
  for (const [p, t] of Object.entries(r.calls.byPhase)) row(`  ${p}`, `${t.calls} (${t.ok} ok, ${t.failed} failed)`);
  for (const [op, o] of Object.entries(r.calls.outcomes)) {
    row(`  ${op}`, Object.entries(o).map(([k, n]) => `${k} ${n}`).join(", "));
  }
  row("  clear()", r.calls.clear);
  row("hung (past the watchdog) / still pending", `${r.calls.hung} / ${r.calls.stillPending}`);
  row("quiet-phase timeouts while the process stood", `${r.calls.quietTimeoutsDuringStalls} (stalled or starved of CPU: not counted as failures)`);
  section("latency, ms (p50 / p99 / max; watchdog limit = computed x 1.5 + 2 s)");
  for (const op of ["getToken", "refresh", "request"]) {
    const l = r.latencyMs[op];
    row(op === "request" ? "request() (API)" : `${op}()`, `${l.p50} / ${l.p99} / ${l.max}; limit ${r.config.limitsMs[op]} (computed ${r.config.computedLimitsMs[op]}) n=${l.count}`);
  }
  const lag = r.latencyMs.eventLoopLag;
  row("event loop lag", `${lag.p50} / ${lag.p99} / ${lag.max}; stalls >= timeoutMs / 2: ${lag.stalls}`);
  row("main thread waiting for a CPU (last 2 min)", r.latencyMs.runQueueWaitMs === null ? "n/a" : `${r.latencyMs.runQueueWaitMs} ms`);
  section(`token requests: ${r.tokenRequests.mock} (mock) <= bound ${r.tokenRequests.bound}`);
  for (const [k, v] of Object.entries(r.tokenRequests.terms)) row(`  + ${k}`, v);
  const t = r.tokenRequests;
  row("W = ceil(duration / (lifetime - skew))", `ceil(${r.durationS} / ${t.windowS}) = ${t.windowsW}`);
  row("revocations / revoked tokens an instance may meet", `${t.revocations} / ${t.revokedTokens}`);
  row("refetches after revocations", t.refetchBound);
  row("refresh() / clear() calls", `${t.refreshCalls} / ${t.clearCalls}`);
  row("tokens issued / stored / timed-out attempts", `${t.tokensIssued} / ${t.tokensStored} / ${t.timedOutAttempts ?? "n/a"}`);
  row("injected token faults / used", `${t.injectedTokenFaults} / ${t.injectedTokenFaultsUsed}`);
  row("API 401 answers", t.apiUnauthorized);
  row("library stats.tokenRequests (summed)", r.stats ? r.stats.tokenRequests : "n/a (no auth.stats yet)");
  if (r.stats) row("library stats (summed)", JSON.stringify(r.stats));
  section("memory (after gc)");
  const m = r.memory;
  row(`reference (t=${m.reference.t} s)`, `heap ${fmtMB(m.reference.heapUsed)}, wasm ${fmtMB(m.reference.wasmMemory)}`);
  row(`end (t=${m.end.t} s)`, `heap ${fmtMB(m.end.heapUsed)}, wasm ${fmtMB(m.end.wasmMemory)}`);
  row("late max / limit", `heap ${fmtMB(m.heapLateMax)} / ${fmtMB(m.heapLimit)}, wasm ${fmtMB(m.wasmLateMax)} / ${fmtMB(m.reference.wasmMemory)}`);
  row("samples (t s: heap MB / wasm MB)", m.samples.map((s) => `${s.t}: ${(s.heapUsed / MB).toFixed(1)}/${(s.wasmMemory / MB).toFixed(2)}`).join("  "));
  section("faults injected");
  for (const [k, v] of Object.entries(r.faults).sort()) row(k, v);
  row("store calls faulted (get/set/delete/release)", Object.values(r.store.faultedCalls).join(" / "));
  row("store calls", Object.entries(r.store.calls).sort().map(([k, n]) => `${k} ${n}`).join(", "));
  section("events");
  if (!r.events.supported) row("(none: this build has no onEvent)", "");
  for (const [k, v] of Object.entries(r.events.byType).sort()) row(k, v);
  section(r.ok ? "result: OK" : "result: FAILED");
  row("secret leaks", r.secrets.leaks);
  for (const [kind, v] of Object.entries(r.violations)) {
    row(`${kind}`, `${v.count}: ${v.examples.join(" | ")}`);
  }
  return lines.join("\n");
}

/** Writes the result as JSON to `path` (its folder made when missing). */
export function writeResult(result, path) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}

function parseArgs(argv) {
  const args = { seconds: process.env.SOAK_SECONDS, seed: process.env.SOAK_SEED, out: process.env.SOAK_OUT };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split("=", 2);
    const key = { "--seconds": "seconds", "--seed": "seed", "--out": "out" }[name];
    if (!key) throw new Error(`usage: node --expose-gc tests/soak/soak.mjs [--seconds 150] [--seed N] [--out FILE]`);
    args[key] = inline ?? argv[++i];
  }
  const seconds = args.seconds ? Number(args.seconds) : 150;
  const seed = args.seed ? Number(args.seed) >>> 0 : randomSeed();
  if (!(seconds >= 5)) throw new Error(`--seconds must be at least 5 (got ${args.seconds})`);
  return { seconds, seed, out: resolve(args.out || `${ROOT}/test-output/soak.json`) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { seconds, seed, out } = parseArgs(process.argv.slice(2));
  const result = await runSoak({ seconds, seed, log: (line) => console.log(line) });
  console.log(formatReport(result));
  writeResult(result, out);
  console.log(`\n(figures in ${out}; run again with SOAK_SEED=${result.seed})`);
  process.exitCode = result.ok ? 0 : 1;
}
