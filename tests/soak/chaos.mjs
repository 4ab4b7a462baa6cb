// Building blocks of the chaos soak (soak.mjs): a seeded PRNG, a fixed-size latency
// histogram, the chaos token store, the model of the mock's script queues, and the
// secret scanner. Nothing here grows with the length of the run, so the soak's own
// bookkeeping does not show up as a heap leak of the library.

/** mulberry32: a small seeded PRNG; `rand()` in [0, 1). Same seed, same schedule. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    rand,
    /** An integer in [min, max]. */
    int: (min, max) => min + Math.floor(rand() * (max - min + 1)),
    /** One key of `weights` ({ key: weight }), drawn in proportion to its weight. */
    weighted(weights) {
      const entries = Object.entries(weights);
      let x = rand() * entries.reduce((sum, [, w]) => sum + w, 0);
      for (const [key, w] of entries) if ((x -= w) < 0) return key;
      return entries[entries.length - 1][0];
    },
    /** A shuffled copy of `items` (Fisher-Yates). */
    shuffled(items) {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
}

/**
 * Latency histogram with logarithmic buckets (5 % wide, 0.01 ms to ~10 min): percentiles
 * to within 5 % in constant memory, however many calls the soak makes.
 */
export class Histogram {
  static #BASE = 1.05;
  static #MIN = 0.01;
  #counts = new Float64Array(400);
  count = 0;
  max = 0;

  add(ms) {
    const i = ms <= Histogram.#MIN ? 0 : Math.ceil(Math.log(ms / Histogram.#MIN) / Math.log(Histogram.#BASE));
    this.#counts[Math.min(i, this.#counts.length - 1)] += 1;
    this.count += 1;
    this.max = Math.max(this.max, ms);
  }

  /** The upper edge of the bucket holding the p-th percentile (capped by the maximum seen). */
  percentile(p) {
    if (this.count === 0) return null;
    let rank = Math.ceil((p / 100) * this.count);
    for (let i = 0; i < this.#counts.length; i++) {
      rank -= this.#counts[i];
      if (rank <= 0) return Math.min(Histogram.#MIN * Histogram.#BASE ** i, this.max);
    }
    return this.max;
  }

  summary() {
    const r = (x) => (x === null ? null : Math.round(x * 100) / 100);
    return { count: this.count, p50: r(this.percentile(50)), p99: r(this.percentile(99)), max: r(this.max) };
  }
}

/** Adds 1 (or `n`) to `counts[key]`. */
export const bump = (counts, key, n = 1) => {
  counts[key] = (counts[key] ?? 0) + n;
};

/**
 * The mock's script queue of one client (token or API), modelled exactly: the soak is the
 * only writer, and the mock takes one entry per request (counted in `counter()`) while
 * any are queued. Both happen synchronously in this process, so between two looks with
 * no push in between, `n` requests took `min(queued, n)` entries.
 */
export class ScriptQueue {
  queued = 0;
  pushed = 0;
  consumed = 0;
  #seen;
  #counter;
  #push;

  /** `counter()`: the mock's request count for this queue; `push(entries)`: appends. */
  constructor(counter, push) {
    this.#counter = counter;
    this.#push = push;
    this.#seen = counter();
  }

  /** Brings the model up to date; returns the entries still queued. */
  look() {
    const now = this.#counter();
    const taken = Math.min(this.queued, now - this.#seen);
    this.#seen = now;
    this.queued -= taken;
    this.consumed += taken;
    return this.queued;
  }

  push(entries) {
    this.look();
    this.#push(entries);
    this.queued += entries.length;
    this.pushed += entries.length;
  }
}

/**
 * The shared tokenStore of the soak: a Map with faults injected per operation for a while
 * (`inject(op, mode, ms)`): "throw" (synchronously), "reject", or "hang" (settles only
 * when the library aborts the call's signal). It honours the signal on every call and
 * counts what it did; `hanging` holds the hung calls not yet aborted.
 */
export class ChaosStore {
  #map = new Map();
  #faults = {}; // op -> { mode, until }
  hanging = new Set();
  calls = {}; // "get:hit", "set:written", "get:reject", ...
  faultedCalls = { get: 0, set: 0, delete: 0, release: 0 };
  sets = 0; // tokens handed to set(): one per token the library fetched
  keys = new Set();
  /** Called with each value handed to set() (the soak scans errors for its token). */
  onToken = () => {};

