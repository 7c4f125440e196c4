#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, PyTorch (python3), nvcc, meson and ninja:
# builds with the CUDA kernels, runs the CUDA tests (kernels against their CPU
# twins, the model runner's own stream and CUDA graphs) and the core benchmark
# on the GPU (fp32, bf16, bf16 with CUDA graphs; GPU utilisation and memory
# sampled meanwhile), and the element's benchmark and tests where GStreamer is
# there. Output files go to $OUT (or out/device): build logs included, so that a
# failed build can be read. GoogleTest comes from .device/gtest
# (scripts/device-prepare.sh; the call carries ".device") when the machine has none.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-$root/out/device}"
mkdir -p "$out"
cd "$root"
if [ -d .device/gtest ]; then
  export PKG_CONFIG_PATH="$root/.device/gtest/lib/pkgconfig:${PKG_CONFIG_PATH:-}"
  # Without a pkg-config program meson looks for gtest through the compiler's paths.
  export LIBRARY_PATH="$root/.device/gtest/lib:${LIBRARY_PATH:-}"
  export CPLUS_INCLUDE_PATH="$root/.device/gtest/include:${CPLUS_INCLUDE_PATH:-}"
elif [ ! -e /usr/include/gtest/gtest.h ]; then
  echo "no GoogleTest here: run scripts/device-prepare.sh first and carry .device" | tee "$out/error.txt"
  exit 2
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())" | tee -a "$out/gpu.txt"
command -v pkg-config >> "$out/gpu.txt" || echo "no pkg-config" >> "$out/gpu.txt"
if ! meson setup build-gpu -Dpython="$(command -v python3)" -Dcuda=enabled -Dcli=disabled -Dbuildtype=release \
  -Dunity=on -Dunity_size=8 -Db_pch=false -Dgpu_arch=90 > "$out/setup.log" 2>&1; then
  tail -n 40 "$out/setup.log"; cp build-gpu/meson-logs/meson-log.txt "$out/" 2>/dev/null || true
  exit 3
fi
tail -n 15 "$out/setup.log"
if ! ninja -C build-gpu > "$out/build.log" 2>&1; then
  grep -m 20 -B 2 -A 8 "error" "$out/build.log" || tail -n 40 "$out/build.log"
  exit 4
fi
tail -n 3 "$out/build.log"
set +e
build-gpu/tests/prn-core-tests --gtest_filter='Cuda.*:OpsTilesCuda.*:OpsPostCuda.*' 2>&1 | tee "$out/tests.txt"
rc=${PIPESTATUS[0]}
# GPU utilisation and memory every 200 ms while the benchmarks run.
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -lms 200 > "$out/smi.csv" 2>&1 &
smi=$!
for run in "fp32" "bf16" "bf16 --cuda-graphs"; do
  set -- $run
  build-gpu/bench/prn-bench-core --device cuda --precision "$@" --batches 8,64,256 --repeats 5 --processes 1 \
    2>&1 | tee -a "$out/bench-gpu.md"
done
# The GStreamer element on the GPU, where the machine has GStreamer's development files.
if [ -x build-gpu/bench/prn-bench-element ]; then
  for config in light paper; do
    meson devenv -C build-gpu ./bench/prn-bench-element --config $config --device cuda --precision bf16 \
      --cuda-graphs --batch-size 64 --widths 4096,8192 2>&1 | tee -a "$out/bench-element-gpu.md"
  done
  meson test -C build-gpu --suite gst --no-rebuild --print-errorlogs 2>&1 | tail -n 20 | tee "$out/gst-tests.txt"
fi
kill $smi 2>/dev/null
python3 - "$out/smi.csv" <<'PY' | tee "$out/smi-summary.txt"
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) == 3 and r[1].strip().split()[0].isdigit()]
if rows:
    u = [int(r[1].split()[0]) for r in rows]; m = [int(r[2].split()[0]) for r in rows]
    print(f"GPU utilisation while benchmarking: mean {sum(u)/len(u):.0f} %, max {max(u)} %; memory used max {max(m)} MiB ({len(rows)} samples)")
PY
exit $rc
