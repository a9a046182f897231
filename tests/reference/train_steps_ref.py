"""Reference side of the training-steps test: the first optimizer steps of a short LoRA sft run
done by transformers + PEFT in a plain torch loop, for `hone train` to reproduce.

  train_steps_ref.py write MODELS_DIR OUT_DIR CASE      (CASE: tiny or smollm2)

OUT_DIR gets:
  model/      tiny only: a random Llama (tests/reference/model_ref.py's sizes and
              initialisation, the vocabulary of SmolLM2's tokenizer) saved by save_pretrained in
              float32, with SmolLM2's tokenizer.json (tokenizer_build.py) and a
              tokenizer_config.json naming <|im_start|> / <|im_end|> as bos / eos, as
              sft_data_ref.py does. smollm2 trains SmolLM2-135M-Instruct.Q4_1.gguf itself
              (transformers dequantizes it to float32 with gguf_file=).
  adapter/    the adapter training starts from: PEFT's get_peft_model (r 4, lora_alpha 8,
              lora_dropout 0, every linear layer of the blocks), every lora_B then set to
              0.1 * randn (PEFT starts it at zero), save_pretrained in float32; the reference
              trains that same PeftModel on (what PeftModel.from_pretrained(is_trainable=True)
              of these files would rebuild, as LLaMA-Factory does when it continues an
              adapter).
  expected/   the adapter after the steps, PEFT's save_pretrained.
  expected.json
              {"hone_args": [...] the `hone train` arguments of the same run (without
               --output_dir), "total_steps", and per optimizer step "losses", "grad_norms"
               (before clipping), "learning_rates" (the rate the step used), "clipped" (how
               many steps clip_grad_norm_ scaled down)}

The examples are LLaMA-Factory's own (get_dataset, stage sft, as sft_data_ref.py; Hone's sft
examples equal them, tests/test_sft_data.c). The loop follows transformers' Trainer with Hone's
data order:
  - order: each epoch starts from 0 .. n-1 and is shuffled by Fisher-Yates with SplitMix64
    draws (j = draw % i for i = n .. 2, swap i-1 and j), the generator state seeded with
    `seed` and carried from one epoch to the next (engine/trainer.c shuffle / next_random).
    torch's RandomSampler draws another order; the test pins Hone's.
  - micro-batches of per_device_train_batch_size examples in that order, padded on the right
    to the longest with the pad id Hone uses (the tokenizer's pad, else eos) and label -100;
    gradient_accumulation_steps of them make a step, the last step of an epoch takes what is
    left (Trainer: steps per epoch = ceil(ceil(n / bs) / accum)).
  - loss as the Trainer computes it with accumulation: each micro-batch's model loss with
    num_items_in_batch = the step's target count (transformers' ForCausalLMLoss: sum of its
    token losses / that count), backward on it, the step's logged loss their sum.
  - clip_grad_norm_(max_grad_norm), torch.optim.AdamW (weight decay on every LoRA weight,
    Trainer.get_decay_parameter_names decays all but biases and norms), then
    transformers.get_scheduler's step, warmup from TrainingArguments.get_warmup_steps.
Everything is float32 with eager attention, lora_dropout 0, one thread."""
import json
import math
import os
import sys
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")
import torch  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import (AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM,  # noqa: E402
                          PreTrainedTokenizerFast, TrainingArguments, get_scheduler)
