#!/usr/bin/env node
// The `cedato-auth` command line (Node.js >= 20): a token, or one JSON call to the API.
// Credentials come from the environment only: a flag would show the secret in `ps`.
// Errors are one line on stderr and an exit status per kind (USAGE below); the process
// ends through process.exitCode, so stdout is fully written even into a slow pipe.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const USAGE = `Usage:
  cedato-auth token [--header | --json] [--verbose]
  cedato-auth request <path> [--query k=v]... [--method M] [--data JSON] [--verbose]
  cedato-auth --help | --version

Commands:
  token            print the access token
    --header       print "Bearer <token>" instead
    --json         print {"accessToken": ..., "expiresAt": <ms since epoch>} instead
  request <path>   call the API at <path> (relative to CEDATO_BASE_URL, e.g.
                   reports/supplies/extended) and print its JSON answer: indented on a
                   terminal, compact in a pipe; nothing for an empty answer (204)
    --query k=v    a query parameter; repeat for more (the value is everything after
                   the first "=")
    --method M     the HTTP method (default GET, or POST with --data)
    --data JSON    a JSON request body
  --verbose        write the library's events to stderr as JSON lines

Environment (credentials are never taken from the command line):
  CEDATO_CLIENT_ID      required
  CEDATO_CLIENT_SECRET  required
  CEDATO_BASE_URL       optional, default https://api.cedato.com/api/
  CEDATO_TIMEOUT_MS     optional, per attempt, default 10000

Exit status:
  0  ok
  2  usage: bad or unknown flag, missing command or path, bad --data, a path outside
     CEDATO_BASE_URL's origin (invalid_request)
  3  configuration: a missing variable, invalid_config
  4  credentials refused: token_rejected
  5  the API answered an HTTP error: http (its status is in the message)
  6  network, timeout, server_error, rate_limited, invalid_response, anything else
