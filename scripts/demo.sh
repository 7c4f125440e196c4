#!/usr/bin/env bash
# The main job: set-up (idempotent), build, then the core's self-check: trains the
# light PRN configuration on generated textures with planted defects and scores
# held-out images, writing a heatmap PNG, a model file and metrics.
#   scripts/demo.sh [prn-selfcheck options]     (outputs in out/selfcheck)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${PRN_BUILD_DIR:-$root/build}"

"$here/setup.sh" "$build"
echo "[demo] building"
ninja -C "$build"
cd "$root"
exec "$build/train-cli/prn-selfcheck" --out "$root/out/selfcheck" "$@"
