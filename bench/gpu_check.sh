#!/usr/bin/env bash
# shellcheck disable=SC2317  # the stage functions run through `stage` (timeout bash -c)
# The GPU check of issue 9, one command: on a machine with an NVIDIA GPU it finds or builds Hone
# with the CUDA backend, runs the op comparisons (meson tests backend_ops, backend_checks and
# backend_compare when it exists), compares logits and gradients of tiny random models with
# transformers on the CUDA backend (test_model with HONE_TEST_BACKEND=cuda), then times LoRA
# and full fine-tuning of a Qwen2.5-0.5B-shaped random model at sequence length 2048 in Hone
# (hone train, backend cuda, bf16) and in transformers+PEFT (SDPA, bf16), and prints a table:
# tokens/s, MFU, peak GPU memory and the ratios. Every stage has a time limit, the whole within
# --budget seconds (480 by default), so that it ends inside one 10-minute device call.
#
# On the lent H200 (docs/PERFORMANCE.md, "The GPU check (issue 9)"): first, here,
#   bench/gpu_pack.sh            # a CUDA build + the shared libraries it needs, in .gpu-carry/
# then the device tool's run, from the repository root:
#   run(command="bash bench/gpu_check.sh --out $OUT", carry=[".gpu-carry"], timeout_s=570)
# Without .gpu-carry/ it builds there (build-gpu/) with the image's nvcc, meson and ninja when
# pkg-config finds glib, cJSON, libyaml, OpenBLAS and cairo; else the build stage fails saying
# what is missing, and the stages that need Hone are skipped.
#
# Here, without a GPU:
#   bench/gpu_check.sh --cpu-smoke   # every stage on the CPU (Hone's backend cpu, torch on the
#                                    # CPU), a tiny model, 2 steps: checks the script itself
#   bench/gpu_check.sh --dry-run     # prints the stages and their commands, runs nothing
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
usage() {
  sed -n '3,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  echo "Options: --out DIR (default \$OUT, else ./gpu-check-out), --build DIR (a Hone build to use),"
  echo "  --budget SECONDS (480), --seq N (2048), --steps N (8), --warmup N (2),"
  echo "  --cpu-smoke, --dry-run, --help"
}

mode=gpu out=${OUT:-} build='' budget=480 seq='' steps='' warmup=''
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --budget) budget=${2:?--budget needs seconds}; shift 2 ;;
    --seq) seq=${2:?--seq needs a number}; shift 2 ;;
    --steps) steps=${2:?--steps needs a number}; shift 2 ;;
    --warmup) warmup=${2:?--warmup needs a number}; shift 2 ;;
    --cpu-smoke) mode=cpu; shift ;;
    --dry-run) mode=dry; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$mode" = cpu ]; then  # the smoke run's sizes, unless given
  seq=${seq:-256} steps=${steps:-2} warmup=${warmup:-1}
else
  seq=${seq:-2048} steps=${steps:-8} warmup=${warmup:-2}
fi
for n in "$budget" "$seq" "$steps" "$warmup"; do
  case $n in ''|*[!0-9]*) echo "gpu_check.sh: '$n' is not a whole number" >&2; exit 2 ;; esac
done
[ "$steps" -ge 1 ] || { echo "gpu_check.sh: --steps must be at least 1" >&2; exit 2; }
out=${out:-$root/gpu-check-out}
mkdir -p "$out" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/hone-gpu-check.XXXXXX")
# Every stage's log and result goes to $logs; at the end they go to $out as two files
# (summary.txt and gpu-check-logs.tar.gz): the device tool returns at most 8 files.
logs=$work/logs
mkdir -p "$logs"
finish() {
  [ -f "$logs/summary.txt" ] && cp "$logs/summary.txt" "$out/"
  tar -C "$work" -czf "$out/gpu-check-logs.tar.gz" logs 2>/dev/null
  rm -rf "$work"
}
trap finish EXIT
start=$(date +%s)

# Python: the image's python3 on the GPU machine; the reference venv here.
py=${HONE_CHECK_PYTHON:-python3}
if [ "$mode" != gpu ] && [ -z "${HONE_CHECK_PYTHON:-}" ] && [ -x "$root/.venv-test/bin/python" ]; then
  py=$root/.venv-test/bin/python
