// The stored form as the stores see it. CedatoAuth hands `set` a value
// `{ sealed, expiresAt, refreshAt }` (defined once, in the library: `SealedEntry` in
// src/core/store.rs) and takes it back from `get`. `sealed` is the token sealed with
// AES-256-GCM under a key derived from the credentials: only instances with the same
// clientId, secret and baseUrl open it, so a store holds nothing usable. A store reads
// nothing but the times (ms since the epoch, on the writer's clock): it hands the value
// out until `refreshAt`, the one refresh point of the whole fleet, and never after
// `expiresAt`.
//
// Clocks differ across a fleet, so a store that measures time itself says how much is
// left: its `get` answer may carry `expiresInMs` beside the three fields, the ms left
// until `expiresAt` by the store's own measure (Redis: the key's PTTL; the Durable
// Object broker: its clock). The value is then current while `expiresInMs` is longer
// than the refresh window `expiresAt - refreshAt` (a length, the same on every clock),
// whatever the reader's clock says; without it, while both times are ahead of `now`.
// Fields are read as own properties, so a polluted Object.prototype changes nothing.
// The rule is held to the library's by the fixtures in tests/fixtures/stored-values.json,
// the fields written to the shipped StoredTokenAnswer (derived from `SealedEntry`) by
// tests/package/typings.test.mjs.

/**
 * How every store key of `clientId` at `baseUrl` (as CedatoAuth normalizes it, its
 * `toJSON().baseUrl`) begins: `cedato-auth:v2:<baseUrl>:<clientId>:`, then the
 * credentials' fingerprint (`store_key` in src/core/seal.rs; held to it by the fixtures in
 * tests/fixtures/store-keys.json).
 */
export const storeKeyPrefix = (baseUrl, clientId) => `cedato-auth:v2:${baseUrl}:${clientId}:`;

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

/** `value` as it is when a store may hand it out at `now` (see above), else null. */
export function currentValue(value, now = Date.now()) {
  const times = timesOf(value);
  if (!times) return null;
  const left = own(value, "expiresInMs");
  if (finite(left)) return left > 0 && left > times.expiresAt - times.refreshAt ? value : null;
  return now < times.refreshAt && now < times.expiresAt ? value : null;
}

/**
 * The value handed out with the time it has left as a store measured it: `expiresInMs`,
 * from `refreshInMs`, the ms left until its refresh point (a TTL that ends there), or null
 * when none is left.
 */
export function withRefreshIn(value, refreshInMs) {
  const times = timesOf(value);
  if (!times || !finite(refreshInMs) || refreshInMs <= 0) return null;
  const { sealed, expiresAt, refreshAt } = value;
  const window = Math.max(0, expiresAt - Math.min(refreshAt, expiresAt));
  return { sealed, expiresAt, refreshAt, expiresInMs: refreshInMs + window };
}

/** The text that names a stored value (in a compare-and-delete): its three fields only. */
export function entryText(value) {
  const times = timesOf(value);
  return times ? JSON.stringify({ sealed: own(value, "sealed"), expiresAt: times.expiresAt, refreshAt: times.refreshAt }) : undefined;
}

/**
 * What a store throws for a bad argument: a CedatoError like the library's own (`name`
 * "CedatoError", a `code`, `retryable` false) that is also a TypeError, so both
 * `err.code === "invalid_config"` and `err instanceof TypeError` hold. `code` is
 * `invalid_config` for what a store is made with (its binding or client, its options),
 * `invalid_request` for a value handed to `set` that is not CedatoAuth's.
 */
export class StoreArgumentError extends TypeError {
  constructor(code, message) {
    super(message);
    this.code = code;
    this.retryable = false;
  }
}
StoreArgumentError.prototype.name = "CedatoError";

/** A store's `invalid_config` error (see StoreArgumentError). */
export const configError = (message) => new StoreArgumentError("invalid_config", message);

/** The refresh point of a value given to `set`; an `invalid_request` error names `store` when it has none. */
export function refreshPointOf(store, value) {
  const times = timesOf(value);
  if (!times) {
    throw new StoreArgumentError("invalid_request", `${store}: set() takes the value CedatoAuth hands over ({ sealed, expiresAt, refreshAt })`);
  }
  return Math.min(times.refreshAt, times.expiresAt);
}

/** A shared failure of a broker's `get`: `{ failure: "<code>", ... }` (own property), or null. */
export function sharedFailure(value) {
  return typeof value === "object" && value !== null && typeof own(value, "failure") === "string" ? value : null;
}

/**
 * `{ prefix }` from the options every store takes: `prefix` (prepended to each key,
 * default ""); throws an `invalid_config` error (configError) naming `store`. `refreshSkewSeconds` is still accepted
 * and checked, and has no effect: every stored value carries the fleet's refresh point.
 */
export function commonOptions(store, options) {
  const prefix = options.prefix ?? "";
  if (typeof prefix !== "string") throw configError(`${store}: prefix must be a string`);
  const skew = options.refreshSkewSeconds ?? 60;
  if (typeof skew !== "number" || !Number.isFinite(skew) || skew < 0) {
    throw configError(`${store}: refreshSkewSeconds must be a number >= 0`);
  }
  return { prefix };
}
