"""A LoRA DPO (sigmoid) training step in Hone (`hone train --stage dpo`) and in TRL 0.24's
DPOTrainer on the same pairs, model, batch, LoRA and thread count: seconds per step, tokens per
second and peak resident memory of each, and the ratios (issue 8).

  tools/build.sh build && .venv-test/bin/python bench/dpo_step.py [--pairs 2] [--cutoff 256]
        [--steps 8] [--warmup 1] [--threads 2] [--pref-loss sigmoid] [--no-peer]
        [--gomp-spincount N]

The work: SmolLM2-135M-Instruct ($HONE_MODELS/SmolLM2-135M-Instruct.Q4_1.gguf; Hone widens it
to float32 itself, TRL gets transformers' float32 dequantization of the same file, with
attn_implementation="sdpa", its fastest on the CPU), dpo_en_demo from data/ in file order (no
shuffling), encoded with the chatml template and cutoff_len as LLaMA-Factory's get_dataset for
stage rm does it (tests/reference/pref_data_ref.py; Hone's own encoding, which
tests/test_pref_data.c holds equal to it, is what `hone train` reads). Per step `--pairs` pairs,
that is 2 x pairs rows (chosen, rejected) through the reference (the base with the adapters
off, no gradient) and through the policy with its backward; LoRA r 8, alpha 16, dropout 0 on
q/k/v/o/gate/up/down; beta 0.1; AdamW (lr 1e-4, constant, weight decay 0), clipping at 1.0;
float32 on both sides.

Timing excludes loading: Hone's trainer_log.jsonl gives the elapsed training time at each step
(total_tokens / throughput, the clock starting at the first step), TRL's side a Trainer
callback's clock at each step's end; a side's seconds per step is (time at step warmup + steps -
time at step warmup) / steps, logging included on both. tokens/s counts the tokens of the
chosen and rejected rows of the timed steps (padding not counted; the same number for both
sides). Peak memory is the VmHWM of each process (loading included), Hone's read from
/proc/PID/status while it runs (VmHWM only grows), TRL's by its own process at the end. The
three parts (encoding, Hone, TRL) run as separate processes, one after another.

Checks that both sides ran the same work: Hone's logged padded token count of each step must
equal the one made from the LLaMA-Factory-encoded pairs (2 x pairs rows x the longest row), and
both sides' first loss must be log 2 (policy = reference at step 1; sigmoid only).

--pref-loss: Hone's loss (sigmoid, hinge, ipo run on both sides; orpo and simpo need no
reference forward and run Hone only: the difference to sigmoid is the reference's share);
--no-peer: Hone only. --gomp-spincount: GOMP_SPINCOUNT for both sides (both use OpenMP; by
default idle threads spin long, which costs much on a machine shared with other work)."""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "tests", "reference")
MODELS = os.environ.get("HONE_MODELS", os.path.expanduser("~/.cache/hone/models"))
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DATASET = "dpo_en_demo"
TEMPLATE = "chatml"
LORA_RANK, LORA_ALPHA, BETA, LR, MAX_GRAD_NORM, SEED = 8, 16, 0.1, 1e-4, 1.0, 42


def vm_hwm_mb(pid="self"):
    """VmHWM (peak resident memory) of a process image in MB, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ---------------------------------------------------------------- the pairs (own process)

def encode(cutoff, out):
    """LLaMA-Factory's get_dataset (stage rm) of dpo_en_demo with SmolLM2's tokenizer from the
    GGUF, written in pref_train_ref.py's pair format."""
    sys.path.insert(0, REFERENCE)
    import pref_data_ref
    with tempfile.TemporaryDirectory() as scratch:
        pref_data_ref.write_tokenizers(MODELS, scratch)
        rows = pref_data_ref.run_case(pref_data_ref.case("rm", TEMPLATE, DATASET, cutoff),
                                      scratch, None)
    with open(out, "w") as f:
        json.dump(rows, f)


# ---------------------------------------------------------------- TRL (own process)

