"""Reference side of the PEFT adapter test: peft writes adapters that Hone reads, and loads the
adapters that Hone writes.

  peft_adapter_ref.py write DIR
    Saves tiny random Llama and Qwen2 models (transformers, from a config) as DIR/base-llama and
    DIR/base-qwen2, and LoRA adapters for them made by peft (get_peft_model + save_pretrained)
    as DIR/cases/NAME, with lora_B, DoRA magnitudes and modules_to_save weights set to random
    non-zero values. DIR/cases.json lists each case with the config fields Hone must read and
    the scaling peft's layers use; DIR/cases/NAME/expected.safetensors holds every tensor of
    the adapter converted to fp32 by torch. DIR/bases.json gives each base model's linear
    modules ({name: [out, in]}) and its parameter shapes.

  peft_adapter_ref.py check LIST.json
    LIST.json (written by the C test) lists adapters Hone wrote: {"folder", "base", "dtype",
    "config": {...}, "scaling", "tensors": {peft name: {"shape", "values"}}}. For each, peft's
    PeftModel.from_pretrained loads the folder onto the base model; its state dict
    (get_peft_model_state_dict) must equal Hone's values exactly (rounded to bf16 when Hone
    wrote bf16), its config and scaling Hone's, and adapter_config.json must have the key set,
    the defaults and the formatting of a config that peft saves. Exits 1 with a message on the
    first difference."""
import json
import math
import os
import sys
import tempfile
import warnings

import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers.utils import logging as transformers_logging
from transformers import (AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)

warnings.filterwarnings("ignore")
transformers_logging.disable_progress_bar()
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SIZES = dict(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2)

# name, base, dtype, LoraConfig arguments
CASES = [
    ("llama-r4", "llama", "float32", dict(r=4, lora_alpha=8, target_modules=ALL_LINEAR)),
    ("llama-r4-bf16", "llama", "bfloat16", dict(r=4, lora_alpha=16, target_modules=ALL_LINEAR,
                                                lora_dropout=0.05)),
    ("llama-rslora", "llama", "float32", dict(r=4, lora_alpha=16, use_rslora=True,
                                              target_modules=["q_proj", "v_proj"])),
    ("llama-rslora-bf16", "llama", "bfloat16", dict(r=4, lora_alpha=7, use_rslora=True,
                                                    target_modules=["q_proj", "v_proj"])),
    ("llama-dora", "llama", "float32", dict(r=4, lora_alpha=8, use_dora=True,
                                            target_modules=["q_proj", "down_proj"])),
    ("llama-dora-lm-head-bf16", "llama", "bfloat16",
     dict(r=4, lora_alpha=8, use_dora=True, target_modules=["k_proj", "o_proj"],
          modules_to_save=["lm_head"])),
    ("llama-lm-head", "llama", "float32", dict(r=4, lora_alpha=8, target_modules=ALL_LINEAR,
                                               modules_to_save=["lm_head"])),
    ("llama-regex-fp16", "llama", "float16",
     dict(r=2, lora_alpha=4, target_modules=r".*\.(q|v)_proj", init_lora_weights="gaussian")),
    ("qwen2-r4", "qwen2", "float32", dict(r=4, lora_alpha=8, target_modules=ALL_LINEAR)),
    ("qwen2-r4-bf16", "qwen2", "bfloat16", dict(r=4, lora_alpha=32, target_modules=ALL_LINEAR)),
    ("qwen2-dora-embed", "qwen2", "float32", dict(r=4, lora_alpha=8, use_dora=True,
                                                  target_modules=["q_proj", "up_proj"],
                                                  modules_to_save=["embed_tokens"])),
    ("qwen2-tied-embed-bf16", "qwen2", "bfloat16",
     dict(r=4, lora_alpha=8, target_modules=["v_proj"], modules_to_save=["embed_tokens"],
          ensure_weight_tying=True)),
    ("qwen2-embed-bf16", "qwen2", "bfloat16", dict(r=4, lora_alpha=8, use_rslora=True,
                                                   target_modules=ALL_LINEAR,
                                                   modules_to_save=["embed_tokens"])),
]


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def make_bases(out):
    torch.manual_seed(1234)
    models = {"llama": LlamaForCausalLM(LlamaConfig(**SIZES, tie_word_embeddings=False)),
              "qwen2": Qwen2ForCausalLM(Qwen2Config(**SIZES, tie_word_embeddings=True))}
    bases = {}
    for name, model in models.items():
        folder = os.path.join(out, "base-" + name)
        model.save_pretrained(folder)
        linears = {k: list(m.weight.shape) for k, m in model.named_modules()
                   if isinstance(m, torch.nn.Linear)}
        params = {k: list(p.shape) for k, p in model.named_parameters()}
        bases[name] = {"folder": folder, "linears": linears, "params": params}
    with open(os.path.join(out, "bases.json"), "w") as f:
        json.dump(bases, f, indent=1)
    return bases


