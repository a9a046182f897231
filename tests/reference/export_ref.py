"""Reference side of `hone export` (test_export.c): tiny random models with random PEFT adapters,
and the checks of what Hone exported, done by transformers, peft, the gguf package and
LLaMA-Factory.

  export_ref.py make OUT
      OUT/<case>/model (fp32 save_pretrained), OUT/<case>/adapter (PEFT save_pretrained) and
      OUT/<case>/expected.safetensors {input_ids int32 [2, 20], logits float32 [2, 20, V]}: the
      logits of PeftModel(base, adapter) in float32. Cases (model_ref.py's tiny Llama sizes,
      vocab 256, hidden 64, 3 layers, 4 heads, 2 kv heads, head_dim 16): lora (untied; r 4,
      alpha 8, every linear projection, lora_B 0.1 * randn), dora (the same with use_dora), tied
      (tie_word_embeddings, LoRA); lora2: a second adapter for the lora case (DoRA r 2 on q_proj,
      v_proj, lm_head in modules_to_save, made on lora's merged model), expected logits those of
      PeftModel(lora merged, lora2). And OUT/smollm/adapter: LoRA r 4 alpha 16 on q_proj, v_proj
      of SmolLM2-135M-Instruct as transformers loads its GGUF (MODELS/...Q4_1.gguf), lora_B
      0.02 * randn, with expected.safetensors for 12 random ids.
  export_ref.py check OUT CASE EXPORT_DIR MAX_SHARD_BYTES
      Loads EXPORT_DIR with AutoModelForCausalLM.from_pretrained, runs the case's input_ids and
      writes EXPORT_DIR.check.json: rel_error of its logits (in float32) against the expected
      ones, weights_rel_error: the largest max|a-b|/max|b| over the tensors against peft's
      merge_and_unload of the case's base + adapter (fp32); differing_fraction: the fraction of
      elements that differ from that merge rounded by torch to the export's dtype, and
      rounded_rel_error: the folder's logits against that rounded model's; the files' shard
      sizes, their dtypes, config.json's dtype, the index check and whether lm_head.weight was
      saved.
  export_ref.py gguf OUT CASE EXPORT_DIR GGUF_FILE
      Reads GGUF_FILE with gguf.GGUFReader and writes GGUF_FILE.check.json: metadata values,
      each tensor's type, the tensors whose bytes differ from what gguf-py makes of the fp32
      folder's tensor (llama.cpp's LlamaModel.permute on Q/K, then gguf.quants.quantize to the
      tensor's type: F32, F16, BF16, Q8_0), and the rel_error of transformers' own loading of the
      GGUF (from_pretrained(gguf_file=)) against the folder's logits (or its error message).
  export_ref.py modelfile MODEL TEMPLATE OUT_FILE
      LLaMA-Factory's get_template_and_fix_tokenizer + Template.get_ollama_modelfile with the
      tokenizer transformers loads from MODEL (a GGUF file), written to OUT_FILE.
  export_ref.py tokenizer GGUF_FILE EXPORT_DIR OUT_JSON
      transformers' tokenizer of the exported folder (AutoTokenizer.from_pretrained(EXPORT_DIR))
      against the one its GGUF loader builds from GGUF_FILE: ids of fixed texts (with and
      without special tokens), decoding them back, the special tokens and the chat template
      applied to a conversation; OUT_JSON lists every difference and the tokenizer class.
  export_ref.py gguf_tokenizer MODEL_DIR GGUF_FILE OUT_JSON
      llama.cpp's convert_hf_to_gguf.py --vocab-only on MODEL_DIR (the copy tests/setup-venv.sh
      unpacks from llama-cpp-python's sdist into the venv) against GGUF_FILE: every
      tokenizer.* key's value; OUT_JSON lists the keys that differ or are missing on one side."""
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llamafactory_env  # noqa: E402,F401

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

import model_ref  # noqa: E402

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CASES = {"lora": ({}, {}), "dora": ({}, {"use_dora": True}),
         "tied": ({"tie_word_embeddings": True}, {})}


