#!/usr/bin/env bash
# The main job, from a fresh clone: install what Hone needs, build it, and show what it can
# do on this machine. (Fine-tuning SmolLM2 on identity.json joins this script as soon as
# training is built.)
set -euo pipefail
cd "$(dirname "$0")"
tools/install-deps.sh
tools/build.sh build >/dev/null
echo "== hone env"
build/app/hone env
echo
echo "Built: build/app/hone. Try 'build/app/hone --help' and 'build/app/hone env --model DIR'."
