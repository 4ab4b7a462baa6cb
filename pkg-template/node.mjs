// Node.js >= 20: reads the wasm next to this file and instantiates it synchronously,
// so `import { CedatoAuth } from "cedato-auth"` needs no init step.
//
// Here CedatoAuth also publishes its events (the `onEvent` objects) on
// node:diagnostics_channel, one channel per type ("cedato-auth:token", "cedato-auth:retry",
// "cedato-auth:grace", "cedato-auth:failure", "cedato-auth:api", "cedato-auth:store"),
// where APM tools subscribe: an event is published only while its channel has a
// subscriber (Node reports a subscriber's throw as an uncaught exception, as for any
// channel; the call goes on).
import { readFileSync } from "node:fs";
import diagnostics from "node:diagnostics_channel";
import { initSync, CedatoAuth as WasmCedatoAuth } from "./cedato_auth.js";

initSync({ module: readFileSync(new URL("./cedato_auth_bg.wasm", import.meta.url)) });

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

export class CedatoAuth extends WasmCedatoAuth {
  constructor(options) {
    super(publishing(options));
  }
}