fi
device=cuda backend=cuda test_backend=cuda shape=qwen2.5-0.5b
[ "$mode" = cpu ] && device=cpu backend=cpu test_backend=cpu shape=tiny

# ---- stages -------------------------------------------------------------------------------
names=() results=() seconds=()
remaining() { echo $((budget - ($(date +%s) - start))); }

# stage NAME LIMIT COMMAND...: runs COMMAND with a time limit of LIMIT seconds (or what is left
# of the budget, less 20 s for the summary), output in $logs/NAME.log.
stage() {
  local name=$1 limit=$2 left status t0
  shift 2
  left=$(( $(remaining) - 20 ))
  [ "$left" -lt "$limit" ] && limit=$left
  names+=("$name")
  if [ "$mode" = dry ]; then
    echo "[$name] (at most ${limit}s) $*"
    results+=("dry") seconds+=(0)
    return 0
  fi
  if [ "$limit" -le 5 ]; then
    echo "[$name] skipped: the budget of ${budget}s is spent"
    results+=("SKIP (no time)") seconds+=(0)
    return 1
  fi
  echo "[$name] (at most ${limit}s) $*"
  t0=$(date +%s)
  # a function runs in a child bash (timeout runs programs): the functions and settings are
  # exported below
  timeout --kill-after=5 "$limit" bash -c '"$@"' stage "$@" >"$logs/$name.log" 2>&1
  status=$?
  seconds+=($(( $(date +%s) - t0 )))
  case $status in
    0) results+=("PASS") ;;
    124|137) results+=("TIMEOUT (${limit}s)") ;;
    *) results+=("FAIL (exit $status)") ;;
  esac
  tail -n 4 "$logs/$name.log" | sed "s/^/  $name: /"
  return "$status"
}

skip() {  # skip NAME WHY
  names+=("$1") results+=("SKIP: $2") seconds+=(0)
  echo "[$1] skipped: $2"
}

# ---- the environment ----------------------------------------------------------------------
env_report() {
  uname -a
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  "$py" -c 'import sys, torch, transformers, peft; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "transformers", transformers.__version__, "peft", peft.__version__)'
  for tool in nvcc meson ninja pkg-config cc; do printf '%s: %s\n' "$tool" "$(command -v "$tool" || echo missing)"; done
  command -v pkg-config >/dev/null &&
    for lib in glib-2.0 gio-2.0 libcjson yaml-0.1 openblas cairo; do
      printf '%s: %s\n' "$lib" "$(pkg-config --modversion "$lib" 2>/dev/null || echo missing)"
    done
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
}

# cuBLAS, cuBLASLt and cuDNN for the backend's dlopen: the toolkit's and the pip wheels' folders.
if [ "$mode" = gpu ]; then
  libs=$("$py" - <<'EOF' 2>/dev/null
import glob, os
try:
    import nvidia
    roots = [os.path.dirname(p) for p in nvidia.__path__]
except ImportError:
    roots = []
print(":".join(sorted({d for r in roots for d in glob.glob(os.path.join(r, "*", "lib"))})))
EOF
)
  export LD_LIBRARY_PATH="${libs:+$libs:}/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export root out work logs py mode device backend seq steps warmup
export -f env_report
stage env 30 env_report

# ---- Hone: carried, given, or built here ----------------------------------------------------
build_here() {
  local missing=
  for tool in nvcc meson ninja pkg-config; do command -v "$tool" >/dev/null || missing="$missing $tool"; done
  for lib in glib-2.0 gio-2.0 libcjson yaml-0.1 openblas cairo; do
    pkg-config --exists "$lib" 2>/dev/null || missing="$missing $lib"
  done
  if [ -n "$missing" ]; then
    echo "cannot build Hone here: missing$missing; make .gpu-carry/ with bench/gpu_pack.sh and carry it"
    return 3
  fi
  local cuda=enabled
  [ "$mode" = cpu ] && cuda=disabled
  [ -f "$root/build-gpu/build.ninja" ] ||
    meson setup "$root/build-gpu" "$root" -Dcuda="$cuda" -Dgui=disabled -Dtest_python="$py" || return 1
  local targets=(app/hone tests/test_backend_ops tests/test_backend_checks tests/test_model)
  ninja -C "$root/build-gpu" -t targets all 2>/dev/null | grep -q '^tests/test_backend_compare:' &&
    targets+=(tests/test_backend_compare)
  ninja -C "$root/build-gpu" "${targets[@]}"
}
export -f build_here
if [ -n "$build" ]; then
  stage build 10 test -x "$build/app/hone"
