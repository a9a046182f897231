"""Reference side of the generation tests (tests/test_decode.c, tests/test_generate.c):
transformers' generate and logits processors.

  generate_ref.py tiny OUT_DIR
      Tiny random decoders (model_ref.py's make_model and sizes: vocab 256, hidden 64,
      3 layers, 4 heads, 2 KV heads) of each family, saved with save_pretrained in
      OUT_DIR/<name>/model (+ OUT_DIR/<name>/adapter, PEFT LoRA r 4 on all linears with
      lora_B = 0.1 * randn, for "lora" and "dora"), and OUT_DIR/<name>/expected.json:
      {"prompt": 12 ids uniform in [0, 256), "generated": the 20 ids of transformers'
      greedy generate (do_sample False, use_cache True, no eos)}. Cases: llama,
      llama_dynamic (rope dynamic, factor 2: the 32 tokens stay below 128), qwen2 (biases,
      tied), qwen3 (q/k norms), mistral (sliding_window 5: the window matters from token 5
      on), lora (llama + adapter), dora (qwen2 + a DoRA adapter, magnitudes PEFT's initial
      ones, so magnitude / ||W + s B A|| is not 1).
  generate_ref.py smollm GGUF OUT_DIR
      SmolLM2-135M-Instruct from its GGUF (transformers' gguf_file loader, dequantized to
      fp32), a few conversations rendered with LLaMA-Factory's chatml template
      (get_template_and_fix_tokenizer + encode_oneturn, as its chat engine does), greedy
      generate (do_sample False, max_new_tokens 40, eos_token_id the template's stop ids) with
      the base model and with a random PEFT LoRA adapter (r 8 on q/k/v/o, lora_B = 0.15 *
      randn, saved in OUT_DIR/adapter; generation runs on that PeftModel). OUT_DIR/expected.json:
      [{"system", "messages", "prompt_ids", "auto_prompt_ids" (the model's own template:
      apply_chat_template(add_generation_prompt=True)), "base": ids, "base_text", "adapter":
      ids, "adapter_text"}], texts decoded with skip_special_tokens.
  generate_ref.py processors OUT_DIR
      Random logits [4, 300] (normal, std 3) and input ids [4, 10]; OUT_DIR/expected.json:
      {"logits", "input_ids", "cases": [{"temperature", "top_k", "top_p",
      "repetition_penalty", "scores"}]} with scores what RepetitionPenaltyLogitsProcessor,
      TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper (in generate's order, the
      ones whose value is not neutral) make of the logits (-inf written as null)."""
import json
import math
import os
import sys
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("DISABLE_VERSION_CHECK", "1")  # llamafactory pins an older transformers

import torch  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_ref import LORA_TARGETS, make_model  # noqa: E402

TINY = [
    ("llama", "llama", {"tie_word_embeddings": False}),
    ("llama_dynamic", "llama", {"tie_word_embeddings": False,
                                "rope_parameters": {"rope_type": "dynamic", "factor": 2.0}}),
    ("qwen2", "qwen2", {"tie_word_embeddings": True}),
    ("qwen3", "qwen3", {"tie_word_embeddings": False}),
    ("mistral", "mistral", {"tie_word_embeddings": False, "sliding_window": 5}),
    ("lora", "llama", {"tie_word_embeddings": False}),
    ("dora", "qwen2", {"tie_word_embeddings": True}),
]


def greedy(model, prompt, new_tokens, eos):
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=new_tokens,
                             min_new_tokens=0, eos_token_id=eos, pad_token_id=0, use_cache=True,
                             attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                             temperature=None, top_p=None, top_k=None)
    return out[0, len(prompt):].tolist()


def write_tiny(out):
    for index, (name, family, extra) in enumerate(TINY):
        torch.manual_seed(2000 + index)
        folder = os.path.join(out, name)
        model = make_model(family, extra)
        model.save_pretrained(os.path.join(folder, "model"))
        if name in ("lora", "dora"):
            model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, bias="none",
                                                     target_modules=LORA_TARGETS,
                                                     task_type="CAUSAL_LM",
                                                     use_dora=name == "dora"))
            with torch.no_grad():
                for param_name, param in model.named_parameters():
                    if ".lora_B." in param_name:
                        param.copy_(0.1 * torch.randn_like(param))
            model.save_pretrained(os.path.join(folder, "adapter"))
        model.eval()
        model.generation_config.eos_token_id = None
        prompt = torch.randint(0, 256, (12,)).tolist()
        generated = greedy(model, prompt, 20, None)
        assert len(generated) == 20
        with open(os.path.join(folder, "expected.json"), "w") as f:
            json.dump({"prompt": prompt, "generated": generated}, f)
        print(f"{name}: {generated}")


