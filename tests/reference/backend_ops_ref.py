"""Reference side of tests/test_backend_ops.c: PyTorch autograd (float64) and transformers
compute what each CPU backend op should give.

  backend_ops_ref.py DIR

DIR holds one folder per case with case.json ({"op": ..., sizes, parameters}) and the inputs
the C test wrote as raw little-endian arrays (NAME.bin: float32, int32 ids, or uint16 bf16
weights). This writes DIR/CASE/expected/NAME.bin (float64) and, for RoPE tables,
expected/tables.json. Backward checks use the upstream gradient `dout` the test wrote, and
accumulate onto the initial gradients `NAME_init` the test wrote (the ops add, never assign).
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

torch.set_default_dtype(torch.float64)


class Case:
    def __init__(self, folder):
        self.folder = folder
        with open(os.path.join(folder, "case.json")) as f:
            self.spec = json.load(f)
        os.makedirs(os.path.join(folder, "expected"), exist_ok=True)

    def __getitem__(self, key):
        return self.spec[key]

    def raw(self, name, dtype):
        with open(os.path.join(self.folder, name + ".bin"), "rb") as f:
            return np.frombuffer(f.read(), dtype=dtype)

    def floats(self, name, shape, grad=False):
        t = torch.from_numpy(self.raw(name, np.float32).astype(np.float64)).reshape(shape)
        return t.requires_grad_(grad)

    def ints(self, name, shape):
        return torch.from_numpy(self.raw(name, np.int32).astype(np.int64)).reshape(shape)

    def weight(self, name, shape, grad=False):
        """A weight stored as float32 or bf16 (spec[name + "_type"]), widened to float64."""
        if self.spec.get(name + "_type", "f32") == "bf16":
            bits = torch.from_numpy(self.raw(name, np.uint16).astype(np.int16))
            t = bits.view(torch.bfloat16).to(torch.float64).reshape(shape)
        else:
            t = self.floats(name, shape)
        return t.requires_grad_(grad)

    def expect(self, name, tensor):
        array = tensor.detach().to(torch.float64).contiguous().numpy()
        with open(os.path.join(self.folder, "expected", name + ".bin"), "wb") as f:
            f.write(array.tobytes())

    def expect_grad(self, name, tensor, shape):
        """The initial gradient the test wrote plus autograd's."""
        self.expect(name, self.floats(name + "_init", shape) + tensor.grad)


def backward(case, out, shape):
    out.backward(case.floats("dout", shape))


def run_matmul(case):
    N, C, OC = case["N"], case["C"], case["OC"]
    inp = case.floats("inp", (N, C), grad=True)
    weight = case.weight("weight", (OC, C), grad=True)
    bias = case.floats("bias", (OC,), grad=True) if case["bias"] else None
    out = F.linear(inp, weight, bias)
    backward(case, out, (N, OC))
    case.expect("out", out)
    case.expect_grad("dinp", inp, (N, C))
    if case["dweight"]:
        case.expect_grad("dweight", weight, (OC, C))
    if bias is not None:
        case.expect_grad("dbias", bias, (OC,))


def run_embedding(case):
    N, C, V = case["N"], case["C"], case["V"]
    ids = case.ints("ids", (N,))
    table = case.weight("table", (V, C), grad=True)
    out = F.embedding(ids, table)
    backward(case, out, (N, C))
    case.expect("out", out)
    case.expect_grad("dtable", table, (V, C))


def run_rmsnorm(case):
    N, C, eps = case["N"], case["C"], case["eps"]
    inp = case.floats("inp", (N, C), grad=True)
    weight = case.floats("weight", (C,), grad=True)
    out = F.rms_norm(inp, (C,), weight, eps)
    backward(case, out, (N, C))
    case.expect("out", out)
    case.expect("rstd", torch.rsqrt(inp.detach().pow(2).mean(-1) + eps))
    case.expect_grad("dinp", inp, (N, C))
    case.expect_grad("dweight", weight, (C,))


