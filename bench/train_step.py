"""One training step (forward, backward, AdamW update) in Hone and in transformers (+PEFT for
LoRA) on the same model and random tokens, with the same number of threads: tokens per second
and peak resident memory of each, and the ratios. Each side runs in its own process so its
peak memory is its own.

  .venv-test/bin/python bench/train_step.py [--model GGUF_OR_DIR] [--methods lora dora full]
        [--seq 512] [--steps 3] [--threads 2] [--recompute]

Default model: SmolLM2-135M-Instruct (its GGUF from tools/fetch-models.sh; both sides
dequantize it to float32). `--model tiny` makes a tiny random Llama instead (tests/reference/
model_ref.py's: vocab 256, hidden 64, 3 layers), saved as fp32 safetensors in a temp folder.
Both sides: batch 1, float32, LoRA r 8, alpha 16, dropout 0, on q/k/v/o/gate/up/down (dora: the
same with use_dora); AdamW (lr 1e-4); transformers with eager attention... sdpa is faster
on the CPU, so the peer runs with attn_implementation="sdpa" (its best)."""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.environ.get("HONE_CACHE", os.path.expanduser("~/.cache/hone/models"))


def peak_rss_mb():
    """VmHWM of this process image (ru_maxrss would include the parent's peak from before
    fork and exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peer(model_path, method, seq, steps, warmup):
    import torch
    from transformers import AutoModelForCausalLM
    folder, name = os.path.split(model_path)
    kwargs = {"gguf_file": name} if name.endswith(".gguf") else {}
    model = AutoModelForCausalLM.from_pretrained(folder if kwargs else model_path,
                                                 dtype=torch.float32,
                                                 attn_implementation="sdpa", **kwargs)
    if method in ("lora", "dora"):
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(
            r=8, lora_alpha=16, lora_dropout=0.0, use_dora=method == "dora",
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                            "down_proj"]))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    torch.manual_seed(1)
    ids = torch.randint(0, model.config.vocab_size, (1, seq))
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad()
    seconds = (time.perf_counter() - start) / steps
    peak = peak_rss_mb()
    print(json.dumps({"tokens_per_s": seq / seconds, "step_s": seconds, "peak_rss_mb": peak,
                      "loss": float(loss), "trained": sum(p.numel() for p in params)}))


def run(command, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.path.join(MODELS, "SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--methods", nargs="+", default=["lora", "full"])
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--recompute", action="store_true")
    parser.add_argument("--peer", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        import torch
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        peer(args.peer[0], args.peer[1], int(args.peer[2]), int(args.peer[3]), args.warmup)
        return
    binary = os.path.join(ROOT, "build", "bench", "bench_train_step")
    if args.model == "tiny":
        import tempfile
        sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
        import torch
        import model_ref
        torch.manual_seed(0)
        args.model = os.path.join(tempfile.mkdtemp(), "tiny")
        model_ref.make_model("llama", {"tie_word_embeddings": False}).save_pretrained(args.model)
    print(f"model {args.model}, seq {args.seq}, batch 1, {args.threads} threads, "
          f"{args.steps} timed steps after {args.warmup}")
    for method in args.methods:
        hone_cmd = [binary, args.model, method, str(args.seq), str(args.steps), str(args.warmup)]
        if args.recompute:
            hone_cmd.append("--recompute")
        hone = run(hone_cmd, args.threads)
        ref = run([sys.executable, __file__, "--warmup", str(args.warmup), "--peer", args.model,
                   method, str(args.seq), str(args.steps)], args.threads)
        print(f"{method:5} Hone {hone['tokens_per_s']:8.1f} tok/s {hone['peak_rss_mb']:7.0f} MB"
              f" | transformers{'+PEFT' if method != 'full' else ''} "
              f"{ref['tokens_per_s']:8.1f} tok/s {ref['peak_rss_mb']:7.0f} MB"
              f" | speed x{hone['tokens_per_s'] / ref['tokens_per_s']:.2f},"
              f" memory x{hone['peak_rss_mb'] / ref['peak_rss_mb']:.2f}"
              f" (trained {hone['trained']:,} vs {ref['trained']:,})")


if __name__ == "__main__":
    main()
