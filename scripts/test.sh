#!/usr/bin/env bash
# Runs every test of prnanomaly: set-up (idempotent), build, then all meson test
# suites (the 'slow' one included). Extra arguments go to `meson test`, e.g.
#   scripts/test.sh --suite core
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${PRN_BUILD_DIR:-$root/build}"

"$here/setup.sh" "$build"
echo "[test] building"
ninja -C "$build"
echo "[test] running the tests"
set +e
meson test -C "$build" --print-errorlogs --num-processes "${PRN_TEST_JOBS:-2}" "$@"
rc=$?
set -e
# One closing line any CI reader understands, counted from meson's test log.
python3 "$here/summarise-tests.py" "$build/meson-logs/testlog.json" || true
exit $rc
