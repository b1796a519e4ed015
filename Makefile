# tracker-publish: `make demo` and `make test` work on a fresh machine; each
# installs what it needs first, skipping what is present.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO      ?= cargo
WASM_TOOLS_VERSION := 1.263.0
CARGO_BIN  := $(HOME)/.cargo/bin
WASM_TOOLS := $(CARGO_BIN)/wasm-tools
GUEST_TARGET := wasm32-unknown-unknown
GUEST_MODULE := target/$(GUEST_TARGET)/guest/tracker_publish.wasm
CWASM := target/tracker_publish.cwasm

.PHONY: help setup build demo test lint test-rust clean node test-node bench

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## Install the Rust target and pinned tools this project needs (idempotent).
	@rustup target list --installed | grep -qx $(GUEST_TARGET) || { echo "setup: rustup target add $(GUEST_TARGET)"; rustup target add $(GUEST_TARGET); }
	@"$(WASM_TOOLS)" --version 2>/dev/null | grep -q "^wasm-tools $(WASM_TOOLS_VERSION)" || { echo "setup: cargo install wasm-tools $(WASM_TOOLS_VERSION)"; $(CARGO) install --locked --quiet wasm-tools@$(WASM_TOOLS_VERSION); }

build: setup ## Build dist/tracker_publish.wasm (the component) and dist/tracker-publish (the wasmtime host).
	@mkdir -p dist
	$(CARGO) build --quiet -p tracker-publish --profile guest --target $(GUEST_TARGET) --features component
	@"$(WASM_TOOLS)" component new $(GUEST_MODULE) -o target/tracker_publish.component.wasm
	@cmp -s target/tracker_publish.component.wasm dist/tracker_publish.wasm || cp target/tracker_publish.component.wasm dist/tracker_publish.wasm
	@echo "built dist/tracker_publish.wasm ($$(stat -c %s dist/tracker_publish.wasm) bytes, $$("$(WASM_TOOLS)" component wit dist/tracker_publish.wasm | grep -c '^ *import ' || true) imports)"
	$(CARGO) build --quiet --release -p tracker-publish-host --bin precompile
	@[ $(CWASM) -nt dist/tracker_publish.wasm ] && [ $(CWASM) -nt target/release/precompile ] || target/release/precompile dist/tracker_publish.wasm $(CWASM)
	$(CARGO) build --quiet --release -p tracker-publish-host --bin tracker-publish
	@cp target/release/tracker-publish dist/tracker-publish
	@echo "built dist/tracker-publish"

demo: build ## Preview the request for the sample snapshot (token masked).
	@echo "== tracker-publish preview --input host-examples/sample/snapshot.json"
	@dist/tracker-publish preview --input host-examples/sample/snapshot.json
	@echo "== the same with the content-addressed idempotency key"
	@dist/tracker-publish preview --input host-examples/sample/snapshot.json --idempotency content | grep idempotency_key
	@echo "== a refused input (token with a line break): exit 2, the token never shown"
	@sed 's/"auth_token": "[^"]*"/"auth_token": "abc\\r\\nX-Evil: 1"/' host-examples/sample/snapshot.json | dist/tracker-publish preview || echo "(exit $$?)"

lint: setup ## rustfmt and clippy (warnings are errors), native and guest.
	$(CARGO) fmt --all --check
	$(CARGO) clippy --quiet --workspace --all-targets --release -- -D warnings
	$(CARGO) clippy --quiet -p tracker-publish --profile guest --target $(GUEST_TARGET) --features component -- -D warnings

test: build lint test-node fuzz-smoke ## Run every test in every host.
	$(CARGO) test -p tracker-publish
	$(CARGO) test --release -p tracker-publish-host

NODE_DIR := host-examples/node

# npm ci only when node_modules is missing or the lockfile changed (npm ci writes node_modules/.package-lock.json).
$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json $(NODE_DIR)/package.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	@touch $@

node: build $(NODE_DIR)/node_modules/.package-lock.json ## Build dist/node, the npm package @spec-kitty/tracker-publish (jco).
	node $(NODE_DIR)/build.mjs

test-node: node ## Run the Node package's tests (node --test).
	cd $(NODE_DIR) && node --test test/*.test.mjs

bench: build node ## Measure every host against native Rust and the CLI's Python way (bench/results.md).
	python3 bench/run.py

clean: ## Remove build output.
	rm -rf dist target

# Fuzzing (cargo fuzz, libFuzzer). The crate in fuzz/ is its own workspace and
# builds into fuzz/target. Only stable Rust is assumed: RUSTC_BOOTSTRAP=1 lets
# it take the nightly-only sanitizer flags cargo fuzz passes.
.PHONY: fuzz fuzz-smoke fuzz-setup
CARGO_FUZZ_VERSION := 0.13.1
FUZZ_TARGETS := payload_json routing
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 20
CARGO_FUZZ := RUSTC_BOOTSTRAP=1 $(CARGO) fuzz

fuzz-setup:
	@$(CARGO) fuzz --version 2>/dev/null | grep -q "^cargo-fuzz $(CARGO_FUZZ_VERSION)" || { echo "setup: cargo install cargo-fuzz $(CARGO_FUZZ_VERSION)"; $(CARGO) install --locked --quiet cargo-fuzz@$(CARGO_FUZZ_VERSION); }

fuzz: fuzz-setup ## Fuzz each target for FUZZ_SECONDS (default 60) seconds.
	$(CARGO_FUZZ) build
	@for t in $(FUZZ_TARGETS); do echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; $(CARGO_FUZZ) run $$t -- -max_total_time=$(FUZZ_SECONDS); done

fuzz-smoke: fuzz-setup ## Fuzz each target briefly (FUZZ_SMOKE_SECONDS, default 20).
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)
