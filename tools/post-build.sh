#!/usr/bin/env bash
# Trunk's post-build hook (Trunk runs a stage's hooks side by side, so the order lives here): the threaded
# worker first, then the service worker, whose file list and version must include it.
set -euo pipefail
here="$(dirname "$0")"
"$here/threaded-worker.sh"
node "$here/service-worker.mjs"
