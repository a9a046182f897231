"""Reference side of the dataset test: LLaMA-Factory's own dataset code on the data files Hone
ships (data/) and on generated datasets that cover every column, tag and format.

  dataset_ref.py write SOURCE_DIR OUT_DIR

OUT_DIR holds the generated dataset folders and expected.json: a list of cases {"dir": a
dataset folder, "names": the `dataset:` value, "max_samples": N or null, "attrs": what
llamafactory.data.parser.get_dataset_list made of each name, "rows": the aligned rows
{"_prompt", "_response", "_system", "_tools"} that llamafactory.data.loader's
_get_merged_dataset gives (datasets' JSON loader, max_samples, the alpaca / sharegpt / openai
converters of llamafactory.data.converter, concatenation)}.

Two stand-ins: LLaMA-Factory's package imports trl at import time (trl is not installed and
not needed for datasets), so an empty trl module takes its place; and upstream lists a
dataset folder with os.listdir, whose order is the file system's, so os.listdir is sorted
here, as Hone reads a folder's files in sorted order. The datasets cache goes to OUT_DIR."""
import json
import os
import sys
import types

import llamafactory_env  # noqa: E402,F401  (before any LLaMA-Factory import)
_listdir = os.listdir
os.listdir = lambda path=".": sorted(_listdir(path))

import datasets  # noqa: E402
import numpy as np  # noqa: E402
from llamafactory.data.loader import _get_merged_dataset  # noqa: E402
from llamafactory.data.parser import get_dataset_list  # noqa: E402

datasets.disable_progress_bars()

ATTR_FIELDS = ["formatting", "ranking", "split", "num_samples"]
COLUMNS = ["prompt", "query", "response", "history", "messages", "system", "tools", "images",
           "videos", "audios", "chosen", "rejected", "kto_tag"]
TAGS = ["role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag",
        "function_tag", "system_tag"]


def sg(*turns, tags=("from", "value")):
    """Sharegpt messages from (role, content) pairs."""
    return [{tags[0]: r, tags[1]: c} for r, c in turns]


def oa(role, content, calls=None):
    """An OpenAI message; calls: [(name, arguments)]."""
    message = {"role": role, "content": content, "tool_calls": None}
    if calls:
        message["tool_calls"] = [{"id": f"call_{i}", "type": "function",
                                  "function": {"name": n, "arguments": a}}
                                 for i, (n, a) in enumerate(calls)]
    return message


ALPACA_FULL = [
    {"q": "What is 2+2?", "ctx": "", "a": "4", "hist": [], "sys": "Be brief.", "tl": ""},
    {"q": "Translate", "ctx": "chat -> French", "a": "chat", "hist": [["Hi", "Hello!"],
     ["How are you?", "Fine, thanks."]], "sys": "", "tl": "[]"},
    {"q": "", "ctx": "only the input", "a": "ok", "hist": None, "sys": None, "tl": None},
    {"q": "No answer", "ctx": None, "a": None, "hist": [["a", "b"]], "sys": "s", "tl": "t"},
    {"q": "", "ctx": "", "a": "empty prompt", "hist": [], "sys": "", "tl": ""},
    {"q": "Unicode ☃ 你好 \U0001F600", "ctx": "tab\tand\nnewline", "a": "é", "hist": [],
     "sys": "", "tl": ""},
]
SHAREGPT = [
    {"conversations": sg(("system", "Sys in messages"), ("human", "hi"), ("gpt", "hello")),
     "sys": "ignored", "tl": "tools text"},
    {"conversations": sg(("human", "q1"), ("gpt", "a1"), ("human", "q2"), ("gpt", "a2")),
     "sys": "from the column", "tl": ""},
    {"conversations": sg(("human", "weather?"), ("function_call", "{\"name\": \"w\"}"),
                         ("observation", "sunny"), ("gpt", "It is sunny.")), "sys": "", "tl": "[]"},
    {"conversations": sg(("gpt", "wrong first"), ("human", "x")), "sys": "", "tl": ""},
    {"conversations": sg(("human", "odd"), ("gpt", "count"), ("human", "dangling")),
     "sys": "", "tl": ""},
    {"conversations": sg(("human", "a"), ("human", "b")), "sys": "kept", "tl": "kept too"},
    {"conversations": [], "sys": "", "tl": ""},
    {"conversations": sg(("system", "only system")), "sys": "", "tl": ""},
    {"conversations": sg(("human", "x"), ("system", "late system")), "sys": "", "tl": ""},
]
CUSTOM_TAGS = [
    {"messages": sg(("sys", "S"), ("u", "one"), ("bot", "two"), ("tool", "obs"), ("call", "c")),
     "extra": 1},
    {"messages": sg(("u", "q"), ("bot", "a"), tags=("r", "c")), "extra": 2},
]
CUSTOM_TAGS[0]["messages"] = sg(("sys", "S"), ("u", "one"), ("bot", "two"), ("tool", "obs"),
                                ("call", "c"), tags=("r", "c"))
