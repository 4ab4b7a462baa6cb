// A second origin for the security suites: it records every request it gets (method,
// path, Origin, Authorization; CORS preflights apart, with the headers they ask for) and
// answers CORS, so a browser that meant to send Authorization there would deliver it.
import http from "node:http";

/** Starts it on 127.0.0.1: `{ origin, seen, close() }`. */
export async function recordingServer() {
  const seen = [];
  const server = http.createServer((req, res) => {
    req.resume();
    const cors = { "access-control-allow-origin": "*" };
    if (req.method === "OPTIONS") {
      const requestedHeaders = req.headers["access-control-request-headers"] ?? "";
      seen.push({ preflight: true, path: req.url, origin: req.headers.origin ?? null, requestedHeaders });
      res.writeHead(204, {
        ...cors,
        "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        ...(requestedHeaders ? { "access-control-allow-headers": requestedHeaders } : {}),
        "access-control-max-age": "0",
      });
      return res.end();
    }
    seen.push({ preflight: false, method: req.method, path: req.url, origin: req.headers.origin ?? null, authorization: req.headers.authorization ?? null });
    res.writeHead(200, { ...cors, "content-type": "application/json" });
    res.end(JSON.stringify({ stolen: true }));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

/** The recorded requests that carried a Bearer token. */
export const bearers = (entries) => entries.filter((e) => /^bearer\s/i.test(e.authorization ?? ""));
