// The redirect cases of node.test.mjs in workerd (miniflare), at two compatibility dates:
// 2025-06-01, before workerd's `strip_authorization_on_cross_origin_redirect` (2025-09-05),
// when workerd itself still sends Authorization along a redirect to another origin, and
// the newest date the pinned workerd accepts. miniflare 4.20260426.0 ships workerd
// 1.20260426.1, which refuses any date after 2026-05-03 ("the newest date supported by this
// server binary is 2026-05-03"), so 2026-05-03 stands for "current".
//
// The library sends with `redirect: "manual"` and does not follow a redirect that leaves
// baseUrl's origin, so at either date the other origin receives no request at all. A
// control scenario (the runtime's own fetch with a Bearer header, following redirects)
// shows what the recording server would see if the library relied on the runtime.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { buildWorker, workerModules } from "../../tools/worker-bundle.mjs";
import { basicValue, credentials, startMock } from "../js/helpers.mjs";
import { assertNoSecret, jsonEscaped, percentEncoded, phpEscaped } from "./encodings.mjs";
import { bearers, recordingServer } from "./recorder.mjs";

const PKG = fileURLToPath(new URL("../../pkg/", import.meta.url));
const OLD_DATE = "2025-06-01";
const CURRENT_DATE = "2026-05-03";
const DATES = [OLD_DATE, CURRENT_DATE];
const STATUSES = [301, 302, 303, 307, 308];

const T = { timeout: 30_000 };

// The worker: one CedatoAuth per isolate (made on the first request, the constructor does
// no I/O), one scenario per request, answered as JSON.
const WORKER = `
import { CedatoAuth } from "cedato-auth";

const PATH = "reports/supplies/extended";
let auth;

const json = (value) => new Response(JSON.stringify(value), { headers: { "content-type": "application/json" } });
const describe = (err) => ({
  name: err?.name, code: err?.code, status: err?.status, message: String(err?.message),
  oauthError: err?.oauthError, oauthErrorDescription: err?.oauthErrorDescription, body: err?.body,
  cause: err?.cause && { ...err.cause }, text: String(err), stack: String(err?.stack),
});
// Issue 18's encodings (tests/security/encodings.mjs), for the echo the worker scripts.
const jsonEscaped = (text) => [...text].map((c) => "\\\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")).join("");
const percentEncoded = (text) => [...new TextEncoder().encode(text)].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");
const settle = (promise) => promise.then((value) => ({ resolved: value }), (err) => ({ rejected: describe(err) }));

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    auth ??= new CedatoAuth({
      clientId: env.CLIENT_ID,
      clientSecret: env.CLIENT_ID + "-secret",
      baseUrl: env.BASE_URL,
      timeoutMs: 5000,
      maxRetries: 0,
    });
    try {
      switch (url.pathname) {
        case "/redirect": {
          // The test scripted two redirect answers: one for fetch(), one for request().
          const fetched = await settle(
            auth.fetch(PATH).then(async (res) => {
              const out = { status: res.status, type: res.type, redirected: res.redirected, location: res.headers.get("location") };
              await res.body?.cancel();
              return out;
            }),
          );
          const requested = await settle(auth.request(PATH));
          return json({ fetch: fetched, request: requested });
        }
        case "/inside":
          return json(await settle(auth.request(PATH)));
        case "/hardening": {
          // The token script (set by the test): a 401 echoing the credentials encoded,
          // a token, a slow 401 echoing them for the call free() interrupts.
          const id = url.searchParams.get("id");
          const fresh = () => new CedatoAuth({ clientId: id, clientSecret: id + "-secret", baseUrl: env.BASE_URL, timeoutMs: 5000, maxRetries: 0 });
          const out = {};
          const first = fresh();
          out.echo = await settle(first.getToken());
          out.token = await first.getToken();
          const script = [
            { status: 500, body: '{"seen":"' + jsonEscaped(out.token) + '","q":"t=' + percentEncoded(out.token) + '"}' },
            { status: 200, body: "{not json " + out.token },
          ];
          const scripted = await fetch(new URL("/__mock/clients/" + encodeURIComponent(id) + "/api-script", env.BASE_URL), { method: "POST", body: JSON.stringify(script) });
          await scripted.body?.cancel();
          out.apiEcho = await settle(first.request("echo"));
          out.syntax = await settle(first.request("echo"));
          const second = fresh();
          const pending = second.getToken();
          await new Promise((resolve) => setTimeout(resolve, 50));
          second.free();
          out.freed = await settle(pending);
          try {
            new CedatoAuth({ clientId: id, clientSecret: "s", baseUrl: "http://api.example.com/api/" });
          } catch (err) {
            out.insecure = describe(err);
          }
          out.allowed = String(new CedatoAuth({ clientId: id, clientSecret: "s", baseUrl: "http://api.example.com/api/", allowInsecureHttp: true }));
          return json(out);
        }
        case "/control": {
          // The runtime alone: a valid Bearer token, redirects followed by workerd.
          const res = await fetch(new URL(PATH, env.BASE_URL), {
            headers: { authorization: await auth.getAuthorizationHeader(), "api-version": "1" },
            redirect: "follow",
          });
          await res.body?.cancel();
          return json({ status: res.status, url: res.url });
        }
        default:
          return new Response("not found", { status: 404 });
      }
    } catch (err) {
      return json({ thrown: describe(err) });
    }
  },
};
`;

