#!/usr/bin/env bash
# Runs a command with the mock Cedato server (tests/mock/server.mjs) on a free port of
# 127.0.0.1, its base URL in CEDATO_BASE_URL, and stops the server afterwards.
#   tools/with-mock.sh cargo run --features reqwest --example rust-native
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
node tests/mock/server.mjs --port 0 --url-file "$dir/url" >"$dir/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -s "$dir/url" ] && break; sleep 0.1; done
[ -s "$dir/url" ] || { cat "$dir/log"; echo "the mock server did not start" >&2; exit 1; }
CEDATO_BASE_URL=$(cat "$dir/url") "$@"