def run_swiglu(case):
    N, H = case["N"], case["H"]
    gate = case.floats("gate", (N, H), grad=True)
    up = case.floats("up", (N, H), grad=True)
    out = F.silu(gate) * up
    backward(case, out, (N, H))
    case.expect("out", out)
    case.expect_grad("dgate", gate, (N, H))
    case.expect_grad("dup", up, (N, H))


def run_rope(case):
    B, T, NH, HD = case["B"], case["T"], case["NH"], case["HD"]
    inp = case.floats("inp", (B, T, NH, HD), grad=True)
    positions = case.ints("position_ids", (B, T))
    inv_freq = case.floats("inv_freq", (HD // 2,))
    # LlamaRotaryEmbedding.forward's cos/sin (in float64), then transformers' own rotation.
    freqs = positions[..., None].to(torch.float64) * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    cos = emb.cos() * case["attention_factor"]
    sin = emb.sin() * case["attention_factor"]
    out, _ = apply_rotary_pos_emb(inp, inp, cos, sin, unsqueeze_dim=2)  # [B, T, NH, HD]
    backward(case, out, (B, T, NH, HD))
    case.expect("out", out)
    case.expect_grad("dinp", inp, (B, T, NH, HD))


def run_attention(case):
    """Causal attention with grouped KV heads, document masks and a sliding window, by
    torch's scaled_dot_product_attention with an explicit boolean mask."""
    B, T, NH, NKV, HD = case["B"], case["T"], case["NH"], case["NKV"], case["HD"]
    q = case.floats("q", (B, T, NH, HD), grad=True)
    k = case.floats("k", (B, T, NKV, HD), grad=True)
    v = case.floats("v", (B, T, NKV, HD), grad=True)
    if case["docs"]:
        doc_start = case.ints("doc_start", (B, T))
    else:
        doc_start = torch.zeros(B, T, dtype=torch.int64)
    t = torch.arange(T)[:, None]
    s = torch.arange(T)[None, :]
    allowed = (s <= t)[None] & (s[None] >= doc_start[:, :, None])  # [B, T, T]
    if case["window"] > 0:
        allowed &= (t - s < case["window"])[None]
    heads = lambda x: x.transpose(1, 2)  # [B, T, H, HD] -> [B, H, T, HD]
    out = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), attn_mask=allowed[:, None],
                                         scale=case["scale"], enable_gqa=True)
    out = heads(out)
    backward(case, out, (B, T, NH, HD))
    case.expect("out", out)
    case.expect_grad("dq", q, (B, T, NH, HD))
    case.expect_grad("dk", k, (B, T, NKV, HD))
    case.expect_grad("dv", v, (B, T, NKV, HD))
    group = NH // NKV
    scores = torch.einsum("bthd,bshd->bhts", q.detach(), k.detach().repeat_interleave(group, dim=2))
    scores = (scores * case["scale"]).masked_fill(~allowed[:, None], float("-inf"))
    case.expect("lse", torch.logsumexp(scores, dim=-1))  # [B, NH, T]


def run_cross_entropy(case):
    N, C, V = case["N"], case["C"], case["V"]
    hidden = case.floats("hidden", (N, C), grad=True)
    weight = case.weight("weight", (V, C), grad=True)
    targets = case.ints("targets", (N,))
    logits = hidden @ weight.T
    losses = F.cross_entropy(logits, targets, ignore_index=-100, reduction="none")
    (losses * case.floats("dlosses", (N,))).sum().backward()
    case.expect("losses", losses)
    counted = targets != -100  # ignored rows: lse 0, never computed
    case.expect("lse", torch.logsumexp(logits.detach(), dim=-1) * counted)
    case.expect_grad("dhidden", hidden, (N, C))
    if case["dweight"]:
        case.expect_grad("dweight", weight, (V, C))