let mock;
let thief;
let dir;
const workers = new Map();

before(async () => {
  [mock, thief, dir] = await Promise.all([startMock(), recordingServer(), mkdtemp(join(tmpdir(), "cedato-sec-workerd-"))]);
  // `cedato-auth` resolves to pkg/ through a folder outside the checkout (no node_modules
  // link inside the repository); the "workerd" condition picks pkg/workerd.mjs.
  const modules = join(dir, "modules");
  await mkdir(modules);
  await symlink(PKG, join(modules, "cedato-auth"), "dir");
  await writeFile(join(dir, "worker.mjs"), WORKER);
  const outfile = join(dir, "dist", "worker.mjs");
  const built = await buildWorker({ entryPoints: [join(dir, "worker.mjs")], outfile, nodePaths: [modules], metafile: true });
  assert.ok(Object.keys(built.metafile.inputs).some((i) => i.endsWith("workerd.mjs")), "the workerd entry was bundled");
  await Promise.all(
    DATES.map(async (date) => {
      const creds = credentials(`sec-workerd-${date}`);
      let output = "";
      const mf = new Miniflare({
        ...workerModules(outfile),
        compatibilityDate: date,
        bindings: { BASE_URL: mock.baseUrl, CLIENT_ID: creds.clientId },
        handleRuntimeStdio(stdout, stderr) {
          for (const stream of [stdout, stderr]) stream.on("data", (chunk) => (output += chunk));
        },
      });
      workers.set(date, { mf, client: mock.client(creds.clientId), output: () => output });
      await mf.ready;
    }),
  );
}, { timeout: 90_000 });

