// Issue 18, second half, in Node against the mock server: no echo leaks a secret, whatever
// its encoding (JSON escapes, percent-encoding) or wherever a cut falls; free() during a
// call; control characters; the memory after free(); https by default; no build-machine
// path in the wasm. workerd.test.mjs runs the same cases in workerd, chromium.test.mjs and
// the wasm-bindgen-test suite (tests/common) the browser ones.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { CedatoAuth } from "../../pkg/node.mjs";
import { TEST_TIMEOUT, basicValue, instanceFactory, rejectsWith, sleep, suiteMock } from "../js/helpers.mjs";
import { facesOf } from "../support/common.mjs";
import { assertNoSecret, jsonEscaped, percentEncoded, phpEscaped } from "./encodings.mjs";
import { webAssemblyMemoryHolds } from "./memory.mjs";

const mock = suiteMock();
const T = { timeout: TEST_TIMEOUT };
const setup = instanceFactory(mock, { timeoutMs: 3000, maxRetries: 0 });

/** The secrets of credentials: the secret, the Basic value's Base64 with and without padding. */
const secretsOf = (creds) => [creds.clientSecret, basicValue(creds), basicValue(creds).replace(/=+$/, "")];

/** Control characters in a text. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

test("token endpoint errors that echo the credentials JSON-escaped or percent-encoded show none of them", T, async () => {
  const { auth, client, creds } = setup("enc-basic");
  const basic = basicValue(creds);
  await client.tokenScript([
    { status: 401, body: { error: jsonEscaped(`Basic ${basic}`), error_description: `secret=${percentEncoded(creds.clientSecret)}` } },
    { status: 404, body: `{"auth":"Basic ${phpEscaped(basic)}","again":"${jsonEscaped(basic.replace(/=+$/, ""))}"}` },
    { status: 400, body: { data: { error: percentEncoded(`${creds.clientId}:${creds.clientSecret}`), error_description: phpEscaped(creds.clientSecret) } } },
  ]);
  for (const code of ["token_rejected", "http", "token_rejected"]) {
    const err = await rejectsWith(auth.getToken(), { code });
    assertNoSecret(err, secretsOf(creds));
    assert.match(facesOf(err).map(([, t]) => t).join("\n"), /\[redacted\]/);
  }
});

test("an API error that echoes the token JSON-escaped and percent-encoded shows none of it", T, async () => {
  const { auth, client, creds } = setup("enc-token");
  const token = await auth.getToken();
  await client.apiScript([{ status: 500, body: `{"seen":"${jsonEscaped(token)}","query":"t=${percentEncoded(token)}"}` }]);
  const err = await rejectsWith(auth.request("echo"), { code: "http", status: 500 });
  assertNoSecret(err, [token, ...secretsOf(creds)]);
  assert.match(err.body, /"seen":"\[redacted\]","query":"t=\[redacted\]"/);
});

test("redaction comes before the cut: no start of a secret stays at the end of a cut field", T, async () => {
  const { auth, client, creds } = setup("cut");
  const token = await auth.getToken();
  // The secret starts 1 to 8 bytes before the 200 B cut of the OAuth fields.
  const offsets = [192, 193, 194, 195, 196, 197, 198, 199];
  await client.tokenScript(offsets.map((n) => ({ status: 401, body: { error: "e".repeat(n) + creds.clientSecret, error_description: "d".repeat(n) + basicValue(creds) } })));
  const endsWithStartOf = (text, secret) => [...Array(secret.length).keys()].slice(3).some((k) => text.endsWith(secret.slice(0, k)));
  for (const n of offsets) {
    auth.clear();
    const err = await rejectsWith(auth.refresh(), { code: "token_rejected" });
    assert.ok(!endsWithStartOf(err.oauthError, creds.clientSecret), `${n}: ${err.oauthError.slice(n - 5)}`);
    assert.ok(!endsWithStartOf(err.oauthErrorDescription, basicValue(creds)), `${n}: ${err.oauthErrorDescription.slice(n - 5)}`);
    assert.ok(err.oauthError.length <= 200);
  }
  // The token straddles the end of the 1 KB the body keeps.
  const token2 = await auth.getToken();
  await client.apiScript([1016, 1018, 1020].map((n) => ({ status: 502, body: "b".repeat(n) + token2 + "tail" })));
  for (let i = 0; i < 3; i++) {
    const err = await rejectsWith(auth.request("echo"), { code: "http", status: 502 });
    assert.ok(!endsWithStartOf(err.body, token2), err.body.slice(1000));
    assert.ok(err.body.length <= 1024);
    assertNoSecret(err, [token, token2]);
  }
});

test("a 2xx answer that is not JSON: the SyntaxError cause keeps only its name", T, async () => {
  const { auth, client } = setup("syntax");
  const token = await auth.getToken();
  await client.apiScript([{ status: 200, body: `{not json ${token}` }]);
  const err = await rejectsWith(auth.request("echo"), { code: "invalid_response", status: 200 });
  assert.deepEqual({ ...err.cause }, { name: "SyntaxError" });
});

test("control characters in message and OAuth fields are escaped", T, async () => {
  let throwing = false;
  const { auth, client } = setup("controls", {
    fetch: (input, init) => (throwing ? Promise.reject(new TypeError("reset\r\nX-Forged: 1\u001b[2J\u009b")) : fetch(input, init)),
  });
  await client.tokenScript([{ status: 401, body: { error: "bad\r\nX-Forged: 1", error_description: "\u001b]0;owned\u0007\u0008" } }]);
  const rejected = await rejectsWith(auth.getToken(), { code: "token_rejected" });
  assert.equal(rejected.oauthError, "bad\\r\\nX-Forged: 1");
  assert.equal(rejected.oauthErrorDescription, "\\u001b]0;owned\\u0007\\u0008");
  assert.match(rejected.message, /\[bad\\r\\nX-Forged: 1\]/);
  throwing = true;
  const network = await rejectsWith(auth.getToken(), { code: "network" });
  assert.match(network.message, /reset\\r\\nX-Forged: 1\\u001b\[2J\\u009b/);
  for (const err of [rejected, network]) {
    for (const field of ["message", "oauthError", "oauthErrorDescription"]) {
      assert.doesNotMatch(err[field] ?? "", CONTROL, `${field}: ${JSON.stringify(err[field])}`);
    }
  }
});

test("free() while a token request is pending: the answer's text is not kept, nothing leaks", T, async () => {
  const { auth, client, creds } = setup("free-token");
  await client.tokenScript([{ delayMs: 300, status: 401, body: { error: `Basic ${basicValue(creds)}`, error_description: creds.clientSecret } }]);
  const pending = auth.getToken();
  await sleep(50);
  auth.free();
  // The answer that arrives after free() is dropped unread.
  const err = await rejectsWith(pending, { code: "invalid_request" });
  assert.match(err.message, /freed/);
  for (const field of ["oauthError", "oauthErrorDescription", "body", "cause"]) assert.equal(err[field], undefined, field);
  assertNoSecret(err, secretsOf(creds));
});

test("free() while an API call is pending: no body, no server text; the token is not shown", T, async () => {
  const { auth, client, creds } = setup("free-api");
  const token = await auth.getToken();
  await client.apiScript([{ delayMs: 300, status: 500, body: `upstream saw ${token} and ${creds.clientSecret}` }]);
  const pending = auth.request("echo");
  await sleep(50);
  auth.free();
  const err = await rejectsWith(pending, { code: "http", status: 500 });
  assert.match(err.message, /freed/);
  assert.equal(err.body, undefined);
  assertNoSecret(err, [token, ...secretsOf(creds)]);
});

test("a token that lands after free() is not handed out and leaves no copy in the wasm memory", T, async () => {
  let issued;
  const { auth, client } = setup("free-late", {
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith("/token")) issued = JSON.parse(await res.clone().text()).data.access_token;
      return res;
    },
  });
  await client.tokenScript([{ delayMs: 300, ok: true }]);
  const pending = auth.getToken();
  await sleep(50);
  auth.free();
  await rejectsWith(pending, { code: "invalid_request" });
  assert.ok(issued, "the token endpoint answered with a token");
  await sleep(20);
  assert.ok(!webAssemblyMemoryHolds(issued), "the late token is still in wasm memory");
});

for (const echo of ["an API error body", "a thrown fetch error", "the token endpoint's OAuth fields", "all of them, encoded too"]) {
  test(`a token echoed by ${echo} leaves no copy in the wasm memory after free()`, T, async () => {
    let throwing = false;
    const { auth, client } = setup("memory-echo", {
      fetch: (input, init) => {
        if (!throwing || String(input).endsWith("/token")) return fetch(input, init);
        const authorization = new Headers(init.headers).get("authorization");
        const error = new TypeError(`fetch failed sending ${authorization}`);
        error.cause = { message: `socket closed: ${authorization}`, code: "ECONNRESET" };
        return Promise.reject(error);
      },
    });
    const token = await auth.getToken();
    const all = echo.startsWith("all");
    if (echo.includes("API") || all) {
      const bodies = [`plain ${token} and ${token}`, ...(all ? [`json ${jsonEscaped(token)}`, `form t=${percentEncoded(token)}`] : [])];
      await client.apiScript(bodies.map((body) => ({ status: 500, body })));
      for (const _ of bodies) await rejectsWith(auth.request("echo"), { code: "http" });
    }
    if (echo.includes("OAuth") || all) {
      await client.tokenScript([{ status: 401, body: { error: `seen ${token}`, error_description: `again ${token}` } }]);
      await rejectsWith(auth.refresh(), { code: "token_rejected" });
    }
    if (echo.includes("thrown") || all) {
      throwing = true;
      await rejectsWith(auth.request("echo"), { code: "network" });
    }
    assert.ok(webAssemblyMemoryHolds(token), "the scan finds the token while the instance holds it");
    auth.free();
    await sleep(20);
    assert.ok(!webAssemblyMemoryHolds(token), "a copy of the token is still in wasm memory");
  });
}

test("baseUrl is https: by default; http: only for loopback hosts, or with allowInsecureHttp: true", T, async () => {
  const creds = { clientId: "id", clientSecret: "secret" };
  for (const baseUrl of ["http://api.cedato.com/api/", "http://10.0.0.8:8080/", "http://127.example.com/", "http://[::2]/"]) {
    assert.throws(() => new CedatoAuth({ ...creds, baseUrl }), (err) => err.code === "invalid_config" && /https/.test(err.message) && /allowInsecureHttp/.test(err.message), baseUrl);
    assert.throws(() => new CedatoAuth({ ...creds, baseUrl, allowInsecureHttp: false }), { code: "invalid_config" }, baseUrl);
    assert.equal(String(new CedatoAuth({ ...creds, baseUrl, allowInsecureHttp: true })).startsWith("CedatoAuth(http://"), true);
  }
  for (const baseUrl of ["https://api.cedato.com/api/", "http://localhost:8787/api", "http://127.0.0.1/", "http://127.1:9/", "http://[::1]:9/"]) {
    assert.ok(new CedatoAuth({ ...creds, baseUrl }), baseUrl);
  }
  assert.throws(() => new CedatoAuth({ ...creds, allowInsecureHttp: "yes" }), (err) => err.code === "invalid_config" && /allowInsecureHttp must be a boolean/.test(err.message));
  // The mock on 127.0.0.1 works as before.
  const { auth } = setup("loopback");
  assert.ok(await auth.getToken());
});

test("the shipped wasm names no build-machine path", T, async () => {
  const pkg = fileURLToPath(new URL("../../pkg/", import.meta.url));
  const checkout = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
  const needles = ["/.cargo/", "/root/", `${homedir()}/`, checkout];
  const wasms = (await readdir(pkg)).filter((f) => f.endsWith(".wasm"));
  assert.ok(wasms.length > 0);
  for (const file of wasms) {
    const bytes = await readFile(`${pkg}${file}`);
    for (const needle of needles) assert.equal(bytes.indexOf(needle), -1, `${file} holds ${needle}`);
  }
});
