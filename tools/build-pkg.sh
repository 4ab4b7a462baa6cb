#!/usr/bin/env bash
# Builds the npm package directory pkg/: release wasm -> wasm-bindgen (web target, the one
# glue every entry shares) -> wasm-opt -Oz -> pkg-template's entries, README and LICENSE.
set -euo pipefail
cd "$(dirname "$0")/.."
name=cedato_auth
cargo build --release --target wasm32-unknown-unknown --lib
rm -rf build/web pkg
wasm-bindgen --target web --out-dir build/web --out-name "$name" \
  "target/wasm32-unknown-unknown/release/$name.wasm"
mkdir -p pkg
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "build/web/${name}_bg.wasm" -o "pkg/${name}_bg.wasm"
cp "build/web/$name.js" "build/web/$name.d.ts" pkg/
cp -R pkg-template/. pkg/
cp LICENSE pkg/LICENSE
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync("pkg/package.json", "utf8"));
  p.version = process.argv[1];
  fs.writeFileSync("pkg/package.json", JSON.stringify(p, null, 2) + "\n");
' "$version"
raw=$(wc -c < "pkg/${name}_bg.wasm")
gz=$(gzip -9 -c "pkg/${name}_bg.wasm" | wc -c)
glue=$(wc -c < "pkg/$name.js")
gluegz=$(gzip -9 -c "pkg/$name.js" | wc -c)
echo "pkg/: wasm ${raw} B (gzip -9 ${gz} B), JS glue ${glue} B (gzip -9 ${gluegz} B)"