after(async () => {
  await Promise.all([...workers.values()].map(({ mf }) => mf.dispose().catch(() => {})));
  await mock?.stop();
  await thief?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One scenario of the worker at `date`: its JSON answer. */
async function scenario(date, path) {
  const res = await workers.get(date).mf.dispatchFetch(`http://worker.test${path}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  assert.equal(body.thrown, undefined, `the worker threw: ${JSON.stringify(body.thrown)}`);
  return body;
}


for (const date of DATES) {
  for (const status of STATUSES) {
    test(`workerd ${date}: redirect ${status} to another origin: fetch() gets the ${status}, request() rejects, the other origin gets nothing`, T, async () => {
      const location = `${thief.origin}/steal/${date}/${status}`;
      await workers.get(date).client.apiScript([{ status, headers: { location } }, { status, headers: { location } }]);
      const before = thief.seen.length;
      const body = await scenario(date, "/redirect");
      assert.deepEqual(body.fetch.rejected, undefined, `fetch() rejected: ${JSON.stringify(body.fetch.rejected)}`);
      assert.equal(body.fetch.resolved.status, status, JSON.stringify(body.fetch));
      assert.equal(body.fetch.resolved.location, location);
      assert.equal(body.request.resolved, undefined, `request() resolved: ${JSON.stringify(body.request)}`);
      assert.equal(body.request.rejected.name, "CedatoError");
      assert.equal(body.request.rejected.code, "http", JSON.stringify(body.request));
      assert.equal(body.request.rejected.status, status, JSON.stringify(body.request));
      const reached = thief.seen.slice(before);
      assert.deepEqual(bearers(reached), [], "no Bearer token reached the other origin");
      assert.deepEqual(reached, [], "nothing reached the other origin");
    });
  }

  test(`workerd ${date}: a redirect inside the origin is followed with the token`, T, async () => {
    await workers.get(date).client.apiScript([{ status: 302, headers: { location: "/api/echo?hop=1" } }]);
    const before = thief.seen.length;
    const { resolved: echo, rejected } = await scenario(date, "/inside");
    assert.equal(rejected, undefined, `request() rejected: ${JSON.stringify(rejected)}`);
    assert.equal(echo.path, "/api/echo");
    assert.deepEqual(echo.query, { hop: "1" });
    assert.equal(echo.headers.token_valid, true, "the token went with the hop inside the origin");
    assert.equal(thief.seen.length, before);
  });
}

for (const date of DATES) {
  test(`workerd ${date}: encoded echoes redacted, SyntaxError cause by name, control characters escaped, free() during a call, https by default`, T, async () => {
    const creds = credentials(`sec-workerd-hard-${date}`);
    const basic = basicValue(creds);
    await mock.client(creds.clientId).tokenScript([
      // (Kept under the 1 KB of an error answer that is read: JSON beyond it would not parse.)
      { status: 401, body: { error: `${jsonEscaped(basic.slice(0, 12))}${phpEscaped(basic.slice(12))}\r\nX-Forged: 1`, error_description: `s=${percentEncoded(creds.clientSecret)}\u001b]0;t\u0007` } },
      { ok: true },
      { delayMs: 300, status: 401, body: { error: `Basic ${basic}`, error_description: creds.clientSecret } },
    ]);
    const out = await scenario(date, `/hardening?id=${encodeURIComponent(creds.clientId)}`);
    const secrets = [creds.clientSecret, basic, basic.replace(/=+$/, ""), out.token];
    assert.equal(out.echo.rejected?.code, "token_rejected", JSON.stringify(out.echo));
    assertNoSecret(out.echo, secrets);
    assert.match(out.echo.rejected.oauthError, /^\[redacted\]=*\\r\\nX-Forged: 1$/, "the padding may stay");
    assert.equal(out.echo.rejected.oauthErrorDescription, "s=[redacted]\\u001b]0;t\\u0007");
    assert.equal(out.apiEcho.rejected?.code, "http", JSON.stringify(out.apiEcho));
    assert.equal(out.apiEcho.rejected.body, '{"seen":"[redacted]","q":"t=[redacted]"}');
    assertNoSecret(out.apiEcho, secrets);
    assert.equal(out.syntax.rejected?.code, "invalid_response", JSON.stringify(out.syntax));
    assert.deepEqual(out.syntax.rejected.cause, { name: "SyntaxError" });
    assert.equal(out.freed.rejected?.code, "invalid_request", JSON.stringify(out.freed));
    assert.match(out.freed.rejected.message, /freed/);
    assert.equal(out.freed.rejected.oauthError, undefined);
    assertNoSecret(out.freed, secrets);
    assert.equal(out.insecure?.code, "invalid_config", JSON.stringify(out));
    assert.match(out.insecure.message, /allowInsecureHttp/);
    assert.equal(out.allowed, "CedatoAuth(http://api.example.com/api/)");
  });
}

// The control: what workerd does on its own with a Bearer header and `redirect: "follow"`.
// It shows the recording server sees a token when one is sent (at the old date), and
// documents the runtime behaviour the library does not rely on.
test(`workerd control: the runtime's own fetch keeps Authorization across origins at ${OLD_DATE} and drops it at ${CURRENT_DATE}`, T, async (t) => {
  const seenAt = {};
  for (const date of DATES) {
    const location = `${thief.origin}/control/${date}`;
    await workers.get(date).client.apiScript([{ status: 302, headers: { location } }]);
    const before = thief.seen.length;
    const body = await scenario(date, "/control");
    assert.equal(body.status, 200, JSON.stringify(body));
    assert.equal(body.url, location, "workerd followed the redirect");
    seenAt[date] = thief.seen.slice(before);
    t.diagnostic(`workerd ${date}, runtime fetch with redirect "follow": the other origin saw ${JSON.stringify(seenAt[date])}`);
  }
  assert.equal(seenAt[OLD_DATE].length, 1);
  assert.match(seenAt[OLD_DATE][0].authorization ?? "", /^Bearer \S+$/, `at ${OLD_DATE} workerd forwards the token itself`);
  assert.equal(seenAt[CURRENT_DATE].length, 1);
  assert.equal(seenAt[CURRENT_DATE][0].authorization, null, `at ${CURRENT_DATE} workerd strips it`);
});

test("workerd: no runtime warnings or uncaught errors", () => {
  for (const [date, { output }] of workers) {
    assert.doesNotMatch(output(), /different request context|hung|Uncaught|never generate a response/i, `${date}:\n${output()}`);
  }
});
