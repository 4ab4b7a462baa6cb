#!/usr/bin/env bash
# Runs every suite, keeps going after a failure, and ends with one line "N passed, M failed".
# Logs of each suite go to test-output/logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
out=test-output/logs
mkdir -p "$out"
passed=0
failed=0
summary=()

note() { summary+=("$(printf '%-28s %s' "$1" "$2")"); }

# A check that is not a test runner (lint, build): one passed or failed item.
check() {
  local name=$1; shift
  local log="$out/$name.log"
  printf '== %s\n' "$name"
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); note "$name" "ok"
  else
    failed=$((failed + 1)); note "$name" "FAILED (see $log)"; tail -n 30 "$log"
  fi
}

# A test runner: counts come from its own summary lines.
# kind: cargo (lines "test result: … N passed; M failed") or node ("# pass N", "# fail M").
suite() {
  local name=$1 kind=$2; shift 2
  local log="$out/$name.log"
  printf '== %s\n' "$name"
  "$@" >"$log" 2>&1
  local rc=$? p=0 f=0
  if [ "$kind" = cargo ]; then
    p=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
  else
    p=$(awk '/^# pass /{s+=$3} END {print s+0}' "$log")
    f=$(awk '/^# fail /{s+=$3} END {print s+0}' "$log")
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed without counting a failure
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi    # ran nothing: that is a failure too
  passed=$((passed + p)); failed=$((failed + f))
  note "$name" "$p passed, $f failed"
  [ "$f" -gt 0 ] && failure_details "$log"
}

# The top-level tests of a suite's log (one per tool), each as a line of the summary.
tool_lines() {
  local line
  while IFS= read -r line; do
    printf '  %s\n' "$line"; summary+=("  $line")
  done < <(awk '/^(not )?ok [0-9]+ - / {
    status = ($1 == "ok") ? "ok" : "FAILED"; sub(/^(not )?ok [0-9]+ - /, ""); sub(/ # .*$/, "")
    printf "%-26s %s\n", $0, status }' "$1")
}

# What CI shows of a failed suite: each failing test with its error, expected/actual and
# diagnostics (not just its name), without stack traces; the whole log stays in $out.
failure_details() {
  awk '
    /^[[:space:]]*not ok / { show = 1; stack = 0 }
    /^[[:space:]]*(ok |# Subtest:|1\.\.[0-9]+$)/ { show = 0 }
    /^---- .* ----$/ { cargo = 1 }
    /^failures:$/ { cargo = 0 }
    cargo && /^stack backtrace:/ { trace = 1; next }
    trace && !/^note: / { next }
    { trace = 0 }
    cargo || /^error(\[|:)|FAIL/ { print; next }
    show && /^[[:space:]]*stack: / { stack = 1; next }
    show && stack && !/^[[:space:]]*\.\.\.$/ { next }
    show { stack = 0; print }
  ' "$1" | head -n 120
}

# The mock server for the wasm suites (their URL is baked in at compile time).
mock_pid=
start_mock() {
  rm -f build/mock-url; mkdir -p build
  node tests/mock/server.mjs --port 0 --url-file build/mock-url >"$out/mock-server.log" 2>&1 &
  mock_pid=$!
  for _ in $(seq 100); do [ -s build/mock-url ] && break; sleep 0.1; done
  export CEDATO_MOCK_URL
  CEDATO_MOCK_URL=$(cat build/mock-url)
}
stop_mock() { [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; wait "$mock_pid" 2>/dev/null; mock_pid=; }
trap stop_mock EXIT

check fmt cargo fmt --check
check clippy-native cargo clippy --all-targets -- -D warnings
check clippy-wasm32 cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
# The Rust-only wasm API (feature `web`, no JS class, no allocator of ours): lint and link.
check clippy-wasm32-web cargo clippy --all-targets --target wasm32-unknown-unknown --no-default-features --features web -- -D warnings
check build-wasm32-web cargo build --target wasm32-unknown-unknown --no-default-features --features web
check doc env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps
# The `web` module's docs exist on wasm32 only.
check doc-wasm32-web env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --target wasm32-unknown-unknown --no-default-features --features web
suite native-cargo-test cargo cargo test
# The native Rust client (feature reqwest): its unit tests, then tests/native.rs against the
# mock server it starts itself (1000 tasks, retries, 401, redirects, timeouts, the example).
check clippy-native-reqwest cargo clippy --all-targets --features reqwest -- -D warnings
suite native-reqwest cargo bash -c 'cargo test --features reqwest --lib rust:: && cargo test --features reqwest --test native && cargo test --features reqwest --test native_store'
# The crate docs' examples with the native client in (the README's and lib.rs's).
suite doctest-reqwest cargo cargo test --features reqwest --doc
suite mock-server node node --test tests/mock/
check build-pkg tools/build-pkg.sh
check size-budget tools/size-check.sh
start_mock
# The wasm-bindgen-test suites through wasm-pack, with the drivers named (so it downloads
# none); webdriver.json carries Chromium's flags.
suite wasm-node cargo wasm-pack test --node -- --test node
suite wasm-chromium cargo wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" -- --test browser
suite wasm-firefox cargo wasm-pack test --headless --firefox --geckodriver "$(command -v geckodriver)" -- --test browser
# The Rust API on the `web` transport (no JS class): the native suite's scenario in Node,
# Chromium and Firefox.
web_only=(--no-default-features --features web)
suite rust-web-node cargo wasm-pack test --node -- "${web_only[@]}" --test rust_web_node
# The same with a shared store (from_options_with_store, sealed by Web Crypto) in Node.
suite rust-web-store-node cargo wasm-pack test --node -- "${web_only[@]}" --test rust_web_store
suite rust-web-chromium cargo wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" -- "${web_only[@]}" --test rust_web_browser
suite rust-web-firefox cargo wasm-pack test --headless --firefox --geckodriver "$(command -v geckodriver)" -- "${web_only[@]}" --test rust_web_browser
stop_mock
# Every event of the Node suites passes tests/support/event-guard.mjs (shape, no secret).
guard=(env "NODE_OPTIONS=--import=$PWD/tests/support/event-guard.mjs")
suite node-api node "${guard[@]}" node --test --test-concurrency=2 tests/js/
suite package node node --test tests/package/
# The package in the projects users have (Jest, Next.js, webpack, Bun, ...): a line per tool.
suite consumers node node --test tests/consumers/*.test.mjs
tool_lines "$out/consumers.log"
suite cli node "${guard[@]}" node --test tests/cli/
# examples/rust-worker (workers-rs on the Rust API) built with worker-build, for tests/worker.
check build-rust-worker tools/build-rust-worker.sh
for dir in security fleet worker demo; do
  [ -d "tests/$dir" ] && suite "$dir" node "${guard[@]}" node --test "tests/$dir/"
done
suite soak node "${guard[@]}" node --expose-gc --test tests/soak/

echo
echo "Summary"
printf '  %s\n' "${summary[@]}"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
