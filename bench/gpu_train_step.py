"""The Python side of the GPU check (bench/gpu_check.sh): makes the random model the timings
use, runs the transformers + PEFT peer, and reads Hone's rate from its trainer_log.jsonl.

  python3 bench/gpu_train_step.py make OUT_DIR [--shape qwen2.5-0.5b|tiny] [--device cuda|cpu]
      OUT_DIR/model/  a Qwen2-architecture model with random weights (transformers' own init
                      under torch.manual_seed(0)), bf16 safetensors, shaped as Qwen2.5-0.5B's
                      config.json (vocab 151936, hidden 896, intermediate 4864, 24 layers, 14
                      heads, 2 key/value heads, q/k/v bias, tied embeddings, rope_theta 1e6,
                      rms_norm_eps 1e-6); nothing is downloaded. A byte-level tokenizer.json
                      (the 256 byte tokens and <|endoftext|>, no merges: one token per byte)
                      so that hone train can read text.
      OUT_DIR/model.json  {"params": ...}, also printed.
      OUT_DIR/data/   dataset_info.json and random_text.jsonl ("text": random lowercase words,
                      enough for the steps the check times), for stage pt.
  python3 bench/gpu_train_step.py peer MODEL_DIR --method lora|full [--seq 2048] [--steps 8]
          [--warmup 2] [--device cuda|cpu]
      One JSON line: tokens_per_s, step_s, peak_allocated_mb (torch's allocator peak), loss,
      params. The run is LLaMA-Factory's with bf16: true: the model loaded in bf16, trainable
      parameters upcast to fp32 (full: every weight; lora: the adapters), bf16 autocast,
      attn_implementation "sdpa", gradient checkpointing (upstream's default, non-reentrant),
      AdamW (lr 1e-4, fused on CUDA), batch 1 of random token ids, labels = inputs. LoRA as
      LLaMA-Factory's defaults: r 8, alpha 16, dropout 0, every linear layer of the decoder.
  python3 bench/gpu_train_step.py hone-rate OUTPUT_DIR --warmup 2
      One JSON line: Hone's tokens per second over the steps after the warm-up ones, from the
      running totals trainer_log.jsonl logs every step (total_tokens / throughput is the elapsed
      time at that step), and the last loss.
"""
import argparse
import json
import os
import random
import sys
import time

QWEN25_05B = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864,
                  num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                  max_position_embeddings=32768, rope_theta=1000000.0, rms_norm_eps=1e-6,
                  tie_word_embeddings=True, hidden_act="silu", initializer_range=0.02)
TINY = dict(vocab_size=512, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
            rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
            hidden_act="silu", initializer_range=0.02)
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
EOS = "<|endoftext|>"


def byte_tokenizer(folder):
    """GPT-2's byte-level BPE with the 256 byte symbols as the whole vocabulary (ids 0..255)
    and <|endoftext|> as 256."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.pre_tokenizers import ByteLevel
    alphabet = ByteLevel.alphabet()
    vocab = {symbol: i for i, symbol in enumerate(sorted(alphabet, key=lambda s: ord(s)))}
    assert len(vocab) == 256
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([EOS])
    tok.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"eos_token": EOS, "pad_token": EOS, "model_max_length": 32768,
                   "tokenizer_class": "PreTrainedTokenizerFast"}, f)


def random_text(folder, n_bytes, seed=0):
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(5000)]
    with open(os.path.join(folder, "random_text.jsonl"), "w") as f:
        written = 0
        while written < n_bytes:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(200, 600)))
            f.write(json.dumps({"text": text}) + "\n")
            written += len(text)
    with open(os.path.join(folder, "dataset_info.json"), "w") as f:
        json.dump({"random_text": {"file_name": "random_text.jsonl",
                                   "columns": {"prompt": "text"}}}, f, indent=2)


def make(out, shape, device, text_bytes):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM
    model_dir, data_dir = os.path.join(out, "model"), os.path.join(out, "data")
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(data_dir, exist_ok=True)
    config = Qwen2Config(**(QWEN25_05B if shape == "qwen2.5-0.5b" else TINY),
                         bos_token_id=None, eos_token_id=256, pad_token_id=256)
    torch.manual_seed(0)
    start = time.time()
    with torch.device(device):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(model_dir, safe_serialization=True)
    byte_tokenizer(model_dir)
    random_text(data_dir, text_bytes)
    params = sum(p.numel() for p in model.parameters())
    line = json.dumps({"model": model_dir, "data": data_dir, "params": params,
                       "seconds": round(time.time() - start, 1)})
    with open(os.path.join(out, "model.json"), "w") as f:
        f.write(line + "\n")
    print(line)


def peer(model_dir, method, seq, steps, warmup, device):
    import torch
    from transformers import AutoModelForCausalLM
    cuda = device == "cuda"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16,
                                                 attn_implementation="sdpa").to(device)
    model.config.use_cache = False
    vocab = min(model.config.vocab_size, 257)  # the byte tokens and <|endoftext|>
    if method == "lora":
        from peft import LoraConfig, get_peft_model
        model.enable_input_require_grads()  # as LLaMA-Factory does with checkpointing
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
                                                 target_modules=LORA_TARGETS, bias="none"))
    for p in model.parameters():  # LLaMA-Factory upcasts what trains to fp32 (not pure_bf16)
        if p.requires_grad:
            p.data = p.data.float()
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4, fused=cuda)
    gen = torch.Generator().manual_seed(0)

    def step():
        ids = torch.randint(0, vocab, (1, seq), generator=gen).to(device)
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for _ in range(warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else None
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"tokens_per_s": round(seq * steps / seconds, 1),
                      "step_s": round(seconds / steps, 4), "peak_allocated_mb": peak,
                      "loss": round(float(loss.detach()), 4), "params": params,
                      "trainable": sum(p.numel() for p in trainable)}))


def hone_rate(output_dir, warmup):
    lines = []
    with open(os.path.join(output_dir, "trainer_log.jsonl")) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                if "throughput" in row and "total_tokens" in row:
                    lines.append(row)
    if len(lines) <= warmup:
        sys.exit(f"{output_dir}/trainer_log.jsonl: {len(lines)} training log lines, need more "
                 f"than the {warmup} warm-up steps (logging_steps 1)")
    first, last = lines[warmup - 1] if warmup > 0 else None, lines[-1]
    t_last = last["total_tokens"] / last["throughput"]
    tok_first = first["total_tokens"] if first else 0
    t_first = first["total_tokens"] / first["throughput"] if first else 0.0
    seconds = t_last - t_first
    steps = len(lines) - warmup
    print(json.dumps({"tokens_per_s": round((last["total_tokens"] - tok_first) / seconds, 1),
                      "step_s": round(seconds / steps, 4), "steps": steps,
                      "loss": last.get("loss")}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--shape", choices=["qwen2.5-0.5b", "tiny"], default="qwen2.5-0.5b")
    m.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    m.add_argument("--text-bytes", type=int, default=400_000)
    p = sub.add_parser("peer")
    p.add_argument("model")
    p.add_argument("--method", choices=["lora", "full"], required=True)
    p.add_argument("--seq", type=int, default=2048)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    r = sub.add_parser("hone-rate")
    r.add_argument("output_dir")
    r.add_argument("--warmup", type=int, default=2)
    a = parser.parse_args()
    if a.command == "make":
        make(a.out, a.shape, a.device, a.text_bytes)
    elif a.command == "peer":
        peer(a.model, a.method, a.seq, a.steps, a.warmup, a.device)
    else:
        hone_rate(a.output_dir, a.warmup)


if __name__ == "__main__":
    main()