SHAREGPT_RANKING = [
    {"conversations": sg(("human", "pick one")), "chosen": {"from": "gpt", "value": "good"},
     "rejected": {"from": "gpt", "value": "bad"}},
    {"conversations": sg(("system", "sys"), ("human", "q1"), ("gpt", "a1"), ("human", "q2")),
     "chosen": {"from": "function_call", "value": "call"},
     "rejected": {"from": "gpt", "value": "text"}},
    {"conversations": sg(("human", "q"), ("gpt", "even count is broken for ranking")),
     "chosen": {"from": "gpt", "value": "x"}, "rejected": {"from": "gpt", "value": "y"}},
]
SHAREGPT_KTO = [
    {"conversations": sg(("human", "q"), ("gpt", "desirable")), "label": True},
    {"conversations": sg(("human", "q"), ("gpt", "a"), ("human", "q2"), ("gpt", "undesirable")),
     "label": False},
    {"conversations": sg(("human", "q"), ("gpt", "no label")), "label": None},
]
ALPACA_RANKING = [
    {"instruction": "Which is better?", "input": "A or B", "chosen": "A", "rejected": "B"},
    {"instruction": "Say hi", "input": "", "chosen": "Hi!", "rejected": "Go away."},
]
ALPACA_KTO = [
    {"instruction": "q1", "output": "good", "kto": True},
    {"instruction": "q2", "output": "bad", "kto": False},
    {"instruction": "q3", "output": "plain", "kto": None},
]
TOOL = {"name": "get_weather", "description": "The weather in a city"}
OPENAI = [
    {"messages": [oa("system", "You are helpful."), oa("user", "hi"), oa("assistant", "hello")],
     "tools": []},
    {"messages": [oa("user", "weather in Paris and Rome?"),
                  oa("assistant", None, [("get_weather", "{\"city\": \"Paris\"}"),
                                         ("get_weather", "{\"city\": \"Rome\"}")]),
                  oa("tool", "Paris: sunny"), oa("tool", "Rome: rain"),
                  oa("assistant", "Sunny in Paris, rain in Rome.")], "tools": [TOOL]},
    {"messages": [oa("system", "Think. detailed thinking on"), oa("user", "q"),
                  oa("assistant", "a")], "tools": []},
    {"messages": [oa("user", "q"), oa("assistant", "a"), oa("user", "q2"),
                  oa("assistant", "", [("get_weather", "{\"city\": \"北京\"}")]),
                  oa("tool", "trailing observation")], "tools": [TOOL]},
    {"messages": [oa("system", "sys with tools"), oa("user", "q"), oa("assistant", "a")],
     "tools": [TOOL]},
    {"messages": [oa("assistant", "wrong order"), oa("user", "q")], "tools": []},
    {"messages": [oa("user", "odd")], "tools": []},
]
OPENAI_STRING_TOOLS = [
    {"messages": [oa("user", "q"), oa("assistant", "a")], "tools": "", "system": "col sys"},
    {"messages": [oa("user", "q"), oa("assistant", "a")], "tools": "[{\"name\": \"t\"}]",
     "system": ""},
    {"messages": [oa("user", "q"), oa("assistant", "a")], "tools": "", "system": None},
]
OPENAI_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user",
               "assistant_tag": "assistant", "system_tag": "system",
               "observation_tag": "tool", "function_tag": "function"}

INFO = {
    "alpaca_full": {"file_name": "alpaca_full.json", "columns": {
        "prompt": "q", "query": "ctx", "response": "a", "history": "hist", "system": "sys",
        "tools": "tl"}},
    "alpaca_lines": {"file_name": "alpaca_lines.jsonl"},
    "alpaca_prompt_only": {"file_name": "alpaca_lines.jsonl", "columns": {
        "prompt": "instruction", "response": "output"}},
    "alpaca_ranking": {"file_name": "alpaca_ranking.json", "ranking": True, "columns": {
        "prompt": "instruction", "query": "input", "chosen": "chosen", "rejected": "rejected"}},
    "alpaca_kto": {"file_name": "alpaca_kto.json", "columns": {
        "prompt": "instruction", "response": "output", "kto_tag": "kto"}},
    "sharegpt": {"file_name": "sharegpt.json", "formatting": "sharegpt", "columns": {
        "messages": "conversations", "system": "sys", "tools": "tl"}},
    "sharegpt_plain": {"file_name": "sharegpt_lines.jsonl", "formatting": "sharegpt"},
    "sharegpt_tags": {"file_name": "sharegpt_tags.json", "formatting": "sharegpt",
                      "split": "train", "columns": {"messages": "messages"},
                      "tags": {"role_tag": "r", "content_tag": "c", "user_tag": "u",
                               "assistant_tag": "bot", "observation_tag": "tool",
                               "function_tag": "call", "system_tag": "sys"}},
    "sharegpt_ranking": {"file_name": "sharegpt_ranking.json", "formatting": "sharegpt",
                         "ranking": True, "columns": {"messages": "conversations",
                                                      "chosen": "chosen",
                                                      "rejected": "rejected"}},
    "sharegpt_kto": {"file_name": "sharegpt_kto.jsonl", "formatting": "sharegpt",
                     "columns": {"messages": "conversations", "kto_tag": "label"}},
    "openai": {"file_name": "openai.json", "formatting": "openai", "columns": {
        "messages": "messages", "tools": "tools", "system": "system"}, "tags": OPENAI_TAGS},
    "openai_string_tools": {"file_name": "openai_string_tools.jsonl", "formatting": "openai",
                            "columns": {"messages": "messages", "tools": "tools",
                                        "system": "system"}, "tags": OPENAI_TAGS},
    "folder": {"file_name": "parts"},
    "openai_few_tags": {"file_name": "openai_string_tools.jsonl", "formatting": "openai",
                        "columns": {"messages": "messages"},
                        "tags": {k: OPENAI_TAGS[k] for k in ("role_tag", "content_tag",
                                                              "user_tag", "assistant_tag")}},
    "sharegpt_few_tags": {"file_name": "sharegpt_tags.json", "formatting": "sharegpt",
                          "columns": {"messages": "messages"},
                          "tags": {"role_tag": "r", "content_tag": "c", "user_tag": "u",
                                   "assistant_tag": "bot"}},
    "sampled": {"file_name": "alpaca_lines.jsonl", "num_samples": 5},
    "oversampled": {"file_name": "parts", "num_samples": 17},
}


