#!/usr/bin/env bash
# Creates (or reuses) the Python virtual environment with the reference packages that the
# tests compare Hone against: safetensors, numpy, ml_dtypes, huggingface_hub, transformers,
# LLaMA-Factory (chat templates).
# Usage: tests/setup-venv.sh [VENV_DIR]   (default: .venv-test at the repository root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/.venv-test}
requirements=$root/tests/requirements.txt
nodeps=$root/tests/requirements-nodeps.txt
stamp=$venv/.requirements.sha256
want=$(cat "$requirements" "$nodeps" | sha256sum | cut -d' ' -f1)

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "reference venv is up to date: $venv"
  exit 0
fi
python=${PYTHON:-python3}
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "error: $python cannot create virtual environments; install python3-venv (apt-get install python3-venv)" >&2
  exit 1
fi
echo "creating the reference venv in $venv (pip install from PyPI)..."
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$nodeps"
echo "$want" > "$stamp"
echo "reference venv ready: $venv"
