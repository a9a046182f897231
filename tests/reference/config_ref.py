"""Reference side of the config.json tests, using transformers' config classes (no torch).

  config_ref.py write DIR   writes DIR/CASE/config.json for many configurations (both the
                            4.x layout, hand-written as found on the Hub, and files saved by
                            transformers itself) and DIR/expected.json with what transformers
                            reads from each: sizes, defaults filled in, rope parameters."""
import json
import os
import sys

from transformers import AutoConfig, LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config

BASE = {"vocab_size": 320, "hidden_size": 64, "intermediate_size": 96,
        "num_hidden_layers": 3, "num_attention_heads": 8}

# Configs in the 4.x layout as published model folders have them.
LEGACY = {
    "llama_minimal": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **BASE},
    "smollm2_like": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **BASE,
                     "num_key_value_heads": 2, "head_dim": 8, "rope_theta": 100000,
                     "rope_scaling": None, "tie_word_embeddings": True, "rms_norm_eps": 1e-5,
                     "max_position_embeddings": 8192, "torch_dtype": "bfloat16",
                     "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2},
    "llama31_rope": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **BASE,
                     "num_key_value_heads": 4, "rope_theta": 500000.0,
                     "max_position_embeddings": 131072, "eos_token_id": [128001, 128008, 128009],
                     "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0,
                                      "original_max_position_embeddings": 8192,
                                      "rope_type": "llama3"}},
    "llama_linear_old_key": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **BASE,
                             "rope_scaling": {"type": "linear", "factor": 4.0}},
    "llama_dynamic": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **BASE,
                      "rope_scaling": {"rope_type": "dynamic", "factor": 2.0}},
    "qwen25_like": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", **BASE,
                    "num_key_value_heads": 2, "rope_theta": 1000000.0,
                    "max_position_embeddings": 32768, "sliding_window": 32768,
                    "use_sliding_window": False, "max_window_layers": 21,
                    "tie_word_embeddings": True, "torch_dtype": "bfloat16",
                    "bos_token_id": 151643, "eos_token_id": 151645, "rms_norm_eps": 1e-6},
    # Qwen2's and Qwen3's default num_key_value_heads is 32, so these use 32 heads.
    "qwen2_yarn": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", **BASE,
                   "num_attention_heads": 32,
                   "rope_scaling": {"type": "yarn", "factor": 4.0,
                                    "original_max_position_embeddings": 32768}},
    "qwen3_like": {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", **BASE,
                   "num_key_value_heads": 4, "head_dim": 16, "attention_bias": False,
                   "rope_theta": 1000000, "tie_word_embeddings": True,
                   "torch_dtype": "bfloat16", "eos_token_id": 151645},
    "mistral_like": {"architectures": ["MistralForCausalLM"], "model_type": "mistral", **BASE,
                     "num_key_value_heads": 2, "sliding_window": None, "rope_theta": 1000000.0,
                     "max_position_embeddings": 32768, "torch_dtype": "bfloat16"},
    "mistral_window": {"architectures": ["MistralForCausalLM"], "model_type": "mistral", **BASE,
                       "sliding_window": 4096},
    "by_model_type_only": {"model_type": "qwen3", **BASE, "num_attention_heads": 32},
}

# Configs that transformers itself writes (its current layout, rope_parameters).
SAVED = {
    "saved_llama_yarn": LlamaConfig(**BASE, num_key_value_heads=2, max_position_embeddings=4096,
                                    rope_parameters={"rope_type": "yarn", "factor": 2.0,
                                                     "rope_theta": 20000.0,
                                                     "original_max_position_embeddings": 2048,
                                                     "beta_fast": 16.0, "beta_slow": 2.0}),
    "saved_qwen2": Qwen2Config(**BASE, num_key_value_heads=4, tie_word_embeddings=True),
    "saved_qwen3": Qwen3Config(**BASE, num_key_value_heads=2, head_dim=32),
    "saved_mistral": MistralConfig(**BASE, num_key_value_heads=4, sliding_window=256),
}


def rope_of(config):
    params = dict(getattr(config, "rope_parameters", None) or {})
    if not params:
        params = dict(getattr(config, "rope_scaling", None) or {})
        params.setdefault("rope_theta", getattr(config, "rope_theta", 10000.0))
    params["rope_type"] = params.get("rope_type", params.get("type", "default"))
    return params


def token_ids(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def expected_of(config):
    window = getattr(config, "sliding_window", None)
    if getattr(config, "use_sliding_window", True) is False:
        window = None
    bias = getattr(config, "attention_bias", None)
    if config.model_type == "qwen2":
        bias = True  # Qwen2Attention builds q/k/v with bias=True
    dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return {
        "model_type": config.model_type,
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "num_key_value_heads": config.num_key_value_heads,
        "head_dim": head_dim,
        "max_position_embeddings": config.max_position_embeddings,
        "rms_norm_eps": config.rms_norm_eps,
        "tie_word_embeddings": bool(config.tie_word_embeddings),
        "attention_bias": bool(bias),
        "sliding_window": window or 0,
        "torch_dtype": str(dtype).replace("torch.", "") if dtype is not None else "float32",
        "bos_token_id": config.bos_token_id if config.bos_token_id is not None else -1,
        "eos_token_ids": token_ids(config.eos_token_id),
        "pad_token_id": config.pad_token_id if config.pad_token_id is not None else -1,
        "rope": rope_of(config),
    }


def write(out):
    expected = {}
    for name, fields in LEGACY.items():
        folder = os.path.join(out, name)
        os.makedirs(folder)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(fields, f, indent=2)
        expected[name] = expected_of(AutoConfig.from_pretrained(folder))
    for name, config in SAVED.items():
        folder = os.path.join(out, name)
        config.save_pretrained(folder)
        expected[name] = expected_of(AutoConfig.from_pretrained(folder))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)


if __name__ == "__main__":
    write(sys.argv[2])
