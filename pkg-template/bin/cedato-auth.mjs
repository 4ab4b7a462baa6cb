#!/usr/bin/env node
// The `cedato-auth` command line (Node.js >= 20): a token, or one call to the API.
// Credentials come from the environment only: a flag would show the secret in `ps`.
// Errors are one line on stderr and an exit status per kind (USAGE below); the process
// ends through process.exitCode, so stdout is fully written even into a slow pipe.
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { constants as os } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";

const USAGE = `Usage:
  cedato-auth token [--header | --json] [--verbose]
  cedato-auth request <path> [--query k=v]... [--method M] [--data JSON] [--raw]
                     [--output FILE] [--verbose]
  cedato-auth --help | --version

Commands:
  token            print the access token
    --header       print "Bearer <token>" instead
    --json         print {"accessToken": ..., "expiresAt": <ms since epoch>} instead
  request <path>   call the API at <path> (relative to CEDATO_BASE_URL, e.g.
                   reports/supplies/extended) and print its answer: a JSON answer
                   indented on a terminal, compact in a pipe; any other (a CSV report)
                   as is, streamed; nothing for an empty answer (204). An HTTP error's
                   body goes to stderr, in the error line, never to the output
    --query k=v    a query parameter; repeat for more (the value is everything after
                   the first "=")
    --method M     the HTTP method (default GET, or POST with --data)
    --data JSON    a JSON request body
    --raw          print any answer as is, JSON too (streamed, never parsed)
    -o, --output FILE
                   write the answer to FILE instead of stdout: under a temporary name
                   in FILE's directory, renamed to FILE once complete, so FILE is never
                   left partial (Ctrl-C removes the temporary file: exit 130)
  --verbose        write the library's events to stderr as JSON lines

Environment (credentials are never taken from the command line):
  CEDATO_CLIENT_ID      required
  CEDATO_CLIENT_SECRET  required
  CEDATO_BASE_URL       optional, default https://api.cedato.com/api/
  CEDATO_TIMEOUT_MS     optional, per attempt, default 10000 (the answer's whole body
                        included: raise it for large reports)

Exit status:
  0  ok
  2  usage: bad or unknown flag, missing command or path, bad --data, a path outside
     CEDATO_BASE_URL's origin (invalid_request), an --output FILE that cannot be
     created (nothing is sent then)
  3  configuration: a missing variable, invalid_config
  4  credentials refused: token_rejected
  5  the API answered an HTTP error: http (its status is in the message)
  6  network, timeout, server_error, rate_limited, invalid_response, anything else
     (an answer that broke off halfway, an --output FILE that could not be written)
`;

/** The library's default timeoutMs, which the CLI's own limit on a streamed body repeats. */
const DEFAULT_TIMEOUT_MS = 10_000;

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
/** All but tabs and line breaks, which a text answer (CSV) keeps. */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
const NAMED = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Outside text (a server's, an argument's) made safe for a terminal or a log: each
 * control character (of `pattern`) written as an escape, a line break as `\n`, ESC as
 * `\u001b`.
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
        raw: { type: "boolean" },
        output: { type: "string", short: "o" },
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
  const flagsOf = { token: ["header", "json"], request: ["query", "method", "data", "raw", "output"] };
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
  if (options.output === "") throw usage("--output needs a file name");
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

/**
 * Whether a content-type is JSON, by the rule of request()'s `responseType: "auto"`
 * (application/json, text/json, any "+json"): such an answer is parsed and printed as JSON.
 */
const isJsonType = (contentType) =>
  /^\s*(?:(?:application|text)\/json|[^\s/;]+\/[^\s/;]+\+json)\s*(?:;|$)/i.test(contentType ?? "");

/**
 * The CLI's `fetch` option: the global fetch, except for the API's 2xx answer whose body
 * `streams(response)` wants: that body is kept (`taken.body`) to be copied as it arrives,
 * and request() gets the same answer with an empty body. So request() still does all the
 * rest (the query, the time limit, the 401/419 retry, the origin rule, the typing and
 * redaction of errors) and no answer is held whole in memory.
 */
function streamingFetch(timeoutMs, streams, taken) {
  return async (input, init) => {
    const bearer = new Headers(init?.headers).get("authorization")?.startsWith("Bearer ");
    if (!bearer) return fetch(input, init); // the token request
    // request()'s own limit ends once it has read the empty body: the stream gets one of
    // its own, from the same start (the attempt, body included, within timeoutMs).
    const limit = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, limit]) : limit;
    const response = await fetch(input, { ...init, signal });
    if (!response.ok || response.body === null || !streams(response)) return response;
    Object.assign(taken, { body: response.body, limit });
    const headersOnly = new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
    // Where the answer came from, for request()'s origin check.
    Object.defineProperty(headersOnly, "url", { value: response.url });
    return headersOnly;
  };
}

/**
 * What `run` writes for a command: `{ text }` (complete, with its final newline) or
 * `{ body, limit }`, a 2xx answer's body to copy as is within the AbortSignal `limit`.
 */
async function output(auth, { command, path, options, request }, pretty, taken) {
  if (command === "token") {
    const token = await auth.getToken();
    if (options.header) return { text: `Bearer ${escapeControls(token)}\n` };
    if (options.json) return { text: `${json({ accessToken: token, expiresAt: auth.expiresAt })}\n` };
    return { text: `${escapeControls(token)}\n` };
  }
  const answer = await auth.request(path, { ...request, responseType: options.raw ? "text" : "auto" });
  if (taken.body) return taken;
  if (answer === undefined) return { text: "" };
  // A text answer keeps its tabs and line breaks, no other control character.
  return { text: typeof answer === "string" ? escapeControls(answer, CONTROL_IN_TEXT) : `${json(answer, pretty ? 2 : undefined)}\n` };
}

