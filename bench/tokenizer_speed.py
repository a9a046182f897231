"""Tokenizer encoding throughput: Hone beside Hugging Face `tokenizers`, one thread each, on
the same 10 MB of mixed text (English, Chinese, Japanese, Korean, Arabic, emoji, code,
numbers, whitespace; lines from the test corpus generator), the same tokenizer files.

  .venv-test/bin/python bench/tokenizer_speed.py [--megabytes 10] [--tokenizers smollm2 qwen ...]

Needs the reference tokenizers: it builds them with tests/reference/tokenizer_build.py from
the files tools/fetch-models.sh fetches. Both sides encode line by line (no special tokens);
only encoding is timed. Prints MB/s for each and the ratio; token counts must agree."""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import tokenizer_build  # noqa: E402
import tokenizer_ref  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def mixed_text(megabytes):
    rng = random.Random(7)
    lines, size = [], 0
    while size < megabytes * 1_000_000:
        line = " ".join(tokenizer_ref.piece(rng, []) for _ in range(rng.randint(3, 12)))
        line = line.replace("\n", " ")
        lines.append(line)
        size += len(line.encode()) + 1
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=10)
    parser.add_argument("--tokenizers", nargs="+", default=["smollm2", "llama3", "qwen", "gemma3"])
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "bench", "bench_tokenize"))
    args = parser.parse_args()
    models = os.environ.get("HONE_CACHE", os.path.expanduser("~/.cache/hone/models"))
    with tempfile.TemporaryDirectory() as out:
        tokenizer_build.main(models, out)
        text = mixed_text(args.megabytes)
        path = os.path.join(out, "text.txt")
        with open(path, "w") as f:
            f.write(text)
        lines = text.split("\n")
        mb = len(text.encode()) / 1e6
        print(f"text: {mb:.1f} MB, {len(lines):,} lines; one thread each")
        for name in args.tokenizers:
            folder = os.path.join(out, name)
            result = subprocess.run([args.binary, folder, path], check=True,
                                    capture_output=True, text=True)
            hone = json.loads(result.stdout)
            tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
            start = time.perf_counter()
            encodings = tok.encode_batch(lines, add_special_tokens=False)
            hf_seconds = time.perf_counter() - start
            hf_tokens = sum(len(e.ids) for e in encodings)
            assert hf_tokens == hone["tokens"], (name, hf_tokens, hone["tokens"])
            print(f"{name:8s} hone {mb / hone['seconds']:6.2f} MB/s   HF tokenizers "
                  f"{mb / hf_seconds:6.2f} MB/s   ratio (hone / HF) {hf_seconds / hone['seconds']:.2f}x"
                  f"   ({hf_tokens:,} tokens)")


if __name__ == "__main__":
    main()
