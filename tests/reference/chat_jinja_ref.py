"""Reference side of `template: auto`: conversations encoded with real models' own Jinja chat
templates by transformers' apply_chat_template.

  chat_jinja_ref.py write MODELS_DIR OUT_DIR

For every tests/data/chat_templates/*.jinja, OUT_DIR/tokenizers/<template>/ holds the
tokenizer of the model family (built by tokenizer_build.py) with a tokenizer_config.json that
carries the template and the model's special tokens; Mistral's, whose tokenizer is not
available here, gets Gemma 3's SentencePiece-style BPE with <s>, </s>, [INST] and [/INST]
added as special tokens.

OUT_DIR/<template>.json is {"cases": [...]}; a case is {"messages", "options":
{train_on_prompt, mask_history, enable_thinking}, "kwargs", "input_ids", "labels"}:
  - input_ids: apply_chat_template(messages, tokenize=True, add_generation_prompt when the
    conversation does not end with an answer, **kwargs);
  - labels: transformers' own assistant mask (return_assistant_tokens_mask) over a copy of the
    template in which each answer, from the end of its header to the end of its end-of-turn
    text, is wrapped in {% generation %} ... {% endgeneration %} (MARKS below; the copy must
    render byte for byte as the original). Hone's definition of a label, applied to the
    options the way LLaMA-Factory's supervised processor applies them: train_on_prompt labels
    every token outside an answer, mask_history keeps only the last answer. One more rule of
    Hone's: with enable_thinking false, the empty thought that Qwen3 puts before an answer is
    part of the prompt (the generation prompt holds it), as with LLaMA-Factory's qwen3
    template; the reference unmasks those tokens.
OUT_DIR/names.json lists the templates."""
import copy
import json
import os
import random
import shutil
import sys

from tokenizers import AddedToken, Tokenizer
from transformers import PreTrainedTokenizerFast

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_build  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "data", "chat_templates")

