#!/usr/bin/env bash
# Prints the shipped sizes (raw and gzip -9) and fails when the wasm plus the web entry's
# JS glue, gzipped, exceeds the budget in bench/size-budget.json.
set -euo pipefail
cd "$(dirname "$0")/.."
gz() { gzip -9 -c "$1" | wc -c; }
printf '%-34s %9s %9s\n' file raw "gzip -9"
for f in pkg/cedato_auth_bg.wasm pkg/cedato_auth.js pkg/node.mjs pkg/workerd.mjs pkg/browser.mjs pkg/cedato_auth_inline.mjs; do
  printf '%-34s %9d %9d\n' "$f" "$(wc -c < "$f")" "$(gz "$f")"
done
total=$(( $(gz pkg/cedato_auth_bg.wasm) + $(gz pkg/cedato_auth.js) ))
read -r limit target < <(node -e 'const b=require("./bench/size-budget.json"); console.log(b.limitBytes, b.targetBytes)')
echo "wasm + web glue, gzip -9: $total B (limit $limit B, target $target B)"
[ "$total" -le "$target" ] || echo "note: above the $target B target"
[ "$total" -le "$limit" ] || { echo "FAIL: over the $limit B limit"; exit 1; }