elif [ -x "$root/.gpu-carry/build/app/hone" ]; then
  # bench/gpu_pack.sh's build, its libraries unpacked beside the run
  build=$root/.gpu-carry/build
  mkdir -p "$work/lib" && tar -C "$work/lib" -xJf "$root/.gpu-carry/lib.tar.xz"
  export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  cat "$root/.gpu-carry/MANIFEST" >"$logs/carried.txt" 2>/dev/null
  stage build 10 "$build/app/hone" --version
elif [ "$mode" = cpu ] && [ -x "$root/build/app/hone" ]; then
  build=$root/build
  stage build 10 "$build/app/hone" --version
else
  build=$root/build-gpu
  stage build 300 build_here
fi
have_hone=0
[ "$mode" = dry ] || { [ -x "$build/app/hone" ] && "$build/app/hone" --version >/dev/null 2>&1 && have_hone=1; }
hone=$build/app/hone
export build hone LD_LIBRARY_PATH
if [ $have_hone = 1 ] || [ "$mode" = dry ]; then
  stage hone_env 30 "$hone" env
  [ "$mode" = gpu ] && ! grep -q "^auto chooses: backend: cuda" "$logs/hone_env.log" 2>/dev/null &&
    echo "  hone env: auto does not choose CUDA here; the cuda stages will say why"
fi

# ---- the comparisons ------------------------------------------------------------------------
test_env() {
  env HONE_SOURCE_DIR="$root" HONE_TEST_PYTHON="$(command -v "$py")" HONE_BIN="$hone" \
      G_DEBUG=fatal-criticals "$@"
}
export -f test_env
for t in backend_ops backend_checks backend_compare; do
  if [ "$mode" != dry ] && [ ! -x "$build/tests/test_$t" ]; then
    skip "$t" "$build/tests/test_$t is not built"
    # backend_compare is optional: the check runs it when some build has it
    [ $t = backend_compare ] && results[-1]="ABSENT (not in this tree)"
  else
    stage "$t" 90 test_env "$build/tests/test_$t" --tap
  fi
done
if [ "$mode" != dry ] && [ ! -x "$build/tests/test_model" ]; then
  skip model_compare "$build/tests/test_model is not built"
else
  stage model_compare 120 test_env HONE_TEST_BACKEND=$test_backend "$build/tests/test_model" --tap
fi

# ---- the timings ----------------------------------------------------------------------------
# peak_mb LOG COMMAND...: runs COMMAND while sampling the GPU's used memory every 100 ms; writes
# the peak above the memory used before it started (MiB) to LOG.mem.
peak_mb() {
  local mem=$1 sampler='' base=0
  shift
  if command -v nvidia-smi >/dev/null && [ "$device" = cuda ]; then
    base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$mem.samples" &
    sampler=$!
  fi
  "$@"
  local status=$?
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
    sort -n "$mem.samples" | tail -1 | awk -v b="$base" '{print $1 - b}' >"$mem"
  fi
  return "$status"
}

hone_train() {  # hone_train lora|full
  local method=$1 dir=$work/hone-$1
  peak_mb "$logs/hone_$method.mem" "$hone" train --stage pt --do_train true \
    --model_name_or_path "$work/model" --dataset random_text --dataset_dir "$work/data" \
    --template default --cutoff_len "$seq" --packing true --finetuning_type "$method" \
    --bf16 true --backend "$backend" --per_device_train_batch_size 1 \
    --gradient_accumulation_steps 1 --learning_rate 1e-4 --max_steps $((warmup + steps)) \
    --logging_steps 1 --save_steps 100000 --output_dir "$dir" --overwrite_output_dir true &&
  "$py" "$root/bench/gpu_train_step.py" hone-rate "$dir" --warmup "$warmup" | tee "$logs/hone_$method.json"
  local status=$?
  rm -rf "$dir"  # the saved 0.5B model: not needed, and $work is on a small disk
  return "$status"
}

