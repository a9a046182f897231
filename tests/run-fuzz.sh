#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a while.
# Usage: tests/run-fuzz.sh [SECONDS_PER_TARGET]   (default 60)
# Prints one line per target: "fuzz TARGET: passed" or "fuzz TARGET: FAILED".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=$root/build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$root" -Dfuzz=true -Dgui=disabled -Dcuda=disabled \
    -Dtests=true -Db_lundef=false >/dev/null || exit 1
fi
targets=(safetensors hf_config gguf tokenizer_load tokenizer_encode jinja train_args)
ninja -C "$build" "${targets[@]/#/tests/fuzz/fuzz_}" >/dev/null || exit 1
status=0
for target in "${targets[@]}"; do
  corpus=$(mktemp -d)
  cp "$root/tests/fuzz/seeds/$target/"* "$corpus/"
  log=$build/fuzz_$target.log
  if (cd "$build" && "./tests/fuzz/fuzz_$target" "$corpus" -max_total_time="$seconds" \
        -max_len=4096 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1); then
    echo "fuzz $target: passed ($(grep -o 'Done [0-9]* runs' "$log" | tail -1))"
  else
    echo "fuzz $target: FAILED (see $log)"
    tail -n 40 "$log"
    status=1
  fi
  rm -rf "$corpus"
done
exit $status
