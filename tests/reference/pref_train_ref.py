"""Reference side of the preference-training tests (issue 8): the first optimizer steps of a short
dpo, rm or kto run done by the real TRL / LLaMA-Factory trainers on a tiny random model and
pre-tokenized examples, for Hone's dpo, rm and kto stages to reproduce.

  pref_train_ref.py make-model DIR [--family llama|qwen2] [--seed S]
  pref_train_ref.py make-data OUT.json --model DIR [--pairs N] [--seed S] [--kto]
  pref_train_ref.py value-head-init FILE --model DIR [--seed S]
  pref_train_ref.py dpo --model DIR --data JSON --out OUT.json [options]
  pref_train_ref.py rm  --model DIR --data JSON --value-head FILE --out OUT.json [options]
  pref_train_ref.py kto --model DIR --data JSON --out OUT.json [options]

  options: --steps N --lr LR --batch-size B --grad-accum A --max-grad-norm G --seed S --save DIR
           --lora-rank R --lora-alpha A --lora-target q_proj,v_proj,... (LoRA; else full)
           dpo: --impl trl|llamafactory --beta --loss-type sigmoid|hinge|ipo|orpo|simpo
                --label-smoothing --simpo-gamma --ftx --ld-alpha
           kto: --beta --ftx --chosen-weight --rejected-weight

make-model: model_ref.py's tiny random decoder (its SIZES and initialisation) under
torch.manual_seed(seed), saved in float32 by save_pretrained. make-data: random pairs with token
ids in [1, vocab) (never 0: TRL's rpo nll term ignores label 0), a prompt of 3-8 tokens shared by
the two answers, answers of 2-9 tokens (--kto: one answer and a random kto_tag).
value-head-init: a random value head as LLaMA-Factory saves it (value_head.safetensors keys
v_head.summary.weight [1, hidden], v_head.summary.bias [1], float32, normal std 0.2 and 0.1),
the file both the rm reference and Hone's rm start from.

Input JSON (--data): a list of pairs, each
  {"chosen_input_ids": [...], "chosen_labels": [...], "rejected_input_ids": [...],
   "rejected_labels": [...]}
labels -100 on the prompt (the leading positions), equal to the ids on the answer; the two
prompts must be the same ids. This is what LLaMA-Factory's pairwise processor makes, so
tokenization and templates are out of the comparison. kto: a list of {"input_ids", "labels",
"kto_tag": true|false}, optionally with "kl_input_ids" / "kl_labels"; without them the KL example
of example i is LLaMA-Factory's: the prompt of i + the answer of i - 1 (of the last for i = 0).

Output JSON (--out):
  {"trl_version", "stage": "dpo"|"rm", "impl", "args": {...the options...},
   "steps": [{"step": 1.., "loss": the step's loss (mean over its micro-batches, what the
              Trainer logs), "grad_norm": before clipping (the Trainer's logged grad_norm),
              "metrics": {name: mean over the micro-batches},
              "micro_batches": [{"examples": [pair indices], "loss", "metrics"}]}],
   "initial_loss_check": {"loss", "expected", "checked"}}      (dpo: log 2, kto: 1/2)
dpo metrics: rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins,
logps/chosen, logps/rejected, logits/chosen, logits/rejected (+ nll_loss with --ftx under trl;
sft_loss and odds_ratio_loss for orpo under llamafactory). rm metrics: accuracy (share of pairs
with r_chosen > r_rejected), rewards/chosen, rewards/rejected (mean scores). kto metrics: the
step's as LLaMA-Factory's log() makes them (rewards/chosen, logps/chosen, logits/chosen,
rewards/rejected, ..., rewards/margins, kl), its micro-batches' the sums it stores
(rewards/chosen_sum, logps/chosen_sum, logits/chosen_sum, count/chosen, ..., kl).

The runs: float32, eager attention, one thread, dropout off, adamw_torch with weight decay 0,
constant learning rate without warmup, max_grad_norm as given, the examples in file order
(SequentialSampler: micro-batch k holds pairs k*B .. k*B+B-1; A micro-batches make a step; the
loss of a step is the mean of its micro-batch losses, each backpropagated divided by A). LoRA:
PEFT's LoraConfig(r, lora_alpha, lora_dropout 0, the targets), lora_B starting at zero (PEFT's
init), so the policy equals the reference at step 1; the reference model is the base with the
adapter disabled. Full: every weight trains and the reference is a second, frozen copy loaded
from the same folder.

Facts of the pinned versions (trl 0.24.0, llamafactory 0.9.5), read from their sources:
- Sequence log-prob (TRL DPOTrainer.concatenated_forward; LLaMA-Factory get_batch_logps): the
  sum over answer tokens of log softmax(logits at t-1)[token t]. TRL divides it by the answer
  length for loss "ipo" only; LLaMA-Factory's CustomDPOTrainer divides for ipo, orpo and simpo
  (and its sft term always uses the per-example average, see pref_ftx).
- TRL's losses (dpo_loss, logits = (pi_c - pi_r) - (ref_c - ref_r)): sigmoid
  -logsigmoid(b*logits)*(1-ls) - logsigmoid(-b*logits)*ls; hinge relu(1 - b*logits); ipo
  (logits - 1/(2b))^2. rewards = b * (pi - ref) per answer, detached.
- LLaMA-Factory's CustomDPOTrainer (llamafactory/train/dpo/trainer.py) differs from TRL's:
  * it calls TRL's self.dpo_loss(4 tensors) without TRL >= 0.20's loss_type argument, so TRL's
    default "sigmoid" is used: with trl 0.20 .. 0.24 its pref_loss hinge and ipo compute the
    sigmoid loss (ipo on length-averaged log-probs). Plain TRL (--impl trl) computes hinge and ipo
    as themselves, which is what engine/pref_loss.c does. --impl llamafactory runs what
    LLaMA-Factory really does, so its hinge/ipo results are that sigmoid loss.
  * orpo and simpo need no reference (use_ref_model false): orpo = -avg_c + b * -logsigmoid(
    (avg_c - avg_r) - (log1p(-exp avg_c) - log1p(-exp avg_r))); simpo = -logsigmoid(b *
    ((avg_c - avg_r) - gamma/b)); rewards = b * avg policy log-probs. Plain TRL has no such
    losses in DPOTrainer (CPOTrainer / ORPOTrainer), so they run only with --impl llamafactory.
  * pref_ftx: loss += ftx * (-(sum of chosen answer log-probs) / (chosen answer length)) per
    pair, then the mean over the batch. TRL's closest, rpo_alpha (--impl trl --ftx), adds
    rpo_alpha * the cross entropy of the chosen answers pooled over all tokens of the batch
    (one token-weighted mean, labels 0 ignored), equal to LLaMA-Factory's only at batch size 1.
  * ld_alpha (LD-DPO): the policy's log-probs (not the reference's) count the answer tokens up
    to the shorter answer's length fully and the rest weighted by ld_alpha.
  * logging: its log() averages the stored metrics of the micro-batches since the last log, as
    TRL's does; the same keys as TRL (+ sft_loss, odds_ratio_loss for orpo), no nll_loss.
- rm (LLaMA-Factory PairwiseTrainer.compute_loss, llamafactory/train/rm/trainer.py): the model
  is TRL's AutoModelForCausalLMWithValueHead: ValueHead = dropout(summary_dropout_prob, 0.1 when
  the config has none) then Linear(hidden, 1) with bias, on the last hidden state (after the
  final norm), one value per position. The score of a sequence is the value at index
  attention_mask.sum() - 1, the last non-pad token of a right-padded row; loss =
  mean over pairs of -logsigmoid(r_chosen - r_rejected). Chosen rows first, then rejected
  (PairwiseDataCollatorWithPadding). LLaMA-Factory leaves the head's dropout at 0.1 while
  training; this reference sets it to 0 (deterministic, as Hone). Under LoRA the head trains
  with the adapter. TRL's RewardTrainer is not used: it trains AutoModelForSequenceClassification,
  whose score Linear has no bias and picks the last token that is not the pad id, a different
  head from LLaMA-Factory's; the rm reference is LLaMA-Factory's own PairwiseTrainer running on
  TRL's value-head model.
- kto (LLaMA-Factory CustomKTOTrainer, llamafactory/train/kto/trainer.py, with TRL's
  KTOTrainer.kto_loss): log-probs summed over the answer (never averaged) for the examples and
  their KL examples; the KL examples go through the policy under no_grad and through the
  reference. kl = max(0, mean over the micro-batch of (policy - reference) KL log-probs),
  detached. Desirable: 1 - sigmoid(b * (logratio - kl)), undesirable: 1 - sigmoid(b * (kl -
  logratio)), times kto_chosen_weight / kto_rejected_weight; the micro-batch loss is the mean
  over its examples. pref_ftx: + ftx * mean over the desirable examples of -(their averaged
  log-prob) * batch size / number of desirable ones (none: no term). rewards = b * logratio.
  Logging: each micro-batch stores sums (rewards/logps/logits of each side, logits summed over
  every position and the whole vocabulary) and counts; log() sums them over the micro-batches
  of the step and divides by the counts; "kl" is summed too, so with gradient accumulation A
  the logged kl is the sum of A micro-batch kl values."""