  inject(op, mode, ms) {
    this.#faults[op] = { mode, until: performance.now() + ms };
  }

  /** The value stored under `key` now (no call counted). */
  peek(key) {
    return this.#map.get(key);
  }

  /** Ends every fault window (the quiet phase). */
  heal() {
    this.#faults = {};
  }

  #fault(op) {
    const fault = this.#faults[op];
    return fault && performance.now() < fault.until ? fault.mode : null;
  }

  /** Runs `work` as store operation `op`, or the fault injected for `op` now. */
  #call(op, key, options, work) {
    this.keys.add(key);
    const signal = options?.signal;
    const mode = this.#fault(op);
    if (mode) {
      this.faultedCalls[op] += 1;
      bump(this.calls, `${op}:${mode}`);
    }
    if (mode === "throw") throw new Error(`chaos store: ${op} threw (injected)`);
    if (mode === "reject") return Promise.reject(new Error(`chaos store: ${op} rejected (injected)`));
    if (mode === "hang") {
      return new Promise((resolve, reject) => {
        if (!(signal instanceof AbortSignal)) {
          // Without a signal nothing can end this call: it stays in `hanging` (a failure).
          this.hanging.add({ op, since: performance.now(), signal: null });
          return;
        }
        if (signal.aborted) return reject(signal.reason);
        const entry = { op, since: performance.now(), signal };
        this.hanging.add(entry);
        signal.addEventListener(
          "abort",
          () => {
            this.hanging.delete(entry);
            bump(this.calls, `${op}:aborted`);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const outcome = work();
    bump(this.calls, `${op}:${outcome}`);
    return Promise.resolve();
  }

  get(key, options) {
    let value = null;
    return this.#call("get", key, options, () => {
      value = this.#map.get(key) ?? null;
      return value ? "hit" : "miss";
    }).then(() => value);
  }

  set(key, value, ttlSeconds, options) {
    this.sets += 1;
    if (typeof value?.sealed === "string") this.onToken(value);
    return this.#call("set", key, options, () => {
      this.#map.set(key, value);
      return "written";
    });
  }

  delete(key, options) {
    return this.#call("delete", key, options, () => (this.#map.delete(key) ? "deleted" : "absent"));
  }

  release(key, options) {
    return this.#call("release", key, options, () => "released");
  }
}

/**
 * Finds secrets in what the library hands out (errors, events): the client secret, the
 * Basic value, and access tokens (any token of the mock's shape `ct_<40 hex>`, and the
 * last tokens seen, whatever their shape).
 */
export class SecretScanner {
  #fixed;
  #recent = [];
  leaks = 0;
  examples = [];
  static #MOCK_TOKEN = /ct_[0-9a-f]{40}/;

  constructor({ clientSecret, basic }) {
    this.#fixed = [
      ["client secret", clientSecret],
      ["Basic value", basic],
    ];
  }

  /** Remembers a token the library fetched (the last 64 are checked by value). */
  rememberToken(token) {
    this.#recent.push(token);
    if (this.#recent.length > 64) this.#recent.shift();
  }

  /** What secret `text` holds, or null. */
  find(text) {
    for (const [name, value] of this.#fixed) if (text.includes(value)) return name;
    if (SecretScanner.#MOCK_TOKEN.test(text)) return "access token";
    for (const token of this.#recent) if (text.includes(token)) return "access token";
    return null;
  }

  /** Scans the faces `[[where, text]...]` of `what`; records and returns whether one leaked. */
  scan(what, faces) {
    for (const [where, text] of faces) {
      const secret = this.find(text);
      if (secret) {
        this.leaks += 1;
        if (this.examples.length < 10) this.examples.push(`${secret} in ${what} (${where})`);
        return true;
      }
    }
    return false;
  }
}
