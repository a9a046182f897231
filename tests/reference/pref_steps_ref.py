"""Reference side of the preference training-steps test (issue 8): the first optimizer steps of
short dpo, rm and kto runs by the real TRL 0.24 DPOTrainer and LLaMA-Factory's trainers
(pref_train_ref.py) on a tiny random Llama with SmolLM2's tokenizer and the first rows of
Hone's demo datasets as LLaMA-Factory's get_dataset encodes them, for `hone train` to
reproduce.

  pref_steps_ref.py write MODELS_DIR OUT_DIR [CASE ...]     (default: every case of CASES)

OUT_DIR gets:
  tokenizer/   SmolLM2's tokenizer (tokenizer_build.from_gguf, <|im_start|> / <|im_end|> as
               bos / eos, as train_steps_ref.py)
  model/       train_steps_ref.tiny_model: model_ref's random Llama (hidden 64) with SmolLM2's
               vocabulary, float32, the tokenizer files beside it
  CASE/data.json     the examples in pref_train_ref.py's pre-tokenized form: the train rows of
               get_dataset (stage rm for dpo and rm, kto for kto; max_samples, cutoff_len,
               template chatml), in file order
  CASE/adapter/      LoRA cases: the adapter exactly as PEFT initialised it for the reference run
               (lora_B zero), saved before training; Hone continues it (adapter_name_or_path),
               so both start from the same lora_A. rm: value_head.safetensors beside it
               (pref_train_ref.value_head_init), where Hone's rm reads the head when it continues
               an adapter (engine/trainer.c open_value_head) and the reference starts from.
  expected.json      {"cases": [{"name", "stage", "impl", "grad_accum", "max_grad_norm",
               "clipped" (steps whose grad_norm is above max_grad_norm), "hone_args" (without
               --output_dir), "steps": [{"loss", "grad_norm", "metrics"}]}]}: the metrics as
               pref_train_ref.py reports them (dpo, rm: means over the micro-batches; kto: the
               step's log() values, kl summed over the micro-batches as upstream logs it).

Both sides: constant learning rate without warmup, AdamW without weight decay, no dropout, the
examples in file order (--disable_shuffling true), max_steps steps of batch x accumulation
pairs."""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pref_train_ref  # noqa: E402  (first: the real trl, which llamafactory_env then keeps)
import torch  # noqa: E402

import pref_data_ref  # noqa: E402
import tokenizer_build  # noqa: E402
import train_steps_ref  # noqa: E402

DPO_DATA = "dpo_en_demo"
KTO_DATA = "kto_en_demo"
TARGETS = ",".join(pref_train_ref.model_ref.LORA_TARGETS)


def case(name, stage, lora=True, impl="llamafactory", loss="sigmoid", steps=2, batch=2, accum=1,
         lr=5e-3, max_grad_norm=100.0, beta=0.1, ftx=0.0, gamma=0.5, cutoff_len=40,
         dataset=None):
    return dict(name=name, stage=stage, lora=lora, impl=impl, loss=loss, steps=steps,
                batch=batch, accum=accum, lr=lr, max_grad_norm=max_grad_norm, beta=beta, ftx=ftx,
                gamma=gamma, cutoff_len=cutoff_len,
                dataset=dataset or (KTO_DATA if stage == "kto" else DPO_DATA))


# max_grad_norm 100 never clips; the clipping cases' bounds sit below their step norms.
CASES = [
    case("dpo-sigmoid-lora", "dpo", impl="trl", steps=2, accum=2, max_grad_norm=0.05),
    case("dpo-sigmoid-full", "dpo", lora=False, impl="trl", steps=3, lr=1e-3),
    case("dpo-hinge-lora", "dpo", impl="trl", loss="hinge", beta=0.5),
    case("dpo-ipo-lora", "dpo", impl="trl", loss="ipo", beta=0.5),
    case("dpo-orpo-lora", "dpo", loss="orpo"),
    case("dpo-simpo-lora", "dpo", loss="simpo", beta=2.0, gamma=0.5),
    case("dpo-sigmoid-ftx-lora", "dpo", ftx=0.5),
    case("rm-lora", "rm", steps=3),
    case("kto-lora", "kto", accum=2, ftx=0.3),
]


def encode(c, out):
    """LLaMA-Factory's train rows for the case (pref_data_ref.run_case)."""
    stage = "kto" if c["stage"] == "kto" else "rm"
    need = c["steps"] * c["batch"] * c["accum"]
    spec = pref_data_ref.case(stage, "chatml", c["dataset"], c["cutoff_len"])
    spec["options"]["max_samples"] = need
    rows = pref_data_ref.run_case(spec, out, None)
    if len(rows) != need:
        sys.exit(f"pref_steps_ref.py: {c['name']}: get_dataset gave {len(rows)} rows of the first "
                 f"{need} of {c['dataset']}, expected all of them")
    if stage == "kto":
        rows = [{"input_ids": r["input_ids"], "labels": r["labels"],
                 "kl_input_ids": r["kl_input_ids"], "kl_labels": r["kl_labels"],
                 "kto_tag": r["kto_tags"]} for r in rows]
    return rows, need