/**
 * Where the output goes: stdout, or (--output) a new file under a temporary name in the
 * target's directory, renamed over the target once complete and removed on failure.
 * The temporary file is made first, so a path that cannot be written sends nothing.
 */
async function openSink(file, io) {
  if (file === undefined) return { stream: io.stdout, end: false, commit: async () => {}, abandon: async () => {} };
  const target = resolve(file);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString("hex")}.part`);
  let handle;
  try {
    handle = await open(temp, "wx");
  } catch (err) {
    throw usage(`--output: cannot create a file in ${dirname(target)} (${err.code ?? err.message})`);
  }
  const stream = handle.createWriteStream({ flush: true });
  const closed = new Promise((done) => stream.once("close", done));
  // Interrupted (Ctrl-C, a kill): the temporary file goes too, and the status says why.
  const interrupted = (signal) => {
    rmSync(temp, { force: true });
    process.exit(128 + os.signals[signal]);
  };
  process.once("SIGINT", interrupted).once("SIGTERM", interrupted);
  const settled = () => process.off("SIGINT", interrupted).off("SIGTERM", interrupted);
  return {
    stream,
    end: true,
    async commit() {
      await closed;
      await rename(temp, target);
      settled();
    },
    async abandon() {
      stream.destroy();
      await closed;
      await rm(temp, { force: true });
      settled();
    },
  };
}

/**
 * Copies `result` into the sink; an answer that breaks off is a `network` or `timeout`
 * CliError. On a terminal a streamed answer is outside text like any other: its control
 * characters are escaped (tabs and line breaks kept), so a server cannot drive the
 * terminal; into a pipe or a file it goes byte for byte.
 */
async function write(result, sink, terminal) {
  const body = result.body && terminal
    ? result.body.pipeThrough(new TextDecoderStream()).pipeThrough(
        new TransformStream({ transform: (text, out) => out.enqueue(escapeControls(text, CONTROL_IN_TEXT)) }),
      )
    : result.body;
  const source = body ? Readable.fromWeb(body) : Readable.from([result.text]);
  // Which side failed first: pipeline() then destroys the other with the same error.
  let failed;
  source.once("error", () => (failed ??= "answer"));
  sink.stream.once("error", () => (failed ??= "output"));
  try {
    await pipeline(source, sink.stream, { end: sink.end });
  } catch (err) {
    if (err?.code === "EPIPE") return; // the reader went away (`| head`): not an error
    if (failed === "output") throw new CliError("output", `cannot write the output: ${err?.code ?? err?.message}`);
    if (result.limit?.aborted) throw new CliError("timeout", "reading the API answer failed (timeoutMs)");
    const cause = err?.cause?.message ? ` (${err.cause.message})` : "";
    throw new CliError("network", `reading the API answer failed: ${err?.message ?? err}${cause}`);
  }
}

/** Runs the command line; resolves the exit status. Writes only through `io`. */
async function run(args, env, io) {
  let auth;
  let secret;
  let sink;
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
    const taken = {};
    if (commandLine.command === "request") {
      const { raw } = commandLine.options;
      options.fetch = streamingFetch(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, (r) => raw || !isJsonType(r.headers.get("content-type")), taken);
    }
    sink = await openSink(commandLine.options.output, io);
    // Loaded only now, so --help, --version and usage errors do not instantiate the wasm.
    const { CedatoAuth } = await import("../node.mjs");
    auth = new CedatoAuth(options);
    const terminal = io.isTTY && !sink.end;
    const result = await output(auth, commandLine, terminal, taken);
    await write(result, sink, terminal);
    await sink.commit();
    return 0;
  } catch (err) {
    await sink?.abandon().catch(() => {});
    io.err(`cedato-auth: ${errorLine(err, secret)}\n`);
    return EXIT.get(err?.code) ?? 6;
  } finally {
    auth?.free();
  }
}

/**
 * `<code>: <message>` on one line, never a stack: line breaks joined with a space, every
 * other control character escaped (the message may quote a server or an argument: no
 * forged line, no terminal sequence). The library redacts its own messages; the secret is
 * replaced here too, for errors that do not come from it.
 */
function errorLine(err, secret) {
  const code = typeof err?.code === "string" ? err.code : "unexpected";
  let message = String(err?.message ?? err);
  if (code === "http" && err.status && !message.includes(String(err.status))) message += ` (HTTP ${err.status})`;
  // The answer's body (its first 1 KB, redacted by the library) goes here, never to stdout,
  // with its control characters escaped: a server's text cannot drive the terminal.
  if (code === "http" && typeof err.body === "string" && err.body.trim()) message += `: ${err.body.trim()}`;
  if (secret) message = message.split(secret).join("[redacted]");
  return escapeControls(`${code}: ${message}`.replace(/\s*[\r\n]+\s*/g, " "));
}

// A reader that goes away (`| head`) is not an error worth a stack trace.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") return;
  process.stderr.write(`cedato-auth: ${errorLine(err)}\n`);
  process.exitCode = 6;
});

process.exitCode = await run(process.argv.slice(2), process.env, {
  isTTY: Boolean(process.stdout.isTTY),
  stdout: process.stdout,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