peer_train() {  # peer_train lora|full
  peak_mb "$logs/peer_$1.mem" "$py" "$root/bench/gpu_train_step.py" peer "$work/model" \
    --method "$1" --seq "$seq" --steps "$steps" --warmup "$warmup" --device "$device" |
    tee "$logs/peer_$1.json"
}

export -f peak_mb hone_train peer_train
stage make_model 90 "$py" "$root/bench/gpu_train_step.py" make "$work" --shape "$shape" \
  --device "$device" --text-bytes $(( (warmup + steps + 2) * seq * 2 ))
[ -f "$work/model.json" ] && cp "$work/model.json" "$logs/model.json"
for method in lora full; do
  if [ $have_hone = 1 ] || [ "$mode" = dry ]; then
    stage "hone_$method" 100 hone_train "$method"
  else
    skip "hone_$method" "no hone to run (see the build stage)"
  fi
  stage "peer_$method" 100 peer_train "$method"
done

# ---- the summary ----------------------------------------------------------------------------
failed=0
for i in "${!names[@]}"; do
  case ${results[$i]} in PASS|dry|ABSENT*) ;; *) failed=1 ;; esac
done
{
  echo
  echo "== stages (mode $mode, budget ${budget}s, used $(( $(date +%s) - start ))s; logs in $out/gpu-check-logs.tar.gz) =="
  for i in "${!names[@]}"; do
    printf '  %-16s %-24s %4ss\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}"
  done
} | tee "$logs/summary.txt"
[ "$mode" = dry ] && exit 0
"$py" - "$logs" "$seq" <<'EOF' | tee -a "$logs/summary.txt"
import json, os, sys
out, seq = sys.argv[1], int(sys.argv[2])
# H200 SXM dense bf16 peak: about 989 TFLOP/s by NVIDIA's datasheet (the H100's rate;
# /work/.library/device/H200.md); KINDS.md measured 769-798 TFLOP/s for an 8192^3 bf16 product.
PEAK, MEASURED = 989e12, 788e12
def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            text = f.read().strip().splitlines()
        return json.loads(text[-1]) if text else None
    except (OSError, ValueError):
        return None
def mem(name):
    try:
        with open(os.path.join(out, name)) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None
model = load("model.json") or {}
n = model.get("params")
print(f"\n== timings: seq {seq}, batch 1, model params {n} (6*N*tokens/s over {PEAK/1e12:.0f} "
      f"TFLOP/s; attention FLOPs not counted) ==")
print(f"{'method':6} {'side':12} {'tokens/s':>10} {'MFU':>7} {'MFU(788)':>9} {'peak MiB':>9}")
rows = {}
for method in ("lora", "full"):
    for side, stem in (("hone", "hone"), ("transformers", "peer")):
        r = load(f"{stem}_{method}.json")
        tps = r.get("tokens_per_s") if r else None
        peak = mem(f"{stem}_{method}.mem")
        rows[(method, side)] = (tps, peak)
        mfu = f"{6 * n * tps / PEAK:7.1%}" if tps and n else f"{'-':>7}"
        mfu2 = f"{6 * n * tps / MEASURED:9.1%}" if tps and n else f"{'-':>9}"
        extra = f"  (torch allocator peak {r['peak_allocated_mb']} MiB)" if r and r.get("peak_allocated_mb") else ""
        print(f"{method:6} {side:12} {tps if tps else '-':>10} {mfu} {mfu2} "
              f"{peak if peak is not None else '-':>9}{extra}")
    (ht, hm), (pt, pm) = rows[(method, "hone")], rows[(method, "transformers")]
    speed = f"{ht / pt:.2f}x" if ht and pt else "-"
    memory = f"{hm / pm:.2f}x" if hm and pm else "-"
    print(f"{method:6} {'Hone/peer':12} speed {speed}, peak memory {memory}")
EOF
exit $failed
