"""Reference side of the preference examples test: LLaMA-Factory's own get_dataset for stage
"rm" (what rm and dpo train on: PairwiseDatasetProcessor) and stage "kto"
(FeedbackDatasetProcessor) on the demo datasets Hone ships in data/ and on a few extra rows
written here (alpaca-format pairs, rows upstream drops), with SmolLM2's tokenizer and named
templates.

  pref_data_ref.py write MODELS_DIR OUT_DIR

OUT_DIR/tokenizer/ holds SmolLM2's tokenizer; OUT_DIR/tokenizer_glm/ the same with GLM-4's
special tokens added (so that the glm4 template, whose answers get the eos from the
processor (efficient_eos), can be checked); OUT_DIR/data/ the extra datasets. OUT_DIR/cases.json
is a list of {"stage", "template", "tokenizer", "data" ("source" or "out"), "dataset",
"options": {cutoff_len, enable_thinking, preprocessing_batch_size, preprocessing_num_workers
(, max_samples: callers such as pref_steps_ref.py)},
"examples"}: the train dataset's rows in order as get_dataset returns them (val_size 0, a
fresh cache), with chosen_input_ids, chosen_labels, rejected_input_ids, rejected_labels (rm) or
input_ids, labels, kl_input_ids, kl_labels, kto_tags (kto)."""
import json
import os
import shutil
import sys
import tempfile

import llamafactory_env  # noqa: E402,F401  (before any LLaMA-Factory import)

from tokenizers import AddedToken, Tokenizer  # noqa: E402
from transformers import PreTrainedTokenizerFast, Seq2SeqTrainingArguments  # noqa: E402

from llamafactory.data import get_dataset, get_template_and_fix_tokenizer  # noqa: E402
from llamafactory.hparams import DataArguments, ModelArguments  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_build  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PAIRS = "dpo_en_demo,dpo_zh_demo"
GLM_TOKENS = ["[gMASK]", "<sop>", "<|user|>", "<|assistant|>", "<|system|>", "<|observation|>"]
RM_KEYS = ["chosen_input_ids", "chosen_labels", "rejected_input_ids", "rejected_labels"]
KTO_KEYS = ["input_ids", "labels", "kl_input_ids", "kl_labels", "kto_tags"]


def case(stage, template, dataset, cutoff_len, data="source", tokenizer="tokenizer",
         enable_thinking=True, batch_size=1000, workers=None):
    return {"stage": stage, "template": template, "dataset": dataset, "data": data,
            "tokenizer": tokenizer,
            "options": {"cutoff_len": cutoff_len, "enable_thinking": enable_thinking,
                        "preprocessing_batch_size": batch_size,
                        "preprocessing_num_workers": workers}}


CASES = [
    case("rm", "chatml", PAIRS, 2048),
    case("rm", "qwen", PAIRS, 24),
    case("rm", "qwen3", PAIRS, 64, enable_thinking=False),
    case("rm", "qwen3", "dpo_en_demo", 2048),
    case("rm", "glm4", PAIRS, 40, tokenizer="tokenizer_glm"),
    case("rm", "llama2", "pairs_alpaca,pairs_bad", 30, data="out"),
    case("kto", "chatml", "kto_en_demo", 2048),
    case("kto", "qwen", "kto_en_demo", 32, batch_size=7),
    case("kto", "qwen3", "kto_en_demo", 1024, enable_thinking=False, batch_size=5, workers=2),
    case("kto", "glm4", "kto_en_demo", 40, tokenizer="tokenizer_glm", batch_size=10),
    case("kto", "chatml", "kto_en_demo,identity,kto_alpaca", 48, data="out", batch_size=50),
    case("rm", None, PAIRS, 40, tokenizer="tokenizer_auto"),
    case("kto", None, "kto_en_demo", 2048, tokenizer="tokenizer_auto"),
]


