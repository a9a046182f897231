"""Reference side of the optimizer test: ten optimizer steps as transformers' Trainer takes
them, on a tiny random Llama (model_ref.py's make_model), full fine-tuning and LoRA with
LoRA+.

  optimizer_ref.py write OUT_DIR

Each case writes OUT_DIR/<case>/model/ (save_pretrained, fp32), for LoRA also adapter/
(PEFT's save_pretrained of the starting adapter, lora_B set to 0.1 * randn), and
expected.safetensors:
  input_ids, labels   int32 [STEPS * ACCUMULATION, B, T]: the micro-batches in order
  loss                float32 [STEPS]: the mean token loss over each step's micro-batches
  grad_norm, lr       float32 [STEPS]: the norm before clipping, and the rate each step used
  param.NAME          float32: every trained parameter after the last step (PEFT names for
                      LoRA: base_model.model.X.lora_A.default.weight)
The loop is the Trainer's: each micro-batch's loss is the sum of its token losses over the
number of targets in the whole step (num_items_in_batch), gradients add up over the
ACCUMULATION micro-batches, torch.nn.utils.clip_grad_norm_(max_norm 1.0), torch.optim.AdamW
(lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.1 on the parameters
Trainer.get_decay_parameter_names names, 0 on the rest), transformers' get_scheduler("cosine",
3 warmup steps, 10 steps), zero_grad. LoRA+ (LLaMA-Factory's loraplus_lr_ratio 4): lora_B
parameters and every 1-D trained parameter get 4 x the learning rate. Cases: full, lora_plus,
dora_plus (LoRA+ with use_dora: the magnitudes train, with weight decay, at 4 x the rate)."""
import os
import sys

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import Trainer, get_scheduler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_ref  # noqa: E402

STEPS, ACCUMULATION = 10, 2
LR, WEIGHT_DECAY, WARMUP, MAX_NORM, LORAPLUS = 1e-3, 0.1, 3, 1.0, 4.0


def micro_batches():
    batches = [model_ref.make_batch(packed=False) for _ in range(STEPS * ACCUMULATION)]
    return torch.stack([b[0] for b in batches]), torch.stack([b[1] for b in batches])


def param_groups(model, lora):
    decay = set(Trainer.get_decay_parameter_names(None, model))
    groups = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        # LLaMA-Factory's _create_loraplus_optimizer (and peft's create_loraplus_optimizer):
        # lora_B and every 1-D parameter (DoRA's magnitudes) take the larger rate
        lr = LR * (LORAPLUS if lora and (".lora_B." in name or param.ndim == 1) else 1.0)
        key = (name in decay, lr)
        groups.setdefault(key, []).append(param)
    return [{"params": params, "weight_decay": WEIGHT_DECAY if d else 0.0, "lr": lr}
            for (d, lr), params in groups.items()]


def train(model, input_ids, labels, lora):
    optimizer = torch.optim.AdamW(param_groups(model, lora), lr=LR, betas=(0.9, 0.999),
                                  eps=1e-8)
    scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=WARMUP,
                              num_training_steps=STEPS)
    losses, norms, lrs = [], [], []
    trained = [p for p in model.parameters() if p.requires_grad]
    for step in range(STEPS):
        micro = range(step * ACCUMULATION, (step + 1) * ACCUMULATION)
        targets = sum(int((labels[i][:, 1:] != -100).sum()) for i in micro)
        total = 0.0
        for i in micro:
            out = model(input_ids=input_ids[i], labels=labels[i], num_items_in_batch=targets)
            out.loss.backward()
            total += float(out.loss)
        norms.append(float(torch.nn.utils.clip_grad_norm_(trained, MAX_NORM)))
        lrs.append(optimizer.param_groups[0]["lr"] / scheduler.base_lrs[0] * LR)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(total)
    return losses, norms, lrs


def write_case(out, name, lora, seed, dora=False):
    torch.manual_seed(seed)
    folder = os.path.join(out, name)
    model = model_ref.make_model("llama", {"tie_word_embeddings": False})
    model.save_pretrained(os.path.join(folder, "model"))
    input_ids, labels = micro_batches()
    if lora:
        config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                            target_modules=model_ref.LORA_TARGETS, use_dora=dora)
        model = get_peft_model(model, config)
        with torch.no_grad():
            for pname, param in model.named_parameters():
                if ".lora_B." in pname:
                    param.copy_(0.1 * torch.randn_like(param))
        model.save_pretrained(os.path.join(folder, "adapter"))
    losses, norms, lrs = train(model, input_ids, labels, lora)
    assert max(norms) > MAX_NORM, "no step was clipped: the test would not cover clipping"
    tensors = {"input_ids": input_ids.to(torch.int32), "labels": labels.to(torch.int32),
               "loss": torch.tensor(losses), "grad_norm": torch.tensor(norms),
               "lr": torch.tensor(lrs)}
    for pname, param in model.named_parameters():
        if param.requires_grad:
            tensors["param." + pname] = param.detach().float().contiguous()
    save_file(tensors, os.path.join(folder, "expected.safetensors"))


def write(out):
    torch.set_num_threads(1)
    write_case(out, "full", False, 7)
    write_case(out, "lora_plus", True, 8)
    write_case(out, "dora_plus", True, 9, dora=True)
    print(f"3 cases of {STEPS} steps x {ACCUMULATION} micro-batches")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2])
