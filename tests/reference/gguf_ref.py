"""Reference side of the GGUF tests, using the gguf package from PyPI (llama.cpp's gguf-py).

  gguf_ref.py write DIR          GGUF files written by gguf's GGUFWriter (every metadata value
                                 type, nested arrays, random tensors of F32/F16/BF16 and every
                                 quantized type Hone reads, real k-quant tensors copied from the
                                 fetched models) plus what gguf reads from each
  gguf_ref.py describe FILE DIR  what gguf reads from an existing GGUF file
  gguf_ref.py seeds DIR          small files for the fuzzer's seed corpus (tests/fuzz/seeds/gguf)
  gguf_ref.py hf-write DIR       tiny random Llama, Qwen2 and Qwen3 GGUF files written as
                                 llama.cpp's converter would (names, metadata, tokenizer, Q/K
                                 rows permuted for Llama only) and what transformers' GGUF
                                 loader makes of each; files with RoPE scaling (llama3, linear,
                                 yarn) and the rope_type transformers gives them
  gguf_ref.py hf-describe FILE DIR  what transformers' GGUF loader makes of a GGUF file: its
                                 config, model class, and every weight under its transformers
                                 name as load_gguf_checkpoint returns it

For each file F, DIR/expected/F.json holds what gguf's GGUFReader sees: version, alignment,
data offset, every metadata value in file order and every tensor (name, ggml type, dims in
ggml order, offset, size, SHA-256 of its raw bytes and of gguf.quants.dequantize's fp32 bytes,
and the bits of the first 16 fp32 values). `write` also stores the full fp32 results as
DIR/expected/F/INDEX.f32 so a difference can be located. Metadata values are typed:
{"type": T, "value": V}; integers and floats are decimal strings (floats as Python's repr, so
strtod reads them back exactly), strings are hex of their bytes, arrays are
{"type": "ARRAY", "element": T, "items": [...]} whose items are the bare encodings (nested
arrays: full objects)."""
import hashlib
import json
import os
import sys

os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF loader shows progress bars

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFReader, GGUFValueType as V, GGUFWriter, RopeScalingType
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize

SCALAR = {V.UINT8, V.INT8, V.UINT16, V.INT16, V.UINT32, V.INT32, V.UINT64, V.INT64}
FLOATS = {V.FLOAT32, V.FLOAT64}

# Byte offsets of the fp16 scale fields in each block (ggml-common.h); random blocks get
# finite values there so the results are numbers.
HALF_FIELDS = {
    Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
    Q.Q2_K: [80, 82], Q.Q3_K: [108], Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208],
}
QUANTIZABLE = [Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0]


def bare(vtype, value):
    """The encoding of one value of a scalar or string type (array items)."""
    if vtype == V.STRING:
        return bytes(value).hex() if not isinstance(value, str) else value.encode().hex()
    if vtype == V.BOOL:
        return bool(value)
    if vtype in FLOATS:
        return repr(float(value))
    return str(int(value))


# --- What GGUFReader reads: walk a field's parts (length, bytes, type, count, ...). ---------

def walk(parts, i, vtype):
    """Decodes the value of type vtype starting at parts[i]; returns (encoding, next index)."""
    if vtype == V.STRING:
        return {"type": "STRING", "value": parts[i + 1].tobytes().hex()}, i + 2
    if vtype == V.ARRAY:
        element = V(int(parts[i][0]))
        count = int(parts[i + 1][0])
        i += 2
        items = []
        for _ in range(count):
            if element == V.ARRAY:
                item, i = walk(parts, i, element)
            elif element == V.STRING:
                item, i = parts[i + 1].tobytes().hex(), i + 2
            else:
                item, i = bare(element, parts[i][0]), i + 1
            items.append(item)
        return {"type": "ARRAY", "element": element.name, "items": items}, i
    return {"type": vtype.name, "value": bare(vtype, parts[i][0])}, i + 1


