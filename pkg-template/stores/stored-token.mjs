// The stored form of a token shared by the stores: what CedatoAuth hands to `set`
// (`expiresIn`, the token's whole lifetime, and `refreshAt`, from when on it is refreshed
// before use). `refreshAt` is the one refresh point of the whole fleet: the stores stop
// handing the token out then, and every CedatoAuth that reads it refreshes it then,
// whatever skew each is configured with.

const finite = (value) => typeof value === "number" && Number.isFinite(value);

/**
 * The value to store for `token` (as given to `set(key, token, ttlSeconds)`): its own
 * `refreshAt` when CedatoAuth handed one, else `min(skewSeconds, ttlSeconds / 2)` before
 * it expires (a token from an older CedatoAuth, or from elsewhere).
 */
export function storedToken(token, ttlSeconds, skewSeconds, now = Date.now()) {
  const refreshAt = finite(token.refreshAt)
    ? Math.min(token.refreshAt, token.expiresAt)
    : now + (ttlSeconds - Math.min(skewSeconds, ttlSeconds / 2)) * 1000;
  return { ...forCedatoAuth(token), refreshAt };
}

// `{ accessToken, tokenType, expiresAt, expiresIn?, refreshAt? }` of a token (the optional
// fields when they are numbers).
function forCedatoAuth({ accessToken, expiresAt, expiresIn, refreshAt }) {
  const token = { accessToken, tokenType: "bearer", expiresAt };
  if (finite(expiresIn)) token.expiresIn = expiresIn;
  if (finite(refreshAt)) token.refreshAt = refreshAt;
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