import argparse
import json
import math
import os
import random
import sys
import tempfile
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("DISABLE_VERSION_CHECK", "1")
os.environ.setdefault("LLAMAFACTORY_VERBOSITY", "ERROR")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("WANDB_DISABLED", "true")
import importlib  # noqa: E402

import torch  # noqa: E402

# transformers 5's _is_package_available returns (available, version) where trl 0.24 expects a
# bool, so every optional package (mergekit, deepspeed, ...) reads as installed and trl's trainer
# modules fail to import. Keep the flag only.
_trl_flags = importlib.import_module("trl.import_utils")
for _name, _value in list(vars(_trl_flags).items()):
    if _name.startswith("_") and _name.endswith("_available") and isinstance(_value, tuple):
        setattr(_trl_flags, _name, _value[0])

import trl  # noqa: E402
from datasets import Dataset  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from tokenizers.models import WordLevel  # noqa: E402
from transformers import (AutoConfig, AutoModelForCausalLM, DataCollatorForSeq2Seq,  # noqa: E402
                          PreTrainedTokenizerFast, PrinterCallback, Seq2SeqTrainingArguments,
                          TrainerCallback)
from transformers.utils import logging as hf_logging  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_ref  # noqa: E402

IGNORE = -100
DPO_METRICS = ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
               "logps/chosen", "logps/rejected", "logits/chosen", "logits/rejected"]


