"""Reference side of the model tests: tiny random decoders made and run by transformers (full
fine-tuning) and PEFT (LoRA), their logits, loss and gradients.

  model_ref.py write OUT_DIR

OUT_DIR/cases.json lists the cases: [{"name", "family", "kind": "full" | "lora", "packed",
"bf16"}]. Each case writes OUT_DIR/<name>/:

  model/     the (base) model as save_pretrained writes it: config.json, generation_config.json,
             model.safetensors (fp32; bf16 for llama_bf16). Every case: vocab 256, hidden 64,
             intermediate 160, 3 layers, 4 heads, 2 key/value heads, head_dim 16,
             max_position_embeddings 128, rms_norm_eps 1e-5, rope_theta 10000,
             initializer_range 0.2. Weights: transformers' own initialisation (normal, std 0.2)
             under torch.manual_seed(1000 + case index), then every RMSNorm weight (input,
             post-attention, final, Qwen3's q/k norms) set to 1 + 0.1 * randn and every bias to
             0.1 * randn.
  adapter/   LoRA cases only: PEFT's save_pretrained (adapter_config.json,
             adapter_model.safetensors, and PEFT's README.md). LoraConfig: target_modules
             q_proj k_proj v_proj o_proj gate_proj up_proj down_proj, r 4, lora_alpha 8,
             lora_dropout 0 (0.1 in the dropout cases), bias "none"; every lora_B set to
             0.1 * randn after get_peft_model (PEFT starts it at zero). The file's keys
             have no adapter name:
             base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight, ...lora_B.weight,
             ...lora_magnitude_vector (DoRA, no ".weight"). DoRA's magnitude vectors are PEFT's
             initial ones, ||W|| per output row (computed while B was still zero), so
             magnitude / ||W + s B A|| is not 1 in the forward; PEFT detaches that norm, so no
             gradient flows through it.
  expected.safetensors
             input_ids  int32 [B, T]   B = 2, T = 20, uniform in [0, 256)
             labels     int32 [B, T]   input_ids with -100 at row 0 positions 0..4, row 1
                                       positions 0..7 and 18..19 (llama_packed: also at the first
                                       token of every document, see below)
             position_ids int32 [B, T] 0 .. T-1 per row (llama_packed: restarting per document)
             doc_start  int32 [B, T]   llama_packed only: index of the first token of each token's
                                       document
             logits     float32 [B, T, V]
             loss       float32 [1]    transformers' causal LM loss: labels shifted left inside
                                       the model, mean over the targets that are not -100
             grad.NAME  float32        after loss.backward(), for every parameter that requires
                                       a gradient, NAME as named_parameters() gives it: every
                                       parameter for "full" (a tied lm_head is listed once, as
                                       model.embed_tokens.weight), every lora_A / lora_B (and
                                       DoRA's lora_magnitude_vector) for "lora", e.g.
    grad.base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight
    grad.base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector.default.weight

Everything runs in float32 with attn_implementation="eager" and use_cache=False; Hone's
tolerances against these are fp32 ones.

Cases:
  llama          LlamaConfig, untied embeddings, no rope scaling
  llama_linear   rope_parameters {"rope_type": "linear", "factor": 2.0}
  llama_dynamic  {"rope_type": "dynamic", "factor": 2.0}: T < max_position_embeddings, so the
                 frequencies are the default ones
  llama_yarn     {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32}
  llama_llama3   {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                 "high_freq_factor": 4.0, "original_max_position_embeddings": 32}: with
                 head_dim 16 and theta 10^4 the wavelengths 2 pi 10^(i/2) put frequency 0 in
                 the kept band (< 32/4), 1 in the smoothed band and 2..7 in the scaled band (> 32)
                 transformers 5 takes these as rope_parameters (rope_scaling is an alias) and
                 writes "rope_parameters", with "rope_theta" inside, into config.json; every
                 case's config.json is transformers' own.
  qwen2          Qwen2Config: q/k/v bias, tie_word_embeddings true
  qwen3          Qwen3Config: q/k RMSNorm per head, tie_word_embeddings false
  mistral        MistralConfig with sliding_window null (plain causal attention)
  llama_bf16     the llama case with its weights stored as bfloat16 (config dtype "bfloat16");
                 the reference runs in float32 on those bf16 values upcast, and the gradients
                 are with respect to the upcast weights
  llama_packed   two documents per row, row 0: 12 + 8 tokens, row 1: 5 + 15; position_ids
                 restart at 0 at the boundary and attention does not cross it. transformers
                 5 is given an explicit additive 4D mask [B, 1, T, T] (0 where allowed, float32
                 min elsewhere: causal within the document), which eager attention uses as is;
                 the script checks the logits equal running each document alone. The loss is
                 transformers' over the whole row, so the labels mask each document's first
                 token (it has no predecessor in its document).
  lora, lora_rslora (use_rslora: scaling alpha / sqrt(r)), lora_dora (use_dora): PEFT on the
                 llama model; lora_qwen2, lora_dora_qwen2: PEFT on the qwen2 model (DoRA with
                 the q/k/v biases, which PEFT adds after the magnitude's scale).
  lora_dropout, lora_dora_dropout: lora_dropout 0.1 on the llama model (LoRA; DoRA, where PEFT
                 in training runs the base weight on the dropped input as well:
                 x W^T + b + (g - 1) dropout(x) W^T + g s B A dropout(x)). PEFT's nn.Dropout is
                 replaced by HoneDropout, Hone's mask (hn_dropout_keep with the seed
                 engine/linear.c takes for the first forward of a model with seed 42), so both
                 drop the same elements; the reload check runs in training mode with those
                 masks.

The loss is checked to be the mean cross-entropy of logits[:, t] against labels[:, t + 1]. Before
finishing, every case is reloaded (from_pretrained; PeftModel.from_pretrained for LoRA)
and must reproduce the logits written, so the files hold the weights that made them."""
import json
import os
import sys
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")  # save_pretrained shows progress bars

