"""Reference side of the training-data test (tests/test_train_data.c): LLaMA-Factory's own
get_dataset for stage pt (PretrainDatasetProcessor, packing on and off) and for packed stage
sft (PackedSupervisedDatasetProcessor with packing and neat_packing), the packed rows then run
through the collator the sft workflow builds (SFTDataCollatorWith4DAttentionMask, sdpa), on the
datasets Hone ships in data/ with SmolLM2's tokenizer (tokenizer_build.py builds it from the
GGUF).

  train_data_ref.py write MODELS_DIR OUT_DIR

OUT_DIR/knapsack.json: upstream's greedy_knapsack on random length lists, [{"lengths",
"capacity", "bins": [[length, ...], ...]}].

OUT_DIR/tokenizer/ and OUT_DIR/tokenizer_bos/ (the same with add_bos_token true) hold the
tokenizers; OUT_DIR/cases.json is a list of {"stage", "template", "dataset", "tokenizer",
"options": {cutoff_len, packing, neat_packing, max_samples, preprocessing_batch_size,
preprocessing_num_workers (each optional)}, "examples": [{"input_ids",
"labels", and for sft: "position_ids", "first_key"}]}. first_key[t] is the first key position
query t attends to in the collator's attention mask (the keys it sees are exactly first_key[t]
.. t; the script checks that), or -1 where it attends to none (neat_packing's padding)."""
import json
import os
import random
import shutil
import sys
import tempfile

import llamafactory_env  # noqa: E402,F401  (before any LLaMA-Factory import)

import torch  # noqa: E402
from transformers import PreTrainedTokenizerFast, Seq2SeqTrainingArguments  # noqa: E402

from llamafactory.data import get_dataset, get_template_and_fix_tokenizer  # noqa: E402
from llamafactory.data.collator import SFTDataCollatorWith4DAttentionMask  # noqa: E402
from llamafactory.data.processor.processor_utils import greedy_knapsack  # noqa: E402
from llamafactory.extras.constants import IGNORE_INDEX  # noqa: E402
from llamafactory.hparams import DataArguments, ModelArguments  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_build  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SFT_DATA = "alpaca_en_demo,identity"
# (stage, template, dataset, tokenizer folder, options)
CASES = [
    ("pt", "default", "c4_demo", "tokenizer", {"cutoff_len": 64, "packing": True}),
    ("pt", "default", "c4_demo", "tokenizer", {"cutoff_len": 40, "packing": False}),
    ("pt", "default", "c4_demo", "tokenizer_bos", {"cutoff_len": 50, "packing": True}),
    ("pt", "default", "c4_demo", "tokenizer_bos", {"cutoff_len": 30, "packing": False}),
    ("pt", "qwen", "c4_demo", "tokenizer", {"cutoff_len": 128, "packing": True,
                                            "max_samples": 10}),
    ("pt", "llama3", "c4_demo", "tokenizer", {"cutoff_len": 2048, "packing": False}),
    ("pt", "default", "c4_demo", "tokenizer", {"cutoff_len": 48, "preprocessing_batch_size": 7,
                                               "preprocessing_num_workers": 3}),
    ("sft", "chatml", SFT_DATA, "tokenizer", {"cutoff_len": 64, "packing": True}),
    ("sft", "chatml", SFT_DATA, "tokenizer", {"cutoff_len": 96, "neat_packing": True}),
    ("sft", "qwen", SFT_DATA, "tokenizer", {"cutoff_len": 200, "neat_packing": True,
                                           "train_on_prompt": True}),
    ("sft", "chatml", SFT_DATA, "tokenizer", {"cutoff_len": 128, "packing": True,
                                             "preprocessing_batch_size": 16,
                                             "preprocessing_num_workers": 2}),
]


def first_keys(batch):
    """Per query, the first key the collator's mask lets it see; checks they are a run ending
    at the query itself (or none)."""
    mask = batch["attention_mask"][0]
    if mask.dim() == 3:  # [1, T, T] additive: 0 where allowed
        allowed = mask[0] == 0
    else:  # 2D padding mask: causal over the keys that are not padding
        n = mask.shape[0]
        allowed = torch.tril(torch.ones(n, n, dtype=torch.bool)) & (mask != 0)[None, :]
    out = []
    for t in range(allowed.shape[0]):
        keys = torch.nonzero(allowed[t]).flatten().tolist()
        if not keys:
            out.append(-1)
            continue
        if keys != list(range(keys[0], t + 1)):
            raise AssertionError(f"query {t} sees keys {keys}, not a run ending at itself")
        out.append(keys[0])
    return out