def describe_file(path, out_json, f32_dir=None):
    reader = GGUFReader(path)
    version = int(reader.fields["GGUF.version"].parts[0][0])
    metadata = []
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        value, end = walk(field.parts, 3, V(int(field.parts[2][0])))
        assert end == len(field.parts), key
        metadata.append({"key": key, "value": value})
    tensors = []
    if f32_dir is not None:
        os.makedirs(f32_dir, exist_ok=True)
    for index, t in enumerate(reader.tensors):
        raw = np.ascontiguousarray(t.data).tobytes()
        values = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32)
        assert values.size == t.n_elements, t.name
        f32 = values.tobytes()
        tensors.append({
            "name": t.name, "type": t.tensor_type.name, "dims": [int(d) for d in t.shape],
            "offset": int(t.data_offset - reader.data_offset), "nbytes": int(t.n_bytes),
            "raw_sha256": hashlib.sha256(raw).hexdigest(),
            "f32_sha256": hashlib.sha256(f32).hexdigest(),
            "head": [int(b) for b in values.reshape(-1)[:16].view(np.uint32)],
        })
        if f32_dir is not None:
            with open(os.path.join(f32_dir, f"{index}.f32"), "wb") as f:
                f.write(f32)
    with open(out_json, "w") as f:
        json.dump({"version": version, "alignment": int(reader.alignment),
                   "data_offset": int(reader.data_offset), "metadata": metadata,
                   "tensors": tensors}, f)
    return metadata


# --- Files written by GGUFWriter. ------------------------------------------------------------

def intended(vtype, value, sub_type=None):
    """The encoding of what we asked GGUFWriter to write (nested arrays infer their types the
    way the writer does)."""
    if vtype != V.ARRAY:
        if vtype == V.FLOAT32:
            value = np.float32(value)
        return {"type": vtype.name, "value": bare(vtype, value)}
    element = sub_type if sub_type is not None else V.get_type(value[0])
    items = []
    for item in value:
        if element == V.ARRAY:
            items.append(intended(V.ARRAY, item))
        else:
            items.append(bare(element, np.float32(item) if element == V.FLOAT32 else item))
    return {"type": "ARRAY", "element": element.name, "items": items}


def random_half(rng, shape):
    """Finite fp16 scales over a wide range of magnitudes (including subnormals)."""
    magnitude = 10.0 ** rng.uniform(-7, 1, size=shape)
    return (rng.standard_normal(shape) * magnitude).astype(np.float16)


