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
GUEST_FULL_MODULE := target/$(GUEST_TARGET)/guest-full/tracker_publish.wasm
CWASM := target/tracker_publish_full.cwasm

.PHONY: help setup build demo test lint test-rust clean node test-node cli-venv python test-python bench bench-serve postgresql

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## Install the Rust target and pinned tools this project needs (idempotent).
	@rustup target list --installed | grep -qx $(GUEST_TARGET) || { echo "setup: rustup target add $(GUEST_TARGET)"; rustup target add $(GUEST_TARGET); }
	@"$(WASM_TOOLS)" --version 2>/dev/null | grep -q "^wasm-tools $(WASM_TOOLS_VERSION)" || { echo "setup: cargo install wasm-tools $(WASM_TOOLS_VERSION)"; $(CARGO) install --locked --quiet wasm-tools@$(WASM_TOOLS_VERSION); }

build: setup ## Build the components (dist/tracker_publish.wasm, dist/tracker_publish_full.wasm) and dist/tracker-publish.
	@mkdir -p dist
	$(CARGO) build --quiet -p tracker-publish --profile guest --target $(GUEST_TARGET) --features component
	@"$(WASM_TOOLS)" component new $(GUEST_MODULE) -o target/tracker_publish.component.wasm
	@cmp -s target/tracker_publish.component.wasm dist/tracker_publish.wasm || cp target/tracker_publish.component.wasm dist/tracker_publish.wasm
	@echo "built dist/tracker_publish.wasm ($$(stat -c %s dist/tracker_publish.wasm) bytes, $$("$(WASM_TOOLS)" component wit dist/tracker_publish.wasm | grep -c '^ *import ' || true) imports)"
	$(CARGO) build --quiet -p tracker-publish --profile guest-full --target $(GUEST_TARGET) --features component-full
	@"$(WASM_TOOLS)" component new $(GUEST_FULL_MODULE) -o target/tracker_publish_full.component.wasm
	@cmp -s target/tracker_publish_full.component.wasm dist/tracker_publish_full.wasm || cp target/tracker_publish_full.component.wasm dist/tracker_publish_full.wasm
	@echo "built dist/tracker_publish_full.wasm ($$(stat -c %s dist/tracker_publish_full.wasm) bytes, $$("$(WASM_TOOLS)" component wit dist/tracker_publish_full.wasm | grep -c '^ *import ' || true) imports)"
	$(CARGO) build --quiet --release -p tracker-publish-host --bin precompile
	@[ $(CWASM) -nt dist/tracker_publish_full.wasm ] && [ $(CWASM) -nt target/release/precompile ] || target/release/precompile dist/tracker_publish_full.wasm $(CWASM)
	$(CARGO) build --quiet --release -p tracker-publish-host --bin tracker-publish
	@cp target/release/tracker-publish dist/tracker-publish
	@echo "built dist/tracker-publish"

demo: build ## Publish a sample spec-kitty project to a local ingest server: a retry, the receipt, a duplicate.
	@bash host-examples/demo/demo.sh dist/tracker-publish

lint: setup ## rustfmt and clippy (warnings are errors), native and guest.
	$(CARGO) fmt --all --check
	$(CARGO) clippy --quiet --workspace --all-targets --release -- -D warnings
	$(CARGO) clippy --quiet -p tracker-publish --profile guest --target $(GUEST_TARGET) --features component -- -D warnings
	$(CARGO) clippy --quiet -p tracker-publish --profile guest-full --target $(GUEST_TARGET) --features component-full -- -D warnings
	$(CARGO) clippy --quiet -p tracker-publish --profile web --target $(GUEST_TARGET) --features web --lib --test web -- -D warnings

test: build lint cli-venv postgresql test-node test-python test-web fuzz-smoke ## Run every test in every host.
	TRACKER_PUBLISH_CLI_PYTHON=$(abspath $(CLI_PYTHON)) $(CARGO) test -p tracker-publish
	TRACKER_PUBLISH_CLI_PYTHON=$(abspath $(CLI_PYTHON)) $(CARGO) test --release -p tracker-publish-host