def peer(pairs_file, pairs_per_step, steps, warmup, loss_type, threads):
    """TRL's DPOTrainer as tests/reference/pref_train_ref.py runs it (dpo_trl: pre-tokenized
    prompt/chosen/rejected columns, the examples in order, PEFT LoRA with the adapter-off
    reference), on the GGUF dequantized by transformers with sdpa attention."""
    sys.path.insert(0, REFERENCE)
    import pref_train_ref  # first: it makes trl 0.24 importable under transformers 5
    import torch
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(threads)
    torch.manual_seed(SEED)

    model = AutoModelForCausalLM.from_pretrained(MODELS, gguf_file=MODEL_FILE,
                                                 dtype=torch.float32, attn_implementation="sdpa")
    # transformers dequantized every block to plain float32 Linear weights (no GGUF kernels on
    # the CPU) but leaves the GGUF quantizer on the model, which the Trainer refuses to train;
    # the weights being plain, drop that marker.
    packed = [name for name, m in model.named_modules()
              if name.endswith("proj") and (type(m) is not torch.nn.Linear
                                            or m.weight.dtype != torch.float32)]
    if packed:
        sys.exit(f"dpo_step.py: transformers kept {packed[0]} packed; expected fp32 Linear")
    model.hf_quantizer, model.is_quantized = None, False
    model.config.__dict__.pop("quantization_config", None)
    # pref_train_ref loads a model folder with eager attention; the benchmark's peer is the GGUF
    # with sdpa (its fastest), loaded once; everything else is its dpo_trl.
    pref_train_ref.plain_model = lambda _args: model
    pref_train_ref.vocab_of = lambda _folder: model.config.vocab_size

    class Timed(pref_train_ref.Recorder):
        def __init__(self, batch_size):
            super().__init__(batch_size)
            self.ends = []

        def on_step_end(self, args, state, control, **kwargs):
            self.ends.append(time.perf_counter())

    total = warmup + steps
    args = argparse.Namespace(
        model=MODELS, steps=total, lr=LR, batch_size=pairs_per_step, grad_accum=1,
        max_grad_norm=MAX_GRAD_NORM, seed=SEED, lora_rank=LORA_RANK, lora_alpha=LORA_ALPHA,
        lora_target="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", beta=BETA,
        ftx=0.0, impl="trl", loss_type=loss_type, label_smoothing=0.0, ld_alpha=None,
        save=None)
    pairs = pref_train_ref.load_pairs(pairs_file)[:total * pairs_per_step]
    recorder = Timed(pairs_per_step)
    with tempfile.TemporaryDirectory() as scratch:
        pref_train_ref.dpo_trl(args, pairs, scratch, recorder)
    if len(recorder.ends) != total:
        sys.exit(f"dpo_step.py: TRL ran {len(recorder.ends)} steps, expected {total}")
    ends = recorder.ends
    print(json.dumps({"step_s": (ends[-1] - ends[warmup - 1]) / steps,
                      "peak_rss_mb": vm_hwm_mb(),
                      "losses": [s["loss"] for s in recorder.steps]}))


# ---------------------------------------------------------------- Hone

def hone(pairs_per_step, cutoff, steps, warmup, loss_type, env):
    """`hone train --stage dpo` for warmup + steps steps; its trainer_log.jsonl lines and the
    process's peak RSS."""
    binary = os.path.join(ROOT, "build", "app", "hone")
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "run")
        keys = {"model_name_or_path": os.path.join(MODELS, MODEL_FILE), "stage": "dpo",
                "do_train": "true", "finetuning_type": "lora", "lora_rank": LORA_RANK,
                "lora_alpha": LORA_ALPHA, "lora_dropout": 0, "lora_target": "all",
                "dataset": DATASET, "dataset_dir": os.path.join(ROOT, "data"),
                "template": TEMPLATE, "cutoff_len": cutoff, "disable_shuffling": "true",
                "per_device_train_batch_size": pairs_per_step,
                "gradient_accumulation_steps": 1, "learning_rate": LR,
                "lr_scheduler_type": "constant", "weight_decay": 0,
                "max_grad_norm": MAX_GRAD_NORM, "pref_beta": BETA, "pref_loss": loss_type,
                "max_steps": warmup + steps, "logging_steps": 1, "save_steps": 1000000,
                "seed": SEED, "output_dir": out}
        command = [binary, "train"]
        for key, value in keys.items():
            command += [f"--{key}", str(value)]
        with open(os.path.join(scratch, "output"), "w+") as output:
            process = subprocess.Popen(command, env=env, stdout=output,
                                       stderr=subprocess.STDOUT)
            peak = 0.0
            while process.poll() is None:
                peak = max(peak, vm_hwm_mb(process.pid))
                time.sleep(0.05)
            if process.returncode != 0:
                output.seek(0)
                sys.exit(f"dpo_step.py: {' '.join(command)} failed:\n{output.read()}")
        with open(os.path.join(out, "trainer_log.jsonl")) as f:
            log = [json.loads(line) for line in f if line.strip()]
    log = [entry for entry in log if "loss" in entry]
    if len(log) != warmup + steps:
        sys.exit(f"dpo_step.py: Hone logged {len(log)} steps, expected {warmup + steps}")
    elapsed = [e["total_tokens"] / e["throughput"] for e in log]
    padded = [b["total_tokens"] - a["total_tokens"] for a, b in zip([{"total_tokens": 0}] + log,
                                                                     log)]
    return {"step_s": (elapsed[-1] - elapsed[warmup - 1]) / steps, "peak_rss_mb": peak,
            "losses": [e["loss"] for e in log], "padded": padded}