def make_tokenizers(models, out):
    folder = os.path.join(out, "tokenizer")
    tokenizer_build.from_gguf(os.path.join(models, "SmolLM2-135M-Instruct.Q4_1.gguf"), folder)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}, f)
    bos = os.path.join(out, "tokenizer_bos")
    shutil.copytree(folder, bos)
    with open(os.path.join(bos, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|im_start|>", "eos_token": "<|im_end|>",
                   "add_bos_token": True}, f)


def run_case(out, stage, template_name, dataset, tok_name, options):
    folder = os.path.join(out, tok_name)
    with open(os.path.join(folder, "tokenizer_config.json")) as f:
        config = json.load(f)
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"),
                                        **config)
    with tempfile.TemporaryDirectory() as scratch:
        data_args = DataArguments(template=template_name, dataset=dataset,
                                  dataset_dir=os.path.join(ROOT, "data"), overwrite_cache=True,
                                  **options)
        if data_args.packing is None:  # what the parser does (hparams/parser.py)
            data_args.packing = stage == "pt"
        training_args = Seq2SeqTrainingArguments(output_dir=scratch, report_to=[])
        model_args = ModelArguments(model_name_or_path=folder)
        template = get_template_and_fix_tokenizer(tokenizer, data_args)
        if stage == "pt":
            assert bool(getattr(tokenizer, "add_bos_token", False)) == (tok_name ==
                                                                       "tokenizer_bos")
        module = get_dataset(template, model_args, data_args, training_args, stage, tokenizer)
        train = module["train_dataset"]
        examples = []
        if stage == "pt":
            for r in train:
                examples.append({"input_ids": list(r["input_ids"])})
            return examples
        collator = SFTDataCollatorWith4DAttentionMask(
            template=template, model=None, pad_to_multiple_of=8,
            label_pad_token_id=IGNORE_INDEX, block_diag_attn=data_args.neat_packing,
            neat_packing=data_args.neat_packing, attn_implementation="sdpa",
            compute_dtype=torch.float32, tokenizer=tokenizer)
        for r in train:
            feature = {k: r[k] for k in ("input_ids", "attention_mask", "labels",
                                         "position_ids", "images", "videos", "audios")}
            batch = collator([feature])
            n = len(r["input_ids"])  # rows the collator padded further to a multiple of 8
            assert batch["input_ids"].shape[1] == n, (batch["input_ids"].shape, n)
            examples.append({"input_ids": batch["input_ids"][0].tolist(),
                             "labels": batch["labels"][0].tolist(),
                             "position_ids": batch["position_ids"][0].tolist(),
                             "first_key": first_keys(batch)})
        return examples


def knapsack_cases():
    rng = random.Random(5)
    cases = []
    for i in range(40):
        capacity = rng.choice([1, 2, 7, 16, 64, 100, 1000])
        n = rng.choice([0, 1, 2, 5, 20, 200])
        top = rng.choice([capacity, max(1, capacity // 3)])
        lengths = [rng.randint(0, top) if i % 5 == 0 else rng.randint(1, top) for _ in range(n)]
        bins = greedy_knapsack(list(lengths), capacity)
        cases.append({"lengths": lengths, "capacity": capacity, "bins": bins})
    return cases


def write(models, out):
    with open(os.path.join(out, "knapsack.json"), "w") as f:
        json.dump(knapsack_cases(), f)
    make_tokenizers(models, out)
    cases = []
    for stage, template_name, dataset, tok_name, options in CASES:
        examples = run_case(out, stage, template_name, dataset, tok_name, options)
        cases.append({"stage": stage, "template": template_name, "dataset": dataset,
                      "tokenizer": tok_name, "options": options, "examples": examples})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f)
    print(f"{len(cases)} cases, {sum(len(c['examples']) for c in cases)} examples")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3])