# template: (tokenizer family, special tokens of tokenizer_config.json)
MODELS = {
    "smollm2": ("smollm2", {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>",
                            "unk_token": "<|endoftext|>", "pad_token": "<|im_end|>"}),
    "qwen2.5": ("qwen", {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}),
    "qwen3": ("qwen", {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}),
    "llama3.1": ("llama3", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    "llama3.2": ("llama3", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    "gemma3": ("gemma3", {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>",
                          "pad_token": "<pad>"}),
    "mistral-v0.3": ("mistral", {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}),
    "mistral-nemo": ("mistral", {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}),
}

LLAMA_LINE = ("{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
              "message['content'] | trim + '<|eot_id|>' }}")
LLAMA_MARKED = ("{%- if message['role'] == 'assistant' %}{{- '<|start_header_id|>assistant"
                "<|end_header_id|>\\n\\n' }}{% generation %}{{- message['content'] | trim + "
                "'<|eot_id|>' }}{% endgeneration %}{%- else %}" + LLAMA_LINE + "{%- endif %}")
CHATML_LINE = ("{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + "
               "'\\n' }}")
CHATML_MARKED = ("{%- if message.role == 'assistant' %}{{- '<|im_start|>assistant\\n' }}"
                 "{% generation %}{{- message.content + '<|im_end|>\\n' }}{% endgeneration %}"
                 "{%- else %}" + CHATML_LINE + "{%- endif %}")
SMOL_LINE = "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"

# (original text, marked text[, count]) replacements per template; each original must occur
# count times (default once).
MARKS = {
    "smollm2": [(SMOL_LINE,
                 "{% if message['role'] == 'assistant' %}{{'<|im_start|>assistant\n'}}"
                 "{% generation %}{{message['content'] + '<|im_end|>' + '\n'}}{% endgeneration %}"
                 "{% else %}" + SMOL_LINE + "{% endif %}")],
    "qwen2.5": [(CHATML_LINE, CHATML_MARKED)],
    "qwen3": [
        ("{%- if loop.index0 > ns.last_query_index %}\n            {%- if loop.last",
         "{{- '<|im_start|>' + message.role + '\\n' }}{% generation %}"
         "{%- if loop.index0 > ns.last_query_index %}\n            {%- if loop.last"),
        ("{{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content",
         "{{- '<think>\\n' + reasoning_content"),
        ("{{- '<|im_start|>' + message.role + '\\n' + content }}", "{{- content }}", 2),
        ("{{- '<|im_end|>\\n' }}\n    {%- elif message.role == \"tool\" %}",
         "{{- '<|im_end|>\\n' }}{% endgeneration %}\n    {%- elif message.role == \"tool\" %}"),
    ],
    "llama3.1": [(LLAMA_LINE, LLAMA_MARKED)],
    "llama3.2": [(LLAMA_LINE, LLAMA_MARKED)],
    "gemma3": [
        ("    {%- if message['content'] is string -%}\n        {{ message['content'] | trim }}",
         "    {%- if message['content'] is string and role == 'model' -%}\n"
         "        {% generation %}{{ message['content'] | trim }}{{ '<end_of_turn>\n' }}"
         "{% endgeneration %}\n"
         "    {%- elif message['content'] is string -%}\n        {{ message['content'] | trim }}"),
        ("    {{ '<end_of_turn>\n' }}\n{%- endfor -%}",
         "    {% if not (message['content'] is string and role == 'model') %}"
         "{{ '<end_of_turn>\n' }}{% endif %}\n{%- endfor -%}"),
    ],
    "mistral-v0.3": [("{{- ' ' + message.content + ' ' + eos_token}}",
                      "{{- ' ' }}{% generation %}{{- message.content + ' ' + eos_token}}"
                      "{% endgeneration %}")],
    "mistral-nemo": [('{{- message["content"] + eos_token}}',
                      '{% generation %}{{- message["content"] + eos_token}}{% endgeneration %}')],
}

TEXTS = ["Who are you?", "I am Hone, an AI assistant.", "What is 2 + 2?", "4.",
         "Tell me a story about a fox.", "Once upon a time, a quick brown fox jumped.",
         "你好，请介绍一下你自己。", "我是一个人工智能助手。", "這是繁體中文", "こんにちは",
         "안녕하세요", "مرحبا بالعالم", "emoji 🙂👍🏽 and 👨‍👩‍👧‍👦", "e\u0301 n\u0303 ①②③",
         "def f(x):\n    return x * 2\n", "  leading and trailing spaces  ", "\n\nnewlines\n\n",
         "tabs\tand\r\nCRLF", "numbers 1234567890 3.14159", "{\"key\": [1, 2, 3]}",
         "the {{idx}} and {{content}} markers", "a" * 200, ""]
SYSTEMS = [None, "You are a helpful assistant.", "你是一个乐于助人的助手。",
           "  Answer briefly.\nUse English.  "]
THOUGHTS = ["Let me think.", "\nThe user greets me.\n", "步骤一：理解问题。", ""]
CASES = 24
CASES_QWEN3 = 40
KWARGS = {"date_string": "26 Jul 2024"}  # Llama 3's templates print today's date otherwise


def marked_template(name, text):
    for old, new, *count in MARKS[name]:
        found = text.count(old)
        assert found == (count or [1])[0], f"{name}: the text to mark occurs {found} times: {old!r}"
        text = text.replace(old, new)
    return text


def build_tokenizers(models, out):
    base = os.path.join(out, "base")
    tokenizer_build.main(models, base)
    tok = Tokenizer.from_file(os.path.join(base, "gemma3", "tokenizer.json"))
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False)
                            for s in ("<s>", "</s>", "[INST]", "[/INST]")])
    os.makedirs(os.path.join(base, "mistral"), exist_ok=True)
    tok.save(os.path.join(base, "mistral", "tokenizer.json"))
    for name, (family, specials) in MODELS.items():
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        shutil.copy(os.path.join(base, family, "tokenizer.json"), folder)
        with open(os.path.join(TEMPLATES, name + ".jinja")) as f:
            template = f.read()
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump(dict(specials, chat_template=template), f, ensure_ascii=False, indent=1)
    shutil.rmtree(base)


