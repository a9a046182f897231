#!/usr/bin/env bash
# Packs what bench/gpu_check.sh runs on a GPU machine whose image has no glib, cJSON, libyaml
# or OpenBLAS (the lent H200's image has nvcc, meson and ninja, but none of those libraries is
# known to be there): a CUDA build of hone and the test programs the check runs, stripped, in
# .gpu-carry/build/{app,tests}/, and the shared libraries they load that are not the C
# library's own (ldd), xz-compressed in .gpu-carry/lib.tar.xz (OpenBLAS alone is 36 MB; the
# device tool carries 64 MiB in all, the working tree included). .gpu-carry/ is ignored by
# git; name it in the device tool's carry list (docs/PERFORMANCE.md, "The GPU check").
#
#   bench/gpu_pack.sh                 # configures build-gpu-pack/ (-Dcuda=enabled -Dgui=disabled)
#   bench/gpu_pack.sh --build DIR     # packs an existing build instead (its programs must exist)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=''
case ${1:-} in
  --build) build=${2:?--build needs a folder} ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  '') ;;
  *) echo "gpu_pack.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac
programs=(app/hone tests/test_backend_ops tests/test_backend_checks tests/test_model)
if [ -z "$build" ]; then
  build=$root/build-gpu-pack
  export PATH=$PATH:/usr/local/cuda/bin
  [ -f "$build/build.ninja" ] ||
    meson setup "$build" "$root" -Dcuda=enabled -Dgui=disabled -Dwerror=true
  if ninja -C "$build" -t targets all | grep -q '^tests/test_backend_compare:'; then
    programs+=(tests/test_backend_compare)
  fi
  ninja -C "$build" "${programs[@]}"
fi
[ -x "$build/tests/test_backend_compare" ] && [[ ! " ${programs[*]} " =~ test_backend_compare ]] &&
  programs+=(tests/test_backend_compare)

carry=$root/.gpu-carry
rm -rf "$carry"
mkdir -p "$carry/build/app" "$carry/build/tests" "$carry/lib"
for p in "${programs[@]}"; do
  [ -x "$build/$p" ] || { echo "gpu_pack.sh: $build/$p is not built" >&2; exit 1; }
  strip --strip-debug -o "$carry/build/$p" "$build/$p"
done
# Every library the programs load, except the C library's own parts, the NVIDIA driver's and
# the C++ runtime (those must be the machine's own: its python3 and torch load them too, and
# the check's LD_LIBRARY_PATH reaches the reference scripts the tests start).
for p in "${programs[@]}"; do ldd "$build/$p"; done |
  awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
  grep -Ev '/(ld-linux[^/]*|libc|libm|libpthread|libdl|librt|libresolv|libcuda|libnvidia-[^/]*|libstdc\+\+|libgcc_s)\.so' |
  while read -r lib; do cp -L "$lib" "$carry/lib/"; done
tar -C "$carry/lib" -cJf "$carry/lib.tar.xz" .
rm -rf "${carry:?}/lib"
# What was packed, and what built it: the check prints this.
{
  echo "packed $(date -u +%FT%TZ) from $(git -C "$root" rev-parse --short HEAD) ($build)"
  "$build/app/hone" --version
  for p in "${programs[@]}"; do echo "$p"; done
  tar -tJf "$carry/lib.tar.xz" | grep -v '/$'
} >"$carry/MANIFEST"
du -sh "$carry" "$carry"/* | sed 's/^/gpu_pack.sh: /'