def randomize(model):
    """Every trainable tensor (lora_A, lora_B, magnitudes, modules_to_save copies) random."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.copy_(torch.randn_like(p) * 0.25 + (1.0 if "magnitude" in name else 0.0))


def first_scaling(model):
    for module in model.modules():
        scaling = getattr(module, "scaling", None)
        if isinstance(scaling, dict) and "default" in scaling:
            return scaling["default"]
    fail("no LoRA layer found")


def write(out):
    bases = make_bases(out)
    cases = []
    for i, (name, base, dtype, kwargs) in enumerate(CASES):
        torch.manual_seed(100 + i)
        model = AutoModelForCausalLM.from_pretrained(bases[base]["folder"], dtype=torch.float32)
        peft_model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **kwargs))
        randomize(peft_model)
        peft_model.to(getattr(torch, dtype))
        folder = os.path.join(out, "cases", name)
        peft_model.save_pretrained(folder)
        tensors = load_file(os.path.join(folder, "adapter_model.safetensors"))
        save_file({k: v.float().contiguous() for k, v in tensors.items()},
                  os.path.join(folder, "expected.safetensors"))
        with open(os.path.join(folder, "adapter_config.json")) as f:
            saved = json.load(f)
        target = saved["target_modules"]
        cases.append({
            "name": name, "folder": folder, "base": base, "dtype": dtype,
            "r": saved["r"], "lora_alpha": saved["lora_alpha"],
            "lora_dropout": saved["lora_dropout"], "use_rslora": saved["use_rslora"],
            "use_dora": saved["use_dora"], "ensure_weight_tying": saved["ensure_weight_tying"],
            "target_modules": sorted(target) if isinstance(target, list) else None,
            "target_modules_regex": target if isinstance(target, str) else None,
            "modules_to_save": saved["modules_to_save"],
            "base_model_name_or_path": saved["base_model_name_or_path"],
            "init_lora_weights": json.dumps(saved["init_lora_weights"]).strip('"'),
            "peft_version": saved["peft_version"],
            "scaling": first_scaling(peft_model), "n_tensors": len(tensors)})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"cases": cases}, f, indent=1)
    print(f"{len(cases)} adapters saved by peft")


def peft_saved_config(base_folder):
    """adapter_config.json as peft saves it for a default LoraConfig on this base."""
    model = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM",
                                                  target_modules=["q_proj"]))
    with tempfile.TemporaryDirectory() as tmp:
        peft_model.save_pretrained(tmp)
        with open(os.path.join(tmp, "adapter_config.json")) as f:
            return json.load(f)


# Keys whose values come from the adapter; every other key must have peft's saved default.
# peft_version is not among them: Hone writes the release whose key set it follows, which must
# be the installed peft's.
ADAPTER_KEYS = {"base_model_name_or_path", "ensure_weight_tying", "init_lora_weights",
                "lora_alpha", "lora_dropout", "modules_to_save", "r", "target_modules",
                "use_dora", "use_rslora"}


def check_config_file(entry, reference):
    path = os.path.join(entry["folder"], "adapter_config.json")
    with open(path) as f:
        text = f.read()
    saved = json.loads(text)
    if text != json.dumps(saved, indent=2, sort_keys=True):
        fail(f"{path}: not formatted as peft writes it (json.dumps indent=2, sort_keys)")
    if set(saved) != set(reference):
        fail(f"{path}: keys differ from peft's: missing {sorted(set(reference) - set(saved))}, "
             f"extra {sorted(set(saved) - set(reference))}")
    for key, value in reference.items():
        if key not in ADAPTER_KEYS and saved[key] != value:
            fail(f"{path}: {key} is {saved[key]!r}, peft writes {value!r}")
    want = entry["config"]
    for key in ["r", "lora_alpha", "lora_dropout", "use_rslora", "use_dora", "modules_to_save",
                "base_model_name_or_path", "ensure_weight_tying"]:
        if saved[key] != want[key]:
            fail(f"{path}: {key} is {saved[key]!r}, Hone meant {want[key]!r}")
    # peft writes its int fields as integers and lora_dropout as a float
    for key in ["r", "lora_alpha"]:
        if float(saved[key]).is_integer() and not isinstance(saved[key], int):
            fail(f"{path}: {key} is {saved[key]!r}; peft writes an integral value as an integer")
    if not isinstance(saved["lora_dropout"], float):
        fail(f"{path}: lora_dropout is {saved['lora_dropout']!r}; peft writes a float")


def check_loaded(entry, peft_model):
    folder = entry["folder"]
    config = peft_model.peft_config["default"]
    want = entry["config"]
    for key in ["r", "lora_alpha", "lora_dropout", "use_rslora", "use_dora",
                "base_model_name_or_path", "ensure_weight_tying"]:
        if getattr(config, key) != want[key]:
            fail(f"{folder}: peft reads {key} = {getattr(config, key)!r}, Hone wrote {want[key]!r}")
    targets = config.target_modules
    targets = sorted(targets) if not isinstance(targets, str) else targets
    want_targets = want["target_modules"]
    if targets != (sorted(want_targets) if isinstance(want_targets, list) else want_targets):
        fail(f"{folder}: peft reads target_modules {targets!r}, Hone wrote {want_targets!r}")
    if first_scaling(peft_model) != entry["scaling"]:
        fail(f"{folder}: peft's scaling {first_scaling(peft_model)!r}, Hone's {entry['scaling']!r}")

    state = get_peft_model_state_dict(peft_model)
    expected = entry["tensors"]
    if set(state) != set(expected):
        fail(f"{folder}: peft's state dict has {sorted(set(state) - set(expected))[:5]} beyond "
             f"Hone's tensors and lacks {sorted(set(expected) - set(state))[:5]}")
    file_dtype = {"F32": torch.float32, "BF16": torch.bfloat16}[entry["dtype"]]
    with safe_open(os.path.join(folder, "adapter_model.safetensors"), "pt") as f:
        if f.metadata() != {"format": "pt"}:
            fail(f"{folder}: metadata {f.metadata()!r}, peft writes {{'format': 'pt'}}")
        for name in f.keys():
            if f.get_slice(name).get_dtype() != entry["dtype"]:
                fail(f"{folder}: {name} stored as {f.get_slice(name).get_dtype()}")
    for name, t in expected.items():
        want_tensor = torch.tensor(t["values"], dtype=torch.float32).reshape(t["shape"])
        want_tensor = want_tensor.to(file_dtype).float()
        got = state[name].float()
        if got.shape != want_tensor.shape or not torch.equal(got, want_tensor):
            fail(f"{folder}: {name}: peft loaded {tuple(got.shape)} "
                 f"{got.flatten()[:4].tolist()}..., Hone wrote {tuple(want_tensor.shape)} "
                 f"{want_tensor.flatten()[:4].tolist()}...")


def check(list_path):
    with open(list_path) as f:
        entries = json.load(f)["adapters"]
    references = {}
    for entry in entries:
        base = entry["base"]
        if base not in references:
            references[base] = peft_saved_config(base)
        check_config_file(entry, references[base])
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        peft_model = PeftModel.from_pretrained(model, entry["folder"])
        check_loaded(entry, peft_model)
    print(f"peft loaded {len(entries)} adapters written by Hone; every tensor equal")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        fail(__doc__)
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
