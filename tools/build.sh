#!/usr/bin/env bash
# Configures (once) and builds Hone into BUILD_DIR with any extra meson options.
# Usage: tools/build.sh BUILD_DIR [meson options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
export PATH=$PATH:/usr/local/cuda/bin  # nvcc, where NVIDIA's installer puts it
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" "$@" >"$build.setup.log" 2>&1 || { cat "$build.setup.log"; exit 1; }
fi
ninja -C "$build"
