#!/usr/bin/env bash
# Prints the shipped sizes (raw and gzip -9) and fails when the wasm plus the web entry's
# JS glue, gzipped, exceeds the budget in bench/size-budget.json.
set -euo pipefail
cd "$(dirname "$0")/.."
gz() { gzip -9 -c "$1" | wc -c; }
printf '%-34s %9s %9s\n' file raw "gzip -9"
for f in pkg/cedato_auth_bg.wasm pkg/cedato_auth.js pkg/cedato_auth.cjs pkg/node.cjs pkg/node.mjs pkg/workerd.mjs \
  pkg/edge-light.mjs pkg/browser.mjs pkg/web.mjs pkg/cedato_auth_inline.mjs pkg/cedato_auth_inline.cjs; do
  printf '%-34s %9d %9d\n' "$f" "$(wc -c < "$f")" "$(gz "$f")"
done
total=$(( $(gz pkg/cedato_auth_bg.wasm) + $(gz pkg/cedato_auth.js) ))
limit=$(node -p 'require("./bench/size-budget.json").limitBytes')
echo "wasm + web glue, gzip -9: $total B (budget $limit B)"
[ "$total" -le "$limit" ] || { echo "FAIL: over the $limit B budget"; exit 1; }
