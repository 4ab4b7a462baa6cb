// The stored form as the stores see it. CedatoAuth hands `set` a value
// `{ sealed, expiresAt, refreshAt }` (defined once, in the library: `SealedEntry` in
// src/core/store.rs) and takes it back from `get`. `sealed` is the token sealed with
// AES-256-GCM under a key derived from the credentials: only instances with the same
// clientId, secret and baseUrl open it, so a store holds nothing usable. A store reads
// nothing but the two times (ms since the epoch): it hands the value out until
// `refreshAt`, the one refresh point of the whole fleet, and never after `expiresAt`.
// Fields are read as own properties, so a polluted Object.prototype changes nothing.
// The rule is held to the library's by the fixtures in tests/fixtures/stored-values.json.

/** An own property's value, or undefined. */
const own = (value, name) => (Object.hasOwn(value, name) ? value[name] : undefined);
const finite = (value) => typeof value === "number" && Number.isFinite(value);

/** `{ expiresAt, refreshAt }` of a stored value, or null when it has no finite own times. */
export function timesOf(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const expiresAt = own(value, "expiresAt");
  const refreshAt = own(value, "refreshAt");
  return finite(expiresAt) && finite(refreshAt) ? { expiresAt, refreshAt } : null;
}

/** `value` as it is when a store may hand it out at `now` (both its times ahead), else null. */
export function currentValue(value, now = Date.now()) {
  const times = timesOf(value);
  return times && now < times.refreshAt && now < times.expiresAt ? value : null;
}

/** The refresh point of a value given to `set`; a TypeError names `store` when it has none. */
export function refreshPointOf(store, value) {
  const times = timesOf(value);
  if (!times) throw new TypeError(`${store}: set() takes the value CedatoAuth hands over ({ sealed, expiresAt, refreshAt })`);
  return Math.min(times.refreshAt, times.expiresAt);
}

/** A shared failure of a broker's `get`: `{ failure: "<code>", ... }` (own property), or null. */
export function sharedFailure(value) {
  return typeof value === "object" && value !== null && typeof own(value, "failure") === "string" ? value : null;
}

/**
 * `{ prefix }` from the options every store takes: `prefix` (prepended to each key,
 * default ""); throws a TypeError naming `store`. `refreshSkewSeconds` is still accepted
 * and checked, and has no effect: every stored value carries the fleet's refresh point.
 */
export function commonOptions(store, options) {
  const prefix = options.prefix ?? "";
  if (typeof prefix !== "string") throw new TypeError(`${store}: prefix must be a string`);
  const skew = options.refreshSkewSeconds ?? 60;
  if (typeof skew !== "number" || !Number.isFinite(skew) || skew < 0) {
    throw new TypeError(`${store}: refreshSkewSeconds must be a number >= 0`);
  }
  return { prefix };
}
