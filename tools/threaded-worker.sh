#!/usr/bin/env bash
# Builds the worker a second time, with wasm threads, into <site>/threads/ (a Trunk post-build hook, before the
# service worker's; or `tools/threaded-worker.sh <site folder>`). The page loads it when it is cross-origin
# isolated and the single-threaded build otherwise (README, "Every core").
#
# Threads need the standard library rebuilt with atomics: the `rust-src` component, and `-Z build-std`, which
# stable cargo takes under RUSTC_BOOTSTRAP=1 (../shared/TOOLCHAIN.md). RUSTFLAGS replaces the wasm flags of
# .cargo/config.toml, so they are repeated here with the thread features added. The profile keeps the wasm's
# target-features section (stripped in the single-threaded build), which is how wasm-bindgen sees the threads.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
site="${1:-${TRUNK_STAGING_DIR:?name the site folder, or run as a Trunk hook}}"
target="$root/target/threads"

# One memory shared by every thread, imported so each thread's instance gets the same; at most 1 GB (a phone's
# browser must reserve it). The thread-local storage symbols are what wasm-bindgen sets each thread up with.
memory="-C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=1073741824"
for symbol in __wasm_init_tls __tls_size __tls_align __tls_base; do memory+=" -C link-arg=--export=$symbol"; done

cd "$root"
RUSTC_BOOTSTRAP=1 CARGO_PROFILE_WEB_STRIP=debuginfo \
RUSTFLAGS="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals $memory --cfg getrandom_backend=\"wasm_js\" --cfg erase_components" \
	cargo build --quiet --profile web --target wasm32-unknown-unknown -p anomaly-threaded-worker \
		-Z build-std=panic_abort,std --target-dir "$target"
mkdir -p "$site/threads"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --out-dir "$site/threads" --out-name worker \
	"$target/wasm32-unknown-unknown/web/anomaly_threaded_worker.wasm"
cp www/threads/start.js "$site/threads/start.js"
echo "threaded worker: $(du -k "$site/threads/worker_bg.wasm" | cut -f1) KB in threads/"
