#!/bin/sh
# Prints the version of the LibTorch rooted at $1 (e.g. 2.14.1), read from its headers.
for f in "$1/include/torch/headeronly/version.h" "$1/include/torch/csrc/api/include/torch/version.h"; do
  if [ -f "$f" ] && grep -q "define TORCH_VERSION_MAJOR" "$f"; then
    sed -n 's/^#define TORCH_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' "$f" | paste -sd.
    exit 0
  fi
done
echo unknown