def fail(message):
    sys.exit(f"pref_train_ref.py: {message}")


# ---------------------------------------------------------------- inputs

def make_model(args):
    config_class, model_class = model_ref.FAMILIES[args.family]
    torch.manual_seed(args.seed)
    extra = {"tie_word_embeddings": False}
    model = model_ref.make_model(args.family, extra)
    model.save_pretrained(args.dir)
    print(f"{args.dir}: random {args.family} ({config_class.__name__})")


def vocab_of(model_dir):
    return AutoConfig.from_pretrained(model_dir).vocab_size


def make_data(args):
    rng = random.Random(args.seed)
    vocab = vocab_of(args.model)
    pairs = []
    for _ in range(args.pairs):
        prompt = [rng.randrange(1, vocab) for _ in range(rng.randint(3, 8))]
        pair = {}
        for side in ("chosen", "rejected") if not args.kto else ("",):
            answer = [rng.randrange(1, vocab) for _ in range(rng.randint(2, 9))]
            pair[f"{side}_input_ids".lstrip("_")] = prompt + answer
            pair[f"{side}_labels".lstrip("_")] = [IGNORE] * len(prompt) + answer
        if args.kto:
            pair["kto_tag"] = rng.random() < 0.5
        pairs.append(pair)
    with open(args.out, "w") as f:
        json.dump(pairs, f)
    print(f"{args.out}: {len(pairs)} {'kto examples' if args.kto else 'pairs'}")


def value_head_init(args):
    hidden = AutoConfig.from_pretrained(args.model).hidden_size
    generator = torch.Generator().manual_seed(args.seed)
    save_file({"v_head.summary.weight": 0.2 * torch.randn(1, hidden, generator=generator),
               "v_head.summary.bias": 0.1 * torch.randn(1, generator=generator)}, args.file)
    print(f"{args.file}: value head [1, {hidden}] + bias")


def split_prompt(ids, labels, where):
    """(prompt ids, answer ids) of one side: the prompt is the leading run of -100 labels."""
    if len(ids) != len(labels):
        fail(f"{where}: input_ids has {len(ids)} tokens but labels {len(labels)}")
    k = 0
    while k < len(labels) and labels[k] == IGNORE:
        k += 1
    if k == 0 or k == len(labels):
        fail(f"{where}: expected -100 labels on a non-empty prompt followed by a non-empty answer")
    if labels[k:] != ids[k:]:
        fail(f"{where}: answer labels must equal the input ids (no -100 inside the answer)")
    return ids[:k], ids[k:]


def load_pairs(path):
    with open(path) as f:
        pairs = json.load(f)
    if not isinstance(pairs, list) or not pairs:
        fail(f"{path}: expected a non-empty JSON list of pairs")
    out = []
    for i, pair in enumerate(pairs):
        where = f"{path}: pair {i}"
        keys = ("chosen_input_ids", "chosen_labels", "rejected_input_ids", "rejected_labels")
        for key in keys:
            if not isinstance(pair.get(key), list):
                fail(f"{where}: expected a list \"{key}\"")
        prompt_c, chosen = split_prompt(pair["chosen_input_ids"], pair["chosen_labels"], where)
        prompt_r, rejected = split_prompt(pair["rejected_input_ids"], pair["rejected_labels"],
                                          where)
        if prompt_c != prompt_r:
            fail(f"{where}: the chosen and rejected prompts differ")
        out.append(dict(pair, prompt=prompt_c, chosen=chosen, rejected=rejected))
    return out


def stand_in_tokenizer(vocab):
    """A word-level tokenizer over the model's ids (never used to encode: the data is ids); the
    trainers want one for the pad id (t0; padding is masked everywhere, so its value is moot)."""
    model = WordLevel({f"t{i}": i for i in range(vocab)}, unk_token="t0")
    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer(model), pad_token="t0",
                                   eos_token="t0", unk_token="t0")


def plain_model(args):
    """The model folder in float32 with eager attention (as model_ref.load_model)."""
    return AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32,
                                                attn_implementation="eager")