def make_case(rng, name, index):
    n_turns = 1 if index < 3 else rng.randint(1, 3)
    system = SYSTEMS[index % len(SYSTEMS)] if index < 8 else rng.choice(SYSTEMS)
    messages = [] if system is None else [{"role": "system", "content": system}]
    for _ in range(n_turns):
        messages.append({"role": "user", "content": rng.choice(TEXTS)})
        answer = {"role": "assistant", "content": rng.choice(TEXTS)}
        if name == "qwen3" and rng.random() < 0.4:
            if rng.random() < 0.5:
                answer["reasoning_content"] = rng.choice(THOUGHTS)
            else:
                answer["content"] = f"<think>\n{rng.choice(THOUGHTS)}\n</think>\n\n{answer['content']}"
        messages.append(answer)
    if index % 7 == 6:
        messages.pop()  # a prompt: the generation prompt is added, nothing is labelled
    options = {"train_on_prompt": False, "mask_history": False, "enable_thinking": True}
    if index >= 4:
        mode = rng.randrange(4)
        options["train_on_prompt"] = mode in (1, 3)
        options["mask_history"] = mode in (2, 3)
    if name == "qwen3":
        options["enable_thinking"] = index % 2 == 0
        last = messages[-1]
        if not options["enable_thinking"] and last["role"] == "assistant":
            # no-thinking data has thoughts only in the history, which the template drops
            last.pop("reasoning_content", None)
            last["content"] = last["content"].split("</think>")[-1].lstrip("\n")
    return {"messages": messages, "options": options, "kwargs": KWARGS}


def answer_runs(mask):
    """[start, end) of each run of 1s."""
    runs, start = [], None
    for i, m in enumerate(list(mask) + [0]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i))
            start = None
    return runs


def unmask_empty_thought(tokenizer, ids, runs):
    empty = tokenizer.encode("<think>\n\n</think>\n\n", add_special_tokens=False)
    out = []
    for start, end in runs:
        if ids[start:start + len(empty)] == empty:
            start += len(empty)
        out.append((start, end))
    return out


def encode_case(tokenizer, original, marked, case):
    messages = case["messages"]
    options = case["options"]
    kwargs = dict(case["kwargs"], enable_thinking=options["enable_thinking"])
    agp = messages[-1]["role"] != "assistant"
    text = tokenizer.apply_chat_template(messages, chat_template=original, tokenize=False,
                                         add_generation_prompt=agp, **kwargs)
    marked_text = tokenizer.apply_chat_template(messages, chat_template=marked, tokenize=False,
                                                add_generation_prompt=agp, **kwargs)
    assert text == marked_text, "the marked template renders differently"
    ids = tokenizer.apply_chat_template(messages, chat_template=original, tokenize=True,
                                        return_dict=True, add_generation_prompt=agp,
                                        **kwargs)["input_ids"]
    result = tokenizer.apply_chat_template(messages, chat_template=marked, tokenize=True,
                                           return_dict=True, return_assistant_tokens_mask=True,
                                           add_generation_prompt=agp, **kwargs)
    assert list(result["input_ids"]) == list(ids)
    runs = answer_runs(result["assistant_masks"])
    if not options["enable_thinking"]:
        runs = unmask_empty_thought(tokenizer, ids, runs)
    labels = list(ids) if options["train_on_prompt"] else [-100] * len(ids)
    in_answer = [False] * len(ids)
    for r, (start, end) in enumerate(runs):
        keep = not options["mask_history"] or r == len(runs) - 1
        for i in range(start, end):
            in_answer[i] = True
            labels[i] = ids[i] if keep else -100
    return list(ids), labels


def write(models, out):
    tokenizers_dir = os.path.join(out, "tokenizers")
    build_tokenizers(models, tokenizers_dir)
    names = sorted(MODELS)
    for t_index, name in enumerate(names):
        with open(os.path.join(TEMPLATES, name + ".jinja")) as f:
            original = f.read()
        marked = marked_template(name, original)
        specials = MODELS[name][1]
        tokenizer = PreTrainedTokenizerFast(
            tokenizer_file=os.path.join(tokenizers_dir, name, "tokenizer.json"), **specials)
        rng = random.Random(2000 + t_index)
        cases = []
        for index in range(CASES_QWEN3 if name == "qwen3" else CASES):
            case = make_case(rng, name, index)
            case["input_ids"], case["labels"] = encode_case(tokenizer, original, marked,
                                                            copy.deepcopy(case))
            cases.append(case)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"cases": cases}, f, ensure_ascii=False)
    with open(os.path.join(out, "names.json"), "w") as f:
        json.dump(names, f)
    print(f"{len(names)} Jinja templates, {CASES} conversations each ({CASES_QWEN3} for qwen3)")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3])
