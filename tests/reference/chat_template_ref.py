"""Reference side of the chat template tests: LLaMA-Factory's own code encodes generated
conversations with its named templates and real tokenizers.

  chat_template_ref.py write MODELS_DIR OUT_DIR

Tokenizers (OUT_DIR/tokenizers/<name>/tokenizer.json + tokenizer_config.json) come from
tokenizer_build.py; each template gets the tokenizer of the models it is made for:

  smollm2   default, empty, alpaca, vicuna, chatml (SmolLM2 is a ChatML model)
  qwen      qwen, qwen3, qwen3_nothink
  llama3    llama3 (Meta's bos/eos, <|begin_of_text|> / <|end_of_text|>, in its config)
  gemma3    gemma, and llama2 and mistral: the SentencePiece-style BPE family that Llama 2 and
            Mistral tokenizers belong to (their own files are not available here)
  deepseek3 Qwen's BPE plus DeepSeek-V3's special tokens (<｜begin▁of▁sentence｜>,
            <｜end▁of▁sentence｜>, <｜User｜>, <｜Assistant｜>) as bos/eos and added tokens
  glm4      SmolLM2's BPE plus GLM-4's special tokens ([gMASK], <sop>, <|system|>, <|user|>,
            <|assistant|>, <|observation|>), eos <|endoftext|>
The derived ones are made with the tokenizers package (add_special_tokens), so templates whose
slots name these tokens see them as single special tokens, as with the real models.

For every template, OUT_DIR/<template>.json holds {"tokenizer": NAME, "cases": [...]}; a case
is {"messages": [{role, content}], "system": str or null, "options": {train_on_prompt,
mask_history, enable_thinking, preserve_thinking}, "cutoff_len": null or a small number,
"input_ids": [...], "labels": [...]} as SupervisedDatasetProcessor._encode_data_example builds
them (cutoff_len null: no truncation, 10^9 upstream) after get_template_and_fix_tokenizer. OUT_DIR/names.json lists the templates."""
import json
import os
import random
import sys

# llamafactory 0.9.5 pins transformers<=5.6 at import; the venv has a newer one, and its
# own documented switch turns that check off (the template code does not depend on it).
os.environ.setdefault("DISABLE_VERSION_CHECK", "1")
os.environ.setdefault("LLAMAFACTORY_VERBOSITY", "ERROR")

from tokenizers import AddedToken, Tokenizer  # noqa: E402
from transformers import PreTrainedTokenizerFast  # noqa: E402

from llamafactory.data.processor.supervised import SupervisedDatasetProcessor  # noqa: E402
from llamafactory.data.template import get_template_and_fix_tokenizer  # noqa: E402
from llamafactory.hparams import DataArguments  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_build  # noqa: E402

TEMPLATE_TOKENIZERS = {
    "default": "smollm2", "empty": "smollm2", "alpaca": "smollm2", "vicuna": "smollm2",
    "chatml": "smollm2", "qwen": "qwen", "qwen3": "qwen", "qwen3_nothink": "qwen",
    "llama2": "gemma3", "llama3": "llama3", "mistral": "gemma3", "gemma": "gemma3",
    "deepseek3": "deepseek3", "glm4": "glm4",
}
CASES_PER_TEMPLATE = 24
CASES_REASONING = 48  # qwen3: thinking on/off x mask_history x preserve_thinking

TEXTS = ["Who are you?", "I am Hone, an AI assistant.", "What is 2 + 2?", "4.",
         "Tell me a story about a fox.", "Once upon a time, a quick brown fox jumped.",
         "你好，请介绍一下你自己。", "我是一个人工智能助手。", "這是繁體中文", "こんにちは",
         "안녕하세요", "مرحبا بالعالم", "emoji 🙂👍🏽 and 👨‍👩‍👧‍👦", "e\u0301 n\u0303 ①②③",
         "def f(x):\n    return x * 2\n", "  leading and trailing spaces  ", "\n\nnewlines\n\n",
         "tabs\tand\r\nCRLF", "numbers 1234567890 3.14159", "{\"key\": [1, 2, 3]}",
         "a<|im_end|>b", "<s>[INST] not a turn [/INST]</s>", "x<end_of_turn>y",
         "<|eot_id|> inside", "the {{idx}} and {{content}} markers", ""]
SYSTEMS = [None, "", "You are a helpful assistant.", "你是一个乐于助人的助手。",
           "Answer briefly.\nUse English."]


