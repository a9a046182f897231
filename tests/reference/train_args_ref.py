"""Reference side of the training-arguments test: the defaults of LLaMA-Factory's argument
classes (ModelArguments, DataArguments, FinetuningArguments, GeneratingArguments) and
transformers' Seq2SeqTrainingArguments, which a YAML file gets for a key it leaves out.

  train_args_ref.py write DIR

DIR/defaults.json maps every field name of those classes to its default (null for None;
fields without a plain default are left out). LLaMA-Factory's model package imports trl at
import time; trl is not needed for argument classes, so an empty stand-in takes its place."""
import dataclasses
import json
import os
import sys

import llamafactory_env  # noqa: E402,F401  (before any LLaMA-Factory import)

from transformers import Seq2SeqTrainingArguments  # noqa: E402

from llamafactory.hparams import (DataArguments, FinetuningArguments,  # noqa: E402
                                  GeneratingArguments, ModelArguments)


def write(out):
    defaults = {}
    for cls in (ModelArguments, DataArguments, FinetuningArguments, GeneratingArguments,
                Seq2SeqTrainingArguments):
        for field in dataclasses.fields(cls):
            value = field.default
            if value is dataclasses.MISSING:
                continue
            if hasattr(value, "value"):  # enums (lr_scheduler_type, eval_strategy)
                value = value.value
            if value is None or isinstance(value, (bool, int, float, str)):
                defaults[field.name] = value
    with open(os.path.join(out, "defaults.json"), "w") as f:
        json.dump(defaults, f, indent=1)
    print(f"{len(defaults)} defaults")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2])