import numpy as np  # noqa: E402
import torch  # noqa: E402
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig,  # noqa: E402
                          MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config,
                          Qwen3ForCausalLM)
from transformers.utils import logging as hf_logging  # noqa: E402

BATCH, SEQ, VOCAB = 2, 20, 256
SIZES = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=160, num_hidden_layers=3,
             num_attention_heads=4, num_key_value_heads=2, head_dim=16,
             max_position_embeddings=128, rms_norm_eps=1e-5, initializer_range=0.2,
             attn_implementation="eager")
FAMILIES = {"llama": (LlamaConfig, LlamaForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM),
            "qwen3": (Qwen3Config, Qwen3ForCausalLM),
            "mistral": (MistralConfig, MistralForCausalLM)}
PACKED_DOCS = [[12, 8], [5, 15]]  # document lengths per row
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# name, family, extra config, options
CASES = [
    ("llama", "llama", {"tie_word_embeddings": False}, {}),
    ("llama_linear", "llama", {"tie_word_embeddings": False,
                               "rope_parameters": {"rope_type": "linear", "factor": 2.0}}, {}),
    ("llama_dynamic", "llama", {"tie_word_embeddings": False,
                                "rope_parameters": {"rope_type": "dynamic", "factor": 2.0}}, {}),
    ("llama_yarn", "llama", {"tie_word_embeddings": False,
                             "rope_parameters": {"rope_type": "yarn", "factor": 4.0,
                                                 "original_max_position_embeddings": 32}}, {}),
    ("llama_llama3", "llama", {"tie_word_embeddings": False,
                               "rope_parameters": {"rope_type": "llama3", "factor": 8.0,
                                                   "low_freq_factor": 1.0,
                                                   "high_freq_factor": 4.0,
                                                   "original_max_position_embeddings": 32}}, {}),
    ("qwen2", "qwen2", {"tie_word_embeddings": True}, {}),
    ("qwen3", "qwen3", {"tie_word_embeddings": False}, {}),
    ("mistral", "mistral", {"tie_word_embeddings": False, "sliding_window": None}, {}),
    ("llama_bf16", "llama", {"tie_word_embeddings": False}, {"bf16": True}),
    ("llama_packed", "llama", {"tie_word_embeddings": False}, {"packed": True}),
    ("lora", "llama", {"tie_word_embeddings": False}, {"lora": {}}),
    ("lora_rslora", "llama", {"tie_word_embeddings": False}, {"lora": {"use_rslora": True}}),
    ("lora_dora", "llama", {"tie_word_embeddings": False}, {"lora": {"use_dora": True}}),
    ("lora_qwen2", "qwen2", {"tie_word_embeddings": True}, {"lora": {}}),
    ("lora_dora_qwen2", "qwen2", {"tie_word_embeddings": True}, {"lora": {"use_dora": True}}),
    ("lora_dropout", "llama", {"tie_word_embeddings": False}, {"lora": {"lora_dropout": 0.1}}),
    ("lora_dora_dropout", "llama", {"tie_word_embeddings": False},
     {"lora": {"use_dora": True, "lora_dropout": 0.1}}),
]
LINEAR_SLOTS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]  # engine/model.c's order
HONE_SEED = 42  # hn_model_options_init's seed
U64 = (1 << 64) - 1