def write_data(out):
    """Extra datasets: alpaca-format pairs, ranking rows upstream drops, alpaca KTO rows."""
    folder = os.path.join(out, "data")
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(ROOT, "data", "kto_en_demo.json"), folder)
    shutil.copy(os.path.join(ROOT, "data", "identity.json"), folder)
    with open(os.path.join(ROOT, "data", "dpo_en_demo.json")) as f:
        pairs = json.load(f)
    alpaca = []
    for row in pairs[:12]:
        turns = [m["value"] for m in row["conversations"] if m["from"] != "system"]
        history = [[turns[i], turns[i + 1]] for i in range(0, len(turns) - 1, 2)]
        alpaca.append({"instruction": turns[-1], "input": "", "history": history,
                       "chosen": row["chosen"]["value"], "rejected": row["rejected"]["value"]})
    bad = [  # sharegpt ranking rows: kept, broken (even count), plain (no pair)
        pairs[0],
        {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}],
         "chosen": {"from": "gpt", "value": "Good"}, "rejected": {"from": "gpt", "value": "Bad"}},
        {"conversations": [{"from": "human", "value": "Hi"}], "chosen": None, "rejected": None},
        pairs[1],
    ]
    kto_alpaca = [{"instruction": "Name a primary colour.", "output": "Red is a primary colour.",
                   "kto_tag": True},
                  {"instruction": "Name a primary colour.", "output": "Green, maybe purple.",
                   "kto_tag": False},
                  {"instruction": "What is 2 + 2?", "output": "4", "kto_tag": True}]
    info = {
        "pairs_alpaca": {"file_name": "pairs_alpaca.json", "ranking": True,
                         "columns": {"prompt": "instruction", "query": "input",
                                     "history": "history", "chosen": "chosen",
                                     "rejected": "rejected"}},
        "pairs_bad": {"file_name": "pairs_bad.json", "ranking": True, "formatting": "sharegpt",
                      "columns": {"messages": "conversations", "chosen": "chosen",
                                  "rejected": "rejected"}},
        "kto_alpaca": {"file_name": "kto_alpaca.json",
                       "columns": {"prompt": "instruction", "response": "output",
                                   "kto_tag": "kto_tag"}},
        "identity": {"file_name": "identity.json"},
        "kto_en_demo": {"file_name": "kto_en_demo.json", "formatting": "sharegpt",
                        "columns": {"messages": "messages", "kto_tag": "label"},
                        "tags": {"role_tag": "role", "content_tag": "content",
                                 "user_tag": "user", "assistant_tag": "assistant"}},
    }
    for name, rows in (("pairs_alpaca", alpaca), ("pairs_bad", bad), ("kto_alpaca", kto_alpaca)):
        with open(os.path.join(folder, name + ".json"), "w") as f:
            json.dump(rows, f, ensure_ascii=False)
    with open(os.path.join(folder, "dataset_info.json"), "w") as f:
        json.dump(info, f)
    return folder


def write_tokenizers(models, out):
    folder = os.path.join(out, "tokenizer")
    tokenizer_build.from_gguf(os.path.join(models, "SmolLM2-135M-Instruct.Q4_1.gguf"), folder)
    config = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f)
    glm = os.path.join(out, "tokenizer_glm")
    os.makedirs(glm, exist_ok=True)
    backend = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in GLM_TOKENS])
    backend.save(os.path.join(glm, "tokenizer.json"))
    with open(os.path.join(glm, "tokenizer_config.json"), "w") as f:
        json.dump(config, f)
    auto = os.path.join(out, "tokenizer_auto")  # with the model's own chat template
    tokenizer_build.from_gguf(os.path.join(models, "SmolLM2-135M-Instruct.Q4_1.gguf"), auto)


def run_case(c, out, data_dir):
    folder = os.path.join(out, c["tokenizer"])
    with open(os.path.join(folder, "tokenizer_config.json")) as f:
        chat_template = json.load(f).get("chat_template")
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"),
                                        bos_token="<|im_start|>", eos_token="<|im_end|>",
                                        chat_template=chat_template)
    o = c["options"]
    with tempfile.TemporaryDirectory() as scratch:
        data_args = DataArguments(template=c["template"], dataset=c["dataset"],
                                  dataset_dir=data_dir if c["data"] == "out"
                                  else os.path.join(ROOT, "data"),
                                  overwrite_cache=True, cutoff_len=o["cutoff_len"],
                                  enable_thinking=o["enable_thinking"],
                                  preprocessing_batch_size=o["preprocessing_batch_size"],
                                  preprocessing_num_workers=o["preprocessing_num_workers"],
                                  max_samples=o.get("max_samples"))
        training_args = Seq2SeqTrainingArguments(output_dir=scratch, report_to=[])
        model_args = ModelArguments(model_name_or_path=folder)
        template = get_template_and_fix_tokenizer(tokenizer, data_args)
        module = get_dataset(template, model_args, data_args, training_args, c["stage"],
                             tokenizer)
        keys = RM_KEYS if c["stage"] == "rm" else KTO_KEYS
        return [{k: (list(r[k]) if k != "kto_tags" else bool(r[k])) for k in keys}
                for r in module["train_dataset"]]


def write(models, out):
    write_tokenizers(models, out)
    data_dir = write_data(out)
    cases = []
    for c in CASES:
        c = dict(c, examples=run_case(c, out, data_dir))
        cases.append(c)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f)
    print(f"{len(cases)} cases, {sum(len(c['examples']) for c in cases)} examples")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3])
