#!/usr/bin/env bash
# Here, before a GPU check: copies GoogleTest (headers and static libraries from
# Debian's libgtest-dev) into .device/, which the device tool carries to the GPU
# machine (whose image has PyTorch, nvcc, meson and ninja but no GoogleTest).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
d="$root/.device/gtest"
rm -rf "$d" && mkdir -p "$d/include" "$d/lib/pkgconfig"
cp -r /usr/include/gtest "$d/include/"
cp /usr/lib/x86_64-linux-gnu/libgtest.a /usr/lib/x86_64-linux-gnu/libgtest_main.a "$d/lib/"
cat > "$d/lib/pkgconfig/gtest.pc" <<PC
prefix=\${pcfiledir}/../..
Name: gtest
Description: GoogleTest (carried)
Version: 1.12.1
Cflags: -I\${prefix}/include
Libs: -L\${prefix}/lib -lgtest -pthread
PC
cat > "$d/lib/pkgconfig/gtest_main.pc" <<PC
prefix=\${pcfiledir}/../..
Name: gtest_main
Description: GoogleTest main (carried)
Version: 1.12.1
Requires: gtest
Libs: -L\${prefix}/lib -lgtest_main -pthread
PC
grep -qx '/.device/' "$root/.git/info/exclude" 2>/dev/null || echo '/.device/' >> "$root/.git/info/exclude"
echo "prepared $d; run the check with carry: [\".device\"]"