def rel_error(got, want):
    got, want = got.double(), want.double()
    scale = want.abs().max().item()
    diff = (got - want).abs().max().item()
    return diff / scale if scale > 0 else diff


def save_expected(model, folder, input_ids):
    with torch.no_grad():
        logits = model(input_ids=input_ids, use_cache=False).logits.float()
    save_file({"input_ids": input_ids.int().contiguous(), "logits": logits.contiguous()},
              os.path.join(folder, "expected.safetensors"))


def randomize_lora_b(model, scale):
    with torch.no_grad():
        for name, param in model.named_parameters():
            if ".lora_B." in name:
                param.copy_(scale * torch.randn_like(param))


def make_tiny(out, index, name):
    extra, lora = CASES[name]
    torch.manual_seed(2000 + index)
    folder = os.path.join(out, name)
    model = model_ref.make_model("llama", extra)
    model.save_pretrained(os.path.join(folder, "model"))
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none",
                                             target_modules=model_ref.LORA_TARGETS,
                                             task_type="CAUSAL_LM", **lora))
    randomize_lora_b(model, 0.1)
    model.save_pretrained(os.path.join(folder, "adapter"))
    model.eval()
    save_expected(model, folder, torch.randint(0, model_ref.VOCAB, (2, 20)))


def make_second_adapter(out):
    """lora2: a DoRA adapter on q_proj and v_proj with lm_head in modules_to_save, made on the
    lora case's base with its adapter merged (as a second training run would start), to be
    merged after it."""
    torch.manual_seed(2100)
    folder = os.path.join(out, "lora2")
    first = merged_reference(out, "lora", None)
    model = get_peft_model(first, LoraConfig(
        r=2, lora_alpha=4, lora_dropout=0.0, bias="none", use_dora=True,
        target_modules=["q_proj", "v_proj"], modules_to_save=["lm_head"], task_type="CAUSAL_LM"))
    randomize_lora_b(model, 0.1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "modules_to_save" in name:
                param.add_(0.05 * torch.randn_like(param))
    model.save_pretrained(os.path.join(folder, "adapter"))
    model.eval()
    save_expected(model, folder, torch.randint(0, model_ref.VOCAB, (2, 20)))


def load_smollm(models):
    return AutoModelForCausalLM.from_pretrained(models, gguf_file=GGUF, dtype=torch.float32,
                                                attn_implementation="eager")


def make_smollm(out, models):
    torch.manual_seed(3000)
    folder = os.path.join(out, "smollm")
    model = get_peft_model(load_smollm(models), LoraConfig(
        r=4, lora_alpha=16, lora_dropout=0.0, bias="none", target_modules=["q_proj", "v_proj"],
        task_type="CAUSAL_LM"))
    randomize_lora_b(model, 0.02)
    model.save_pretrained(os.path.join(folder, "adapter"))
    model.eval()
    save_expected(model, folder, torch.randint(0, 49152, (1, 12)))


def make_stacked(out):
    """stacked: the lora case's adapter and a second plain LoRA (rank 3, rsLoRA, other targets)
    made on the same base, both active at once without merging (LoraModel.set_adapter with a
    list: each layer adds every active adapter's term). Expected logits in float32."""
    from transformers import AutoModelForCausalLM
    torch.manual_seed(2200)
    folder = os.path.join(out, "stacked")
    base_dir = os.path.join(out, "lora", "model")
    second = get_peft_model(AutoModelForCausalLM.from_pretrained(base_dir), LoraConfig(
        r=3, lora_alpha=5, lora_dropout=0.0, bias="none", use_rslora=True,
        target_modules=["q_proj", "gate_proj", "up_proj"], task_type="CAUSAL_LM"))
    randomize_lora_b(second, 0.1)
    second.save_pretrained(os.path.join(folder, "adapter_b"))
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_dir),
                                      os.path.join(out, "lora", "adapter"), adapter_name="first")
    model.load_adapter(os.path.join(folder, "adapter_b"), adapter_name="second")
    model.base_model.set_adapter(["first", "second"])
    model.eval()
    save_expected(model, folder, torch.randint(0, model_ref.VOCAB, (2, 20)))