def run_dora(case):
    """DoRA as peft/tuners/lora/dora.py computes it: the row norms of W + scaling B A
    (get_weight_norm), detached, and out = inp * magnitude / norm + bias with inp standing for
    the pre-scale output x W^T + scaling lora(x)."""
    N, C, OC, r, scaling = case["N"], case["C"], case["OC"], case["r"], case["scaling"]
    weight = case.weight("weight", (OC, C))
    lora_a = case.floats("lora_a", (r, C))
    lora_b = case.floats("lora_b", (OC, r))
    norm = torch.linalg.norm(weight + scaling * (lora_b @ lora_a), dim=1)
    inp = case.floats("inp", (N, OC), grad=True)
    magnitude = case.floats("magnitude", (OC,), grad=True)
    bias = case.floats("bias", (OC,), grad=True) if case["bias"] else None
    out = inp * (magnitude / norm.detach()).view(1, -1)
    if bias is not None:
        out = out + bias
    backward(case, out, (N, OC))
    case.expect("norm", norm)
    case.expect("out", out)
    case.expect_grad("dinp", inp, (N, OC))
    case.expect_grad("dmagnitude", magnitude, (OC,))
    if bias is not None:
        case.expect_grad("dbias", bias, (OC,))


def run_adamw(case):
    """Steps of clip_grad_norm_ + torch.optim.AdamW over two parameter tensors."""
    sizes, steps = case["sizes"], case["steps"]
    params = [torch.nn.Parameter(case.floats(f"param{i}", (n,))) for i, n in enumerate(sizes)]
    optimizer = torch.optim.AdamW(params, lr=case["lr"], betas=(case["beta1"], case["beta2"]),
                                  eps=case["eps"], weight_decay=case["weight_decay"])
    norms = []
    for step in range(steps):
        for i, (p, n) in enumerate(zip(params, sizes)):
            p.grad = case.floats(f"grad{i}_{step}", (n,)).clone()
        if case["max_norm"] > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, case["max_norm"])
        else:  # no clipping, as transformers' Trainer skips it for max_grad_norm <= 0
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        norms.append(float(norm))
        optimizer.step()
    case.expect("norms", torch.tensor(norms))
    for i, p in enumerate(params):
        state = optimizer.state[p]
        case.expect(f"param{i}", p)
        case.expect(f"m{i}", state["exp_avg"])
        case.expect(f"v{i}", state["exp_avg_sq"])


def run_rope_tables(case):
    """inv_freq and the attention factor of transformers for the config.json the test wrote."""
    model = os.path.join(case.folder, "model")
    os.makedirs(model, exist_ok=True)
    with open(os.path.join(model, "config.json"), "wb") as f:
        f.write(case.raw("config", np.uint8).tobytes())
    config = AutoConfig.from_pretrained(model)
    rope_type = config.rope_parameters["rope_type"]
    if rope_type == "default":
        inv_freq, factor = LlamaRotaryEmbedding.compute_default_rope_parameters(config)
    else:
        inv_freq, factor = ROPE_INIT_FUNCTIONS[rope_type](config, None, seq_len=case["seq_len"])
    inv_freq = inv_freq.to(torch.float32)
    assert torch.isfinite(inv_freq).all() and math.isfinite(factor)
    case.expect("inv_freq", inv_freq)
    with open(os.path.join(case.folder, "expected", "tables.json"), "w") as f:
        json.dump({"rope_type": rope_type, "attention_factor": float(factor)}, f)


RUNNERS = {
    "matmul": run_matmul,
    "embedding": run_embedding,
    "rmsnorm": run_rmsnorm,
    "swiglu": run_swiglu,
    "rope": run_rope,
    "attention": run_attention,
    "cross_entropy": run_cross_entropy,
    "dora": run_dora,
    "adamw": run_adamw,
    "rope_tables": run_rope_tables,
}


def main():
    root = sys.argv[1]
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if os.path.isfile(os.path.join(folder, "case.json")):
            case = Case(folder)
            RUNNERS[case["op"]](case)
            print(f"{name}: {case['op']} written")


if __name__ == "__main__":
    main()