from transformers.utils import logging as hf_logging  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_ref  # noqa: E402
import sft_data_ref  # noqa: E402  (sets up LLaMA-Factory's imports)
import tokenizer_build  # noqa: E402
from llamafactory.data import get_dataset, get_template_and_fix_tokenizer  # noqa: E402
from llamafactory.hparams import DataArguments, ModelArguments  # noqa: E402
from transformers import Seq2SeqTrainingArguments  # noqa: E402

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TARGETS = model_ref.LORA_TARGETS
U64 = (1 << 64) - 1
# The run, in LLaMA-Factory's key names (both sides read these).
RUNS = {
    "tiny": dict(dataset="identity", template="chatml", cutoff_len=64, max_samples=9,
                 per_device_train_batch_size=2, gradient_accumulation_steps=2,
                 learning_rate=5e-3, num_train_epochs=2.0, max_steps=0,
                 lr_scheduler_type="cosine", warmup_ratio=0.2, weight_decay=0.1,
                 max_grad_norm=4.0, adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8,
                 seed=7),
    "smollm2": dict(dataset="identity", template="chatml", cutoff_len=32, max_samples=4,
                    per_device_train_batch_size=1, gradient_accumulation_steps=2,
                    learning_rate=2e-3, num_train_epochs=1.0, max_steps=2,
                    lr_scheduler_type="linear", warmup_ratio=0.0, weight_decay=0.05,
                    max_grad_norm=1.0, adam_beta1=0.9, adam_beta2=0.98, adam_epsilon=1e-7,
                    seed=11),
}


def splitmix64(state):
    """engine/trainer.c next_random: returns (new state, draw)."""
    state = (state + 0x9E3779B97F4A7C15) & U64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & U64
    return state, z ^ (z >> 31)


def shuffled(n, state):
    order = list(range(n))
    for i in range(n, 1, -1):
        state, draw = splitmix64(state)
        j = draw % i
        order[i - 1], order[j] = order[j], order[i - 1]
    return order, state


def tiny_model(folder, tokenizer_dir):
    """model_ref's random Llama with SmolLM2's vocabulary, and its tokenizer files beside it."""
    with open(os.path.join(tokenizer_dir, "tokenizer.json")) as f:
        vocab = len(json.load(f)["model"]["vocab"])
    sizes = dict(model_ref.SIZES, vocab_size=vocab, max_position_embeddings=256)
    torch.manual_seed(2024)
    model = LlamaForCausalLM(LlamaConfig(**sizes, tie_word_embeddings=False)).float()
    with torch.no_grad():
        for module in model.modules():
            if type(module).__name__.endswith("RMSNorm"):
                module.weight.copy_(1 + 0.1 * torch.randn_like(module.weight))
    model.save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(tokenizer_dir, name), "rb") as f, \
                open(os.path.join(folder, name), "wb") as g:
            g.write(f.read())
    return model


def examples_of(tokenizer_dir, run, scratch):
    """LLaMA-Factory's get_dataset rows (sft, train split, in order)."""
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(tokenizer_dir, "tokenizer.json"),
                                        bos_token="<|im_start|>", eos_token="<|im_end|>")
    data_args = DataArguments(template=run["template"], dataset=run["dataset"],
                              dataset_dir=os.path.join(sft_data_ref.ROOT, "data"),
                              overwrite_cache=True, cutoff_len=run["cutoff_len"],
                              max_samples=run["max_samples"])
    training_args = Seq2SeqTrainingArguments(output_dir=scratch, report_to=[])
    template = get_template_and_fix_tokenizer(tokenizer, data_args)
    module = get_dataset(template, ModelArguments(model_name_or_path=tokenizer_dir), data_args,
                         training_args, "sft", tokenizer)
    rows = [(list(r["input_ids"]), list(r["labels"])) for r in module["train_dataset"]]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return rows, pad


def random_adapter(model, folder):
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none",
                                             target_modules=TARGETS, task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if ".lora_B." in name:
                param.copy_(0.1 * torch.randn_like(param))
    model.save_pretrained(folder)
    return model


