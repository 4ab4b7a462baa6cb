#!/usr/bin/env bash
# Builds examples/rust-worker (a workers-rs worker on cedato-auth's Rust API, feature
# `web`) with worker-build into examples/rust-worker/build/ (index.js, index_bg.wasm),
# as `wrangler deploy` would. worker-build is given the tools this repository installs
# (tools/bootstrap.sh): the pinned wasm-bindgen (0.2.129, worker-build 0.8.7's own
# version), and wasm-opt and esbuild from npm; without them it downloads them from GitHub,
# which fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
cd examples/rust-worker
WASM_BINDGEN_BIN=$(command -v wasm-bindgen) WASM_OPT_BIN=$(command -v wasm-opt) ESBUILD_BIN=$(command -v esbuild) \
  worker-build --release
[ -s build/index.js ] && [ -s build/index_bg.wasm ] || { echo "build-rust-worker: worker-build built nothing"; exit 1; }
