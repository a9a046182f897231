"""Reference side of the safetensors tests, using the safetensors, numpy, ml_dtypes and
huggingface_hub packages from PyPI.

  safetensors_ref.py write DIR   files written by the Python package, plus what they hold
  safetensors_ref.py check DIR   loads files Hone wrote and compares with Hone's manifest

Expected tensors are stored as raw little-endian bytes (NAME.raw), their fp32 conversion
(NAME.f32, numpy/ml_dtypes astype) and their bf16 conversion (NAME.bf16, ml_dtypes)."""
import json
import os
import sys

import ml_dtypes
import numpy as np
from huggingface_hub import split_state_dict_into_shards_factory
from safetensors import safe_open
from safetensors.numpy import save_file

DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": ml_dtypes.bfloat16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}


def random_tensor(rng, name, shape):
    dtype = DTYPES[name]
    if name == "BOOL":
        return np.asarray(rng.random(shape) < 0.5)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.asarray(rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True))
    values = np.asarray(rng.standard_normal(shape) * 4.0)
    flat = values.reshape(-1)
    # Values that stress conversions: signed zero, infinities, tiny and huge magnitudes.
    specials = [-0.0, np.inf, -np.inf, 1e-6, -3e-8, 6.5e4, 1.5e38 if name != "F16" else 6e4]
    for i, v in enumerate(specials[: flat.size]):
        flat[i * 3 % flat.size] = v
    return np.asarray(values.astype(dtype))


def dump_expected(folder, name, array):
    os.makedirs(folder, exist_ok=True)
    safe = name.replace("/", "_")
    with open(os.path.join(folder, safe + ".raw"), "wb") as f:
        f.write(np.ascontiguousarray(array).tobytes())
    with open(os.path.join(folder, safe + ".f32"), "wb") as f:
        f.write(array.astype(np.float32).tobytes())
    with open(os.path.join(folder, safe + ".bf16"), "wb") as f:
        f.write(array.astype(np.float32).astype(ml_dtypes.bfloat16).view(np.uint16).tobytes())


def write(out):
    rng = np.random.default_rng(20261129)
    tensors = {}
    for i, dtype in enumerate(DTYPES):
        rank = i % 5
        shape = tuple(int(s) for s in rng.integers(1, 7, size=rank))
        tensors[f"model.layers.{i}.{dtype.lower()}"] = random_tensor(rng, dtype, shape)
    tensors["empty.f32"] = np.zeros((3, 0), dtype=np.float32)
    metadata = {"format": "pt", "note": "ünïcödé ✓ \"quoted\""}
    save_file(tensors, os.path.join(out, "all_dtypes.safetensors"), metadata=metadata)

    sharded = {f"layer.{i}.weight": random_tensor(rng, "F32" if i % 2 else "BF16", (i + 3, 17))
               for i in range(12)}
    plan = split_state_dict_into_shards_factory(
        sharded, get_storage_size=lambda a: a.nbytes, max_shard_size=600,
        filename_pattern="model{suffix}.safetensors")
    folder = os.path.join(out, "sharded")
    os.makedirs(folder)
    for filename, names in plan.filename_to_tensors.items():
        save_file({n: sharded[n] for n in names}, os.path.join(folder, filename),
                  metadata={"format": "np"})
    assert plan.is_sharded
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": plan.metadata, "weight_map": plan.tensor_to_filename}, f, indent=2)

    manifest = {"metadata": metadata, "tensors": {}, "sharded": {}}
    for name, array in tensors.items():
        manifest["tensors"][name] = {"dtype": dtype_name(array), "shape": list(array.shape)}
        dump_expected(os.path.join(out, "expected"), name, array)
    for name, array in sharded.items():
        manifest["sharded"][name] = {"dtype": dtype_name(array), "shape": list(array.shape),
                                     "file": plan.tensor_to_filename[name]}
        dump_expected(os.path.join(out, "expected"), name, array)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


def dtype_name(array):
    for name, dtype in DTYPES.items():
        if array.dtype == np.dtype(dtype):
            return name
    raise ValueError(array.dtype)


def check_file(path, entries, metadata, expected_dir):
    with safe_open(path, framework="numpy") as f:
        if (f.metadata() or {}) != metadata:
            raise AssertionError(f"{path}: metadata {f.metadata()} != {metadata}")
        for name in entries:
            array = f.get_tensor(name)
            want = entries[name]
            if dtype_name(array) != want["dtype"] or list(array.shape) != want["shape"]:
                raise AssertionError(f"{path}: {name}: {dtype_name(array)} {list(array.shape)} "
                                     f"!= {want['dtype']} {want['shape']}")
            with open(os.path.join(expected_dir, name + ".raw"), "rb") as raw:
                if np.ascontiguousarray(array).tobytes() != raw.read():
                    raise AssertionError(f"{path}: {name}: bytes differ")
        extra = set(f.keys()) - set(entries)
        if extra:
            raise AssertionError(f"{path}: unexpected tensors {sorted(extra)}")


def check(folder):
    """Hone wrote folder/hone_manifest.json: files -> {metadata, tensors}; sharded folders."""
    with open(os.path.join(folder, "hone_manifest.json")) as f:
        manifest = json.load(f)
    expected_dir = os.path.join(folder, "expected")
    for filename, spec in manifest["files"].items():
        check_file(os.path.join(folder, filename), spec["tensors"], spec["metadata"], expected_dir)
    for sub, spec in manifest["sharded"].items():
        with open(os.path.join(folder, sub, "model.safetensors.index.json")) as f:
            index = json.load(f)
        weight_map = index["weight_map"]
        if set(weight_map) != set(spec["tensors"]):
            raise AssertionError(f"{sub}: weight_map names {sorted(weight_map)}")
        if list(weight_map) != sorted(weight_map):
            raise AssertionError(f"{sub}: weight_map is not sorted")
        by_file = {}
        for name, filename in weight_map.items():
            by_file.setdefault(filename, {})[name] = spec["tensors"][name]
        if len(by_file) != spec["n_shards"]:
            raise AssertionError(f"{sub}: {len(by_file)} shards, Hone said {spec['n_shards']}")
        total = 0
        for filename, entries in by_file.items():
            path = os.path.join(folder, sub, filename)
            check_file(path, entries, spec["metadata"], expected_dir)
            with safe_open(path, framework="numpy") as f:
                size = sum(f.get_tensor(n).nbytes for n in f.keys())
            if size > spec["max_shard_bytes"] and len(entries) > 1:
                raise AssertionError(f"{path}: {size} bytes of tensors over the limit")
            total += size
        if index["metadata"]["total_size"] != total:
            raise AssertionError(f"{sub}: total_size {index['metadata']['total_size']} != {total}")
    print("python safetensors read every file Hone wrote")


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