def make_llama3_tokenizer(out, models):
    """A tiny Llama with the real Llama 3 tokenizer.json (128,256 tokens) and a
    tokenizer_config.json in the style of Meta's: the GGUF tokenizer case."""
    import shutil
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(4000)
    folder = os.path.join(out, "llama3_tokenizer")
    config = LlamaConfig(vocab_size=128256, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                         bos_token_id=128000, eos_token_id=128009)
    LlamaForCausalLM(config).save_pretrained(folder)
    shutil.copy(os.path.join(models, "llama3-tokenizer.json"), os.path.join(folder, "tokenizer.json"))
    template = ("{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
                "<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}")
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as fh:
        json.dump({"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
                   "add_prefix_space": False, "chat_template": template,
                   "clean_up_tokenization_spaces": True, "model_max_length": 131072,
                   "tokenizer_class": "PreTrainedTokenizerFast"}, fh)


def make(out, models):
    torch.set_num_threads(2)
    make_llama3_tokenizer(out, models)
    for index, name in enumerate(CASES):
        make_tiny(out, index, name)
    make_second_adapter(out)
    make_stacked(out)
    make_smollm(out, models)


def merged_reference(out, case, models):
    """The case's base with its adapters merged one after the other (LLaMA-Factory's
    init_adapter for a list: PeftModel.from_pretrained, merge_and_unload, for each)."""
    if case == "smollm":
        model = load_smollm(models)
    else:
        base = "lora" if case == "lora2" else case
        model = model_ref.load_model("llama", os.path.join(out, base, "model"))
    adapters = ["lora", "lora2"] if case == "lora2" else [case]
    for name in adapters:
        model = PeftModel.from_pretrained(model, os.path.join(out, name, "adapter"))
        model = model.merge_and_unload()
    return model


def shard_files(export_dir):
    return sorted(f for f in os.listdir(export_dir) if f.endswith(".safetensors"))


def check_index(export_dir, files):
    """Every tensor in exactly one shard, and the index says which."""
    where = {}
    for f in files:
        with safe_open(os.path.join(export_dir, f), "pt") as st:
            for key in st.keys():
                if key in where:
                    return f"{key} in {where[key]} and {f}"
                where[key] = f
    index_path = os.path.join(export_dir, "model.safetensors.index.json")
    if len(files) == 1 and not os.path.exists(index_path):
        return "ok" if files == ["model.safetensors"] else f"one shard named {files[0]}"
    with open(index_path) as fh:
        weight_map = json.load(fh)["weight_map"]
    if weight_map != where:
        return f"index {sorted(weight_map.items())} != files {sorted(where.items())}"
    return "ok"


def check(out, case, export_dir, max_shard_bytes, models):
    torch.set_num_threads(2)
    expected = load_file(os.path.join(out, case, "expected.safetensors"))
    model = AutoModelForCausalLM.from_pretrained(export_dir, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=expected["input_ids"].long(), use_cache=False).logits
    merged = merged_reference(out, case, models).state_dict()
    files = shard_files(export_dir)
    saved, dtypes = {}, set()
    for f in files:
        tensors = load_file(os.path.join(export_dir, f))
        saved.update(tensors)
        dtypes.update(str(t.dtype).replace("torch.", "") for t in tensors.values())
    weights_error = max(rel_error(saved[name].float(), merged[name].float()) for name in saved)
    # the same merge rounded to the export's dtype by torch (Tensor.to): the fraction of
    # elements that differ, and the logits of that model against the folder's
    dtype = next(iter(saved.values())).dtype
    differing = sum(int((saved[name] != merged[name].to(dtype)).sum()) for name in saved)
    total = sum(saved[name].numel() for name in saved)
    rounded = merged_reference(out, case, models)
    with torch.no_grad():
        for param in rounded.parameters():
            param.copy_(param.to(dtype).float())
        rounded_logits = rounded(input_ids=expected["input_ids"].long(), use_cache=False).logits
    with open(os.path.join(export_dir, "config.json")) as fh:
        config = json.load(fh)
    result = {
        "rel_error": rel_error(logits.float(), expected["logits"]),
        "weights_rel_error": weights_error,
        "differing_fraction": differing / total,
        "rounded_rel_error": rel_error(logits.float(), rounded_logits.float()),
        "missing": sorted(set(merged) - set(saved) - {"lm_head.weight"}),
        "has_lm_head": "lm_head.weight" in saved,
        "shard_sizes": [os.path.getsize(os.path.join(export_dir, f)) for f in files],
        "max_shard_bytes": int(max_shard_bytes),
        "dtypes": sorted(dtypes),
        "config_dtype": config.get("dtype"),
        "index": check_index(export_dir, files),
    }
    with open(export_dir.rstrip("/") + ".check.json", "w") as fh:
        json.dump(result, fh, indent=1)