def write_rows(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        if path.endswith(".jsonl"):
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            json.dump(rows, f, ensure_ascii=False, indent=1)


def make_generated(out):
    root = os.path.join(out, "generated")
    os.makedirs(os.path.join(root, "parts"), exist_ok=True)
    with open(os.path.join(root, "dataset_info.json"), "w") as f:
        json.dump(INFO, f, indent=2)
    lines = [{"instruction": f"question {i}", "input": "x" if i % 2 else "",
              "output": f"answer {i}"} for i in range(7)]
    files = {"alpaca_full.json": ALPACA_FULL, "alpaca_lines.jsonl": lines,
             "alpaca_ranking.json": ALPACA_RANKING, "alpaca_kto.json": ALPACA_KTO,
             "sharegpt.json": SHAREGPT, "sharegpt_tags.json": CUSTOM_TAGS,
             "sharegpt_lines.jsonl": [{"conversations": r["conversations"]} for r in SHAREGPT],
             "sharegpt_ranking.json": SHAREGPT_RANKING, "sharegpt_kto.jsonl": SHAREGPT_KTO,
             "openai.json": OPENAI, "openai_string_tools.jsonl": OPENAI_STRING_TOOLS,
             "parts/b.jsonl": lines[:3], "parts/a.json": lines[3:], "parts/c.json": lines[5:]}
    for name, rows in files.items():
        write_rows(os.path.join(root, name), rows)
    return root


def attr_json(attr):
    out = {"file_name": attr.dataset_name, "load_from": attr.load_from}
    out.update({k: getattr(attr, k) for k in ATTR_FIELDS})
    out["columns"] = {k: getattr(attr, k) for k in COLUMNS}
    out["tags"] = {k: getattr(attr, k) for k in TAGS}
    return out


def run(dataset_dir, names, max_samples, cache):
    ns = types.SimpleNamespace
    attrs = get_dataset_list([n.strip() for n in names.split(",")], dataset_dir)
    data_args = ns(dataset_dir=dataset_dir, media_dir=dataset_dir, max_samples=max_samples,
                   streaming=False, preprocessing_num_workers=None, overwrite_cache=True,
                   mix_strategy="concat")
    model_args = ns(cache_dir=cache, hf_hub_token=None)
    training_args = ns(local_process_index=0, seed=42, dataloader_num_workers=0)
    stage = "rm" if attrs[0].ranking else "sft"
    np.random.seed(training_args.seed)  # transformers.set_seed in get_train_args
    merged = _get_merged_dataset([n.strip() for n in names.split(",")], model_args, data_args,
                                 training_args, stage)
    rows = [{k: row[k] for k in ("_prompt", "_response", "_system", "_tools")}
            for row in merged.to_list()]
    return {"dir": dataset_dir, "names": names, "max_samples": max_samples,
            "attrs": [attr_json(a) for a in attrs], "rows": rows}


def write(source, out):
    cache = os.path.join(out, "hf-cache")
    shipped = os.path.join(source, "data")
    generated = make_generated(out)
    cases = [(shipped, n, None) for n in ("identity", "alpaca_en_demo", "alpaca_zh_demo",
                                           "glaive_toolcall_en_demo", "c4_demo")]
    cases += [(shipped, "identity, alpaca_zh_demo ,glaive_toolcall_en_demo", 4)]
    cases += [(generated, n, None) for n in INFO]
    cases += [(generated, "alpaca_lines,folder,alpaca_full", None),
              (generated, "alpaca_lines,sharegpt", 3), (generated, "folder", 2),
              (generated, "sharegpt_ranking,alpaca_ranking", None),
              (generated, "sampled,oversampled,alpaca_lines", None),
              (generated, "oversampled", 4)]
    results = [run(d, n, m, cache) for d, n, m in cases]
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(results, f, ensure_ascii=False, indent=1)
    print(f"{len(results)} cases, {sum(len(r['rows']) for r in results)} rows")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3])