def reference_args(c, model, data, folder):
    argv = ["--model", model, "--data", data, "--out", "unused", "--steps", str(c["steps"]),
            "--lr", str(c["lr"]), "--batch-size", str(c["batch"]),
            "--grad-accum", str(c["accum"]), "--max-grad-norm", str(c["max_grad_norm"])]
    if c["lora"]:
        argv += ["--lora-rank", "4", "--lora-alpha", "8", "--lora-target", TARGETS]
    if c["stage"] in ("dpo", "kto"):
        argv += ["--beta", str(c["beta"]), "--ftx", str(c["ftx"])]
    if c["stage"] == "dpo":
        argv += ["--impl", c["impl"], "--loss-type", c["loss"], "--simpo-gamma", str(c["gamma"])]
    if c["stage"] == "rm":
        argv += ["--value-head", os.path.join(folder, "value_head.safetensors")]
    parser = argparse.ArgumentParser()
    pref_train_ref.options(parser, c["stage"])
    return parser.parse_args(argv)


def hone_args(c, model, adapter, examples):
    args = ["--model_name_or_path", model, "--do_train", "true", "--stage", c["stage"],
            "--dataset", c["dataset"], "--dataset_dir", os.path.join(pref_data_ref.ROOT, "data"),
            "--template", "chatml", "--cutoff_len", str(c["cutoff_len"]),
            "--max_samples", str(examples), "--disable_shuffling", "true",
            "--per_device_train_batch_size", str(c["batch"]),
            "--gradient_accumulation_steps", str(c["accum"]), "--max_steps", str(c["steps"]),
            "--learning_rate", str(c["lr"]), "--lr_scheduler_type", "constant",
            "--warmup_steps", "0", "--weight_decay", "0", "--max_grad_norm",
            str(c["max_grad_norm"]), "--adam_beta1", "0.9", "--adam_beta2", "0.999",
            "--adam_epsilon", "1e-8", "--logging_steps", "1", "--seed", "42"]
    if c["lora"]:
        args += ["--finetuning_type", "lora", "--adapter_name_or_path", adapter,
                 "--lora_rank", "4", "--lora_alpha", "8", "--lora_dropout", "0",
                 "--lora_target", TARGETS]
    else:
        args += ["--finetuning_type", "full"]
    if c["stage"] in ("dpo", "kto"):
        args += ["--pref_beta", str(c["beta"]), "--pref_ftx", str(c["ftx"])]
    if c["stage"] == "dpo":
        args += ["--pref_loss", c["loss"], "--simpo_gamma", str(c["gamma"])]
    return args


def run_case(c, out, model):
    folder = os.path.join(out, c["name"])
    os.makedirs(folder, exist_ok=True)
    rows, examples = encode(c, out)
    data = os.path.join(folder, "data.json")
    with open(data, "w") as f:
        json.dump(rows, f)
    args = reference_args(c, model, data, folder)
    adapter = os.path.join(folder, "adapter")
    if c["stage"] == "rm":
        pref_train_ref.value_head_init(argparse.Namespace(
            file=args.value_head, model=model, seed=3))

    load_policy = pref_train_ref.load_policy

    def load_and_keep(a):
        """The policy as the reference builds it, its fresh adapter saved for Hone."""
        policy = load_policy(a)
        if c["lora"]:
            policy.save_pretrained(adapter)
        return policy

    pref_train_ref.load_policy = load_and_keep
    torch.manual_seed(args.seed)  # as pref_train_ref.main
    try:
        steps, _ = getattr(pref_train_ref, c["stage"])(args)
    finally:
        pref_train_ref.load_policy = load_policy
    if c["stage"] == "rm":
        shutil.copy(args.value_head, os.path.join(adapter, "value_head.safetensors"))
    clipped = sum(1 for s in steps if s["grad_norm"] > c["max_grad_norm"])
    print(f"{c['name']}: " + "; ".join(f"loss {s['loss']:.6f} grad_norm {s['grad_norm']:.5f}"
                                       for s in steps) + f", clipped {clipped}")
    return {"name": c["name"], "stage": c["stage"], "impl": c["impl"], "grad_accum": c["accum"],
            "max_grad_norm": c["max_grad_norm"], "clipped": clipped,
            "hone_args": hone_args(c, model, adapter, examples),
            "steps": [{"loss": s["loss"], "grad_norm": s["grad_norm"], "metrics": s["metrics"]}
                      for s in steps]}


def write(models, out, names):
    torch.set_num_threads(1)
    pref_train_ref.warnings.filterwarnings("ignore")
    pref_train_ref.hf_logging.set_verbosity_error()
    tokenizer_dir = os.path.join(out, "tokenizer")
    tokenizer_build.from_gguf(os.path.join(models, train_steps_ref.GGUF), tokenizer_dir)
    with open(os.path.join(tokenizer_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}, f)
    model = os.path.join(out, "model")
    train_steps_ref.tiny_model(model, tokenizer_dir)
    chosen = [c for c in CASES if not names or c["name"] in names]
    if len(chosen) != len(set(names) or CASES):
        sys.exit(f"pref_steps_ref.py: unknown case in {names}; cases: "
                 + " ".join(c["name"] for c in CASES))
    result = {"cases": [run_case(c, out, model) for c in chosen]}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3], sys.argv[4:])
