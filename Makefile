# cedato-auth: `make demo` runs the demo on the local mock server, `make test` runs everything.
# Both install what is missing first (tools/bootstrap.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := pkg

.PHONY: tools tools-test pkg test demo report size clean

tools:
	@tools/bootstrap.sh build

tools-test:
	@tools/bootstrap.sh test

## pkg: the npm package directory pkg/ (release wasm, wasm-bindgen, wasm-opt -Oz, entries)
pkg: tools
	@tools/build-pkg.sh

## test: fmt, clippy (native and wasm32), docs, native tests, wasm tests in Node and
## headless Chromium, the node:test suites; ends with "N passed, M failed"
test: tools-test
	@tools/run-tests.sh

## demo: builds, then serves the demo page (www/), the mock Cedato server and the worker
## proxy (examples/worker in workerd) on 127.0.0.1 until Ctrl-C (tools/demo.mjs);
## CEDATO_BASE_URL, CEDATO_CLIENT_ID, CEDATO_CLIENT_SECRET: the real API instead of the mock
demo: pkg
	@node tools/demo.mjs

## report: builds, starts the mock Cedato server, gets a token and prints a report (Node)
report: pkg
	@node examples/node/report.mjs

## report-rust: starts the mock Cedato server, then examples/rust-native (the native Rust
## Client: tokio + reqwest) gets a token and prints a report; CEDATO_BASE_URL,
## CEDATO_CLIENT_ID, CEDATO_CLIENT_SECRET: the real API instead (cargo run ... directly)
.PHONY: report-rust
report-rust:
	@tools/with-mock.sh cargo run --quiet --features reqwest --example rust-native

## bench-rust: the native Client on the mock: cached token() per call (one task, four
## threads) and 1000 concurrent cold token() calls (requests sent, time); prints a table
.PHONY: bench-rust
bench-rust:
	@cargo bench --features reqwest --bench native

## bench: builds, then benchmarks the library against bench/baseline.mjs (a hand-written
## plain-JS client) on the mock server; prints a table, writes bench/results.json
.PHONY: bench
bench: pkg
	@node bench/run.mjs

## bench-bundles: builds, then what a browser page pays for the package with webpack, Vite,
## Rollup and Parcel, the wasm inline (as shipped) or as a separate asset: transfer (gzip)
## and time to the first token in headless Chromium; prints a table, writes bench/bundles.json
.PHONY: bench-bundles
bench-bundles: tools-test pkg
	@node bench/bundles.mjs

## soak: builds, then the chaos soak (tests/soak/soak.mjs): 50 callers over 6 instances
## sharing one store under injected faults, then a quiet phase; SOAK_SECONDS (150),
## SOAK_SEED (random), SOAK_OUT (test-output/soak.json)
.PHONY: soak
soak: pkg
	@node --expose-gc tests/soak/soak.mjs

## size: wasm and glue sizes, raw and gzip -9, against the budget
size: pkg
	@tools/size-check.sh

clean:
	rm -rf target build pkg test-output