def load_policy(args):
    model = plain_model(args)
    if args.lora_rank:
        targets = args.lora_target.split(",")
        model = get_peft_model(model, LoraConfig(r=args.lora_rank, lora_alpha=args.lora_alpha,
                                                 lora_dropout=0.0, target_modules=targets,
                                                 bias="none", task_type="CAUSAL_LM"))
    return model


def common_training_args(args, scratch):
    """The Trainer options both stages share (TrainingArguments names)."""
    return dict(output_dir=scratch, per_device_train_batch_size=args.batch_size,
                gradient_accumulation_steps=args.grad_accum, learning_rate=args.lr,
                lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
                optim="adamw_torch", adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8,
                max_grad_norm=args.max_grad_norm, max_steps=args.steps, logging_steps=1,
                save_strategy="no", report_to=[], seed=args.seed, data_seed=args.seed,
                use_cpu=True, bf16=False, fp16=False,  # trl's configs default to bf16 autocast
                remove_unused_columns=False, dataloader_num_workers=0,
                disable_tqdm=True)


def train(trainer):
    trainer.remove_callback(PrinterCallback)  # the log dicts on stdout
    trainer.train()


def save_trained(args, model):
    """--save DIR: the trained weights as save_pretrained writes them (the PEFT adapter, or the
    whole model for full fine-tuning)."""
    if args.save:
        model.save_pretrained(args.save)


class Recorder(TrainerCallback):
    """Collects the micro-batch losses and metrics (recorded by the trainers' hooks below) and
    the Trainer's logged grad_norm into one entry per optimizer step."""

    def __init__(self, batch_size, from_logs=False):
        self.batch_size = batch_size
        self.from_logs = from_logs  # kto: the step's metrics as the trainer's log() makes them
        self.micro = []
        self.steps = []
        self.seen = 0

    def add(self, loss, metrics):
        n = self.seen
        self.seen += 1
        self.micro.append({"examples": list(range(n * self.batch_size, (n + 1) * self.batch_size)),
                           "loss": loss, "metrics": metrics})

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs:
            return
        micro, self.micro = self.micro, []
        if self.from_logs:
            metrics = {k: v for k, v in logs.items()
                       if k not in ("loss", "grad_norm", "learning_rate", "epoch")}
        else:
            metrics = {key: sum(m["metrics"][key] for m in micro) / len(micro)
                       for key in micro[0]["metrics"]}
        self.steps.append({"step": state.global_step,
                           "loss": sum(m["loss"] for m in micro) / len(micro),
                           "logged_loss": logs["loss"], "grad_norm": logs.get("grad_norm"),
                           "metrics": metrics, "micro_batches": micro})


def pair_count_check(args, pairs):
    need = args.steps * args.batch_size * args.grad_accum
    if len(pairs) < need:
        fail(f"{args.data}: {len(pairs)} pairs, the run needs {need} "
             "(steps x batch size x gradient accumulation; one epoch, no repeats)")


# ---------------------------------------------------------------- dpo

def dpo_trl(args, pairs, scratch, recorder):
    """Plain TRL DPOTrainer on the pre-tokenized columns it makes itself (prompt_input_ids,
    chosen_input_ids, rejected_input_ids: the answers without the prompt)."""
    if args.loss_type not in ("sigmoid", "hinge", "ipo"):
        fail(f"--impl trl: TRL's DPOTrainer has no loss {args.loss_type} (use --impl llamafactory)")
    if args.ld_alpha is not None:
        fail("--impl trl: --ld-alpha is LLaMA-Factory's (use --impl llamafactory)")

    class Trainer(trl.DPOTrainer):
        def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
            return dataset  # already tokenized

        def _get_train_sampler(self, *a, **k):
            return torch.utils.data.SequentialSampler(self.train_dataset)

        def get_batch_loss_metrics(self, model, batch, train_eval="train"):
            loss, metrics = super().get_batch_loss_metrics(model, batch, train_eval)
            if train_eval == "train":
                recorder.add(loss.item(), dict(metrics))
            return loss, metrics

    rows = [{"prompt_input_ids": p["prompt"], "chosen_input_ids": p["chosen"],
             "rejected_input_ids": p["rejected"]} for p in pairs]
    config = trl.DPOConfig(**common_training_args(args, scratch), beta=args.beta,
                           loss_type=args.loss_type, label_smoothing=args.label_smoothing,
                           rpo_alpha=args.ftx if args.ftx else None, disable_dropout=True,
                           max_length=None, max_prompt_length=None, max_completion_length=None,
                           precompute_ref_log_probs=False, use_logits_to_keep=False)
    model = load_policy(args)
    model.warnings_issued = {}  # trl 0.24 writes to it; transformers 5 models lack it
    ref = None if args.lora_rank else plain_model(args)
    trainer = Trainer(model=model, ref_model=ref, args=config,
                      train_dataset=Dataset.from_list(rows),
                      processing_class=stand_in_tokenizer(vocab_of(args.model)),
                      callbacks=[recorder])
    train(trainer)
    save_trained(args, model)