CONVERSATIONS = [
    {"system": None, "messages": [{"role": "user", "content": "Who are you?"}]},
    {"system": None, "messages": [{"role": "user", "content": "What is the capital of France?"}]},
    {"system": "You are a helpful assistant who answers briefly.",
     "messages": [{"role": "user", "content": "Name three colours."},
                  {"role": "assistant", "content": "Red, green and blue."},
                  {"role": "user", "content": "And three fruits?"}]},
]


def write_smollm(gguf, out):
    os.makedirs(out, exist_ok=True)
    from llamafactory.data.template import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = os.path.split(os.path.abspath(gguf))
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # the model's own template, before LLaMA-Factory replaces it with chatml's (its
    # replace_jinja_template)
    own = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    template = get_template_and_fix_tokenizer(tokenizer, DataArguments(template="chatml"))
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    stop = template.get_stop_token_ids(tokenizer)
    cases = []
    for conv in CONVERSATIONS:
        paired = conv["messages"] + [{"role": "assistant", "content": ""}]
        prompt, _ = template.encode_oneturn(tokenizer, paired, conv["system"])
        base = greedy(model, prompt, 40, stop)
        system = [{"role": "system", "content": conv["system"]}] if conv["system"] else []
        auto = own.apply_chat_template(system + conv["messages"], tokenize=True,
                                       add_generation_prompt=True, return_dict=False)
        cases.append({**conv, "prompt_ids": prompt, "auto_prompt_ids": list(auto), "base": base,
                      "base_text": tokenizer.decode(base, skip_special_tokens=True)})
    torch.manual_seed(7)
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, bias="none",
                                                  target_modules=["q_proj", "k_proj", "v_proj",
                                                                  "o_proj"],
                                                  task_type="CAUSAL_LM"))
    with torch.no_grad():
        for param_name, param in peft_model.named_parameters():
            if ".lora_B." in param_name:
                param.copy_(0.15 * torch.randn_like(param))
    peft_model.save_pretrained(os.path.join(out, "adapter"))
    peft_model.eval()
    for case in cases:
        ids = greedy(peft_model, case["prompt_ids"], 40, stop)
        case["adapter"] = ids
        case["adapter_text"] = tokenizer.decode(ids, skip_special_tokens=True)
        print(json.dumps(case["base_text"]), "|", json.dumps(case["adapter_text"]))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(cases, f, indent=1)


def write_processors(out):
    os.makedirs(out, exist_ok=True)
    from transformers import (RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
                              TopKLogitsWarper, TopPLogitsWarper)

    torch.manual_seed(11)
    logits = torch.randn(4, 300) * 3
    input_ids = torch.randint(0, 300, (4, 10))
    cases = []
    for temperature, top_k, top_p, penalty in [(0.7, 0, 1.0, 1.0), (1.0, 20, 1.0, 1.0),
                                               (1.0, 0, 0.7, 1.0), (1.0, 0, 1.0, 1.3),
                                               (0.95, 50, 0.7, 1.1), (1.5, 5, 0.9, 0.8),
                                               (0.3, 300, 0.05, 1.0)]:
        scores = logits.clone()
        if penalty != 1.0:
            scores = RepetitionPenaltyLogitsProcessor(penalty)(input_ids, scores)
        if temperature != 1.0:
            scores = TemperatureLogitsWarper(temperature)(input_ids, scores)
        if top_k != 0:
            scores = TopKLogitsWarper(top_k)(input_ids, scores)
        if top_p < 1.0:
            scores = TopPLogitsWarper(top_p)(input_ids, scores)
        rows = [[None if math.isinf(x) else x for x in row] for row in scores.tolist()]
        cases.append({"temperature": temperature, "top_k": top_k, "top_p": top_p,
                      "repetition_penalty": penalty, "scores": rows})
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"logits": logits.tolist(), "input_ids": input_ids.tolist(), "cases": cases}, f)


if __name__ == "__main__":
    torch.set_num_threads(2)
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    if len(sys.argv) == 3 and sys.argv[1] == "tiny":
        write_tiny(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "smollm":
        write_smollm(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "processors":
        write_processors(sys.argv[2])
    else:
        sys.exit(__doc__)
