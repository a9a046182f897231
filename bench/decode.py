"""Decoding at batch 1: Hone (bench_decode: hn_generate with the key/value cache, as `hone chat`
runs it) beside transformers' generate, on the same model, prompt and thread count, greedy,
the same number of new tokens; then the memory-bandwidth limit: the bytes Hone reads per
decoded token over the read bandwidth bench_bandwidth measures on this machine.

  .venv-test/bin/python bench/decode.py [--model GGUF_OR_DIR] [--new 128] [--repeats 3]
        [--rounds 3] [--threads 2] [--wait-policy short-spin|passive|active|default]

Default model: SmolLM2-135M-Instruct's GGUF (tools/fetch-models.sh). transformers loads it with
gguf_file= (dequantized to float32, sdpa attention); Hone keeps the file's Q8_0 and Q4_1 blocks
as they are and decodes them in registers (the same weight values as the float32
dequantization; only the order of the additions differs), so the two read different numbers of
bytes for the same weights, and each side's fraction of the bandwidth limit counts its own
bytes (bench_decode reports Hone's). The prompt is a chat prompt from the model's template. Both sides generate
exactly --new tokens: Hone with no stop ids, transformers with min_new_tokens = --new (eos is
masked until then); the script reports how many leading ids the two agree on.
Each side runs in its own process: a warm-up generation, then --repeats timed ones (median);
the sides and bench_bandwidth alternate --rounds times (median of the rounds), which evens
out a shared machine's load; the fraction of the bandwidth limit is taken per round against
the best read bandwidth of that round (STREAM reports the best of its repeats), then the
median. Decode tokens/s counts the tokens after the first (which comes from the prefill's
logits); prefill tokens/s is the prompt's length over the time to the first logits.
Waiting threads: `hone chat` runs itself with GOMP_SPINCOUNT=10000 unless the user chose a
policy (long-spinning OpenMP threads starve each other on a busy machine, passive ones wake
slowly on a quiet one); both sides get the same setting here, that short spin by default
(torch's libgomp reads it too).
Hone runs twice per round: in its default exact mode (decode_activations fp32) and in the
opt-in int8 mode (decode_activations int8: the input of every one-token product with a Q8_0 /
Q4_1 weight quantized to int8 per block of 32, integer dot products; the same bytes read); each
is reported beside transformers and against the bandwidth limit."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.environ.get("HONE_MODELS", os.path.expanduser("~/.cache/hone/models"))
PROMPT = "Write a long story about a robot who learns to paint, with many details."


def load_peer(model_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    folder, name = os.path.split(model_path)
    kwargs = {"gguf_file": name} if name.endswith(".gguf") else {}
    where = folder if kwargs else model_path
    tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32,
                                                 attn_implementation="sdpa", **kwargs)
    return tokenizer, model.eval()


def prompt_ids(tokenizer):
    ids = tokenizer.apply_chat_template([{"role": "user", "content": PROMPT}],
                                        add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "keys"):  # transformers 5 may return a BatchEncoding
        ids = ids["input_ids"]
    return [int(i) for i in ids]


def peer(model_path, new, repeats, ids):
    """transformers' generate; the logits processor stamps the time of every step's logits."""
    import torch
    _, model = load_peer(model_path)
    stamps = []

    def stamp(input_ids, scores):
        stamps.append(time.perf_counter())
        return scores

    inputs = torch.tensor([ids])
    prefill, decode = [], []
    with torch.inference_mode():
        for r in range(repeats + 1):  # r = 0: warm-up
            stamps.clear()
            start = time.perf_counter()
            out = model.generate(inputs, attention_mask=torch.ones_like(inputs),
                                 max_new_tokens=new, min_new_tokens=new, do_sample=False,
                                 logits_processor=[stamp], pad_token_id=0)
            if r > 0:
                prefill.append(len(ids) / (stamps[0] - start))
                decode.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
    print(json.dumps({"prefill_tokens_per_s": statistics.median(prefill),
                      "decode_tokens_per_s": statistics.median(decode),
                      "ids": out[0, len(ids):].tolist()}))


def bytes_per_token(model, new, n_prompt):
    """What one decoded token reads in transformers: every float32 weight matrix of the layers,
    the norms, the LM head (the tied embedding matrix when tied; the embedding itself is one
    row), and the float32 key/value cache at the average position of the decoded tokens (both
    sides keep it in float32)."""
    c = model.config
    total = 0
    for name, p in model.named_parameters():
        if "embed_tokens" in name and not c.tie_word_embeddings:
            total += p.shape[1]  # one row
        else:
            total += p.numel()
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    mean_pos = n_prompt + new / 2
    kv = 2 * c.num_hidden_layers * c.num_key_value_heads * head_dim * mean_pos
    return 4 * total, 4 * kv


def run(command, env):
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.path.join(MODELS, "SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--new", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--wait-policy", choices=["short-spin", "passive", "active", "default"],
                        default="short-spin")
    parser.add_argument("--peer", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        import torch
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        peer(args.peer[0], int(args.peer[1]), int(args.peer[2]),
             [int(i) for i in args.peer[3].split(",")])
        return
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads))
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("GOMP_SPINCOUNT", None)
    if args.wait_policy == "short-spin":
        env["GOMP_SPINCOUNT"] = "10000"
    elif args.wait_policy != "default":
        env["OMP_WAIT_POLICY"] = args.wait_policy.upper()
    tokenizer, model = load_peer(args.model)
    ids = prompt_ids(tokenizer)
    weights, kv = bytes_per_token(model, args.new, len(ids))
    del model
    print(f"model {args.model}\nprompt {len(ids)} tokens, {args.new} new tokens, greedy, batch 1,"
          f" {args.threads} threads, OMP_WAIT_POLICY {args.wait_policy}, {args.repeats} timed "
          f"repeats x {args.rounds} rounds; load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bench = os.path.join(ROOT, "build", "bench")
    joined = ",".join(map(str, ids))
    rounds = {"hone": [], "hone_int8": [], "peer": [], "bw": []}
    for _ in range(args.rounds):
        for side, mode in (("hone", "fp32"), ("hone_int8", "int8")):
            rounds[side].append(run([os.path.join(bench, "bench_decode"), args.model,
                                     str(args.new), str(args.repeats), joined, mode], env))
        rounds["peer"].append(run([sys.executable, __file__, "--peer", args.model,
                                   str(args.new), str(args.repeats), joined], env))
        rounds["bw"].append(run([os.path.join(bench, "bench_bandwidth"), "256", "10"], env))

    def med(side, key):
        return statistics.median(r[key] for r in rounds[side])

    hone_weights = rounds["hone"][-1]["weight_bytes_per_token"]
    per_token = {"hone": hone_weights + kv, "hone_int8": hone_weights + kv, "peer": weights + kv}
    hone_dec, peer_dec = med("hone", "decode_tokens_per_s"), med("peer", "decode_tokens_per_s")
    int8_dec = med("hone_int8", "decode_tokens_per_s")
    hone_pre, peer_pre = med("hone", "prefill_tokens_per_s"), med("peer", "prefill_tokens_per_s")
    # each round's fraction against the bandwidth measured in that round (the load moves)
    fractions = {side: [r["decode_tokens_per_s"] * per_token[side] / (bw["read_best_gbs"] * 1e9)
                        for r, bw in zip(rounds[side], rounds["bw"])]
                 for side in ("hone", "hone_int8", "peer")}
    for i in range(args.rounds):
        h, q, p, bw = rounds["hone"][i], rounds["hone_int8"][i], rounds["peer"][i], rounds["bw"][i]
        print(f"round {i + 1}: decode Hone {h['decode_tokens_per_s']:6.2f} tok/s, Hone int8 "
              f"{q['decode_tokens_per_s']:6.2f} tok/s, transformers "
              f"{p['decode_tokens_per_s']:6.2f} tok/s (x{h['decode_tokens_per_s'] / p['decode_tokens_per_s']:.2f},"
              f" int8 x{q['decode_tokens_per_s'] / p['decode_tokens_per_s']:.2f});"
              f" read bandwidth best {bw['read_best_gbs']:.2f} GB/s, median "
              f"{bw['read_median_gbs']:.2f}: Hone at {100 * fractions['hone'][i]:.0f}% of the "
              f"limit, int8 {100 * fractions['hone_int8'][i]:.0f}%, transformers "
              f"{100 * fractions['peer'][i]:.0f}%")

    def same(a, b):
        return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))

    a, q, b = rounds["hone"][-1]["ids"], rounds["hone_int8"][-1]["ids"], rounds["peer"][-1]["ids"]
    print(f"same ids: the first {same(a, b)} of {len(a)} new tokens agree (Hone fp32 and "
          f"transformers); int8 mode: the first {same(q, b)} with transformers, {same(q, a)} with "
          f"fp32 (int8 rounding changes near-ties, then the texts part)")
    print(f"bytes per decoded token: weights Hone {hone_weights / 1e6:.1f} MB (as stored), "
          f"transformers {weights / 1e6:.1f} MB (fp32); KV cache {kv / 1e6:.1f} MB (fp32, at "
          f"the mean position)")
    print(f"median of the rounds: decode Hone {hone_dec:.2f} tok/s | Hone int8 {int8_dec:.2f} "
          f"tok/s | transformers {peer_dec:.2f} tok/s | x{hone_dec / peer_dec:.2f}, int8 "
          f"x{int8_dec / peer_dec:.2f}; prefill Hone {hone_pre:.1f} tok/s | transformers "
          f"{peer_pre:.1f} tok/s | x{hone_pre / peer_pre:.2f}")
    print(f"fraction of the bandwidth limit (bytes per token / best read GB/s of the same round),"
          f" median: Hone {100 * statistics.median(fractions['hone']):.0f}%, Hone int8 "
          f"{100 * statistics.median(fractions['hone_int8']):.0f}%, transformers "
          f"{100 * statistics.median(fractions['peer']):.0f}%")
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
