"""Reference side of the PiSSA test: PEFT's pissa_init (init_lora_weights="pissa", a full SVD)
on a tiny random Llama (model_ref.py's make_model).

  pissa_ref.py write OUT_DIR

OUT_DIR/model/ is the model before PiSSA (save_pretrained, fp32); OUT_DIR/expected.safetensors
holds, for every adapted module X (r 4, alpha 8, all seven projections), "residual.X" (the base
weight PEFT leaves, W - scaling B A) and "product.X" (B @ A): both are the same whatever signs
the SVD gives the singular vectors, so Hone's factors can be compared with them."""
import os
import sys

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_ref  # noqa: E402


def write(out):
    torch.manual_seed(11)
    model = model_ref.make_model("llama", {"tie_word_embeddings": False})
    model.save_pretrained(os.path.join(out, "model"))
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                                            init_lora_weights="pissa",
                                            target_modules=model_ref.LORA_TARGETS))
    tensors = {}
    for name, module in peft.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            key = name.removeprefix("base_model.model.")
            A = module.lora_A["default"].weight.detach()
            B = module.lora_B["default"].weight.detach()
            tensors["product." + key] = (B @ A).contiguous()
            tensors["residual." + key] = module.base_layer.weight.detach().contiguous()
    save_file(tensors, os.path.join(out, "expected.safetensors"))
    print(f"{len(tensors) // 2} modules")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2])