def pairwise_rows(pairs):
    """LLaMA-Factory's pairwise columns (chosen_* / rejected_*), collated as its
    PairwiseDataCollatorWithPadding does: the chosen rows of the batch, then the rejected rows,
    right-padded with the pad id and label -100."""
    return [{k: p[k] for k in ("chosen_input_ids", "chosen_labels", "rejected_input_ids",
                                "rejected_labels")} for p in pairs]


def pairwise_collator(tokenizer):
    base = DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=IGNORE, padding=True)

    def collate(features):
        rows = []
        for side in ("chosen", "rejected"):
            for f in features:
                ids = f[f"{side}_input_ids"]
                rows.append({"input_ids": ids, "attention_mask": [1] * len(ids),
                             "labels": f[f"{side}_labels"]})
        return base(rows)
    return collate


def finetuning_args(args, stage):
    from llamafactory.hparams import FinetuningArguments
    extra = {}
    if stage == "dpo":
        extra = dict(pref_beta=args.beta, pref_loss=args.loss_type, pref_ftx=args.ftx,
                     dpo_label_smoothing=args.label_smoothing, simpo_gamma=args.simpo_gamma,
                     ld_alpha=args.ld_alpha)
    if stage == "kto":
        extra = dict(pref_beta=args.beta, pref_ftx=args.ftx, kto_chosen_weight=args.chosen_weight,
                     kto_rejected_weight=args.rejected_weight)
    return FinetuningArguments(stage=stage, finetuning_type="lora" if args.lora_rank else "full",
                               disable_shuffling=True, **extra)


def dpo_llamafactory(args, pairs, scratch, recorder):
    """LLaMA-Factory's CustomDPOTrainer (on TRL's DPOTrainer) as its dpo workflow builds it."""
    from llamafactory.train.dpo.trainer import CustomDPOTrainer

    class Trainer(CustomDPOTrainer):
        def get_batch_loss_metrics(self, model, batch, train_eval="train"):
            loss, metrics = super().get_batch_loss_metrics(model, batch, train_eval)
            if train_eval == "train":
                recorder.add(loss.item(), dict(metrics))
            return loss, metrics

    fargs = finetuning_args(args, "dpo")
    tokenizer = stand_in_tokenizer(vocab_of(args.model))
    model = load_policy(args)
    ref = None
    if fargs.use_ref_model and not args.lora_rank:
        ref = plain_model(args)
        ref.requires_grad_(False)
    training = Seq2SeqTrainingArguments(**common_training_args(args, scratch))
    trainer = Trainer(model=model, ref_model=ref, finetuning_args=fargs, processor=None,
                      args=training, tokenizer=tokenizer,
                      data_collator=pairwise_collator(tokenizer),
                      train_dataset=Dataset.from_list(pairwise_rows(pairs)), callbacks=[recorder])
    train(trainer)
    save_trained(args, model)


def check_close(what, got, want, tol=1e-5):
    """A trainer's step-1 value against the plain forward of the untrained model."""
    if abs(got - want) > tol * max(1.0, abs(want)):
        fail(f"{what}: the trainer reports {got!r}, one plain forward per example gives {want!r}")


def plain_logps(model, ids, answer_length, average, public=None, ld_alpha=None):
    """Sum (or mean) over the answer of log softmax(logits[t - 1])[ids[t]], one sequence; with
    ld_alpha the tokens past the first `public` of the answer count ld_alpha times (LD-DPO as
    LLaMA-Factory's get_batch_logps; the mean still divides by the whole answer length)."""
    with torch.no_grad():
        logp = model(torch.tensor([ids])).logits[0].double().log_softmax(-1)
    start = len(ids) - answer_length
    terms = [logp[t - 1, ids[t]].item() for t in range(start, len(ids))]
    total = sum(terms) if ld_alpha is None else sum(terms[:public]) + ld_alpha * sum(terms[public:])
    return total / answer_length if average else total


def check_first_dpo_step(args, pairs, steps):
    """logps/chosen and logps/rejected of step 1's micro-batches (before any update) recomputed
    without any trainer: the answer log-probs summed, or averaged where the implementation
    averages (see the top); this also checks the order of the pairs."""
    averaged = {"trl": ("ipo",), "llamafactory": ("ipo", "orpo", "simpo")}[args.impl]
    model = plain_model(args)
    for micro in steps[0]["micro_batches"]:
        for side in ("chosen", "rejected"):
            values = [plain_logps(model, pairs[i][f"{side}_input_ids"], len(pairs[i][side]),
                                  args.loss_type in averaged,
                                  min(len(pairs[i]["chosen"]), len(pairs[i]["rejected"])),
                                  args.ld_alpha) for i in micro["examples"]]
            check_close(f"step 1, pairs {micro['examples']}: logps/{side}",
                        micro["metrics"][f"logps/{side}"], sum(values) / len(values))