class HoneDropout(torch.nn.Module):
    """torch's nn.Dropout with Hone's mask (kernels/backend.h hn_dropout_keep) for the first
    forward of a model (engine/linear.c dropout_seed), so PEFT and Hone drop the same elements."""

    def __init__(self, layer, slot, p):
        super().__init__()
        self.seed = (HONE_SEED * 0x9E3779B97F4A7C15 + 1 * 0x100000001B3
                     + (layer * len(LINEAR_SLOTS) + slot) * 0xC2B2AE3D27D4EB4F) & U64
        self.p = np.float32(p)

    def forward(self, x):
        index = np.arange(x.numel(), dtype=np.uint64)
        z = np.uint64(self.seed) + (index + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        uniform = (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)
        keep = torch.from_numpy(uniform >= self.p).reshape(x.shape)
        scale = np.float32(1.0) / (np.float32(1.0) - self.p)  # fp32, as the C code
        return torch.where(keep, x * float(scale), torch.zeros_like(x))


def use_hone_dropout(model, p):
    """Every LoRA layer's lora_dropout replaced by HoneDropout for its layer and slot."""
    count = 0
    for name, module in model.named_modules():
        if hasattr(module, "lora_dropout") and "default" in module.lora_dropout:
            layer = int(name.split(".layers.")[1].split(".")[0])
            slot = next(i for i, s in enumerate(LINEAR_SLOTS) if name.endswith(s))
            module.lora_dropout["default"] = HoneDropout(layer, slot, p)
            count += 1
    assert count > 0


def make_model(family, extra):
    """A random model: transformers' initialisation, then norms and biases made non-trivial."""
    config_class, model_class = FAMILIES[family]
    model = model_class(config_class(**SIZES, **extra)).float()
    with torch.no_grad():
        for module in model.modules():
            if type(module).__name__.endswith("RMSNorm"):
                module.weight.copy_(1 + 0.1 * torch.randn_like(module.weight))
        for name, param in model.named_parameters():
            if name.endswith(".bias"):
                param.copy_(0.1 * torch.randn_like(param))
    return model


def load_model(family, model_dir):
    """A saved model in float32 (bf16 weights upcast as they are loaded)."""
    return FAMILIES[family][1].from_pretrained(model_dir, dtype=torch.float32,
                                               attn_implementation="eager")


def make_batch(packed):
    input_ids = torch.randint(0, VOCAB, (BATCH, SEQ))
    labels = input_ids.clone()
    labels[0, :5] = -100
    labels[1, :8] = -100
    labels[1, -2:] = -100
    position_ids = torch.arange(SEQ).repeat(BATCH, 1)
    doc_start = torch.zeros(BATCH, SEQ, dtype=torch.long)
    if packed:
        for row, lengths in enumerate(PACKED_DOCS):
            start = 0
            for length in lengths:
                position_ids[row, start:start + length] = torch.arange(length)
                doc_start[row, start:start + length] = start
                labels[row, start] = -100
                start += length
    return input_ids, labels, position_ids, doc_start


def document_mask(doc_start):
    """Additive [B, 1, T, T] mask: 0 where key <= query in the same document, else min."""
    query = torch.arange(SEQ).view(1, SEQ, 1)
    key = torch.arange(SEQ).view(1, 1, SEQ)
    same_doc = doc_start.unsqueeze(2) == doc_start.unsqueeze(1)
    allowed = same_doc & (key <= query)
    mask = torch.zeros(BATCH, SEQ, SEQ)
    mask[~allowed] = torch.finfo(torch.float32).min
    return mask.unsqueeze(1)


def run_model(model, input_ids, position_ids, mask, labels=None):
    return model(input_ids=input_ids, position_ids=position_ids, attention_mask=mask,
                 labels=labels, use_cache=False)


def check_loss_definition(logits, labels, loss):
    """The loss is the mean cross-entropy of logits[:, t] against labels[:, t + 1]."""
    targets = labels[:, 1:].reshape(-1)
    mean = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), targets,
                                             ignore_index=-100)
    torch.testing.assert_close(mean, loss.detach(), rtol=1e-6, atol=1e-6)


