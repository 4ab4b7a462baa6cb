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
// node:diagnostics_channel, one channel per event `type` ("cedato-auth:<type>": token,
// retry, grace, failure, api, store; the types the wasm declares in CedatoEvent), where
// APM tools subscribe: an event is published only while its channel has a
// subscriber (Node reports a subscriber's throw as an uncaught exception, as for any
// channel; the call goes on).
const diagnostics = require("node:diagnostics_channel");
const { initSync, CedatoAuth: WasmCedatoAuth } = require("./cedato_auth.cjs");
const { wasmBase64 } = require("./cedato_auth_inline.cjs");

initSync({ module: Buffer.from(wasmBase64, "base64") });

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
    // Node keeps one channel object per name: this finds the one subscribers hold.
    const channel = diagnostics.channel(`cedato-auth:${event.type}`);
    if (channel.hasSubscribers) channel.publish(event);
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
