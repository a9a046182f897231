#!/usr/bin/env bash
# Creates (or reuses) the Python virtual environment with the reference packages that the
# tests compare Hone against: safetensors, numpy, ml_dtypes, huggingface_hub, transformers,
# LLaMA-Factory (chat templates, its trainers), TRL (the preference trainers), llama.cpp's
# HF-to-GGUF converter (its Python files only).
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

# llama.cpp's own HF-to-GGUF converter, the reference for Hone's GGUF tokenizer metadata: its
# Python files from llama-cpp-python's source archive on PyPI (the C++ is not built), unpacked
# into VENV/llama.cpp, and sentencepiece, which the converter imports.
llamacpp_version=0.3.36
converter() {
  local dest=$venv/llama.cpp
  if [ ! -f "$dest/.version" ] || [ "$(cat "$dest/.version")" != "$llamacpp_version" ]; then
    echo "unpacking llama.cpp's convert_hf_to_gguf.py (llama-cpp-python $llamacpp_version sdist)..."
    local tmp
    tmp=$(mktemp -d)
    "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
      --no-binary :all: -d "$tmp" "llama-cpp-python==$llamacpp_version"
    local top=llama_cpp_python-$llamacpp_version/vendor/llama.cpp
    tar -xzf "$tmp/llama_cpp_python-$llamacpp_version.tar.gz" -C "$tmp" \
      "$top/convert_hf_to_gguf.py" "$top/conversion" "$top/gguf-py"
    rm -rf "$dest"
    mv "$tmp/$top" "$dest"
    echo "$llamacpp_version" > "$dest/.version"
    rm -rf "$tmp"
  fi
  "$venv/bin/python" -c 'import sentencepiece' 2>/dev/null ||
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check sentencepiece==0.2.3
}

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  converter
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
converter
link "${1:-}"
echo "reference venv ready: $venv"
