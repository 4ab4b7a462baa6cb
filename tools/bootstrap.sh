#!/usr/bin/env bash
# Installs what the build and the tests need, skipping whatever is already there.
# Usage: tools/bootstrap.sh [build|test]   (test adds Chromium, Firefox, their drivers,
# redis-server and worker-build)
#
# Nothing is downloaded from outside the package registries: wasm-pack is told to use the
# wasm-bindgen and wasm-opt found on PATH (the pinned wasm-bindgen-cli from crates.io and
# the npm package binaryen), and the browser drivers are Debian's chromedriver and
# geckodriver from crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-build}
log() { printf '[bootstrap] %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  log "installing wasm-bindgen-cli $want (found: ${have:-none}); this takes a few minutes"
  cargo install wasm-bindgen-cli --version "=$want" --locked
fi

if ! command -v wasm-pack >/dev/null; then
  log "installing wasm-pack from crates.io; this takes a few minutes"
  cargo install wasm-pack --locked
fi

# npm tools, reinstalled only when package-lock.json changed since the last install.
stamp=node_modules/.cedato-lock-sha
lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/wasm-opt ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]; then
  log "installing npm tools from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sha" > "$stamp"
fi

if [ "$what" = test ]; then
  # The JS tools of the consumer-project suite (tests/consumers), pinned by their own lock.
  stamp=tests/consumers/node_modules/.cedato-lock-sha
  lock_sha=$(sha256sum tests/consumers/package-lock.json | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]; then
    log "installing the consumer-project tools from tests/consumers/package-lock.json"
    (cd tests/consumers && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sha" > "$stamp"
  fi
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v firefox-esr >/dev/null || command -v firefox >/dev/null || missing+=(firefox-esr)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} from apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! command -v geckodriver >/dev/null; then
    log "installing geckodriver from crates.io; this takes a few minutes"
    cargo install geckodriver --locked
  fi
  # workers-rs's build tool, for examples/rust-worker (tools/build-rust-worker.sh): the
  # release whose wasm-bindgen is the one pinned here.
  if ! worker-build --version 2>/dev/null | grep -qw "0\.8\.7"; then
    log "installing worker-build 0.8.7 from crates.io; this takes a few minutes"
    cargo install worker-build --version =0.8.7 --locked
  fi
fi
