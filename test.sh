#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (Debian packages, the
# reference Python venv), then builds and tests four ways:
#   build        gui + cuda (when nvcc is there), warnings as errors
#   build-asan   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   build-min    -Dgui=disabled -Dcuda=disabled (the command line alone; unit suite only, the
#                reference suite already ran twice above)
#   fuzz         libFuzzer targets for the safetensors header and config.json
# The last line is "N passed, N failed" (N counts test programs and fuzz targets).
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
fuzz_seconds=${HONE_FUZZ_SECONDS:-60}

tools/install-deps.sh --tests || exit 1
tests/setup-venv.sh || exit 1
tools/fetch-models.sh all >/dev/null || exit 1   # real GGUF models and tokenizers, cached

passed=0
failed=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1

# Runs `meson test` in a build folder and adds its counts.
run_suite() {
  local name=$1 build=$2 suite=$3
  shift 3
  echo "== $name: build ($*)"
  if ! tools/build.sh "$build" -Dwerror=true "$@" >"$build.build.log" 2>&1; then
    tail -n 40 "$build.build.log"
    echo "$name: build FAILED"
    failed=$((failed + 1))
    return
  fi
  echo "== $name: meson test"
  meson test -C "$build" --print-errorlogs ${suite:+--suite "$suite"} >"$build.test.log" 2>&1
  grep -E '^ *[0-9]+/[0-9]+ ' "$build.test.log"
  local ok fail
  ok=$(awk '/^Ok:/ {s+=$2} /^Expected Fail:/ {s+=$3} END {print s+0}' "$build.test.log")
  fail=$(awk '/^Fail:/ {s+=$2} /^Unexpected Pass:/ {s+=$3} /^Timeout:/ {s+=$2} END {print s+0}' "$build.test.log")
  if [ "$ok" -eq 0 ] && [ "$fail" -eq 0 ]; then
    tail -n 40 "$build.test.log"
    fail=1
  elif [ "$fail" -ne 0 ]; then
    sed -n '/^=\+ [0-9]*\/[0-9]* =\+$/,$p' "$build.test.log" | head -n 150
  fi
  passed=$((passed + ok))
  failed=$((failed + fail))
}

run_suite "default build" "$root/build" ""
run_suite "sanitizers" "$root/build-asan" "" -Db_sanitize=address,undefined
run_suite "command line only" "$root/build-min" unit -Dgui=disabled -Dcuda=disabled

echo "== fuzz (${fuzz_seconds}s per target)"
fuzz_log=$(tests/run-fuzz.sh "$fuzz_seconds")
echo "$fuzz_log"
passed=$((passed + $(grep -c ': passed' <<<"$fuzz_log")))
failed=$((failed + $(grep -c ': FAILED' <<<"$fuzz_log")))
grep -q '^fuzz' <<<"$fuzz_log" || failed=$((failed + 1))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
