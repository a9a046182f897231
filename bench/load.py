"""Loading a sharded bf16 model to fp32: Hone's safetensors reader beside the Python
safetensors package (numpy + ml_dtypes), on the same files, in one run.

  .venv-test/bin/python bench/load.py [--params 200e6] [--repeat 3]

Writes a random bf16 model in 5 shards to a temporary folder, then times, after one warm-up
each (files in the page cache): Hone (bench_load: open + validate every header + convert
every tensor to fp32 into one parameter buffer) and Python (safe_open per shard, get_tensor,
and assignment into one preallocated fp32 numpy buffer).
Prints the best time of each and the ratio."""
import argparse
import json
import os
import subprocess
import tempfile
import time

import ml_dtypes
import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_model(folder, params):
    rng = np.random.default_rng(0)
    per_shard = int(params) // 5
    weight_map = {}
    for s in range(5):
        name = f"model-{s + 1:05d}-of-00005.safetensors"
        tensors = {}
        for t in range(8):
            rows = per_shard // 8 // 1024
            tensors[f"layers.{s}.{t}.weight"] = (
                rng.standard_normal((rows, 1024), dtype=np.float32).astype(ml_dtypes.bfloat16))
            weight_map[f"layers.{s}.{t}.weight"] = name
        save_file(tensors, os.path.join(folder, name), metadata={"format": "pt"})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)


def python_load(folder):
    with open(os.path.join(folder, "model.safetensors.index.json")) as f:
        files = sorted(set(json.load(f)["weight_map"].values()))
    start = time.perf_counter()
    handles = [safe_open(os.path.join(folder, name), framework="numpy") for name in files]
    total = sum(int(np.prod(h.get_slice(k).get_shape())) for h in handles for k in h.keys())
    params = np.empty(total, dtype=np.float32)  # one parameter buffer, as an engine keeps
    checksum, offset = 0.0, 0
    for handle in handles:
        for key in handle.keys():
            tensor = handle.get_tensor(key).reshape(-1)
            params[offset:offset + tensor.size] = tensor  # bf16 -> fp32 in the assignment
            checksum += float(params[offset + tensor.size // 2])
            offset += tensor.size
    return time.perf_counter() - start, offset


def hone_load(binary, folder):
    result = subprocess.run([binary, folder], check=True, capture_output=True, text=True)
    report = json.loads(result.stdout)
    return report["seconds"], report["values"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", type=float, default=200e6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "bench", "bench_load"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        make_model(folder, args.params)
        hone_load(args.binary, folder)
        python_load(folder)
        hone = min(hone_load(args.binary, folder) for _ in range(args.repeat))
        python = min(python_load(folder) for _ in range(args.repeat))
    assert hone[1] == python[1], (hone, python)
    print(f"values: {hone[1]:,} (bf16 -> fp32)")
    print(f"hone:   {hone[0]:.3f} s  ({hone[1] / hone[0] / 1e9:.2f} G values/s)")
    print(f"python: {python[0]:.3f} s  ({python[1] / python[0] / 1e9:.2f} G values/s)")
    print(f"ratio (python / hone): {python[0] / hone[0]:.2f}x")


if __name__ == "__main__":
    main()
