# cedato-auth: `make demo` runs the demo on the local mock server, `make test` runs everything.
# Both install what is missing first (tools/bootstrap.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := pkg

.PHONY: tools tools-test pkg test demo size clean

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

## demo: builds, starts the mock Cedato server, gets a token and prints a report
demo: pkg
	@node examples/node/report.mjs

## size: wasm and glue sizes, raw and gzip -9
size: pkg
	@for f in pkg/*.wasm pkg/*.js pkg/*.mjs; do printf '%-32s %8d B  gzip -9 %7d B\n' "$$f" $$(wc -c < "$$f") $$(gzip -9 -c "$$f" | wc -c); done

clean:
	rm -rf target build pkg test-output