def dpo(args):
    pairs = load_pairs(args.data)
    pair_count_check(args, pairs)
    recorder = Recorder(args.batch_size)
    with tempfile.TemporaryDirectory() as scratch:
        (dpo_trl if args.impl == "trl" else dpo_llamafactory)(args, pairs, scratch, recorder)
    steps = recorder.steps
    check_first_dpo_step(args, pairs, steps)
    check = {"loss": steps[0]["loss"], "expected": math.log(2), "checked": False}
    # At step 1 the policy equals the reference (LoRA B = 0, or full with the same weights), so
    # the sigmoid loss is -log sigmoid(0) = log 2 whatever the label smoothing.
    # (ld_alpha makes the policy's log-probs differ from the reference's from the start).
    if args.loss_type == "sigmoid" and not args.ftx and args.ld_alpha is None:
        check["checked"] = True
        if abs(check["loss"] - check["expected"]) > 1e-6:
            fail(f"first dpo loss {check['loss']!r} is not log 2 with policy == reference")
    if args.loss_type in ("sigmoid", "hinge", "ipo") and args.ld_alpha is None:
        for key in ("rewards/chosen", "rewards/rejected", "rewards/margins"):
            if abs(steps[0]["metrics"][key]) > 1e-6:
                fail(f"step 1 {key} = {steps[0]['metrics'][key]!r}, expected 0 "
                     "(policy == reference)")
    return steps, check


# ---------------------------------------------------------------- rm

def rm(args):
    """LLaMA-Factory's PairwiseTrainer on TRL's AutoModelForCausalLMWithValueHead, the head's
    weights from --value-head and its dropout off."""
    from llamafactory.train.rm.trainer import PairwiseTrainer
    pairs = load_pairs(args.data)
    pair_count_check(args, pairs)
    recorder = Recorder(args.batch_size)

    class Trainer(PairwiseTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
            loss, (_, chosen, rejected) = super().compute_loss(model, inputs, return_outputs=True)
            chosen, rejected = chosen.reshape(-1).detach(), rejected.reshape(-1).detach()
            recorder.add(loss.item(), {"accuracy": (chosen > rejected).float().mean().item(),
                                       "rewards/chosen": chosen.mean().item(),
                                       "rewards/rejected": rejected.mean().item()})
            return (loss, (loss, chosen, rejected)) if return_outputs else loss

    from llamafactory.model.patcher import patch_valuehead_model
    model = trl.AutoModelForCausalLMWithValueHead.from_pretrained(load_policy(args))
    patch_valuehead_model(model)  # as LLaMA-Factory's load_model(add_valuehead=True)
    head = load_file(args.value_head)
    if sorted(head) != ["v_head.summary.bias", "v_head.summary.weight"]:
        fail(f"{args.value_head}: expected the tensors v_head.summary.weight and "
             f"v_head.summary.bias, found {sorted(head)}")
    unexpected = model.load_state_dict(head, strict=False).unexpected_keys
    if unexpected:
        fail(f"{args.value_head}: {unexpected} not in the value-head model")
    model.v_head.dropout.p = 0.0
    model.v_head.requires_grad_(True)
    tokenizer = stand_in_tokenizer(vocab_of(args.model))
    with tempfile.TemporaryDirectory() as scratch:
        training = Seq2SeqTrainingArguments(**common_training_args(args, scratch))
        trainer = Trainer(model=model, finetuning_args=finetuning_args(args, "rm"), processor=None,
                          args=training, tokenizer=tokenizer,
                          data_collator=pairwise_collator(tokenizer),
                          train_dataset=Dataset.from_list(pairwise_rows(pairs)),
                          callbacks=[recorder])
        train(trainer)
    save_trained(args, model.pretrained_model)
    if args.save:
        save_file({name: t.detach().contiguous() for name, t in model.state_dict().items()
                   if name.startswith("v_head.")},
                  os.path.join(args.save, "value_head.safetensors"))
    check_first_rm_step(args, pairs, head, recorder.steps)
    return recorder.steps, None


def check_first_rm_step(args, pairs, head, steps):
    """Scores and loss of step 1's micro-batches recomputed without any trainer: the final-norm
    hidden state of each sequence's last token times the head, + its bias."""
    model = plain_model(args)

    def score(ids):
        with torch.no_grad():
            hidden = model.model(torch.tensor([ids])).last_hidden_state[0, -1].double()
        return (hidden @ head["v_head.summary.weight"][0].double()).item() + \
            head["v_head.summary.bias"].item()

    for micro in steps[0]["micro_batches"]:
        where = f"step 1, pairs {micro['examples']}"
        chosen = [score(pairs[i]["chosen_input_ids"]) for i in micro["examples"]]
        rejected = [score(pairs[i]["rejected_input_ids"]) for i in micro["examples"]]
        check_close(f"{where}: rewards/chosen", micro["metrics"]["rewards/chosen"],
                    sum(chosen) / len(chosen))
        check_close(f"{where}: rewards/rejected", micro["metrics"]["rewards/rejected"],
                    sum(rejected) / len(rejected))
        losses = [-torch.nn.functional.logsigmoid(torch.tensor(c - r, dtype=torch.float64)).item()
                  for c, r in zip(chosen, rejected)]
        check_close(f"{where}: loss", micro["loss"], sum(losses) / len(losses))


# ---------------------------------------------------------------- kto

def load_kto_examples(path):
    """KTO examples: {"input_ids", "labels", "kto_tag"} (+ optional "kl_input_ids",
    "kl_labels"). Without them the KL example of example i is LLaMA-Factory's
    (FeedbackDatasetProcessor): the prompt of i followed by the answer of example i - 1, the
    first example taking the last one's answer (one map batch: files under 1000 examples)."""
    with open(path) as f:
        rows = json.load(f)
    if not isinstance(rows, list) or not rows:
        fail(f"{path}: expected a non-empty JSON list of examples")
    parts = []
    for i, row in enumerate(rows):
        where = f"{path}: example {i}"
        for key in ("input_ids", "labels"):
            if not isinstance(row.get(key), list):
                fail(f"{where}: expected a list \"{key}\"")
        if not isinstance(row.get("kto_tag"), bool):
            fail(f"{where}: expected \"kto_tag\": true (desirable) or false")
        parts.append(split_prompt(row["input_ids"], row["labels"], where))
    if len(rows) > 1000 and not all("kl_input_ids" in r for r in rows):
        fail(f"{path}: over 1000 examples; give kl_input_ids / kl_labels (LLaMA-Factory "
             "rotates the answers within each map batch of 1000)")
    out = []
    for i, row in enumerate(rows):
        prompt, answer = parts[i]
        kl_answer = parts[i - 1][1]
        kl_ids = row.get("kl_input_ids", prompt + kl_answer)
        kl_labels = row.get("kl_labels", [IGNORE] * len(prompt) + kl_answer)
        out.append({"input_ids": row["input_ids"], "labels": row["labels"],
                    "kl_input_ids": kl_ids, "kl_labels": kl_labels, "kto_tags": row["kto_tag"],
                    "answer": answer, "kl_answer": split_prompt(kl_ids, kl_labels,
                                                                f"{path}: example {i} (KL)")[1]})
    return out


def kto_collator(tokenizer):
    """KTODataCollatorWithPadding's batch: the examples and their KL examples padded apart."""
    base = DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=IGNORE, padding=True)

    def collate(features):
        def rows(prefix):
            return [{"input_ids": f[f"{prefix}input_ids"],
                     "attention_mask": [1] * len(f[f"{prefix}input_ids"]),
                     "labels": f[f"{prefix}labels"]} for f in features]
        batch = base(rows(""))
        kl = base(rows("kl_"))
        for key in ("input_ids", "attention_mask", "labels"):
            batch[f"kl_{key}"] = kl[key]
        batch["kto_tags"] = torch.tensor([f["kto_tags"] for f in features])
        return batch
    return collate


