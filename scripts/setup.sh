#!/usr/bin/env bash
# Idempotent set-up for prnanomaly on Debian 12: installs the Debian packages that are
# missing, a pinned LibTorch (PyPI's torch wheel) with torchvision in a virtual
# environment, and configures the meson build folder. A second run checks and returns
# in seconds.
#
#   scripts/setup.sh [BUILD_DIR]          (default BUILD_DIR: build)
#
# Environment:
#   PRN_DEPS_DIR   where the virtual environment lives
#                  (default /opt/prnanomaly as root, else ~/.cache/prnanomaly)
#   PRN_LIBTORCH   use this LibTorch instead of the wheel's (meson -Dlibtorch=...)
#   PRN_CUDA       auto | enabled | disabled   (meson -Dcuda=..., default auto)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac

if [ "$(id -u)" = 0 ]; then
  deps="${PRN_DEPS_DIR:-/opt/prnanomaly}"
  sudo=""
else
  deps="${PRN_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prnanomaly}"
  sudo="sudo"
fi
venv="$deps/venv"

say() { printf '[setup] %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------
packages=(
  build-essential pkg-config meson ninja-build cmake git
  python3 python3-venv
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgpiod-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  libopencv-dev libgtest-dev libgmock-dev
  gimp-data gimp-data-extras python3-skimage
  libaravis-0.8-0 aravis-tools
  libmosquitto-dev mosquitto libcurl4-openssl-dev libpng-dev
)
missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [ "$status" = installed ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  if [ -n "$sudo" ] && ! command -v sudo >/dev/null; then
    echo "setup: these Debian packages are missing and this user cannot install them: ${missing[*]}" >&2
    echo "setup: run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "Debian packages: all present"
fi

# --- LibTorch (torch wheel) and the Python test references -----------------------
req="$here/requirements.txt"
want="$(sha256sum "$req" | cut -d' ' -f1)"
stamp="$venv/.prn-requirements.sha256"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  say "LibTorch/torchvision venv: up to date ($venv)"
else
  say "installing pinned torch/torchvision into $venv (a few GB, once)"
  mkdir -p "$deps"
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q --progress-bar off -r "$req"
  "$venv/bin/python" - <<'PY'
import torch, torchvision
assert torch._C._GLIBCXX_USE_CXX11_ABI, "torch wheel built with the old C++ ABI; GStreamer/OpenCV use the new one"
print("[setup] torch", torch.__version__, "torchvision", torchvision.__version__)
PY
  echo "$want" > "$stamp"
fi

# --- meson build folder -----------------------------------------------------------
if [ -f "$build/build.ninja" ]; then
  say "build folder: already configured ($build)"
else
  # A unity build without precompiled headers: each LibTorch-heavy target compiles
  # as a few large translation units, which parse torch/torch.h a few times instead
  # of once per file (a fresh build of the demo's targets: 3.3 min instead of 9 on
  # 2 cores; README, "Build options"). Your own build folder may use meson's defaults.
  opts=(-Dpython="$venv/bin/python" -Dbuildtype=release -Dunity=on -Dunity_size=8 -Db_pch=false)
  [ -n "${PRN_LIBTORCH:-}" ] && opts+=(-Dlibtorch="$PRN_LIBTORCH")
  [ -n "${PRN_CUDA:-}" ] && opts+=(-Dcuda="$PRN_CUDA")
  say "configuring $build"
  meson setup "$build" "$root" "${opts[@]}"
fi