def random_blocks(rng, qtype, rows, cols):
    """Random bytes in qtype's block layout with finite fp16 scales: every bit pattern of the
    quantized values is reached, not only those a quantizer would produce."""
    block, size = GGML_QUANT_SIZES[qtype]
    n_blocks = rows * cols // block
    data = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for at in HALF_FIELDS[qtype]:
        data[:, at:at + 2] = random_half(rng, (n_blocks,)).view(np.uint8).reshape(n_blocks, 2)
    return data.reshape(rows, cols // block * size)


def add_metadata(writer, rng):
    """Every value type, written through the typed API; returns the intended encodings."""
    want = {"general.architecture": intended(V.STRING, "llama")}

    def put(key, vtype, value, sub_type=None):
        writer.add_key_value(key, value, vtype, sub_type=sub_type)
        want[key] = intended(vtype, value, sub_type)

    put("test.uint8", V.UINT8, int(rng.integers(128, 256)))
    put("test.int8", V.INT8, int(rng.integers(-128, 0)))
    put("test.uint16", V.UINT16, int(rng.integers(40000, 65536)))
    put("test.int16", V.INT16, int(rng.integers(-32768, -1000)))
    put("test.uint32", V.UINT32, int(rng.integers(3_000_000_000, 2**32)))
    put("test.int32", V.INT32, int(rng.integers(-2**31, -2**30)))
    put("test.uint64", V.UINT64, int(rng.integers(2**63, 2**64, dtype=np.uint64)))
    put("test.int64", V.INT64, -2**63 + int(rng.integers(0, 1000)))
    put("test.float32", V.FLOAT32, float(rng.standard_normal()) * 1e-3)
    put("test.float32_negative_zero", V.FLOAT32, -0.0)
    put("test.float64", V.FLOAT64, float(rng.standard_normal()) * 1e30)
    put("test.float64_inf", V.FLOAT64, float("-inf"))
    put("test.bool_true", V.BOOL, True)
    put("test.bool_false", V.BOOL, False)
    put("test.string", V.STRING, "ünïcödé ✓ \"quoted\"\nnew line")
    put("test.string_empty", V.STRING, "")
    for vtype in sorted(SCALAR, key=int):
        info = np.iinfo(np.dtype(vtype.name.lower()))
        dtype = np.uint64 if info.max >= 2**63 else np.int64
        values = [int(v) for v in rng.integers(info.min, info.max, size=7, dtype=dtype,
                                               endpoint=True)]
        put(f"test.array.{vtype.name.lower()}", V.ARRAY, values, vtype)
    put("test.array.float32", V.ARRAY, [float(v) for v in rng.standard_normal(9)], V.FLOAT32)
    put("test.array.float64", V.ARRAY, [float(v) for v in rng.standard_normal(5) * 1e-200], V.FLOAT64)
    put("test.array.bool", V.ARRAY, [bool(v) for v in rng.random(6) < 0.5], V.BOOL)
    put("test.array.string", V.ARRAY, ["", "a", "ñ", "<0x0A>", "▁the", "日本語"], V.STRING)
    put("test.array.nested_int", V.ARRAY, [[1, -2, 3], [4], [int(rng.integers(-1000, 1000))]])
    put("test.array.nested_string", V.ARRAY, [["x", "yz"], ["ü"]])
    put("test.array.nested_deep", V.ARRAY, [[[0.5, -1.25]], [[3.0], [float(rng.standard_normal())]]])
    put("test.array.nested_bool", V.ARRAY, [[True, False], [False]])
    return want


def real_tensors(models):
    """A Q4_K and a Q6_K tensor from the fetched Gemma 3 file (gguf-py cannot quantize
    k-quants) and a Q4_1 one from SmolLM2."""
    picked = []
    for file, types in (("gemma-3-270m-q4_k_m.gguf", [Q.Q4_K, Q.Q6_K]),
                        ("SmolLM2-135M-Instruct.Q4_1.gguf", [Q.Q4_1])):
        path = os.path.join(models, file)
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: run tools/fetch-models.sh all")
        reader = GGUFReader(path)
        for qtype in types:
            t = min((t for t in reader.tensors if t.tensor_type == qtype), key=lambda t: t.n_bytes)
            picked.append((f"real.{qtype.name.lower()}.{t.name}", np.array(t.data), qtype))
    return picked


def write_all_types(out, rng, models):
    path = os.path.join(out, "all_types.gguf")
    writer = GGUFWriter(path, arch="llama")
    want = add_metadata(writer, rng)
    writer.add_tensor("f32.matrix", (rng.standard_normal((3, 40)) * 2).astype(np.float32))
    writer.add_tensor("f32.vector", rng.standard_normal(17).astype(np.float32))
    writer.add_tensor("f32.cube", rng.standard_normal((2, 3, 5)).astype(np.float32))
    writer.add_tensor("f16.matrix", (rng.standard_normal((5, 24)) * 100).astype(np.float16))
    bf16 = quantize((rng.standard_normal((4, 33)) * 1e3).astype(np.float32), Q.BF16)
    writer.add_tensor("bf16.matrix", bf16, raw_dtype=Q.BF16)
    for qtype in QUANTIZABLE:
        values = (rng.standard_normal((4, 96)) * 0.05).astype(np.float32)
        writer.add_tensor(f"quantized.{qtype.name.lower()}", quantize(values, qtype), raw_dtype=qtype)
    for qtype in HALF_FIELDS:
        block = GGML_QUANT_SIZES[qtype][0]
        cols = 2 * block if block > 32 else 4 * block
        writer.add_tensor(f"random.{qtype.name.lower()}", random_blocks(rng, qtype, 3, cols),
                          raw_dtype=qtype)
    # A type gguf quantizes but Hone does not convert: the reader must still place it.
    tq2_0 = quantize(rng.standard_normal((2, 256)).astype(np.float32), Q.TQ2_0)
    writer.add_tensor("unsupported.tq2_0", tq2_0, raw_dtype=Q.TQ2_0)
    for name, data, qtype in real_tensors(models):
        writer.add_tensor(name, data, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return want


def write_aligned(out, rng):
    path = os.path.join(out, "aligned64.gguf")
    writer = GGUFWriter(path, arch="llama")
    writer.add_custom_alignment(64)
    writer.add_uint32("llama.block_count", 2)
    writer.add_tensor("odd.f32", rng.standard_normal((3, 7)).astype(np.float32))
    writer.add_tensor("odd.q8_0", quantize(rng.standard_normal((1, 32)).astype(np.float32), Q.Q8_0),
                      raw_dtype=Q.Q8_0)
    writer.add_tensor("odd.f16", rng.standard_normal(5).astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write(out):
    rng = np.random.default_rng(20261130)
    models = os.environ.get("HONE_MODELS", os.path.expanduser("~/.cache/hone/models"))
    want = write_all_types(out, rng, models)
    write_aligned(out, rng)
    expected = os.path.join(out, "expected")
    os.makedirs(expected, exist_ok=True)
    for name in ("all_types", "aligned64"):
        seen = describe_file(os.path.join(out, name + ".gguf"), os.path.join(expected, name + ".json"),
                             os.path.join(expected, name))
        if name == "all_types":
            got = {m["key"]: m["value"] for m in seen}
            for key, value in want.items():
                if got.get(key) != value:
                    raise AssertionError(f"gguf reads {key} as {got.get(key)}, wrote {value}")
    print("gguf wrote all_types.gguf and aligned64.gguf")


def write_seeds(out):
    """Small files (under libFuzzer's 4096-byte max_len) for tests/fuzz/seeds/gguf."""
    rng = np.random.default_rng(20261201)
    os.makedirs(out, exist_ok=True)

    def finish(writer):
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

    # A partial (tiny) Llama with a SentencePiece-style vocabulary: the transformers view
    # (gguf_model.c) reads its config and refuses its tensors; model_*.gguf are complete.
    writer = GGUFWriter(os.path.join(out, "tiny_llama.gguf"), arch="llama")
    writer.add_context_length(64)
    writer.add_embedding_length(32)
    writer.add_block_count(1)
    writer.add_feed_forward_length(32)
    writer.add_head_count(2)
    writer.add_head_count_kv(1)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_token_list(["<s>", "</s>", "▁a", "b", "<0x0A>"])
    writer.add_key_value("tokenizer.ggml.scores", [0.0, -1.5, -2.0, -3.25, -4.0], V.ARRAY, V.FLOAT32)
    writer.add_key_value("tokenizer.ggml.token_type", [3, 3, 1, 1, 6], V.ARRAY, V.INT32)
    writer.add_bos_token_id(0)
    writer.add_tensor("token_embd.weight", rng.standard_normal((5, 32)).astype(np.float32))
    q = quantize(rng.standard_normal((32, 32)).astype(np.float32), Q.Q8_0)
    writer.add_tensor("blk.0.attn_q.weight", q, raw_dtype=Q.Q8_0)
    writer.add_tensor("blk.0.attn_k.weight", rng.standard_normal((16, 32)).astype(np.float16))
    writer.add_tensor("output_norm.weight", rng.standard_normal(32).astype(np.float32))
    finish(writer)

    writer = GGUFWriter(os.path.join(out, "all_values.gguf"), arch="test")
    add_metadata(writer, rng)
    finish(writer)

    writer = GGUFWriter(os.path.join(out, "quant_blocks.gguf"), arch="test")
    for qtype in HALF_FIELDS:
        block = GGML_QUANT_SIZES[qtype][0]
        writer.add_tensor(qtype.name.lower(), random_blocks(rng, qtype, 1, block), raw_dtype=qtype)
    bf16 = quantize(rng.standard_normal(8).astype(np.float32), Q.BF16)
    writer.add_tensor("bf16", bf16, raw_dtype=Q.BF16)
    finish(writer)

    writer = GGUFWriter(os.path.join(out, "aligned64.gguf"), arch="test")
    writer.add_custom_alignment(64)
    writer.add_tensor("a", rng.standard_normal(3).astype(np.float32))
    writer.add_tensor("b", rng.standard_normal(5).astype(np.float16))
    finish(writer)

    writer = GGUFWriter(os.path.join(out, "empty.gguf"), arch="test")
    finish(writer)
    write_model_seeds(out)
    for name in sorted(os.listdir(out)):
        size = os.path.getsize(os.path.join(out, name))
        assert size <= 4096, (name, size)
        print(f"{name}: {size} bytes")


# --- The Hugging Face view of GGUF files (engine/gguf_model.c, model_dir). ------------------
# The reference is transformers' own GGUF loading: AutoConfig.from_pretrained(gguf_file=...)
# for the config, and modeling_gguf_pytorch_utils.load_gguf_checkpoint (gguf's dequantize,
# then the architecture's TensorProcessor: LlamaTensorProcessor undoes llama.cpp's Q/K
# permutation) with get_gguf_hf_weights_map for the names.

CONFIG_FIELDS = ["model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                 "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
                 "rms_norm_eps", "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id"]


def transformers_load(path):
    """transformers' config, a model of its class (on the meta device: only the parameter
    names are needed), the GGUF -> transformers name map and the tensors load_gguf_checkpoint
    gives for that model."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import (TENSOR_PROCESSORS, TensorProcessor,
                                                          get_gguf_hf_weights_map,
                                                          load_gguf_checkpoint)

    folder, name = os.path.split(os.path.abspath(path))
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    # transformers' GGUF config mappings never set attention_bias or mlp_bias, so a Llama or
    # Qwen3 file with bias tensors loads without them (they are dropped); llama.cpp runs them,
    # and so does Hone: the reference model gets the biases the file has.
    names = {t.name for t in GGUFReader(path).tensors}
    if "blk.0.attn_q.bias" in names and hasattr(config, "attention_bias"):
        config.attention_bias = True
    if "blk.0.ffn_gate.bias" in names and hasattr(config, "mlp_bias"):
        config.mlp_bias = True
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    parsed = load_gguf_checkpoint(path, return_tensors=True, model_to_load=model)
    architecture = GGUFReader(path).fields["general.architecture"].contents()
    processor = TENSOR_PROCESSORS.get(architecture, TensorProcessor)(config=parsed["config"])
    to_hf = get_gguf_hf_weights_map(model, processor)
    return config, model, to_hf, parsed["tensors"]


def describe_hf(path, out_json, f32_dir=None):
    config, model, to_hf, tensors = transformers_load(path)
    settings = config.to_dict()
    want = {k: settings.get(k) for k in CONFIG_FIELDS}
    attention = model.model.layers[0].self_attn
    want["architecture"] = type(model).__name__
    want["head_dim"] = attention.head_dim
    want["attention_bias"] = attention.q_proj.bias is not None
    want["o_proj_bias"] = attention.o_proj.bias is not None
    want["mlp_bias"] = model.model.layers[0].mlp.gate_proj.bias is not None
    want["qk_norm"] = hasattr(attention, "q_norm")
    want["sliding_window"] = getattr(config, "sliding_window", None) is not None
    want["rope_theta"] = config.rope_parameters["rope_theta"]
    want["rope_type"] = config.rope_parameters["rope_type"]
    weights = []
    if f32_dir is not None:
        os.makedirs(f32_dir, exist_ok=True)
    for index, t in enumerate(GGUFReader(path).tensors):
        name = to_hf.get(t.name)
        if name is None or name not in tensors:
            raise SystemExit(f"{path}: transformers' loader drops tensor {t.name}")
        values = np.ascontiguousarray(tensors[name].float().numpy(), dtype=np.float32)
        f32 = values.tobytes()
        weights.append({"gguf": t.name, "name": name, "shape": list(values.shape),
                        "f32_sha256": hashlib.sha256(f32).hexdigest(),
                        "head": [int(b) for b in values.reshape(-1)[:16].view(np.uint32)]})
        if f32_dir is not None:
            with open(os.path.join(f32_dir, f"{index}.f32"), "wb") as f:
                f.write(f32)
    with open(out_json, "w") as f:
        json.dump({"config": want, "weights": weights}, f)


def llama_cpp_permute(weights, n_head):
    """What llama.cpp's convert_hf_to_gguf.py (LlamaModel.permute) does to q_proj and k_proj:
    the two rotary halves of each head are interleaved row by row."""
    rows = weights.shape[0]
    return (weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


# Tiny random models, one per architecture Hone reads, shaped like their families: Llama with
# grouped KV heads, q/k/v/o biases (transformers drops those, see above) and an untied head;
# Qwen2.5 with q/k/v biases and tied embeddings; Qwen3 with q/k norms, head_dim 128 apart from
# hidden / heads, and an untied head. `converter` is what llama.cpp's convert_hf_to_gguf.py
# adds to TextModel's metadata for that class (LlamaModel: vocab_size, rope.dimension_count;
# a config with head_dim: attention.key_length and value_length) and whether it permutes Q/K.
TINY_MODELS = {
    "llama": dict(seed=20261202, hidden=64, ffn=96, heads=4, kv_heads=2, head_dim=16, layers=2,
                  tied=False, qkv_bias=True, o_bias=True, qk_norm=False, theta=500000.0, eps=1e-5,
                  context=256, pre="smollm", converter={"permute", "vocab_size", "rope_dim"}),
    "qwen2": dict(seed=20261203, hidden=64, ffn=96, heads=4, kv_heads=2, head_dim=16, layers=2,
                  tied=True, qkv_bias=True, o_bias=False, qk_norm=False, theta=1000000.0, eps=1e-6,
                  context=512, pre="qwen2", converter=set()),
    "qwen3": dict(seed=20261204, hidden=64, ffn=96, heads=2, kv_heads=1, head_dim=128, layers=2,
                  tied=False, qkv_bias=False, o_bias=False, qk_norm=True, theta=1000000.0,
                  eps=1e-6, context=512, pre="qwen2", converter={"head_dim"}),
}


def tiny_vocab():
    """A byte-level BPE vocabulary as llama.cpp's _set_vocab_gpt2 writes one: tokens, types
    (1 normal, 3 control), merges."""
    tokens = [chr(c) for c in range(ord("a"), ord("z") + 1)] + \
             [chr(c) for c in range(ord("A"), ord("Z") + 1)] + list("0123") + ["Ġ"]
    merges = ["Ġ t", "h e", "Ġt he", "i n"]
    tokens += [m.replace(" ", "") for m in merges]
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    types = [1] * len(tokens) + [3] * len(specials)
    return tokens + specials, types, merges


def tiny_hf_weights(spec, rng, vocab):
    """Random weights under transformers' names, in transformers' layout."""
    hidden, ffn, layers = spec["hidden"], spec["ffn"], spec["layers"]
    q, kv = spec["heads"] * spec["head_dim"], spec["kv_heads"] * spec["head_dim"]
    hf = {"model.embed_tokens.weight": rng.standard_normal((vocab, hidden))}
    modules = {"input_layernorm": (hidden,), "self_attn.q_proj": (q, hidden),
               "self_attn.k_proj": (kv, hidden), "self_attn.v_proj": (kv, hidden),
               "self_attn.o_proj": (hidden, q), "post_attention_layernorm": (hidden,),
               "mlp.gate_proj": (ffn, hidden), "mlp.up_proj": (ffn, hidden),
               "mlp.down_proj": (hidden, ffn)}
    if spec["qk_norm"]:
        modules.update({"self_attn.q_norm": (spec["head_dim"],), "self_attn.k_norm": (spec["head_dim"],)})
    biased = (["q_proj", "k_proj", "v_proj"] if spec["qkv_bias"] else []) + \
             (["o_proj"] if spec["o_bias"] else [])
    for i in range(layers):
        for module, shape in modules.items():
            scale = 1 + 0.1 * rng.standard_normal(shape) if len(shape) == 1 else 0.1 * rng.standard_normal(shape)
            hf[f"model.layers.{i}.{module}.weight"] = scale
        for module in biased:
            rows = hf[f"model.layers.{i}.self_attn.{module}.weight"].shape[0]
            hf[f"model.layers.{i}.self_attn.{module}.bias"] = rng.standard_normal(rows)
    hf["model.norm.weight"] = 1 + 0.1 * rng.standard_normal(hidden)
    if not spec["tied"]:
        hf["lm_head.weight"] = rng.standard_normal((vocab, hidden))
    return {name: value.astype(np.float32) for name, value in hf.items()}


def write_converted(path, arch, spec, rng, vocab, storage, extra=None):
    """A random model of `arch` shaped by `spec`, written the way llama.cpp's converter writes
    one: gguf-py's tensor names for the architecture, TextModel's metadata and the class's
    own, Q/K rows permuted for Llama only, the tokenizer as _set_vocab_gpt2 writes it (vocab:
    tokens ending in <|endoftext|>, <|im_start|>, <|im_end|>; types; merges) and a ChatML
    template. storage(name, value) picks each tensor's ggml type; extra(writer), when given,
    adds to the file. Returns the HF weights and the GGUF -> HF names of the tensors stored
    exactly (F32)."""
    from gguf import MODEL_ARCH_NAMES, get_tensor_name_map
    tokens, types, merges = vocab
    hf = tiny_hf_weights(spec, rng, len(tokens))
    model_arch = next(k for k, v in MODEL_ARCH_NAMES.items() if v == arch)
    table = get_tensor_name_map(model_arch, spec["layers"])
    writer = GGUFWriter(path, arch=arch)
    writer.add_name(f"Tiny {arch}")
    writer.add_block_count(spec["layers"])
    writer.add_context_length(spec["context"])
    writer.add_embedding_length(spec["hidden"])
    writer.add_feed_forward_length(spec["ffn"])
    writer.add_head_count(spec["heads"])
    writer.add_head_count_kv(spec["kv_heads"])
    writer.add_rope_freq_base(spec["theta"])
    writer.add_layer_norm_rms_eps(spec["eps"])
    if "head_dim" in spec["converter"]:
        writer.add_key_length(spec["head_dim"])
        writer.add_value_length(spec["head_dim"])
    writer.add_file_type(7)  # MOSTLY_Q8_0
    if "vocab_size" in spec["converter"]:
        writer.add_vocab_size(len(tokens))
    if "rope_dim" in spec["converter"]:
        writer.add_rope_dimension_count(spec["head_dim"])
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(spec["pre"])
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    if merges:
        writer.add_token_merges(merges)
    writer.add_bos_token_id(len(tokens) - 3)
    writer.add_eos_token_id(len(tokens) - 1)
    writer.add_pad_token_id(len(tokens) - 3)
    writer.add_add_bos_token(False)
    writer.add_chat_template("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
                             "<|im_end|>\n{% endfor %}")
    stored_exactly = {}
    for name, value in hf.items():
        if "permute" in spec["converter"]:
            if name.endswith(("q_proj.weight", "q_proj.bias")):
                value = llama_cpp_permute(value, spec["heads"])
            elif name.endswith(("k_proj.weight", "k_proj.bias")):
                value = llama_cpp_permute(value, spec["kv_heads"])
        qtype = storage(name, value)
        gguf_name = table.get_name(name, try_suffixes=(".weight", ".bias"))
        assert gguf_name is not None, name
        if qtype == Q.F32:
            writer.add_tensor(gguf_name, value)
            stored_exactly[gguf_name] = name
        elif qtype == Q.F16:
            writer.add_tensor(gguf_name, value.astype(np.float16))
        else:
            writer.add_tensor(gguf_name, quantize(value, qtype), raw_dtype=qtype)
    if extra is not None:
        extra(writer)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return hf, stored_exactly


def write_tiny(out, arch):
    """TINY_MODELS[arch] with layer 0 stored as F32 (so transformers must give its weights back
    exactly) and the rest in mixed types; checked against transformers' loader on the way."""
    spec = TINY_MODELS[arch]
    path = os.path.join(out, f"tiny_{arch}.gguf")
    mixed = [Q.F16, Q.Q8_0, Q.Q4_0, Q.Q5_1, Q.BF16, Q.F32]
    order = []

    def storage(name, value):
        order.append(name)
        if value.ndim == 1 or name.startswith("model.layers.0."):
            return Q.F32
        return mixed[len(order) % len(mixed)]

    hf, stored_exactly = write_converted(path, arch, spec, np.random.default_rng(spec["seed"]),
                                         tiny_vocab(), storage)
    # transformers' loader must give back the HF weights of the exactly stored tensors: the
    # names, the (un)permutation and the config's head counts are as llama.cpp's would be.
    _, _, to_hf, tensors = transformers_load(path)
    for gguf_name, name in stored_exactly.items():
        assert to_hf[gguf_name] == name, (gguf_name, to_hf[gguf_name], name)
        assert np.array_equal(tensors[name].numpy(), hf[name]), name
    return path


def write_model_seeds(out):
    """Complete models of each architecture small enough for the fuzzer's seed corpus
    (vectors F32, matrices F16, 5 tokens), so it reaches the tensors of a model that loads."""
    rng = np.random.default_rng(20261205)
    vocab = (["a", "b", "<|endoftext|>", "<|im_start|>", "<|im_end|>"], [1, 1, 3, 3, 3], [])
    for arch, spec in TINY_MODELS.items():
        small = dict(spec, hidden=8, ffn=8, heads=2, kv_heads=1, head_dim=4, layers=1)
        write_converted(os.path.join(out, f"model_{arch}.gguf"), arch, small, rng, vocab,
                        lambda name, value: Q.F32 if value.ndim == 1 else Q.F16)


# RoPE scaling as llama.cpp's converter writes it: LlamaModel's llama3 frequency factors
# (generate_extra_tensors) and linear type + factor, Qwen2Model's YaRN type, factor and
# original context. transformers' GGUF loader reads none of it for these architectures.
ROPE_SCALED = {
    "llama3": ("llama", lambda w: w.add_tensor(
        "rope_freqs.weight", np.linspace(1, 8, 8, dtype=np.float32))),
    "linear": ("llama", lambda w: (w.add_rope_scaling_type(RopeScalingType.LINEAR),
                                   w.add_rope_scaling_factor(4.0))),
    "yarn": ("qwen2", lambda w: (w.add_rope_scaling_type(RopeScalingType.YARN),
                                 w.add_rope_scaling_factor(4.0),
                                 w.add_rope_scaling_orig_ctx_len(128))),
}


def write_rope_scaled(out, expected):
    """One small file per kind of RoPE scaling, and what transformers makes of it: its
    rope_type, and whether any of its parameters takes the frequency factors."""
    for kind, (arch, extra) in ROPE_SCALED.items():
        spec = dict(TINY_MODELS[arch], hidden=32, ffn=32, heads=2, kv_heads=1, head_dim=16, layers=1)
        path = os.path.join(out, f"rope_{kind}.gguf")
        write_converted(path, arch, spec, np.random.default_rng(20261206), tiny_vocab(),
                        lambda name, value: Q.F32, extra)
        config, _, to_hf, _ = transformers_load(path)
        with open(os.path.join(expected, f"rope_{kind}.json"), "w") as f:
            json.dump({"rope_type": config.rope_parameters["rope_type"],
                       "rope_freqs_loaded": "rope_freqs.weight" in to_hf}, f)


def hf_write(out):
    expected = os.path.join(out, "expected")
    os.makedirs(expected, exist_ok=True)
    for arch in TINY_MODELS:
        path = write_tiny(out, arch)
        describe_hf(path, os.path.join(expected, f"tiny_{arch}.json"),
                    os.path.join(expected, f"tiny_{arch}"))
    write_rope_scaled(out, expected)
    print("gguf wrote " + ", ".join(f"tiny_{arch}.gguf" for arch in TINY_MODELS) +
          ", " + ", ".join(f"rope_{kind}.gguf" for kind in ROPE_SCALED) +
          "; transformers described them")


def hf_describe(path, out):
    os.makedirs(out, exist_ok=True)
    describe_hf(path, os.path.join(out, "expected.json"))
    print(f"transformers described {path}")


def describe(path, out):
    os.makedirs(out, exist_ok=True)
    describe_file(path, os.path.join(out, "expected.json"))
    print(f"gguf described {path}")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    elif sys.argv[1] == "seeds":
        write_seeds(sys.argv[2])
    elif sys.argv[1] == "describe":
        describe(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "hf-write":
        hf_write(sys.argv[2])
    elif sys.argv[1] == "hf-describe":
        hf_describe(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown command {sys.argv[1]}")
