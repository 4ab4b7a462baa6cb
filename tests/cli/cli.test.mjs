// The `cedato-auth` command line (pkg/bin/cedato-auth.mjs) as users run it: real child
// processes against the mock server started in this process, each test with a client id
// of its own. Every run's stderr is checked for the client secret and its Basic value.
// Also: output through a pipe and on a pseudo-terminal (script(1)), and `npx cedato-auth`
// from the packed tarball installed in a fresh project.
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { access, constants, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startMockServer, streamedReport } from "../mock/server.mjs";
import { credentials, freePort } from "../support/common.mjs";
import { makeProject, npmEnv } from "../package/setup.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "pkg", "bin", "cedato-auth.mjs");
const VERSION = JSON.parse(await readFile(join(ROOT, "pkg", "package.json"), "utf8")).version;
const TOKEN = /^[\x21-\x7e]+$/;
/** One error line: `cedato-auth: <code>: <message>\n`. */
const ERROR_LINE = /^cedato-auth: ([a-z_]+): [^\n]+\n$/;
const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

let mock;
let project; // the consumer project with the tarball installed: made while the other tests run
before(async () => {
  project = makeProject("cli");
  project.catch(() => {}); // awaited (and reported) by the tarball's tests
  mock = await startMockServer({ port: 0 });
});
after(() => mock?.close());

/** Fresh credentials (`t-cli-<tag>-…`) and the environment that carries them to the CLI. */
function account(tag, extra = {}) {
  const creds = credentials(`cli-${tag}`);
  const env = {
    CEDATO_CLIENT_ID: creds.clientId,
    CEDATO_CLIENT_SECRET: creds.clientSecret,
    CEDATO_BASE_URL: mock.baseUrl,
    ...extra,
  };
  return { ...creds, env, client: mock.client(creds.clientId) };
}

/** What must never appear on stderr: the secret and the Basic value (plain and Base64). */
function secretsOf(env) {
  const id = env.CEDATO_CLIENT_ID ?? "";
  const secret = env.CEDATO_CLIENT_SECRET;
  if (!secret) return [];
  return [secret, `${id}:${secret}`, Buffer.from(`${id}:${secret}`, "utf8").toString("base64")];
}

function assertNoSecrets(text, env, also = []) {
  for (const secret of [...secretsOf(env), ...also]) {
    assert.ok(!text.includes(secret), `a secret leaked: ${JSON.stringify(text)}`);
  }
}

/**
 * Runs `cmd args` with only PATH and `env` in its environment (no CEDATO_* of the parent):
 * `{ code, stdout, stderr }`. Its stderr must hold no secret of `env`.
 */
function spawnWith(cmd, args, env, { cwd = ROOT, baseEnv = { PATH: process.env.PATH } } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: { ...baseEnv, ...env }, timeout: 20_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err);
      try {
        assertNoSecrets(stderr, env);
        resolve({ code: err ? err.code : 0, stdout, stderr });
      } catch (failure) {
        reject(failure);
      }
    });
  });
}

/** `node pkg/bin/cedato-auth.mjs ...args` */
const cli = (args, env = {}) => spawnWith(process.execPath, [BIN, ...args], env);

/** `sh -c script` with the environment `env` (BIN and NODE set for the script). */
const shell = (script, env = {}) => spawnWith("sh", ["-c", script], { NODE: process.execPath, BIN, ...env });

/** Asserts a failed run: exit `code`, nothing on stdout, one error line with `errorCode`. */
function assertFailure(r, code, errorCode, message) {
  assert.equal(r.code, code, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stdout, "");
  const m = ERROR_LINE.exec(r.stderr);
  assert.ok(m, `one error line, got ${JSON.stringify(r.stderr)}`);
  assert.equal(m[1], errorCode, r.stderr);
  if (message) assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack");
}

/** The mock accepts the token the CLI printed (it is a real, current token). */
async function assertValidToken(token) {
  const r = await fetch(new URL("echo", mock.baseUrl), { headers: { authorization: `Bearer ${token}`, "api-version": "1" } });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).headers.token_valid, true);
}

