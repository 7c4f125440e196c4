#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, PyTorch (python3), nvcc, meson and ninja:
# builds with the CUDA kernels, runs the CUDA tests and the core benchmark on
# the GPU, and the element's benchmark and tests where GStreamer is there. Output files go to $OUT (or out/device). GoogleTest comes from
# .device/gtest (scripts/device-prepare.sh) when the machine has none.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-$root/out/device}"
mkdir -p "$out"
cd "$root"
[ -d .device/gtest ] && export PKG_CONFIG_PATH="$root/.device/gtest/lib/pkgconfig:${PKG_CONFIG_PATH:-}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())" | tee -a "$out/gpu.txt"
meson setup build-gpu -Dpython="$(command -v python3)" -Dcuda=enabled -Dcli=disabled -Dbuildtype=release \
  -Dunity=on -Dunity_size=8 -Db_pch=false \
  -Dgpu_arch=90 2>&1 | tail -n 15
ninja -C build-gpu 2>&1 | tail -n 5
set +e
PRN_TEST_PYTHON="$(command -v python3)" PRN_FIXTURE_SCRIPT="$root/tests/fixtures/make_resnet18_fixture.py" \
  build-gpu/tests/prn-core-tests --gtest_filter='Cuda.*:OpsTilesCuda.*:NearestResidual.*:Model.*:EncoderParity.*:MixedPrecision.*:OpsPostCuda.*' 2>&1 | tee "$out/tests.txt"
rc=$?
set -e
build-gpu/bench/prn-bench-core --device cuda --batches 1,8,32,64 --repeats 5 --processes 1 2>&1 | tee "$out/bench-gpu.md"
# The GStreamer element on the GPU, where the machine has GStreamer's development files.
if [ -x build-gpu/bench/prn-bench-element ]; then
  meson devenv -C build-gpu ./bench/prn-bench-element --device cuda --batch-size 32 \
    --widths 2048,4096,8192,16384 2>&1 | tee "$out/bench-element-gpu.md"
  meson test -C build-gpu --suite gst --no-rebuild --print-errorlogs 2>&1 | tail -n 20 | tee "$out/gst-tests.txt"
fi
exit $rc
