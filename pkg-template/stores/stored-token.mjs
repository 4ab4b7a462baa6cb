// The stored form of a token shared by the stores: what CedatoAuth hands to `set`
// (`expiresIn`, the token's whole lifetime, included: a reader applies the same refresh
// window to it as to a token it fetched), plus `refreshAt`, from when on a stored token
// is no longer handed out so that the fleet refreshes it in time (the same skew rule as
// CedatoAuth's own cache).

/**
 * The value to store for `token` (as given to `set(key, token, ttlSeconds)`), refreshed
 * `min(skewSeconds, ttlSeconds / 2)` before it expires.
 */
export function storedToken(token, ttlSeconds, skewSeconds, now = Date.now()) {
  const refreshAt = now + (ttlSeconds - Math.min(skewSeconds, ttlSeconds / 2)) * 1000;
  return { ...forCedatoAuth(token), refreshAt };
}

// `{ accessToken, tokenType, expiresAt, expiresIn? }` of a token (`expiresIn` when it is
// a number).
function forCedatoAuth({ accessToken, expiresAt, expiresIn }) {
  const token = { accessToken, tokenType: "bearer", expiresAt };
  if (typeof expiresIn === "number") token.expiresIn = expiresIn;
  return token;
}

/**
 * `{ prefix, skew }` from the options every store takes: `prefix` (prepended to each key,
 * default "") and `refreshSkewSeconds` (default 60); throws a TypeError naming `store`.
 */
export function commonOptions(store, options) {
  const prefix = options.prefix ?? "";
  if (typeof prefix !== "string") throw new TypeError(`${store}: prefix must be a string`);
  const skew = options.refreshSkewSeconds ?? 60;
  if (typeof skew !== "number" || !Number.isFinite(skew) || skew < 0) {
    throw new TypeError(`${store}: refreshSkewSeconds must be a number >= 0`);
  }
  return { prefix, skew };
}

/** The token for CedatoAuth, or null when `value` is not a usable stored token now. */
export function usableToken(value, now = Date.now()) {
  if (typeof value !== "object" || value === null) return null;
  const { accessToken, expiresAt } = value;
  if (typeof accessToken !== "string" || accessToken === "" || typeof expiresAt !== "number") return null;
  const refreshAt = typeof value.refreshAt === "number" ? value.refreshAt : expiresAt;
  if (!(now < refreshAt && now < expiresAt)) return null;
  return forCedatoAuth(value);
}