# PostgreSQL for the tests of `serve --database` (tests/serve/postgresql.rs
# start their own cluster with initdb/pg_ctl): Debian's package, installed
# only when no /usr/lib/postgresql/*/bin/initdb exists.
postgresql: ## Install Debian's PostgreSQL if missing (serve --database tests).
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "setup: apt-get install postgresql"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; }

# The released CLI (spec-kitty-cli 2.1.3 from PyPI, every dependency pinned in
# tests/interop/requirements.txt): the reference the stored-row and
# interoperability tests run side by side with ours.
CLI_VENV   := target/cli-venv
CLI_PYTHON := $(CLI_VENV)/bin/python
$(CLI_VENV)/.installed: tests/interop/requirements.txt
	@[ -x $(CLI_PYTHON) ] || python3 -m venv $(CLI_VENV)
	$(CLI_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
	@touch $@

cli-venv: $(CLI_VENV)/.installed ## Install the released spec-kitty-cli 2.1.3 into target/cli-venv (interoperability tests).

NODE_DIR := host-examples/node

# npm ci only when node_modules is missing or the lockfile changed (npm ci writes node_modules/.package-lock.json).
$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json $(NODE_DIR)/package.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	@touch $@

node: build $(NODE_DIR)/node_modules/.package-lock.json ## Build dist/node, the npm package @spec-kitty/tracker-publish (jco).
	node $(NODE_DIR)/build.mjs

test-node: node ## Run the Node package's tests (node --test).
	cd $(NODE_DIR) && node --test test/*.test.mjs

PY_DIR  := host-examples/python
PY_VENV := $(PY_DIR)/.venv
PY      := $(PY_VENV)/bin/python
PY_WASM := $(PY_DIR)/src/tracker_publish/tracker_publish.wasm

# The venv is created only when missing; pip runs only when the pins or the
# package metadata changed since the last install (the stamp lives in the venv).
$(PY_VENV)/.installed: $(PY_DIR)/requirements.txt $(PY_DIR)/pyproject.toml
	@[ -x $(PY) ] || { echo "python: creating $(PY_VENV)"; python3 -m venv $(PY_VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(PY_DIR)/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e $(PY_DIR)
	@touch $@

# The package ships the component (a built wheel carries it).
$(PY_WASM): dist/tracker_publish.wasm
	cp $< $@

python: build $(PY_VENV)/.installed $(PY_WASM) ## The Python package tracker_publish (wasmtime-py) in host-examples/python/.venv.

test-python: python ## Run the Python package's tests (pytest).
	cd $(PY_DIR) && .venv/bin/python -m pytest -q

bench: build node web-build chromium cli-venv host-examples/web/node_modules/.package-lock.json ## Measure every host against native Rust, the CLI's Python way and the released CLI (bench/results.md).
	python3 bench/run.py

# The `serve` load benchmark (bench/serve_load.py): this tree's server against
# today's, the `serve` of SERVE_BASELINE_COMMIT (the last one on std::net with
# one file per snapshot), built once in its own tree under target/.
SERVE_BASELINE_COMMIT := a720a3cf0fb36458bec8460547832a01508dbf96
SERVE_BASELINE := target/serve-baseline/tracker-publish
$(SERVE_BASELINE):
	rm -rf target/serve-baseline/src && mkdir -p target/serve-baseline/src
	git archive $(SERVE_BASELINE_COMMIT) | tar -x -C target/serve-baseline/src
	$(MAKE) -C target/serve-baseline/src build
	cp target/serve-baseline/src/dist/tracker-publish $@

bench-serve: build postgresql $(SERVE_BASELINE) ## Load-test `serve` (64 publishers; SQLite, PostgreSQL 1 and 2 instances; kill -9) against today's server (bench/results-serve.md).
	$(CARGO) build --quiet --release -p tracker-publish-host --bin serve-load
	python3 bench/serve_load.py

clean: ## Remove build output.
	rm -rf dist target

# Fuzzing (cargo fuzz, libFuzzer). The crate in fuzz/ is its own workspace and
# builds into fuzz/target. Only stable Rust is assumed: RUSTC_BOOTSTRAP=1 lets
# it take the nightly-only sanitizer flags cargo fuzz passes.
.PHONY: fuzz fuzz-smoke fuzz-setup
CARGO_FUZZ_VERSION := 0.13.1
FUZZ_TARGETS := payload_json routing verify
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 15
CARGO_FUZZ := RUSTC_BOOTSTRAP=1 $(CARGO) fuzz

fuzz-setup:
	@$(CARGO) fuzz --version 2>/dev/null | grep -q "^cargo-fuzz $(CARGO_FUZZ_VERSION)" || { echo "setup: cargo install cargo-fuzz $(CARGO_FUZZ_VERSION)"; $(CARGO) install --locked --quiet cargo-fuzz@$(CARGO_FUZZ_VERSION); }

fuzz: fuzz-setup ## Fuzz each target for FUZZ_SECONDS (default 60) seconds.
	$(CARGO_FUZZ) build
	@for t in $(FUZZ_TARGETS); do echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; $(CARGO_FUZZ) run $$t -- -max_total_time=$(FUZZ_SECONDS); done

fuzz-smoke: fuzz-setup ## Fuzz each target briefly (FUZZ_SMOKE_SECONDS, default 20).
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# The browser host: the core built with wasm-bindgen (feature `web`, its own
# profile, so the component build's module is left alone) into dist/web/,
# beside the static page from host-examples/web/.
.PHONY: web web-build web-setup chromium test-web
WASM_BINDGEN_VERSION := 0.2.130
WASM_BINDGEN := $(CARGO_BIN)/wasm-bindgen
WEB_DIR := host-examples/web
WEB_MODULE := target/$(GUEST_TARGET)/web/tracker_publish.wasm
WEB_PORT ?= 8765

web-setup: setup
	@"$(WASM_BINDGEN)" --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)" || { echo "setup: cargo install wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; $(CARGO) install --quiet --force wasm-bindgen-cli@$(WASM_BINDGEN_VERSION); }

web-build: web-setup ## Build dist/web: the wasm-bindgen module and the preview page.
	$(CARGO) build --quiet -p tracker-publish --profile web --target $(GUEST_TARGET) --features web
	@mkdir -p dist/web
	"$(WASM_BINDGEN)" --target web --remove-name-section --remove-producers-section --out-dir dist/web $(WEB_MODULE)
	@cp $(WEB_DIR)/index.html $(WEB_DIR)/app.js $(WEB_DIR)/style.css dist/web/
	@cp host-examples/sample/snapshot.json dist/web/sample.json
	@echo "built dist/web (tracker_publish_bg.wasm $$(stat -c %s dist/web/tracker_publish_bg.wasm) bytes)"

web: web-build ## Serve the preview page on 127.0.0.1 (WEB_PORT, default 8765).
	node $(WEB_DIR)/serve.mjs dist/web $(WEB_PORT)

# Debian's Chromium and its WebDriver, for the browser tests; skipped when present.
chromium:
	@[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || { echo "setup: apt-get install chromium chromium-driver"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

$(WEB_DIR)/node_modules/.package-lock.json: $(WEB_DIR)/package-lock.json $(WEB_DIR)/package.json
	cd $(WEB_DIR) && npm ci --no-audit --no-fund
	@touch $@

test-web: web-build chromium $(WEB_DIR)/node_modules/.package-lock.json ## Browser tests: vectors through wasm-bindgen in headless Chromium, then the page end to end.
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$(CARGO_BIN)/wasm-bindgen-test-runner" \
	CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_WEBDRIVER_JSON=$(WEB_DIR)/webdriver.json \
	  $(CARGO) test -p tracker-publish --target $(GUEST_TARGET) --features web --test web -- --nocapture
	cd $(WEB_DIR) && node --test test/*.test.mjs