def run_json(command, env):
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2, help="pairs per step (batch size)")
    parser.add_argument("--cutoff", type=int, default=256, help="cutoff_len")
    parser.add_argument("--steps", type=int, default=8, help="timed steps")
    parser.add_argument("--warmup", type=int, default=1, help="steps before the timed ones")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--pref-loss", default="sigmoid",
                        choices=["sigmoid", "hinge", "ipo", "orpo", "simpo"])
    parser.add_argument("--no-peer", action="store_true", help="Hone only")
    parser.add_argument("--gomp-spincount", type=int,
                        help="GOMP_SPINCOUNT for both sides (how long idle OpenMP threads spin)")
    parser.add_argument("--encode", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warmup < 1 or args.steps < 1:
        sys.exit("dpo_step.py: --warmup and --steps must be at least 1")
    if args.encode:
        return encode(int(args.encode[0]), args.encode[1])
    if args.peer:
        return peer(args.peer, args.pairs, args.steps, args.warmup, args.pref_loss, args.threads)

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads))
    if args.gomp_spincount is not None:
        env["GOMP_SPINCOUNT"] = str(args.gomp_spincount)
    python = os.path.join(ROOT, ".venv-test", "bin", "python")
    with tempfile.TemporaryDirectory() as scratch:
        pairs_file = os.path.join(scratch, "pairs.json")
        subprocess.run([python, __file__, "--encode", str(args.cutoff), pairs_file], env=env,
                       check=True, capture_output=True)
        with open(pairs_file) as f:
            pairs = json.load(f)
        total = args.warmup + args.steps
        if total * args.pairs > len(pairs):
            sys.exit(f"dpo_step.py: {DATASET} has {len(pairs)} pairs; warmup + steps = {total} "
                     f"steps of {args.pairs} pairs need {total * args.pairs} (one epoch)")
        steps = [pairs[k * args.pairs:(k + 1) * args.pairs] for k in range(total)]
        padded = [2 * args.pairs * max(len(p[f"{side}_input_ids"]) for p in step
                                       for side in ("chosen", "rejected")) for step in steps]
        tokens = sum(len(p["chosen_input_ids"]) + len(p["rejected_input_ids"])
                     for step in steps[args.warmup:] for p in step) / args.steps
        load = os.getloadavg()[0]
        print(f"{MODEL_FILE}, {DATASET} ({TEMPLATE}, cutoff {args.cutoff}), {args.pairs} pairs "
              f"a step ({tokens:.0f} tokens a step, chosen + rejected rows, padding not "
              f"counted), LoRA r {LORA_RANK} all projections, pref_loss {args.pref_loss}, "
              f"{args.threads} threads, {args.steps} timed steps after {args.warmup}; "
              f"load average {load:.1f}")
        h = hone(args.pairs, args.cutoff, args.steps, args.warmup, args.pref_loss, env)
        if h["padded"] != padded:
            sys.exit(f"dpo_step.py: Hone's padded tokens per step {h['padded']} differ from "
                     f"LLaMA-Factory's encoding's {padded}: not the same pairs")
        checked = args.pref_loss == "sigmoid"
        if checked and abs(h["losses"][0] - math.log(2)) > 1e-5:
            sys.exit(f"dpo_step.py: Hone's first loss {h['losses'][0]} is not log 2")
        print(f"Hone  {h['step_s']:7.3f} s/step {tokens / h['step_s']:8.1f} tok/s "
              f"{h['peak_rss_mb']:7.0f} MB   losses {[round(x, 4) for x in h['losses']]}")
        if args.no_peer or args.pref_loss in ("orpo", "simpo"):
            return
        t = run_json([python, __file__, "--peer", pairs_file, "--pairs", str(args.pairs),
                      "--steps", str(args.steps), "--warmup", str(args.warmup),
                      "--threads", str(args.threads), "--pref-loss", args.pref_loss], env)
        if checked and abs(t["losses"][0] - math.log(2)) > 1e-5:
            sys.exit(f"dpo_step.py: TRL's first loss {t['losses'][0]} is not log 2")
        print(f"TRL   {t['step_s']:7.3f} s/step {tokens / t['step_s']:8.1f} tok/s "
              f"{t['peak_rss_mb']:7.0f} MB   losses {[round(x, 4) for x in t['losses']]}")
        print(f"Hone / TRL: speed x{t['step_s'] / h['step_s']:.2f}, "
              f"memory x{h['peak_rss_mb'] / t['peak_rss_mb']:.2f}; "
              f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