def llama_permute(weights, n_head):
    """convert_hf_to_gguf.py LlamaModel.permute."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def gguf_value(field):
    import gguf
    if field.types and field.types[0] == gguf.GGUFValueType.ARRAY:
        return len(field.data)
    if field.types and field.types[0] == gguf.GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    return field.parts[field.data[0]].tolist()[0]


def check_gguf(out, case, export_dir, gguf_file, models):
    import gguf
    from gguf import quants
    torch.set_num_threads(2)
    reader = gguf.GGUFReader(gguf_file)
    metadata = {name: gguf_value(field) for name, field in reader.fields.items()
                if not name.startswith("GGUF.")}
    config = json.load(open(os.path.join(export_dir, "config.json")))
    folder = {}
    for f in shard_files(export_dir):
        folder.update(load_file(os.path.join(export_dir, f)))
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config["num_hidden_layers"])
    arch = metadata["general.architecture"]
    mismatched, types = [], {}
    for tensor in reader.tensors:
        types[tensor.name] = tensor.tensor_type.name
        hf_name = next((n for n in folder
                        if name_map.get_name(n, try_suffixes=(".weight", ".bias")) == tensor.name),
                       None)
        if hf_name is None:
            mismatched.append(tensor.name + " (no folder tensor)")
            continue
        data = folder[hf_name].float().numpy()
        if arch == "llama" and "self_attn.q_proj" in hf_name:
            data = llama_permute(data, config["num_attention_heads"])
        elif arch == "llama" and "self_attn.k_proj" in hf_name:
            data = llama_permute(data, config["num_key_value_heads"])
        want = quants.quantize(np.ascontiguousarray(data, dtype=np.float32), tensor.tensor_type)
        got = np.asarray(tensor.data)
        if want.tobytes() != got.tobytes():
            mismatched.append(tensor.name)
    expected = load_file(os.path.join(out, case, "expected.safetensors"))
    ids = expected["input_ids"].long()
    folder_model = AutoModelForCausalLM.from_pretrained(export_dir, dtype=torch.float32,
                                                        attn_implementation="eager")
    with torch.no_grad():
        folder_logits = folder_model(input_ids=ids, use_cache=False).logits
    try:
        gguf_model = AutoModelForCausalLM.from_pretrained(
            os.path.dirname(gguf_file), gguf_file=os.path.basename(gguf_file),
            dtype=torch.float32, attn_implementation="eager")
        with torch.no_grad():
            transformers_error = rel_error(gguf_model(input_ids=ids, use_cache=False).logits,
                                           folder_logits)
    except Exception as err:  # noqa: BLE001 - recorded, the C test decides
        transformers_error = f"{type(err).__name__}: {err}"
    result = {"metadata": metadata, "types": types, "mismatched": mismatched,
              "n_folder_tensors": len(folder), "transformers_rel_error": transformers_error}
    with open(gguf_file + ".check.json", "w") as fh:
        json.dump(result, fh, indent=1)


def modelfile(model, template, out_file):
    from llamafactory.data.template import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments
    tokenizer = AutoTokenizer.from_pretrained(os.path.dirname(model),
                                              gguf_file=os.path.basename(model))
    fixed = get_template_and_fix_tokenizer(tokenizer, DataArguments(template=template))
    with open(out_file, "w", encoding="utf-8") as fh:
        fh.write(fixed.get_ollama_modelfile(tokenizer))


TOKENIZER_TEXTS = [
    "Hello, world! How are you doing today?",
    "  leading spaces, trailing spaces   ",
    "Numbers: 1234567890 3.14159 and 12,345.",
    "Tabs\tand\nnew lines\r\n\n\nmany",
    "中文测试：你好，世界！",
    "Emoji 🙂🚀 and accents: café naïve Ærøskøbing",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>text after the end",
    "def f(x):\n    return x ** 2  # code",
    "",
]


def check_tokenizer(gguf_file, export_dir, out_json):
    got = AutoTokenizer.from_pretrained(export_dir)
    want = AutoTokenizer.from_pretrained(os.path.dirname(gguf_file),
                                         gguf_file=os.path.basename(gguf_file))
    differences = []
    for text in TOKENIZER_TEXTS:
        for special in (True, False):
            a = got(text, add_special_tokens=special)["input_ids"]
            b = want(text, add_special_tokens=special)["input_ids"]
            if a != b:
                differences.append({"text": text, "special": special, "got": a, "want": b})
            for skip in (True, False):
                da = got.decode(b, skip_special_tokens=skip)
                db = want.decode(b, skip_special_tokens=skip)
                if da != db:
                    differences.append({"decode": text, "skip": skip, "got": da, "want": db})
    for key in ("bos_token", "eos_token", "pad_token", "unk_token"):
        if getattr(got, key) != getattr(want, key):
            differences.append({key: [getattr(got, key), getattr(want, key)]})
    conversation = [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "What is 2+2?"},
                    {"role": "assistant", "content": "4"},
                    {"role": "user", "content": "And 3+3?"}]
    a = got.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    b = want.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    if a != b:
        differences.append({"chat_template": [a, b]})
    with open(out_json, "w") as fh:
        json.dump({"differences": differences, "class": type(got).__name__,
                   "vocab_size": len(got)}, fh, indent=1, ensure_ascii=False)


def gguf_tokenizer_keys(path):
    import gguf
    reader = gguf.GGUFReader(path)
    keys = {}
    for field in reader.fields.values():
        if field.name.startswith("tokenizer."):
            keys[field.name] = field.contents()
    return keys


def check_gguf_tokenizer(model_dir, gguf_file, out_json):
    import subprocess
    import tempfile
    converter = os.path.join(sys.prefix, "llama.cpp", "convert_hf_to_gguf.py")
    with tempfile.TemporaryDirectory() as tmp:
        want_file = os.path.join(tmp, "vocab.gguf")
        subprocess.run([sys.executable, converter, model_dir, "--vocab-only", "--outfile",
                        want_file], check=True, capture_output=True)
        want = gguf_tokenizer_keys(want_file)
    got = gguf_tokenizer_keys(gguf_file)
    differences = []
    for key in sorted(set(want) | set(got)):
        if key not in got or key not in want:
            differences.append({"key": key, "missing_in": "hone" if key not in got else "llama.cpp"})
        elif got[key] != want[key]:
            a, b = got[key], want[key]
            if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
                first = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
                differences.append({"key": key, "index": first, "hone": a[first], "llama.cpp": b[first]})
            else:
                differences.append({"key": key, "hone": str(a)[:200], "llama.cpp": str(b)[:200]})
    with open(out_json, "w") as fh:
        json.dump({"differences": differences, "keys": sorted(want),
                   "pre": want.get("tokenizer.ggml.pre")}, fh, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    models = os.environ.get("HONE_MODELS", os.path.expanduser("~/.cache/hone/models"))
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "make" and len(args) == 1:
        make(args[0], models)
    elif command == "check" and len(args) == 4:
        check(*args, models)
    elif command == "gguf" and len(args) == 4:
        check_gguf(*args, models)
    elif command == "modelfile" and len(args) == 3:
        modelfile(*args)
    elif command == "tokenizer" and len(args) == 3:
        check_tokenizer(*args)
    elif command == "gguf_tokenizer" and len(args) == 3:
        check_gguf_tokenizer(*args)
    else:
        sys.exit(__doc__)