def check_packed_by_documents(model, input_ids, position_ids, logits):
    """The masked run must equal each document run on its own."""
    with torch.no_grad():
        for row, lengths in enumerate(PACKED_DOCS):
            start = 0
            for length in lengths:
                span = slice(start, start + length)
                alone = run_model(model, input_ids[row:row + 1, span],
                                  position_ids[row:row + 1, span], None).logits[0]
                torch.testing.assert_close(alone, logits[row, span], rtol=1e-5, atol=1e-5)
                start += length


def write_case(out, index, name, family, extra, options):
    torch.manual_seed(1000 + index)
    folder = os.path.join(out, name)
    model_dir = os.path.join(folder, "model")
    model = make_model(family, extra)
    if options.get("bf16"):
        # Loaded back rather than upcast in place: model.to(bfloat16) would also round the
        # RoPE inverse-frequency buffer, which is no weight and stays fp32 in a loaded model.
        model.to(torch.bfloat16).save_pretrained(model_dir)
        model = load_model(family, model_dir)
    else:
        model.save_pretrained(model_dir)

    lora = options.get("lora")
    if lora is not None:
        model = get_peft_model(model, LoraConfig(
            r=4, lora_alpha=8, bias="none", target_modules=LORA_TARGETS, task_type="CAUSAL_LM",
            **{"lora_dropout": 0.0, **lora}))
        with torch.no_grad():
            for param_name, param in model.named_parameters():
                if ".lora_B." in param_name:
                    param.copy_(0.1 * torch.randn_like(param))
        model.save_pretrained(os.path.join(folder, "adapter"))
        if lora.get("lora_dropout", 0) > 0:
            use_hone_dropout(model, lora["lora_dropout"])

    packed = bool(options.get("packed"))
    input_ids, labels, position_ids, doc_start = make_batch(packed)
    mask = document_mask(doc_start) if packed else None
    model.train()
    output = run_model(model, input_ids, position_ids, mask, labels)
    output.loss.backward()
    logits = output.logits.detach().float()
    check_loss_definition(logits, labels, output.loss)
    if packed:
        check_packed_by_documents(model, input_ids, position_ids, logits)

    expected = {"input_ids": input_ids.int(), "labels": labels.int(),
                "position_ids": position_ids.int(), "logits": logits.contiguous(),
                "loss": output.loss.detach().float().reshape(1)}
    if packed:
        expected["doc_start"] = doc_start.int()
    grads = 0
    for param_name, param in model.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and param.grad.abs().max() > 0, param_name
            expected["grad." + param_name] = param.grad.float().contiguous()
            grads += 1
    save_file(expected, os.path.join(folder, "expected.safetensors"))

    reloaded = load_model(family, model_dir)
    if lora is not None:
        reloaded = PeftModel.from_pretrained(reloaded, os.path.join(folder, "adapter"))
        if lora.get("lora_dropout", 0) > 0:  # the training forward, with the same masks
            use_hone_dropout(reloaded, lora["lora_dropout"])
            reloaded.train()
    with torch.no_grad():
        again = run_model(reloaded, input_ids, position_ids, mask).logits
    torch.testing.assert_close(again, logits, rtol=1e-6, atol=1e-6)
    print(f"{name}: loss {output.loss.item():.6f}, {grads} gradients")
    return {"name": name, "family": family, "kind": "lora" if lora is not None else "full",
            "packed": packed, "bf16": bool(options.get("bf16"))}


def write(out):
    torch.set_num_threads(1)
    hf_logging.set_verbosity_error()
    # PEFT's save_pretrained asks about a deprecated name and looks for a hub config
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
    warnings.filterwarnings("ignore", message="Could not find a config file")
    os.makedirs(out, exist_ok=True)
    listed = [write_case(out, index, *case) for index, case in enumerate(CASES)]
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(listed, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2])
