"""Reference side of the trained-adapter check: PEFT loads an adapter Hone trained onto the
transformers model of SmolLM2-135M-Instruct's GGUF and scores a text.

  adapter_logits_ref.py write MODELS_DIR OUT_DIR ADAPTER_DIR TEXT

OUT_DIR/expected.json is {"ids", "logprobs"} as score_ref.py writes them (null first)."""
import json
import os
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def write(models, out, adapter, text):
    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(models, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(models, gguf_file=GGUF, dtype=torch.float32,
                                                 attn_implementation="eager")
    model = PeftModel.from_pretrained(model, adapter)
    model.eval()
    ids = tokenizer(text)["input_ids"]
    with torch.no_grad():
        logprobs = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), dim=-1)
    scored = [float(logprobs[i - 1, ids[i]]) for i in range(1, len(ids))]
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"ids": ids, "logprobs": [None] + scored}, f)


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(*sys.argv[2:])