describe("token", { concurrency: true }, () => {
  test("prints the access token, from one token request", async () => {
    const a = account("token");
    const r = await cli(["token"], a.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /\n$/);
    const token = r.stdout.trimEnd();
    assert.match(token, TOKEN);
    await assertValidToken(token);
    assert.equal(a.client.stats().tokenRequests, 1);
  });

  test("--header prints Bearer <token>", async () => {
    const r = await cli(["token", "--header"], account("header").env);
    assert.equal(r.code, 0, r.stderr);
    const m = /^Bearer ([\x21-\x7e]+)\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    await assertValidToken(m[1]);
  });

  test("--json prints accessToken and expiresAt", async () => {
    const started = Date.now();
    const r = await cli(["token", "--json"], account("json").env);
    assert.equal(r.code, 0, r.stderr);
    const answer = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(answer), ["accessToken", "expiresAt"]);
    assert.match(answer.accessToken, TOKEN);
    assert.ok(answer.expiresAt >= started + 3600_000 - 5000 && answer.expiresAt <= Date.now() + 3600_000, String(answer.expiresAt));
    await assertValidToken(answer.accessToken);
  });

  test("CEDATO_BASE_URL without its trailing slash works too", async () => {
    const a = account("slash");
    const r = await cli(["token"], { ...a.env, CEDATO_BASE_URL: mock.baseUrl.slice(0, -1) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(a.client.stats().tokenRequests, 1);
  });
});

describe("request", { concurrency: true }, () => {
  test("GET with --query repeated; a value keeps everything after the first '='", async () => {
    const r = await cli(["request", "echo", "--query", "a=1", "--query", "expr=x=y=z", "--query", "empty=", "--query", "ü=€"], account("query").env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const echo = JSON.parse(r.stdout);
    assert.equal(echo.method, "GET");
    assert.equal(echo.path, "/api/echo");
    assert.deepEqual(echo.query, { a: "1", expr: "x=y=z", empty: "", ü: "€" });
    assert.equal(echo.headers.token_valid, true);
  });

  test("--method POST with --data sends the JSON body", async () => {
    const data = { name: "x", n: [1, 2.5, null], nested: { ok: true } };
    const r = await cli(["request", "echo", "--method", "POST", "--data", JSON.stringify(data)], account("post").env);
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(r.stdout);
    assert.equal(echo.method, "POST");
    assert.deepEqual(JSON.parse(echo.body), data);
    assert.match(echo.headers["content-type"], /^application\/json/);
  });

  test("--data without --method is a POST; --method PUT is kept", async () => {
    const a = account("put");
    const [post, put] = await Promise.all([
      cli(["request", "echo", "--data", "[1,2]"], a.env),
      cli(["request", "echo", "--method", "put", "--data", '"text"'], a.env),
    ]);
    assert.equal(post.code, 0, post.stderr);
    assert.equal(JSON.parse(post.stdout).method, "POST");
    assert.equal(JSON.parse(post.stdout).body, "[1,2]");
    assert.equal(put.code, 0, put.stderr);
    assert.equal(JSON.parse(put.stdout).method, "PUT");
    assert.equal(JSON.parse(put.stdout).body, '"text"');
  });

  test("a report with query parameters; a path given with the base URL's own path", async () => {
    const a = account("report");
    const args = ["--query", "start=2024-01-01", "--query", "end=2024-01-07", "--query", "limit=5"];
    const [relative, absolutePath] = await Promise.all([
      cli(["request", "reports/supplies/extended", ...args], a.env),
      cli(["request", "/api/reports/supplies/extended", ...args], a.env),
    ]);
    for (const r of [relative, absolutePath]) {
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.status, "OK");
      assert.equal(report.data.supplies.length, 5);
      assert.equal(report.data.navigation.total, 57);
    }
    assert.equal(relative.stdout, absolutePath.stdout);
  });

  test("an empty answer (204) prints nothing and succeeds", async () => {
    const r = await cli(["request", "empty"], account("empty").env);
    assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  });

  test("flags may come before the command and the path", async () => {
    const r = await cli(["--query", "k=v", "request", "echo"], account("order").env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).query, { k: "v" });
  });
});