def total_steps_of(run, n):
    if run["max_steps"] > 0:
        return run["max_steps"]
    batches = math.ceil(n / run["per_device_train_batch_size"])
    accum = run["gradient_accumulation_steps"]
    per_epoch = max(batches // accum + (1 if batches % accum else 0), 1)
    return math.ceil(run["num_train_epochs"] * per_epoch)


def micro_batch(rows, pad):
    width = max(len(ids) for ids, _ in rows)
    ids = torch.tensor([r[0] + [pad] * (width - len(r[0])) for r in rows])
    labels = torch.tensor([r[1] + [-100] * (width - len(r[1])) for r in rows])
    return ids, labels


def train(model, rows, pad, run):
    """The steps; returns the per-step records."""
    params = [p for p in model.parameters() if p.requires_grad]
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert all("bias" not in n and "norm" not in n for n in names)  # all decay
    optimizer = torch.optim.AdamW(params, lr=run["learning_rate"],
                                  betas=(run["adam_beta1"], run["adam_beta2"]),
                                  eps=run["adam_epsilon"], weight_decay=run["weight_decay"])
    total = total_steps_of(run, len(rows))
    warmup = TrainingArguments(output_dir="unused", report_to=[],
                               warmup_steps=run["warmup_ratio"]).get_warmup_steps(total)
    scheduler = get_scheduler(run["lr_scheduler_type"], optimizer, num_warmup_steps=warmup,
                              num_training_steps=total)
    bs, accum = run["per_device_train_batch_size"], run["gradient_accumulation_steps"]
    n, state, step = len(rows), run["seed"], 0
    record = {"losses": [], "grad_norms": [], "learning_rates": [], "clipped": 0}
    model.train()
    while step < total:
        order, state = shuffled(n, state)
        batches = math.ceil(n / bs)
        for b in range(0, batches, accum):
            if step == total:
                break
            chosen = [rows[i] for i in order[b * bs:min(n, (b + accum) * bs)]]
            targets = sum(1 for _, labels in chosen for t in labels[1:] if t != -100)
            step_loss = 0.0
            for first in range(0, len(chosen), bs):
                ids, labels = micro_batch(chosen[first:first + bs], pad)
                loss = model(input_ids=ids, labels=labels, use_cache=False,
                             num_items_in_batch=torch.tensor(targets)).loss
                loss.backward()
                step_loss += loss.item()
            norm = torch.nn.utils.clip_grad_norm_(params, run["max_grad_norm"]).item()
            record["clipped"] += norm > run["max_grad_norm"]
            record["learning_rates"].append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            record["losses"].append(step_loss)
            record["grad_norms"].append(norm)
            step += 1
    record["total_steps"] = total
    assert record["clipped"] > 0, "max_grad_norm never clipped: the run would not test clipping"
    return record


def hone_args(run, model_path, adapter):
    args = ["--model_name_or_path", model_path, "--adapter_name_or_path", adapter,
            "--do_train", "true", "--stage", "sft", "--finetuning_type", "lora",
            "--dataset_dir", os.path.join(sft_data_ref.ROOT, "data"), "--logging_steps", "1"]
    for key, value in run.items():
        if key == "max_steps" and value == 0:
            continue
        args += ["--" + key, str(value)]
    return args


def write(models, out, case):
    torch.set_num_threads(1)
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
    warnings.filterwarnings("ignore", message="Could not find a config file")
    run = RUNS[case]
    tokenizer_dir = os.path.join(out, "tokenizer")
    tokenizer_build.from_gguf(os.path.join(models, GGUF), tokenizer_dir)
    with open(os.path.join(tokenizer_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}, f)
    if case == "tiny":
        model_path = os.path.join(out, "model")
        model = tiny_model(model_path, tokenizer_dir)
    else:
        model_path = os.path.join(models, GGUF)
        model = AutoModelForCausalLM.from_pretrained(models, gguf_file=GGUF, dtype=torch.float32,
                                                     attn_implementation="eager")
    rows, pad = examples_of(tokenizer_dir, run, os.path.join(out, "scratch"))
    torch.manual_seed(99)
    adapter = os.path.join(out, "adapter")
    peft_model = random_adapter(model, adapter)  # fp32 files: the same weights Hone reads
    record = train(peft_model, rows, pad, run)
    peft_model.save_pretrained(os.path.join(out, "expected"))
    record["hone_args"] = hone_args(run, model_path, adapter)
    record["examples"] = len(rows)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(record, f, indent=1)
    print(f"{case}: {len(rows)} examples, {record['total_steps']} steps, losses "
          + " ".join(f"{x:.6f}" for x in record["losses"]) + f", clipped {record['clipped']}")


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "write" or sys.argv[4] not in RUNS:
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3], sys.argv[4])
