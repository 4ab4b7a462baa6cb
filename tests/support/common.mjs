// Small helpers every Node suite uses (tests/js, tests/fleet, tests/package). Loads no
// package, so a suite can use it before pkg/ is built.
import net from "node:net";

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
