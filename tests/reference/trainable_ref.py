"""Reference side of the trainable-parameter selection test: LLaMA-Factory's init_adapter
(freeze tuning; LoRA through PEFT) on tiny random models of each decoder family.

  trainable_ref.py write DIR

DIR/expected.json is a list of {"family", "names": [the model's parameter names], "method":
"freeze" | "lora", "args": {LLaMA-Factory keys}, and either "trainable": {name: "full" |
"lora"} or "error": the message LLaMA-Factory or PEFT raised}. For LoRA, a base weight is
"lora" when PEFT wrapped its module in a LoRA layer and "full" when it sits in a
modules_to_save copy.

LLaMA-Factory's model package imports trl's AutoModelForCausalLMWithValueHead at import time;
trl is not needed for adapters, so an empty stand-in module takes its place here."""
import json
import os
import re
import sys

import llamafactory_env  # noqa: E402,F401  (before any LLaMA-Factory import)

import torch  # noqa: E402
from transformers import (AutoModelForCausalLM, LlamaConfig, MistralConfig,  # noqa: E402
                          Qwen2Config, Qwen3Config)

from llamafactory.hparams import FinetuningArguments, ModelArguments  # noqa: E402
from llamafactory.model.adapter import init_adapter  # noqa: E402

SIZES = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=4, num_attention_heads=4,
             num_key_value_heads=2, vocab_size=128)
FAMILIES = {
    "llama": lambda: LlamaConfig(**SIZES),
    "qwen2": lambda: Qwen2Config(tie_word_embeddings=True, **SIZES),
    "qwen3": lambda: Qwen3Config(head_dim=8, **SIZES),
    "mistral": lambda: MistralConfig(**SIZES),
}
FREEZE = [
    {}, {"freeze_trainable_layers": -1, "freeze_trainable_modules": "mlp"},
    {"freeze_trainable_layers": 10, "freeze_trainable_modules": "self_attn,mlp"},
    {"freeze_trainable_layers": -10, "freeze_extra_modules": "embed_tokens"},
    {"freeze_trainable_layers": 1, "freeze_trainable_modules": "input_layernorm",
     "freeze_extra_modules": "norm"},
    {"freeze_trainable_layers": 0},
    {"freeze_trainable_layers": 3, "freeze_trainable_modules": " mlp , post_attention_layernorm "},
    {"freeze_trainable_modules": "attn"},
    {"freeze_extra_modules": "lm_head"},
    {"freeze_extra_modules": "layers"},
]
LORA = [
    {"lora_target": "all"}, {"lora_target": "q_proj,v_proj"},
    {"lora_target": "all", "additional_target": "norm"},
    {"lora_target": "down_proj", "additional_target": "embed_tokens,lm_head"},
    {"lora_target": "q_proj,W_pack"}, {"lora_target": "W_pack"},
    {"lora_target": "self_attn.o_proj,mlp.up_proj"}, {"lora_target": "lm_head"},
    {"lora_target": "input_layernorm"},
]


def base_name(peft_name):
    """The base model's name of a PEFT parameter, and how it trains."""
    name = peft_name.removeprefix("base_model.model.")
    match = re.fullmatch(r"(.*)\.lora_[AB]\.default\.weight", name)
    if match:
        return match.group(1) + ".weight", "lora"
    return name.replace(".modules_to_save.default.", "."), "full"


def run(family, method, args):
    torch.manual_seed(0)
    config = FAMILIES[family]()
    model = AutoModelForCausalLM.from_config(config)
    names = [n for n, _ in model.named_parameters()]
    case = {"family": family, "names": names, "method": method, "args": args}
    try:
        finetuning = FinetuningArguments(finetuning_type=method, **args)
        model = init_adapter(config, model, ModelArguments(model_name_or_path="unused"),
                             finetuning, is_trainable=True)
    except (ValueError, TypeError) as e:
        case["error"] = str(e)
        return case
    trainable = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            base, kind = base_name(name) if method == "lora" else (name, "full")
            trainable[base] = kind
    case["trainable"] = trainable
    return case


def write(out):
    cases = []
    for family in FAMILIES:
        for args in FREEZE:
            cases.append(run(family, "freeze", args))
        for args in LORA:
            cases.append(run(family, "lora", args))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print(f"{len(cases)} cases, {sum('error' in c for c in cases)} refused")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2])