def kto(args):
    """LLaMA-Factory's CustomKTOTrainer (on TRL's KTOTrainer) as its kto workflow builds it."""
    from llamafactory.train.kto.trainer import CustomKTOTrainer
    examples = load_kto_examples(args.data)
    pair_count_check(args, examples)
    recorder = Recorder(args.batch_size, from_logs=True)

    class Trainer(CustomKTOTrainer):
        def get_batch_loss_metrics(self, model, batch):
            loss, metrics = super().get_batch_loss_metrics(model, batch)
            recorder.add(loss.item(), dict(metrics))
            return loss, metrics

    tokenizer = stand_in_tokenizer(vocab_of(args.model))
    model = load_policy(args)
    ref = None
    if not args.lora_rank:
        ref = plain_model(args)
        ref.requires_grad_(False)
    rows = [{k: e[k] for k in ("input_ids", "labels", "kl_input_ids", "kl_labels", "kto_tags")}
            for e in examples]
    with tempfile.TemporaryDirectory() as scratch:
        training = Seq2SeqTrainingArguments(**common_training_args(args, scratch))
        trainer = Trainer(model=model, ref_model=ref, finetuning_args=finetuning_args(args, "kto"),
                          processor=None, args=training, tokenizer=tokenizer,
                          data_collator=kto_collator(tokenizer),
                          train_dataset=Dataset.from_list(rows), callbacks=[recorder])
        train(trainer)
    save_trained(args, model)
    steps = recorder.steps
    check_first_kto_step(args, examples, steps)
    check = {"loss": steps[0]["loss"], "expected": 0.5, "checked": False}
    # At step 1 the policy equals the reference: kl 0, every log-ratio 0, each example's loss
    # 1 - sigmoid(0) = 1/2 (times its weight).
    if args.chosen_weight == 1 and args.rejected_weight == 1 and not args.ftx:
        check["checked"] = True
        if abs(check["loss"] - 0.5) > 1e-6:
            fail(f"first kto loss {check['loss']!r} is not 1/2 with policy == reference")
    return steps, check