`;

/** Exit status of each error code; any other code (or none) is 6. */
const EXIT = new Map([["usage", 2], ["invalid_request", 2], ["invalid_config", 3], ["token_rejected", 4], ["http", 5]]);

/** A failure of this command line itself (not of the library), with its error code. */
class CliError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
const usage = (message) => new CliError("usage", `${message} (see cedato-auth --help)`);

/** Control characters: C0, DEL and C1 (ESC, BEL, backspace, CSI, line breaks, ...). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
/** The ones JSON.stringify leaves as they are (it escapes C0 itself). */
const CONTROL_IN_JSON = /[\u007f-\u009f]/g;
const NAMED = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Outside text (a server's, an argument's) made safe for a terminal or a log: each
 * control character written as an escape, a line break as `\n`, ESC as `\u001b`.
 */
const escapeControls = (text, pattern = CONTROL) =>
  text.replace(pattern, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** JSON text with every control character escaped (still valid JSON). */
const json = (value, indent) => escapeControls(JSON.stringify(value, null, indent), CONTROL_IN_JSON);

/** An RFC 9110 token: what fetch accepts as a method name. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The command line as `{ command, options }`, plus `path` and `request` (the request()'s
 * options) for `request`; throws a usage CliError, so bad usage sends nothing.
 */
function parseCommandLine(args) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
        verbose: { type: "boolean" },
        header: { type: "boolean" },
        json: { type: "boolean" },
        query: { type: "string", multiple: true },
        method: { type: "string" },
        data: { type: "string" },
      },
    });
  } catch (err) {
    // Node's first sentence ("Unknown option '-X'"), without its advice on "--".
    throw usage(err.message.split(/\.\s/)[0]);
  }
  const { values: options, positionals } = parsed;
  if (options.help || options.version) return { command: options.help ? "help" : "version", options };
  const [command, path, ...extra] = positionals;
  if (command === undefined) throw usage("missing command: token or request");
  const flagsOf = { token: ["header", "json"], request: ["query", "method", "data"] };
  if (!Object.hasOwn(flagsOf, command)) throw usage(`unknown command '${command}'`);
  for (const [other, flags] of Object.entries(flagsOf)) {
    const stray = other !== command && flags.find((flag) => options[flag] !== undefined);
    if (stray) throw usage(`--${stray} belongs to '${other}', not '${command}'`);
  }
  if (command === "token") {
    if (path !== undefined) throw usage(`unexpected argument '${path}'`);
    if (options.header && options.json) throw usage("--header and --json exclude each other");
    return { command, options };
  }
  if (!path) throw usage("missing <path> of the request");
  if (extra.length) throw usage(`unexpected argument '${extra[0]}'`);
  return { command, path, options, request: requestOptions(options) };
}

/** The request()'s options from --query, --method and --data; throws a usage CliError. */
function requestOptions({ query = [], method, data }) {
  const options = {};
  if (query.length) {
    options.query = {};
    for (const pair of query) {
      const eq = pair.indexOf("=");
      if (eq < 1) throw usage(`--query needs k=v, got '${pair}'`);
      options.query[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  if (data !== undefined) {
    try {
      options.body = JSON.parse(data);
    } catch {
      throw usage("--data is not valid JSON");
    }
  }
  if (method !== undefined && !METHOD.test(method)) throw usage(`--method '${method}' is not an HTTP method`);
  // Like curl -d: a body without a method is a POST (GET cannot carry one).
  options.method = method ?? (data !== undefined ? "POST" : "GET");
  return options;
}

/** The constructor's options from the environment; throws an invalid_config CliError. */
function optionsFromEnv(env, onEvent) {
  const required = (name) => {
    if (!env[name]) throw new CliError("invalid_config", `${name} is not set (credentials come from the environment)`);
    return env[name];
  };
  const options = { clientId: required("CEDATO_CLIENT_ID"), clientSecret: required("CEDATO_CLIENT_SECRET") };
  if (env.CEDATO_BASE_URL) options.baseUrl = env.CEDATO_BASE_URL;
  if (env.CEDATO_TIMEOUT_MS) {
    options.timeoutMs = Number(env.CEDATO_TIMEOUT_MS);
    if (!Number.isFinite(options.timeoutMs)) throw new CliError("invalid_config", "CEDATO_TIMEOUT_MS is not a number");
  }
  if (onEvent) options.onEvent = onEvent;
  return options;
}

/** What `run` prints to stdout for a command, without the final newline. */
async function output(auth, { command, path, options, request }, pretty) {
  if (command === "token") {
    const token = await auth.getToken();
    if (options.header) return `Bearer ${escapeControls(token)}`;
    if (options.json) return json({ accessToken: token, expiresAt: auth.expiresAt });
    return escapeControls(token);
  }
  const answer = await auth.request(path, request);
  return answer === undefined ? undefined : json(answer, pretty ? 2 : undefined);
}

/** Runs the command line; resolves the exit status. Writes only through `io`. */
async function run(args, env, io) {
  let auth;
  let secret;
  try {
    const commandLine = parseCommandLine(args);
    if (commandLine.command === "help") {
      io.out(USAGE);
      return 0;
    }
    if (commandLine.command === "version") {
      const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
      io.out(`${manifest.version}\n`);
      return 0;
    }
    // Events are plain objects without secrets (the library's contract): one JSON line each.
    const onEvent = commandLine.options.verbose ? (event) => io.err(`${json(event)}\n`) : undefined;
    const options = optionsFromEnv(env, onEvent);
    secret = options.clientSecret;
    // Loaded only now, so --help, --version and usage errors do not instantiate the wasm.
    const { CedatoAuth } = await import("../node.mjs");
    auth = new CedatoAuth(options);
    const text = await output(auth, commandLine, io.isTTY);
    if (text !== undefined) io.out(`${text}\n`);
    return 0;
  } catch (err) {
    io.err(`cedato-auth: ${errorLine(err, secret)}\n`);
    return EXIT.get(err?.code) ?? 6;
  } finally {
    auth?.free();
  }
}

/**
 * `<code>: <message>` on one line, never a stack, every control character escaped (the
 * message may quote a server or an argument: no forged line, no terminal sequence). The
 * library redacts its own messages; the secret is replaced here too, for errors that do
 * not come from it.
 */
function errorLine(err, secret) {
  const code = typeof err?.code === "string" ? err.code : "unexpected";
  let message = String(err?.message ?? err);
  if (code === "http" && err.status && !message.includes(String(err.status))) message += ` (HTTP ${err.status})`;
  if (secret) message = message.split(secret).join("[redacted]");
  return escapeControls(`${code}: ${message}`);
}

// A reader that goes away (`| head`) is not an error worth a stack trace.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") return;
  process.stderr.write(`cedato-auth: ${errorLine(err)}\n`);
  process.exitCode = 6;
});

process.exitCode = await run(process.argv.slice(2), process.env, {
  isTTY: Boolean(process.stdout.isTTY),
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
