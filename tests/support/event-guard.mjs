// Loaded into the node:test processes of `make test` (NODE_OPTIONS=--import=…): subscribes
// to every `cedato-auth:*` diagnostics channel, so the Node entry publishes every event of
// every scenario of those suites, and each one is checked here: the fields of its type and
// no others, of the right kinds, and no secret, Basic value, token or query string. A
// violation throws from the subscriber; Node reports it as an uncaught exception, which
// fails the test file.
import diagnostics from "node:diagnostics_channel";

const number = (v) => typeof v === "number" && Number.isFinite(v);
const optionalNumber = (v) => v === undefined || number(v);
const string = (v) => typeof v === "string";
/**
 * The strings of the Rust enums (ErrorCode in src/core/error.rs; TokenSource, StoreOp and
 * StoreOutcome in src/core/events.rs): tests/schema.rs fails when these lists differ, and
 * tests/package/typings.test.mjs when the shipped .d.ts (derived from those enums by
 * tsify) differs from them or from SHAPES.
 */
export const CODES = ["invalid_config", "token_rejected", "rate_limited", "server_error", "network", "timeout", "invalid_response", "invalid_request", "http"];
export const SOURCES = ["store", "endpoint"];
export const OPS = ["get", "set", "delete", "release"];
export const OUTCOMES = ["hit", "miss", "invalid", "failure", "written", "error", "timeout"];
const oneOf = (list) => (v) => list.includes(v);
const code = oneOf(CODES);

/** The fields of each event type, and what each may hold. */
export const SHAPES = {
  token: { type: string, source: oneOf(SOURCES), attempts: number, ms: number, expiresAt: number },
  retry: { type: string, attempt: number, code, status: optionalNumber, waitMs: number, retryAfter: optionalNumber },
  grace: { type: string, code },
  failure: { type: string, code, status: optionalNumber, attempts: number, ms: number },
  api: { type: string, method: string, path: (v) => string(v) && v.startsWith("/") && !/[?#]/.test(v), status: number, ms: number, retried: (v) => typeof v === "boolean", cooldown: (v) => typeof v === "boolean" },
  store: {
    type: string,
    op: oneOf(OPS),
    outcome: oneOf(OUTCOMES),
    ms: number,
  },
};

/**
 * What must never appear: a test secret (`<id>-secret`), a Basic or Bearer header value,
 * a mock token (`ct_<hex>`), the Base64 of a test client's `t-…:` credentials.
 */
const SECRETS = [/-secret/i, /basic [a-z0-9+/=]{4}/i, /bearer [!-~]{4}/i, /ct_[0-9a-f]{16}/, /dC0[A-Za-z0-9+/]{6}/];

export const seen = { events: 0 };
globalThis.__cedatoEventGuard = seen;

for (const type of Object.keys(SHAPES)) {
  diagnostics.subscribe(`cedato-auth:${type}`, (event) => {
    const shape = SHAPES[event?.type];
    const problem =
      event?.type !== type || !shape
        ? "on the wrong channel"
        : Object.keys(event).find((k) => !(k in shape))
          ? `with an unknown field ${Object.keys(event).find((k) => !(k in shape))}`
          : Object.entries(shape).find(([k, ok]) => !ok(event[k]))
            ? `with a bad ${Object.entries(shape).find(([k, ok]) => !ok(event[k]))[0]}`
            : SECRETS.find((re) => re.test(JSON.stringify(event)))
              ? "holding a secret, a Basic value or a token"
              : null;
    if (problem) {
      // Only the field names and kinds go into the message, never the values.
      throw new Error(`event-guard: a ${type} event ${problem} (fields ${Object.keys(event ?? {}).join(",")})`);
    }
    seen.events += 1;
  });
}
