// Small helpers every Node suite uses (tests/js, tests/fleet, tests/package). Loads no
// package, so a suite can use it before pkg/ is built.
import net from "node:net";
import { inspect } from "node:util";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let counter = 0;
/** A client id the mock accepts and that no other test uses: `t-<tag>-<pid>-<n>-<random>`. */
export function uniqueId(tag = "x") {
  counter += 1;
  return `t-${tag}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Fresh credentials the mock accepts: `{ clientId, clientSecret }`. */
export function credentials(tag) {
  const clientId = uniqueId(tag);
  return { clientId, clientSecret: `${clientId}-secret` };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (listened on, then closed). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Every text a person or a log could see of `value` (an error above all), as
 * `[face, text]` pairs: String, JSON (plain, and with every own property), util.inspect
 * with hidden fields and getters, and for errors the message, the stack and each own
 * property, along the cause chain (5 deep). A face that throws shows what it threw.
 */
export function facesOf(value) {
  const faces = [];
  const face = (name, fn) => {
    try {
      faces.push([name, String(fn())]);
    } catch (err) {
      faces.push([name, `<threw ${err && err.message}>`]);
    }
  };
  face("String", () => String(value));
  face("JSON", () => JSON.stringify(value));
  face("inspect", () => inspect(value, { showHidden: true, depth: Infinity, getters: true }));
  for (let e = value, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const at = depth === 0 ? "" : ` (cause ${depth})`;
    face(`message${at}`, () => e.message);
    face(`stack${at}`, () => e.stack);
    face(`JSON of own properties${at}`, () => JSON.stringify(e, Object.getOwnPropertyNames(e)));
    for (const key of Object.getOwnPropertyNames(e)) face(`${key}${at}`, () => inspect(e[key], { showHidden: true, depth: Infinity }));
  }
  return faces;
}