def check_first_kto_step(args, examples, steps):
    """logps/chosen_sum, logps/rejected_sum and kl (0) of step 1's micro-batches recomputed with
    a plain forward (answer log-probs summed)."""
    model = plain_model(args)
    for micro in steps[0]["micro_batches"]:
        where = f"step 1, examples {micro['examples']}"
        for side, tag in (("chosen", True), ("rejected", False)):
            chosen = [i for i in micro["examples"] if examples[i]["kto_tags"] == tag]
            if not chosen:
                continue
            total = sum(plain_logps(model, examples[i]["input_ids"], len(examples[i]["answer"]),
                                    False) for i in chosen)
            check_close(f"{where}: logps/{side}_sum", micro["metrics"][f"logps/{side}_sum"], total)
        check_close(f"{where}: kl", micro["metrics"]["kl"], 0.0)


# ---------------------------------------------------------------- main

def options(sub, stage):
    sub.add_argument("--model", required=True)
    sub.add_argument("--data", required=True)
    sub.add_argument("--out", required=True)
    sub.add_argument("--steps", type=int, default=2)
    sub.add_argument("--lr", type=float, default=1e-3)
    sub.add_argument("--batch-size", type=int, default=2)
    sub.add_argument("--grad-accum", type=int, default=1)
    sub.add_argument("--max-grad-norm", type=float, default=1.0)
    sub.add_argument("--seed", type=int, default=42)
    sub.add_argument("--lora-rank", type=int, default=0)
    sub.add_argument("--lora-alpha", type=float, default=16)
    sub.add_argument("--lora-target", default=",".join(model_ref.LORA_TARGETS))
    sub.add_argument("--save", help="folder for the trained weights (save_pretrained; rm: also "
                     "value_head.safetensors)")
    if stage in ("dpo", "kto"):
        sub.add_argument("--beta", type=float, default=0.1)
        sub.add_argument("--ftx", type=float, default=0.0)
    if stage == "kto":
        sub.add_argument("--chosen-weight", type=float, default=1.0)
        sub.add_argument("--rejected-weight", type=float, default=1.0)
    elif stage == "dpo":
        sub.add_argument("--impl", choices=["trl", "llamafactory"], default="trl")
        sub.add_argument("--loss-type", default="sigmoid",
                         choices=["sigmoid", "hinge", "ipo", "orpo", "simpo"])
        sub.add_argument("--label-smoothing", type=float, default=0.0)
        sub.add_argument("--simpo-gamma", type=float, default=0.5)
        sub.add_argument("--ld-alpha", type=float, default=None)
    else:
        sub.add_argument("--value-head", required=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    subs = parser.add_subparsers(dest="command", required=True)
    sub = subs.add_parser("make-model")
    sub.add_argument("dir")
    sub.add_argument("--family", default="llama", choices=sorted(model_ref.FAMILIES))
    sub.add_argument("--seed", type=int, default=1000)
    sub = subs.add_parser("make-data")
    sub.add_argument("out")
    sub.add_argument("--model", required=True)
    sub.add_argument("--pairs", type=int, default=8, help="how many pairs (kto: examples)")
    sub.add_argument("--kto", action="store_true", help="kto examples instead of pairs")
    sub.add_argument("--seed", type=int, default=5)
    sub = subs.add_parser("value-head-init")
    sub.add_argument("file")
    sub.add_argument("--model", required=True)
    sub.add_argument("--seed", type=int, default=3)
    options(subs.add_parser("dpo"), "dpo")
    options(subs.add_parser("rm"), "rm")
    options(subs.add_parser("kto"), "kto")
    args = parser.parse_args()
    if args.command == "make-model":
        return make_model(args)
    if args.command == "make-data":
        return make_data(args)
    if args.command == "value-head-init":
        return value_head_init(args)

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    warnings.filterwarnings("ignore")
    hf_logging.set_verbosity_error()
    steps, check = {"dpo": dpo, "rm": rm, "kto": kto}[args.command](args)
    if len(steps) != args.steps:
        fail(f"the trainer logged {len(steps)} steps, expected {args.steps}")
    for entry in steps:
        if not all(math.isfinite(v) for v in [entry["loss"], entry["grad_norm"],
                                              *entry["metrics"].values()]):
            fail(f"step {entry['step']}: a loss, grad norm or metric is not finite: {entry}")
    result = {"trl_version": trl.__version__, "stage": args.command,
              "impl": getattr(args, "impl", "llamafactory"),
              "args": {k: v for k, v in vars(args).items() if k not in ("command", "out")},
              "steps": steps}
    if check is not None:
        result["initial_loss_check"] = check
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    for entry in steps:
        shown = {k: round(v, 6) for k, v in entry["metrics"].items()}
        print(f"step {entry['step']}: loss {entry['loss']:.8f} grad_norm {entry['grad_norm']:.6f} "
              f"{shown}")


if __name__ == "__main__":
    main()
