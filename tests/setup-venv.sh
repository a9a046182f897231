#!/usr/bin/env bash
# Creates (or reuses) the Python virtual environment with the reference packages that the
# tests compare Hone against: safetensors, numpy, ml_dtypes, huggingface_hub, transformers,
# LLaMA-Factory (chat templates).
# The venv lives in the cache, named by the hash of the requirements, so every clone shares it
# and a change of requirements makes a new one; .venv-test at the repository root links to it.
# Usage: tests/setup-venv.sh [VENV_DIR]   (default: ~/.cache/hone/venv-HASH, linked as .venv-test)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
requirements=$root/tests/requirements.txt
nodeps=$root/tests/requirements-nodeps.txt
want=$(cat "$requirements" "$nodeps" | sha256sum | cut -d' ' -f1)
cache=${HONE_CACHE_ROOT:-$HOME/.cache/hone}
venv=${1:-$cache/venv-${want:0:16}}
stamp=$venv/.requirements.sha256
link() {  # the repository's .venv-test points at the venv in use
  if [ -z "${1:-}" ] && [ "$(readlink "$root/.venv-test" 2>/dev/null)" != "$venv" ]; then
    rm -rf "$root/.venv-test"
    ln -s "$venv" "$root/.venv-test"
  fi
}

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  link "${1:-}"
  echo "reference venv is up to date: $venv"
  exit 0
fi
python=${PYTHON:-python3}
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "error: $python cannot create virtual environments; install python3-venv (apt-get install python3-venv)" >&2
  exit 1
fi
echo "creating the reference venv in $venv (pip install from PyPI, about 4 GB with torch)..."
mkdir -p "$(dirname "$venv")"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$nodeps"
echo "$want" > "$stamp"
link "${1:-}"
echo "reference venv ready: $venv"
