"""Reference side of the sft examples test: LLaMA-Factory's own get_dataset (stage sft) on the
datasets Hone ships in data/, with SmolLM2's tokenizer (tokenizer_build.py builds it from the
GGUF) and a named template.

  sft_data_ref.py write MODELS_DIR OUT_DIR

OUT_DIR/tokenizer/ holds the tokenizer; OUT_DIR/cases.json is a list of {"template",
"dataset", "options": {cutoff_len, train_on_prompt, mask_history, max_samples}, "examples":
[{"input_ids", "labels"}]}: the train dataset's rows in order, as get_dataset returns them
(no shuffling, val_size 0, packing off, a fresh cache). LLaMA-Factory's model package imports
trl at import time; trl is not needed here, so an empty stand-in takes its place."""
import json
import os
import sys
import tempfile

import llamafactory_env  # noqa: E402,F401  (before any LLaMA-Factory import)

from transformers import PreTrainedTokenizerFast, Seq2SeqTrainingArguments  # noqa: E402

from llamafactory.data import get_dataset, get_template_and_fix_tokenizer  # noqa: E402
from llamafactory.hparams import DataArguments, ModelArguments  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_build  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DATASETS = "identity,alpaca_en_demo,alpaca_zh_demo,glaive_toolcall_en_demo"
CASES = [
    ("chatml", {"cutoff_len": 2048, "train_on_prompt": False, "mask_history": False}),
    ("chatml", {"cutoff_len": 48, "train_on_prompt": False, "mask_history": False}),
    ("chatml", {"cutoff_len": 96, "train_on_prompt": True, "mask_history": False}),
    ("qwen", {"cutoff_len": 64, "train_on_prompt": False, "mask_history": True,
              "max_samples": 12}),
]


def write(models, out):
    folder = os.path.join(out, "tokenizer")
    tokenizer_build.from_gguf(os.path.join(models, "SmolLM2-135M-Instruct.Q4_1.gguf"), folder)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}, f)
    cases = []
    for template_name, options in CASES:
        tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"),
                                            bos_token="<|im_start|>", eos_token="<|im_end|>")
        with tempfile.TemporaryDirectory() as scratch:
            data_args = DataArguments(template=template_name, dataset=DATASETS,
                                      dataset_dir=os.path.join(ROOT, "data"), overwrite_cache=True,
                                      **options)
            training_args = Seq2SeqTrainingArguments(output_dir=scratch, report_to=[])
            model_args = ModelArguments(model_name_or_path=folder)
            template = get_template_and_fix_tokenizer(tokenizer, data_args)
            module = get_dataset(template, model_args, data_args, training_args, "sft", tokenizer)
            train = module["train_dataset"]
            examples = [{"input_ids": list(r["input_ids"]), "labels": list(r["labels"])}
                        for r in train]
        cases.append({"template": template_name, "dataset": DATASETS, "options": options,
                      "examples": examples})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f)
    print(f"{len(cases)} cases, {sum(len(c['examples']) for c in cases)} examples")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3])
