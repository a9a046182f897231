"""Reference side of the `hone score` test: transformers loads SmolLM2-135M-Instruct from its
GGUF file (dequantized to float32 by transformers' own GGUF loader) with its tokenizer, and
scores a few texts.

  score_ref.py write MODELS_DIR OUT_DIR

OUT_DIR/expected.json is a list of {"text", "ids", "logprobs", "loss"}: ids from the tokenizer
(with its special tokens, as tokenizer(text) gives them), logprobs[i] = log p(ids[i] | ids[:i])
from the float32 model with eager attention (null for the first token), and loss their negative
mean.
OUT_DIR/adapter/ is a PEFT LoRA adapter for the model (r 8, alpha 16, on q_proj, v_proj and
down_proj, lora_B set to 0.02 * randn so it changes the output), and OUT_DIR/expected_adapter.json
the same scores of the first two texts with the adapter applied (PeftModel).
OUT_DIR/adapter_dora/ and expected_adapter_dora.json: the same with use_dora and lora_dropout
0.05 (which inference does not apply), magnitudes PEFT's initial ||W|| per row."""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TEXTS = [
    "The capital of France is Paris. It is known for the Eiffel Tower.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\nI am SmolLM, an AI assistant.<|im_end|>\n",
    "机器学习是人工智能的一个分支。 Machine learning is a branch of artificial intelligence. 🙂",
    "Once upon a time " * 20,
]


def score(model, tokenizer, texts):
    cases = []
    for text in texts:
        ids = tokenizer(text)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        scored = [float(logprobs[i - 1, ids[i]]) for i in range(1, len(ids))]
        cases.append({"text": text, "ids": ids, "logprobs": [None] + scored,
                      "loss": -sum(scored) / len(scored)})
    return cases


def with_adapter(model, out, folder="adapter", dora=False):
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(3)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16,
                                             lora_dropout=0.05 if dora else 0.0, use_dora=dora,
                                             target_modules=["q_proj", "v_proj", "down_proj"]))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if ".lora_B." in name:
                param.copy_(0.02 * torch.randn_like(param))
    model.save_pretrained(os.path.join(out, folder))
    model.eval()
    return model


def write(models, out):
    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(models, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(models, gguf_file=GGUF, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    cases = score(model, tokenizer, TEXTS)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(cases, f, ensure_ascii=False)
    peft_model = with_adapter(model, out)
    adapted = score(peft_model, tokenizer, TEXTS[:2])
    assert abs(adapted[0]["loss"] - cases[0]["loss"]) > 1e-3, "the adapter changes nothing"
    with open(os.path.join(out, "expected_adapter.json"), "w") as f:
        json.dump(adapted, f, ensure_ascii=False)
    model = peft_model.unload()  # the base model again, without the LoRA layers
    dora = score(with_adapter(model, out, "adapter_dora", dora=True), tokenizer, TEXTS[:2])
    assert abs(dora[0]["loss"] - cases[0]["loss"]) > 1e-3, "the DoRA adapter changes nothing"
    with open(os.path.join(out, "expected_adapter_dora.json"), "w") as f:
        json.dump(dora, f, ensure_ascii=False)
    print(f"{len(cases)} texts scored")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3])