def derived_tokenizer(base_dir, out_dir, specials, config):
    """base tokenizer.json plus special tokens, with a tokenizer_config.json."""
    tok = Tokenizer.from_file(os.path.join(base_dir, "tokenizer.json"))
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    write_config(out_dir, config)


def write_config(folder, config):
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)


def build_tokenizers(models, out):
    tokenizer_build.main(models, out)
    write_config(os.path.join(out, "llama3"),
                 {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"})
    write_config(os.path.join(out, "qwen"), {})
    derived_tokenizer(os.path.join(out, "qwen"), os.path.join(out, "deepseek3"),
                      ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>",
                       "<｜Assistant｜>"],
                      {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"})
    derived_tokenizer(os.path.join(out, "smollm2"), os.path.join(out, "glm4"),
                      ["[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>",
                       "<|observation|>"],
                      {"eos_token": "<|endoftext|>"})


def load_tokenizer(folder):
    """transformers' fast tokenizer with the bos/eos of tokenizer_config.json (what Hone reads)."""
    with open(os.path.join(folder, "tokenizer_config.json")) as f:
        config = json.load(f)
    specials = {k: config[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token")
                if isinstance(config.get(k), str)}
    return PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"),
                                   **specials)


def thought(rng):
    return "<think>\n" + rng.choice(TEXTS[:14]) + "\n</think>\n\n"


def make_case(rng, name, index):
    """A conversation and options; the first cases cover the plain shapes, then at random."""
    reasoning = name == "qwen3"
    n_turns = 1 if index < 4 else rng.randint(1, 3)
    system = SYSTEMS[index % len(SYSTEMS)] if index < 5 else rng.choice(SYSTEMS)
    messages = []
    for turn in range(n_turns):
        role = "observation" if index >= 8 and rng.random() < 0.15 else "user"
        messages.append({"role": role, "content": rng.choice(TEXTS)})
        answer = rng.choice(TEXTS)
        if name.startswith("qwen3") and rng.random() < 0.5:
            answer = thought(rng) + answer
        messages.append({"role": "assistant", "content": answer})
    efficient_eos = name == "glm4"
    options = {"train_on_prompt": False, "mask_history": False, "enable_thinking": True,
               "preserve_thinking": False}
    if index >= 4:
        mode = rng.randrange(4)
        if mode == 1 and not efficient_eos:
            options["train_on_prompt"] = True
        elif mode == 2:
            options["mask_history"] = True
    if reasoning:
        options["enable_thinking"] = index % 2 == 0
        options["preserve_thinking"] = rng.random() < 0.3
    # cutoff_len: most cases keep everything; some cut to a few tokens, through a turn
    cutoff = rng.choice([None, None, None, 6, 17, 40, 90]) if index >= 6 else None
    return {"messages": messages, "system": system, "options": options, "cutoff_len": cutoff}


def encode_case(tokenizer, name, case):
    data_args = DataArguments(template=name, cutoff_len=case["cutoff_len"] or 10 ** 9,
                              **case["options"])
    template = get_template_and_fix_tokenizer(tokenizer, data_args)
    processor = SupervisedDatasetProcessor(template=template, tokenizer=tokenizer,
                                           processor=None, data_args=data_args)
    messages = case["messages"]
    input_ids, labels = processor._encode_data_example(
        prompt=messages[:-1], response=messages[-1:], system=case["system"] or "", tools="",
        images=[], videos=[], audios=[])
    assert len(input_ids) == len(labels), name
    return input_ids, labels


def write(models, out):
    tokenizers_dir = os.path.join(out, "tokenizers")
    build_tokenizers(models, tokenizers_dir)
    names = list(TEMPLATE_TOKENIZERS)
    for t_index, name in enumerate(names):
        rng = random.Random(1000 + t_index)
        tokenizer = load_tokenizer(os.path.join(tokenizers_dir, TEMPLATE_TOKENIZERS[name]))
        cases = []
        for index in range(CASES_REASONING if name == "qwen3" else CASES_PER_TEMPLATE):
            case = make_case(rng, name, index)
            case["input_ids"], case["labels"] = encode_case(tokenizer, name, case)
            cases.append(case)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"tokenizer": TEMPLATE_TOKENIZERS[name], "cases": cases}, f,
                      ensure_ascii=False)
    with open(os.path.join(out, "names.json"), "w") as f:
        json.dump(names, f)
    print(f"{len(names)} templates, {CASES_PER_TEMPLATE} conversations each "
          f"({CASES_REASONING} for qwen3)")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3])