describe("--help and --version", { concurrency: true }, () => {
  for (const flag of ["--help", "-h"]) {
    test(`${flag} prints the usage, the environment and the exit statuses`, async () => {
      const r = await cli([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
      for (const needle of ["cedato-auth token", "cedato-auth request <path>", "--query k=v", "--method M", "--data JSON", "--header", "--json", "--verbose", "--raw", "--output FILE", "CEDATO_CLIENT_ID", "CEDATO_CLIENT_SECRET", "CEDATO_BASE_URL", "CEDATO_TIMEOUT_MS"]) {
        assert.ok(r.stdout.includes(needle), `--help mentions ${needle}`);
      }
      for (const status of [0, 2, 3, 4, 5, 6]) assert.match(r.stdout, new RegExp(`^ +${status} +\\S`, "m"), `exit status ${status}`);
    });
  }

  test("--help wins over a bad command line and needs no credentials", async () => {
    const r = await cli(["request", "--help", "--data", "{bad"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage:/);
  });

  test("the npm README documents the command line and its exit statuses", async () => {
    const readme = await readFile(join(ROOT, "pkg", "README.md"), "utf8");
    assert.match(readme, /^## Command line$/m);
    for (const name of ["CEDATO_CLIENT_ID", "CEDATO_CLIENT_SECRET", "CEDATO_BASE_URL", "CEDATO_TIMEOUT_MS", "--verbose", "--raw", "--output FILE"]) {
      assert.ok(readme.includes(name), `README mentions ${name}`);
    }
    for (const status of [0, 2, 3, 4, 5, 6]) assert.match(readme, new RegExp(`^\\| ${status} \\| \\S`, "m"), `exit status ${status}`);
  });

  test("--version prints the package's version", async () => {
    const r = await cli(["--version"]);
    assert.deepEqual(r, { code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });
});

describe("exit status 2: usage", { concurrency: true }, () => {
  const cases = [
    [[], /missing command/],
    [["tokens"], /unknown command 'tokens'/],
    [["token", "--frobnicate"], /Unknown option '--frobnicate'/],
    [["token", "-X"], /Unknown option '-X'/],
    [["token", "extra"], /unexpected argument 'extra'/],
    [["token", "--header", "--json"], /exclude each other/],
    [["token", "--json=yes"], /does not take an argument/],
    [["token", "--query", "a=b"], /--query belongs to 'request'/],
    [["request"], /missing <path>/],
    [["request", ""], /missing <path>/],
    [["request", "echo", "more"], /unexpected argument 'more'/],
    [["request", "echo", "--header"], /--header belongs to 'token'/],
    [["request", "echo", "--data", "{bad json"], /--data is not valid JSON/],
    [["request", "echo", "--data", ""], /--data is not valid JSON/],
    [["request", "echo", "--query", "novalue"], /--query needs k=v/],
    [["request", "echo", "--query", "=v"], /--query needs k=v/],
    [["request", "echo", "--method"], /argument missing/],
    [["request", "echo", "--method", "GE T"], /not an HTTP method/],
    [["request", "echo", "--client-secret", "s"], /Unknown option '--client-secret'/],
  ];
  for (const [args, message] of cases) {
    test(`cedato-auth ${args.map((a) => JSON.stringify(a)).join(" ")}`, async () => {
      const a = account("usage");
      assertFailure(await cli(args, a.env), 2, "usage", message);
      assert.equal(a.client.stats().tokenRequests, 0, "nothing sent");
    });
  }

  test("a URL outside CEDATO_BASE_URL's origin: invalid_request, nothing sent there", async () => {
    const a = account("origin");
    const port = await freePort(); // would refuse the connection: a network error (6) if sent
    assertFailure(await cli(["request", `http://127.0.0.1:${port}/api/echo`], a.env), 2, "invalid_request", /outside/);
  });
});

describe("exit status 3: configuration", { concurrency: true }, () => {
  for (const name of ["CEDATO_CLIENT_ID", "CEDATO_CLIENT_SECRET"]) {
    test(`${name} missing or empty: the message names it`, async () => {
      const a = account("env");
      for (const value of [undefined, ""]) {
        const env = { ...a.env, [name]: value };
        if (value === undefined) delete env[name];
        const r = await cli(["token"], env);
        assertFailure(r, 3, "invalid_config", new RegExp(`${name} is not set`));
        assertNoSecrets(r.stderr, a.env);
      }
      assert.equal(a.client.stats().tokenRequests, 0);
    });
  }

  for (const [value, message] of [
    ["ftp://example.com/api/", /baseUrl must be an absolute http\(s\) URL/],
    ["not a url", /baseUrl/],
  ]) {
    test(`CEDATO_BASE_URL=${JSON.stringify(value)}`, async () => {
      const a = account("base");
      const r = await cli(["request", "echo"], { ...a.env, CEDATO_BASE_URL: value });
      assertFailure(r, 3, "invalid_config", message);
      assertNoSecrets(r.stderr, a.env);
    });
  }

  for (const value of ["soon", "-5", "0"]) {
    test(`CEDATO_TIMEOUT_MS=${value}`, async () => {
      assertFailure(await cli(["token"], { ...account("timeoutms").env, CEDATO_TIMEOUT_MS: value }), 3, "invalid_config", /timeout/i);
    });
  }

  test("a client id with ':' (invalid_config from the library)", async () => {
    const r = await cli(["token"], { ...account("colon").env, CEDATO_CLIENT_ID: "t-cli:colon" });
    assertFailure(r, 3, "invalid_config", /clientId/);
  });
});

describe("exit status 4: credentials refused", { concurrency: true }, () => {
  test("a wrong secret: token_rejected; neither secret nor Basic value on stderr", async () => {
    const a = account("wrong");
    const env = { ...a.env, CEDATO_CLIENT_SECRET: "wrong-Secret-42" };
    for (const args of [["token"], ["request", "echo"]]) {
      const r = await cli(args, env); // spawnWith checks the wrong secret and its Basic value
      assertFailure(r, 4, "token_rejected", /HTTP 401/);
    }
    assert.equal(a.client.stats().tokenRequests, 2);
    assert.equal(a.client.stats().apiRequests, 0);
  });
});

describe("exit status 5: the API's HTTP error", { concurrency: true }, () => {
  test("404 for an unknown demand and an unknown path, with the status in the message", async () => {
    const a = account("404");
    for (const path of ["demand/1", "no/such/path"]) {
      assertFailure(await cli(["request", path], a.env), 5, "http", /\b404\b/);
    }
  });

  test("500 and 400 from the API (apiScript)", async () => {
    const a = account("500");
    a.client.apiScript([{ status: 500 }, { status: 400, body: { error: "bad_dates" } }]);
    assertFailure(await cli(["request", "echo"], a.env), 5, "http", /\b500\b/);
    assertFailure(await cli(["request", "echo"], a.env), 5, "http", /\b400\b/);
    assert.equal(a.client.stats().apiRequests, 2, "not retried");
  });

  test("400 for bad report dates", async () => {
    const r = await cli(["request", "reports/demands/basic", "--query", "start=2024-13-01"], account("dates").env);
    assertFailure(r, 5, "http", /\b400\b/);
  });
});

describe("exit status 6: network, timeout, server", { concurrency: true }, () => {
  test("a closed port: network", async () => {
    const port = await freePort();
    const r = await cli(["token"], { ...account("closed").env, CEDATO_BASE_URL: `http://127.0.0.1:${port}/api/` });
    assertFailure(r, 6, "network", /could not reach/);
  });

  test("dropped connections: network after the retries", async () => {
    const a = account("drop");
    a.client.tokenScript([{ drop: true }, { drop: true }, { drop: true }]);
    assertFailure(await cli(["token"], a.env), 6, "network", /3 attempts/);
    assert.equal(a.client.stats().tokenRequests, 3);
  });

  test("503s: server_error after the retries", async () => {
    const a = account("503");
    a.client.tokenScript([{ status: 503 }, { status: 503 }, { status: 503 }]);
    assertFailure(await cli(["request", "echo"], a.env), 6, "server_error", /503/);
    assert.equal(a.client.stats().apiRequests, 0);
  });

  test("429 with a long Retry-After: rate_limited at once", async () => {
    const a = account("429");
    a.client.tokenScript([{ status: 429, headers: { "retry-after": "120" } }]);
    assertFailure(await cli(["token"], a.env), 6, "rate_limited");
  });

  test("a token endpoint slower than CEDATO_TIMEOUT_MS: timeout", async () => {
    const a = account("slow", { CEDATO_TIMEOUT_MS: "150" });
    a.client.tokenScript([{ delayMs: 3000 }, { delayMs: 3000 }, { delayMs: 3000 }]);
    const started = performance.now();
    assertFailure(await cli(["token"], a.env), 6, "timeout", /150 ms/);
    assert.ok(performance.now() - started < 2900, "CEDATO_TIMEOUT_MS is used");
  });

  test("a JSON content-type with a body that is not JSON: invalid_response", async () => {
    const a = account("not-json");
    a.client.apiScript([{ status: 200, body: "{not json" }]); // sent as application/json
    assertFailure(await cli(["request", "echo"], a.env), 6, "invalid_response", /not JSON/);
  });
});

describe("output format", { concurrency: true }, () => {
  test("into a pipe: compact JSON that `node -e` parses", async () => {
    const a = account("pipe");
    const reader = `let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
      const report = JSON.parse(s);
      console.log(JSON.stringify({ rows: report.data.supplies.length, compact: s === JSON.stringify(report) + "\\n" }));
    });`;
    const r = await shell(`"$NODE" "$BIN" request reports/supplies/extended --query limit=100 | "$NODE" -e '${reader}'`, a.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.deepEqual(JSON.parse(r.stdout), { rows: 57, compact: true });
  });

  test("a large answer (> 64 KB pipe buffer) is written whole to a slow reader", async () => {
    const a = account("big");
    const data = JSON.stringify({ blob: "x".repeat(100_000) });
    // The reader waits before reading: the CLI finishes its work while the pipe is full.
    const reader = `setTimeout(() => { let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
      console.log(JSON.parse(JSON.parse(s).body).blob.length); }); }, 300);`;
    const r = await shell(`"$NODE" "$BIN" request echo --data "$DATA" | "$NODE" -e '${reader}'`, { ...a.env, DATA: data });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "100000\n");
  });

  test("a reader that stops early (| head -c 1): no error on stderr", async () => {
    const a = account("epipe");
    const r = await shell(`"$NODE" "$BIN" request echo --data "$DATA" | head -c 1`, { ...a.env, DATA: JSON.stringify("y".repeat(100_000)) });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "{");
    assert.equal(r.stderr, "");
  });

  test("on a terminal: indented 2 spaces (a pty through script(1))", { skip: !hasScript && "script(1) not found" }, async () => {
    const a = account("tty");
    const [tty, pipe] = await Promise.all([
      spawnWith("script", ["-qec", `"$NODE" "$BIN" request demand/7001`, "/dev/null"], { NODE: process.execPath, BIN, ...a.env }),
      cli(["request", "demand/7001"], a.env),
    ]);
    assert.equal(tty.code, 0, tty.stdout);
    const answer = JSON.parse(pipe.stdout);
    assert.equal(tty.stdout.replace(/\r\n/g, "\n"), `${JSON.stringify(answer, null, 2)}\n`);
    assert.equal(pipe.stdout, `${JSON.stringify(answer)}\n`);
  });

  test("on a terminal a streamed text answer has its control characters escaped; into a pipe it is byte for byte", { skip: !hasScript && "script(1) not found" }, async () => {
    const a = account("tty-text");
    const text = "id,name\r\n1,\u001b]0;owned\u0007title\ttab\r\n";
    const answer = { status: 200, base64: Buffer.from(text).toString("base64"), headers: { "content-type": "text/csv" } };
    a.client.apiScript([answer, answer]);
    const tty = await spawnWith("script", ["-qec", `"$NODE" "$BIN" request echo --raw`, "/dev/null"], { NODE: process.execPath, BIN, ...a.env });
    assert.equal(tty.code, 0, tty.stdout);
    assert.ok(!tty.stdout.includes("\u001b") && !tty.stdout.includes("\u0007"), JSON.stringify(tty.stdout));
    assert.ok(tty.stdout.includes("1,\\u001b]0;owned\\u0007title\ttab"), JSON.stringify(tty.stdout));
    const pipe = await cli(["request", "echo", "--raw"], a.env);
    assert.equal(pipe.code, 0, pipe.stderr);
    assert.equal(pipe.stdout, text);
  });

  test("exit statuses come through script(1) and a shell unchanged", { skip: !hasScript && "script(1) not found" }, async () => {
    const a = account("tty-exit");
    const r = await spawnWith("script", ["-qec", `"$NODE" "$BIN" request demand/1`, "/dev/null"], { NODE: process.execPath, BIN, ...a.env });
    assert.equal(r.code, 5);
  });
});

describe("non-JSON answers, --raw and --output (streamed)", { concurrency: true }, () => {
  const RANGE = ["--query", "start=2024-01-01", "--query", "end=2024-01-07"];
  const CSV = ["request", "reports/supplies/extended", "--query", "format=csv", ...RANGE];

  /** The answer as the mock sends it (fetched directly with the CLI's token). */
  async function fromMock(path, env) {
    const token = (await cli(["token"], env)).stdout.trim();
    const res = await fetch(new URL(path, mock.baseUrl), { headers: { authorization: `Bearer ${token}` } });
    return Buffer.from(await res.arrayBuffer()).toString("utf8");
  }

  /** A new empty directory for --output files (removed after the tests). */
  const dirs = [];
  after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
  const outDir = async () => {
    dirs.push(await mkdtemp(join(tmpdir(), "cedato-cli-out-")));
    return dirs.at(-1);
  };

  test("a CSV report to a pipe: printed as is, byte for byte", async () => {
    const a = account("csv-pipe");
    const expected = await fromMock("reports/supplies/extended?format=csv&start=2024-01-01&end=2024-01-07", a.env);
    const reader = `let s = ""; process.stdin.setEncoding("utf8").on("data", (c) => (s += c)).on("end", () => process.stdout.write(s));`;
    const r = await shell(`"$NODE" "$BIN" ${CSV.join(" ")} | "$NODE" -e '${reader}'`, a.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, expected);
    const lines = r.stdout.split("\r\n");
    assert.equal(lines[0], "supply_id,supply_name,impressions,requests,fill_rate,revenue,ecpm");
    assert.equal(lines.length, 59, "57 rows, the header and nothing after the last CRLF (no newline added)");
  });

  test("--output FILE: the whole report, no temporary file left; an existing FILE is replaced", async () => {
    const a = account("csv-file");
    const dir = await outDir();
    const file = join(dir, "supplies.csv");
    await writeFile(file, "old content\n");
    const r = await cli([...CSV, "--output", file], a.env);
    assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 0, stdout: "", stderr: "" });
    assert.equal(await readFile(file, "utf8"), await fromMock("reports/supplies/extended?format=csv&start=2024-01-01&end=2024-01-07", a.env));
    assert.deepEqual(await readdir(dir), ["supplies.csv"]);
    // -o, and a JSON answer: written as it would be printed into a pipe.
    const json = join(dir, "demand.json");
    assert.equal((await cli(["request", "demand/7001", "-o", json], a.env)).code, 0);
    assert.equal(JSON.parse(await readFile(json, "utf8")).data.demand.demand_id, 7001);
    assert.match(await readFile(json, "utf8"), /^\{"status":"OK".*\}\n$/s);
  });

  test("a stream that fails halfway: exit 6 network; --output leaves no partial file, the old FILE intact", async () => {
    const a = account("csv-broken");
    const dir = await outDir();
    const file = join(dir, "report.csv");
    await writeFile(file, "yesterday's report\n");
    const broken = ["request", "reports/stream", "--query", "bytes=8000000", "--query", "failAt=3000000"];
    const toFile = await cli([...broken, "--output", file], a.env);
    assertFailure(toFile, 6, "network", /reading the API answer failed/);
    assert.equal(await readFile(file, "utf8"), "yesterday's report\n");
    assert.deepEqual(await readdir(dir), ["report.csv"], "no temporary file left behind");
    const fresh = join(dir, "new.csv");
    assertFailure(await cli([...broken, "-o", fresh], a.env), 6, "network");
    assert.deepEqual(await readdir(dir), ["report.csv"], "no FILE, no temporary file");
    // Into a pipe: a start of the answer, then the error line and exit status 6. (Not
    // necessarily all 3 MB that arrived: a web stream that errors drops the chunks queued
    // in it, so what the CLI had not taken yet is lost.)
    const status = join(dir, "status");
    const out = join(dir, "piped.csv");
    const r = await shell(`{ "$NODE" "$BIN" ${broken.join(" ")}; echo $? > "$STATUS"; } | cat > "$OUT"`, { ...a.env, STATUS: status, OUT: out });
    assert.match(r.stderr, /^cedato-auth: network: reading the API answer failed/);
    assert.equal(await readFile(status, "utf8"), "6\n");
    const piped = await readFile(out);
    assert.ok(piped.length > 0 && piped.length <= 3_000_000, `${piped.length} bytes`);
    assert.ok(piped.equals(Buffer.concat([...streamedReport(8_000_000)]).subarray(0, piped.length)), "a start of the answer");
    await rm(status);
    await rm(out);
  });

  test("a body slower than CEDATO_TIMEOUT_MS: exit 6 timeout, no --output file", async () => {
    const a = account("csv-slow", { CEDATO_TIMEOUT_MS: "400" });
    a.client.apiScript([{ stallBody: true }, { stallBody: true }]);
    const dir = await outDir();
    const started = performance.now();
    assertFailure(await cli(["request", "echo", "--raw", "-o", join(dir, "x.csv")], a.env), 6, "timeout", /timeoutMs/);
    assert.ok(performance.now() - started < 10_000, "ended by the time limit, not the test's");
    assert.deepEqual(await readdir(dir), []);
    const r = await cli(["request", "echo", "--raw"], a.env);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^cedato-auth: timeout: /m);
  });

  test("Ctrl-C (SIGINT) or SIGTERM during --output: the temporary file goes, exit 130 / 143", async () => {
    const a = account("csv-signal");
    a.client.apiScript([{ stallBody: true }, { stallBody: true }]);
    for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]]) {
      const dir = await outDir();
      const child = spawn(process.execPath, [BIN, "request", "echo", "--raw", "-o", join(dir, "r.csv")], {
        env: { PATH: process.env.PATH, ...a.env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const exited = new Promise((done) => child.on("exit", (code) => done(code)));
      // Interrupted while the answer streams: the temporary file exists, part of it written.
      const started = performance.now();
      while ((await readdir(dir)).length === 0 || (await stat(join(dir, (await readdir(dir))[0]))).size === 0) {
        assert.ok(performance.now() - started < 10_000, "the download started");
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.match((await readdir(dir))[0], /^\.r\.csv\.\d+-[0-9a-f]{8}\.part$/);
      child.kill(signal);
      assert.equal(await exited, status, stderr);
      assert.deepEqual(await readdir(dir), []);
      assertNoSecrets(stderr, a.env);
    }
  });

  test("--raw prints a JSON answer as is (no reformatting, no newline added); without it, compact JSON", async () => {
    const a = account("raw");
    const body = '{ "spaced" : [1, 2],\n  "kept": "as sent" }';
    a.client.apiScript([{ status: 200, body }, { status: 200, body }]);
    const raw = await cli(["request", "echo", "--raw"], a.env);
    assert.deepEqual({ code: raw.code, stdout: raw.stdout, stderr: raw.stderr }, { code: 0, stdout: body, stderr: "" });
    const parsed = await cli(["request", "echo"], a.env);
    assert.equal(parsed.stdout, '{"spaced":[1,2],"kept":"as sent"}\n');
    // A text answer without --raw, and an empty one with it.
    assert.equal((await cli(["request", "text"], a.env)).stdout, "not json");
    assert.deepEqual(await cli(["request", "empty", "--raw"], a.env), { code: 0, stdout: "", stderr: "" });
  });

  test("an HTTP error: exit 5, its body (redacted) in the error line, nothing on stdout or in FILE", async () => {
    const a = account("http-body");
    const dir = await outDir();
    a.client.apiScript([
      { status: 422, body: "error,detail\r\nbad_range,end before start\r\n", headers: { "content-type": "text/csv" } },
      { status: 500, body: `internal error for ${a.clientSecret}`, headers: { "content-type": "text/plain" } },
    ]);
    const r = await cli([...CSV, "--raw", "-o", join(dir, "r.csv")], a.env);
    assertFailure(r, 5, "http", /answered HTTP 422: error,detail bad_range,end before start$/m);
    assert.deepEqual(await readdir(dir), []);
    const echoed = await cli([...CSV], a.env);
    assertFailure(echoed, 5, "http", /HTTP 500: internal error for .*redacted/);
    // Control characters of the body are escaped (no terminal sequence gets through).
    a.client.apiScript([{ status: 503, body: "down\x1b]0;pwned\x07\x1b[2J now\x9b", headers: { "content-type": "text/plain" } }]);
    const escaped = await cli(["request", "echo"], a.env);
    assertFailure(escaped, 5, "http", /HTTP 503: down\\u001b\]0;pwned\\u0007\\u001b\[2J now\\u009b$/m);
    assert.doesNotMatch(escaped.stderr.slice(0, -1), /[\x00-\x08\x0a-\x1f\x7f-\x9f]/);
  });

  test("--output in a directory that does not exist: exit 2, nothing sent", async () => {
    const a = account("no-dir");
    const r = await cli([...CSV, "--output", join(tmpdir(), "cedato-no-such-dir", "r.csv")], a.env);
    assertFailure(r, 2, "usage", /--output/);
    assert.deepEqual(a.client.stats(), { tokenRequests: 0, tokensIssued: 0, apiRequests: 0, apiUnauthorized: 0 });
    assertFailure(await cli(["token", "--output", "x"], a.env), 2, "usage", /--output belongs to 'request'/);
  });

  test("peak memory of a 200 MB answer streamed to a pipe stays bounded (< 150 MB RSS)", { timeout: 120_000 }, async (t) => {
    const a = account("peak", { CEDATO_TIMEOUT_MS: "100000" });
    const dir = await outDir();
    const bytes = 200 * 1024 * 1024;
    const env = { ...a.env, PEAK_RSS_FILE: join(dir, "rss"), PRELOAD: join(ROOT, "tests", "support", "peak-rss.mjs") };
    const r = await shell(`"$NODE" --import "$PRELOAD" "$BIN" request reports/stream --query bytes=${bytes} | wc -c`, env);
    assert.equal(r.stderr, "");
    assert.equal(Number(r.stdout.trim()), bytes, "every byte came through");
    const peakMb = Number(await readFile(env.PEAK_RSS_FILE, "utf8")) / 1024;
    t.diagnostic(`peak RSS of the CLI streaming ${bytes / 2 ** 20} MB to a pipe: ${peakMb.toFixed(1)} MB`);
    assert.ok(peakMb > 10 && peakMb < 150, `peak RSS ${peakMb.toFixed(1)} MB`);
  });

  test("a streamed answer arrives byte for byte (16 MB through --output)", { timeout: 60_000 }, async () => {
    const a = account("exact");
    const file = join(await outDir(), "big.csv");
    const bytes = 16 * 1024 * 1024 + 7;
    const r = await cli(["request", "reports/stream", "--query", `bytes=${bytes}`, "-o", file], a.env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(file)).equals(Buffer.concat([...streamedReport(bytes)])));
  });
});

describe("--verbose", { concurrency: true }, () => {
  /** stderr's lines, each parsed as JSON (an assertion failure if one is not). */
  const events = (stderr) => stderr.split("\n").filter(Boolean).map((line) => JSON.parse(line));

  test("without --verbose: nothing on stderr", async () => {
    const r = await cli(["request", "echo"], account("quiet").env);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
  });

  test("token and api events as JSON lines on stderr, with no secret and no token", async () => {
    const a = account("verbose");
    const token = await cli(["token", "--verbose"], a.env);
    assert.equal(token.code, 0, token.stderr);
    assertNoSecrets(token.stderr, a.env, [token.stdout.trim()]);
    const tokenEvents = events(token.stderr);
    assert.ok(tokenEvents.some((e) => e.type === "token" && e.source === "endpoint" && e.attempts === 1), token.stderr);

    const request = await cli(["request", "echo", "--verbose"], a.env);
    assert.equal(request.code, 0, request.stderr);
    const requestEvents = events(request.stderr);
    assert.ok(requestEvents.some((e) => e.type === "token" && e.source === "endpoint"), request.stderr);
    assert.ok(requestEvents.some((e) => e.type === "api" && e.method === "GET" && e.status === 200 && /echo/.test(e.path)), request.stderr);
    assert.doesNotMatch(request.stderr, /Bearer|Basic|ct_[0-9a-f]{16}/, "no header and no token (the mock's tokens are ct_<hex>)");
  });

  test("retry and failure events before the error line", async () => {
    const a = account("verbose-fail");
    a.client.tokenScript([{ status: 503 }, { status: 503 }, { status: 503 }]);
    const r = await cli(["token", "--verbose"], a.env);
    assert.equal(r.code, 6);
    const lines = r.stderr.trimEnd().split("\n");
    assert.match(lines.at(-1), /^cedato-auth: server_error: /);
    const list = events(lines.slice(0, -1).join("\n"));
    assert.equal(list.filter((e) => e.type === "retry" && e.code === "server_error" && e.status === 503).length, 2, r.stderr);
    assert.ok(list.some((e) => e.type === "failure" && e.code === "server_error" && e.attempts === 3), r.stderr);
  });
});

describe("control characters from outside are escaped", { concurrency: true }, () => {
  /** Every control character but the line ends the CLI writes itself. */
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
  const TITLE = "\u001b]0;owned\u0007"; // sets the terminal's title
  const FORGED = "bad\r\ncedato-auth: ok: forged\u0008\u009b2J";

  test("an argument quoted by a usage error: one line, ESC as \\u001b", async () => {
    const a = account("ctl-usage");
    const r = await cli([`tok${TITLE}en`], a.env);
    assertFailure(r, 2, "usage", /unknown command 'tok\\u001b\]0;owned\\u0007en'/);
    assert.doesNotMatch(r.stderr, CONTROL);
  });

  test("the token endpoint's error text: one line, no control character", async () => {
    const a = account("ctl-oauth");
    a.client.tokenScript([{ status: 401, body: { error: FORGED, error_description: TITLE } }]);
    const r = await cli(["token"], a.env);
    assertFailure(r, 4, "token_rejected", /\[bad\\r\\ncedato-auth: ok: forged\\u0008\\u009b2J\]/);
    assert.doesNotMatch(r.stderr, CONTROL);
  });

  test("the API's answer: JSON with every control character escaped, parsing back to the same value", async () => {
    const a = account("ctl-json");
    const answer = { note: `${FORGED}${TITLE}\u007f`, [`k${TITLE}`]: 1 };
    a.client.apiScript([{ status: 200, body: answer }, { status: 200, body: answer }]);
    for (const args of [["request", "echo"], ["request", "echo", "--verbose"]]) {
      const r = await cli(args, a.env);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout.slice(0, -1), CONTROL);
      assert.doesNotMatch(r.stdout, /\u001b|\u009b|\u007f/);
      assert.deepEqual(JSON.parse(r.stdout), answer);
      assert.doesNotMatch(r.stderr, CONTROL);
    }
  });
});

describe("the packed tarball's bin", () => {
  let dir;
  before(async () => {
    dir = await project;
  }, { timeout: 120_000 });

  // npm's environment (cache inside build/), without any CEDATO_* of the parent.
  const baseEnv = Object.fromEntries(Object.entries(npmEnv).filter(([name]) => !name.startsWith("CEDATO_")));
  const npx = (args, env) => spawnWith("npx", ["--offline", "--no-install", "cedato-auth", ...args], env, { cwd: dir, baseEnv });

  test("installed executable, with node_modules/.bin/cedato-auth", { timeout: 60_000 }, async () => {
    const bin = join(dir, "node_modules", "cedato-auth", "bin", "cedato-auth.mjs");
    await access(bin, constants.X_OK);
    assert.match(await readFile(bin, "utf8"), /^#!\/usr\/bin\/env node\n/);
    await access(join(dir, "node_modules", ".bin", "cedato-auth"), constants.X_OK);
  });

  test("npx cedato-auth: token, --version, and an exit status", { timeout: 60_000 }, async () => {
    const a = account("npx");
    const [token, version, refused] = await Promise.all([
      npx(["token"], a.env),
      npx(["--version"], {}),
      npx(["token"], { ...a.env, CEDATO_CLIENT_SECRET: "not-it" }),
    ]);
    assert.equal(token.code, 0, token.stderr);
    await assertValidToken(token.stdout.trim());
    assert.equal(version.stdout, `${VERSION}\n`);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /^cedato-auth: token_rejected: /m);
  });
});
