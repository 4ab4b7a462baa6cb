"use strict";
// Node.js >= 20, CommonJS (`require("cedato-auth")`, Jest's default setup) and, through
// node.mjs, ES modules: one module instance per process whichever way it is loaded.
//
// The wasm comes inlined as base64 (cedato_auth_inline.cjs) and is instantiated
// synchronously, so loading needs no init step and no file access: a framework's server
// bundler (Next.js with Turbopack or webpack) can move this file anywhere, where reading
// the .wasm from a URL relative to the module would be rewritten by it and fail.
//
// Here CedatoAuth also publishes its events (the `onEvent` objects) on
// node:diagnostics_channel, one channel per type ("cedato-auth:token", "cedato-auth:retry",
// "cedato-auth:grace", "cedato-auth:failure", "cedato-auth:api", "cedato-auth:store"),
// where APM tools subscribe: an event is published only while its channel has a
// subscriber (Node reports a subscriber's throw as an uncaught exception, as for any
// channel; the call goes on).
const diagnostics = require("node:diagnostics_channel");
const { initSync, CedatoAuth: WasmCedatoAuth } = require("./cedato_auth.cjs");
const { wasmBase64 } = require("./cedato_auth_inline.cjs");

initSync({ module: Buffer.from(wasmBase64, "base64") });

const channels = new Map(
  ["token", "retry", "grace", "failure", "api", "store"].map((type) => [type, diagnostics.channel(`cedato-auth:${type}`)]),
);

/** The options with an `onEvent` that publishes on the channels, then calls the caller's. */
function publishing(options) {
  let own;
  try {
    own = options?.onEvent;
  } catch {
    return options; // unreadable options: the library reports them (invalid_config)
  }
  if (options === null || typeof options !== "object" || (own != null && typeof own !== "function")) {
    return options; // the library reports what is wrong with them
  }
  let copy;
  try {
    copy = { ...options };
  } catch {
    return options;
  }
  copy.onEvent = (event) => {
    const channel = channels.get(event.type);
    if (channel?.hasSubscribers) channel.publish(event);
    own?.(event);
  };
  return copy;
}

class CedatoAuth extends WasmCedatoAuth {
  constructor(options) {
    super(publishing(options));
  }
}

exports.CedatoAuth = CedatoAuth;
