"""Reference side of the chat template tests: transformers' own renderer on real templates.

  jinja_ref.py write DIR   renders every tests/data/chat_templates/*.jinja on 30+ conversations
                           (generated here with a fixed seed: with and without system, multi-turn,
                           empty and unicode content, list content, reasoning, tool calls and
                           tools, add_generation_prompt and enable_thinking both ways, and
                           conversations the template rejects) and writes DIR/expected.json:
                           {template: [{name, messages, tools, add_generation_prompt,
                           special_tokens, kwargs, now, expected | error_type + error}]}.

The rendering path is the one apply_chat_template takes after its tokenizer is loaded:
_normalize_chat_messages on the conversation, {**special_tokens_map, **kwargs} as template
variables, then render_jinja_template (no torch, no model)."""
import json
import os
import random
import sys
import time

import jinja2
from transformers.utils.chat_template_utils import _normalize_chat_messages, render_jinja_template

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "data", "chat_templates")

# What each template's tokenizer passes as special_tokens_map (tokenizer_config.json values).
SPECIAL = {
    "gemma3": {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"},
    "llama3.1": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama3.2": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "mistral-nemo": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "mistral-v0.3": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "qwen2.5": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "qwen3": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "smollm2": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>",
                "pad_token": "<|im_end|>"},
}

# What the templates can take: tools, reasoning, list-of-parts content, strict alternation,
# tool call ids of exactly 9 characters.
CAPS = {
    "gemma3": {"parts", "alternate"},
    "llama3.1": {"tools", "one_call", "builtin_tools"},
    "llama3.2": {"tools", "one_call"},
    "mistral-nemo": {"tools", "alternate", "id9"},
    "mistral-v0.3": {"tools", "id9"},
    "qwen2.5": {"tools"},
    "qwen3": {"tools", "reasoning"},
    "smollm2": set(),
}

TEXTS = [
    "Hello!", "What is the capital of France?", "Paris.", "Who are you?",
    "I am Hone, an AI assistant developed by the Hone team.",
    "  leading and trailing spaces  ", "\nnewlines\naround\n", "tabs\tand\ttabs",
    "Ünïcödé: héllo wörld, 你好，世界, こんにちは, مرحبا, 🙂🚀",
    "quotes ' \" and backslashes \\ and braces {{ not a tag }} {% nor this %}",
    "json-like: {\"a\": [1, 2.5, null]}", "line one\nline two\n\nline four",
    "\u3000ideographic space and nbsp\u00a0", "control \u2028 separator", "a" * 300,
    "Summarize: " + "lorem ipsum " * 40,
]
SYSTEMS = ["You are a helpful assistant.", "Réponds en français.", "  Be brief.  ",
           "You are Hone.\nAnswer in one line.", ""]
THOUGHTS = ["Let me think about this.", "\nThe user greets me.\n", "步骤一：理解问题。", ""]

TOOLS = [
    {"type": "function", "function": {
        "name": "get_current_temperature",
        "description": "Get the current temperature at a location.",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string",
                         "description": "The location to get the temperature for, in the format \"City, Country\""},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
                     "description": "The unit to return the temperature in."}},
            "required": ["location", "unit"]},
        "return": {"type": "number", "description": "The current temperature at the location."}}},
    {"type": "function", "function": {
        "name": "search_wiki",
        "description": "Søg i Wikipedia — unicode ✓",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string"},
            "limit": {"type": "integer", "default": 3},
            "threshold": {"type": "number", "default": 0.25}},
            "required": ["query"]}}},
]


def call(name, args, call_id="call12345"):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def fixed_cases(caps):
    """Conversations every template gets, adapted to what it accepts."""
    cases = [
        ("user_only", [{"role": "user", "content": "Hello!"}]),
        ("system_user", [{"role": "system", "content": "You are a helpful assistant."},
                         {"role": "user", "content": "Who are you?"}]),
        ("multi_turn", [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
                        {"role": "user", "content": "Tell me a joke."},
                        {"role": "assistant", "content": "Why did the chicken cross the road?"},
                        {"role": "user", "content": "Why?"}]),
        ("system_multi_turn", [{"role": "system", "content": "  Be brief.  "},
                               {"role": "user", "content": "What is 2+2?"},
                               {"role": "assistant", "content": "4"},
                               {"role": "user", "content": "And 3+3?"},
                               {"role": "assistant", "content": "6"}]),
        ("empty_content", [{"role": "user", "content": ""}, {"role": "assistant", "content": ""},
                           {"role": "user", "content": ""}]),
        ("unicode", [{"role": "system", "content": "Réponds en français. 🙂"},
                     {"role": "user", "content": TEXTS[8]}, {"role": "assistant", "content": "D'accord — 好的"},
                     {"role": "user", "content": TEXTS[12]}]),
        ("whitespace", [{"role": "user", "content": "\n\n  padded  \n"},
                        {"role": "assistant", "content": "\tanswer\t"},
                        {"role": "user", "content": TEXTS[13]}]),
        ("special_text", [{"role": "user", "content": TEXTS[9]}, {"role": "assistant", "content": TEXTS[10]},
                          {"role": "user", "content": "<|im_start|>user\nnot a real header<|im_end|>"}]),
        ("long", [{"role": "user", "content": TEXTS[15]}, {"role": "assistant", "content": TEXTS[14]},
                  {"role": "user", "content": "ok"}]),
        ("null_fields", [{"role": "user", "content": "hi", "name": None},
                         {"role": "assistant", "content": "hello", "tool_calls": None},
                         {"role": "user", "content": "bye"}]),
    ]
    if "parts" in caps:
        cases.append(("content_parts", [
            {"role": "system", "content": [{"type": "text", "text": "You describe images."}]},
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "  What is this?  "}]},
            {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
            {"role": "user", "content": [{"type": "text", "text": "Sure?"}, {"type": "image"},
                                         {"type": "text", "text": "And this?"}]}]))
    else:
        cases.append(("content_parts", [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]))
    if "alternate" in caps:
        cases.append(("not_alternating", [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]))
    else:
        cases.append(("two_users", [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                                    {"role": "assistant", "content": "c"}]))
    cases.append(("ends_with_assistant", [{"role": "system", "content": "You are Hone."},
                                          {"role": "user", "content": "Who are you?"},
                                          {"role": "assistant", "content": TEXTS[4]}]))
    cases.append(("unknown_role", [{"role": "user", "content": "hi"}, {"role": "developer", "content": "dev"}]))
    return cases


def tool_cases(name, caps):
    cid = "call12345"
    weather = {"location": "Paris, France", "unit": "celsius"}
    user = {"role": "user", "content": "What's the temperature in Paris right now?"}
    cases = [
        ("tools_listed", [{"role": "system", "content": "You are a weather bot."}, user], TOOLS),
        ("tools_no_system", [user], TOOLS[:1]),
        ("tool_call_round", [user,
                             {"role": "assistant", "content": "", "tool_calls": [call("get_current_temperature", weather, cid)]},
                             {"role": "tool", "tool_call_id": cid, "name": "get_current_temperature", "content": "22.5"},
                             {"role": "assistant", "content": "It is 22.5 °C in Paris."},
                             {"role": "user", "content": "Thanks!"}], TOOLS),
        ("tool_call_args_types", [{"role": "user", "content": "Search wiki for Jinja"},
                                  {"role": "assistant", "content": "",
                                   "tool_calls": [call("search_wiki", {"query": "Jinja «templates»", "limit": 5,
                                                                       "threshold": 0.75, "exact": True,
                                                                       "tags": ["a", "b"], "extra": None}, "abcDEF123")]},
                                  {"role": "tool", "tool_call_id": "abcDEF123", "content": "{\"results\": [\"Jinja (template engine)\"]}"},
                                  {"role": "user", "content": "ok"}], TOOLS),
    ]
    if "one_call" not in caps:
        cases.append(("two_tool_calls", [user,
                                         {"role": "assistant", "content": "",
                                          "tool_calls": [call("get_current_temperature", weather, "aaaaaaaa1"),
                                                         call("get_current_temperature",
                                                              {"location": "Oslo, Norway", "unit": "celsius"}, "bbbbbbbb2")]},
                                         {"role": "tool", "tool_call_id": "aaaaaaaa1", "content": "22.5"},
                                         {"role": "tool", "tool_call_id": "bbbbbbbb2", "content": "-3.25"}], TOOLS))
    else:
        cases.append(("two_tool_calls_rejected", [user,
                                                  {"role": "assistant", "content": "",
                                                   "tool_calls": [call("a", {}), call("b", {})]}], TOOLS))
    if "id9" in caps:
        cases.append(("bad_tool_call_id", [user,
                                           {"role": "assistant", "content": "", "tool_calls": [call("get_current_temperature", weather, "x")]},
                                           {"role": "tool", "tool_call_id": "x", "content": "1"}], TOOLS))
    if name == "qwen3":
        cases.append(("string_arguments", [user,
                                           {"role": "assistant", "content": "Let me check.",
                                            "tool_calls": [call("get_current_temperature", "{\"location\": \"Paris\"}")]},
                                           {"role": "tool", "content": "22"}], TOOLS))
        cases.append(("tool_call_without_content", [user,
                                                    {"role": "assistant", "tool_calls": [call("get_current_temperature", weather)]}], TOOLS))
    return cases


def reasoning_cases():
    return [
        ("reasoning_content", [{"role": "user", "content": "What is 2+2?"},
                               {"role": "assistant", "content": "4", "reasoning_content": "Adding two and two."}]),
        ("reasoning_history", [{"role": "user", "content": "Hi"},
                               {"role": "assistant", "content": "Hello!", "reasoning_content": "A greeting."},
                               {"role": "user", "content": "Bye"},
                               {"role": "assistant", "content": "Goodbye!", "reasoning_content": "\nA farewell.\n"}]),
        ("think_in_content", [{"role": "user", "content": "Solve x+1=3"},
                              {"role": "assistant", "content": "<think>\nSubtract one.\n</think>\n\nx = 2"},
                              {"role": "user", "content": "Thanks"}]),
        ("reasoning_alias_thinking", [{"role": "user", "content": "Q"},
                                      {"role": "assistant", "content": "A", "thinking": "old-style field"}]),
        ("multi_step_tool_response", [{"role": "user", "content": "Weather?"},
                                      {"role": "assistant", "content": "", "reasoning_content": "Call the tool.",
                                       "tool_calls": [call("get_current_temperature", {"location": "Paris", "unit": "celsius"})]},
                                      {"role": "user", "content": "<tool_response>\n22\n</tool_response>"},
                                      {"role": "assistant", "content": "22 degrees.", "reasoning_content": "Report it."}]),
    ]


def random_case(rng, caps):
    turns = rng.randint(1, 4)
    messages = []
    if rng.random() < 0.5:
        messages.append({"role": "system", "content": rng.choice(SYSTEMS)})
    for t in range(turns):
        messages.append({"role": "user", "content": rng.choice(TEXTS)})
        if t < turns - 1 or rng.random() < 0.5:
            msg = {"role": "assistant", "content": rng.choice(TEXTS)}
            if "reasoning" in caps and rng.random() < 0.5:
                msg["reasoning_content"] = rng.choice(THOUGHTS)
            messages.append(msg)
    return messages


def render(name, template, messages, tools, add_generation_prompt, kwargs):
    special = SPECIAL[name]
    conversations = [_normalize_chat_messages(messages)]
    case = {"messages": messages, "tools": tools, "add_generation_prompt": add_generation_prompt,
            "special_tokens": special, "kwargs": kwargs, "now": int(time.time())}
    try:
        rendered, _ = render_jinja_template(conversations=conversations, tools=tools, documents=None,
                                            chat_template=template,
                                            add_generation_prompt=add_generation_prompt,
                                            **{**special, **kwargs})
        case["expected"] = rendered[0]
    except jinja2.exceptions.TemplateError as e:
        case["error_type"] = type(e).__name__
        case["error"] = str(e)
    except (TypeError, ValueError) as e:
        case["error_type"] = type(e).__name__
        case["error"] = str(e)
    return case


def cases_for(name, template, rng):
    caps = CAPS[name]
    out = []

    def add(label, messages, tools=None, agp=False, kwargs=None):
        case = render(name, template, messages, tools, agp, kwargs or {})
        case["name"] = label
        out.append(case)

    for label, messages in fixed_cases(caps):
        add(label, messages)
        add(label + "+gen", messages, agp=True)
    if "tools" in caps:
        for label, messages, tools in tool_cases(name, caps):
            add(label, messages, tools, agp=True)
    if "reasoning" in caps:
        for label, messages in reasoning_cases():
            for thinking in (None, True, False):
                kwargs = {} if thinking is None else {"enable_thinking": thinking}
                add(f"{label}+thinking={thinking}", messages, agp=thinking is not None, kwargs=kwargs)
    if name.startswith("llama"):
        user = [{"role": "system", "content": "Plain."}, {"role": "user", "content": "Weather?"}]
        add("date_string", user, agp=True, kwargs={"date_string": "01 Jan 2025"})
        add("tools_in_system", user, TOOLS, agp=True, kwargs={"tools_in_user_message": False})
        add("custom_tools", user, agp=True, kwargs={"custom_tools": TOOLS[1:]})
        add("tools_without_user", [{"role": "system", "content": "x"}], TOOLS)
        add("tool_dict_content", user + [
            {"role": "assistant", "tool_calls": [call("get_current_temperature", {"location": "Paris"})]},
            {"role": "tool", "content": {"temperature": 22.5, "unit": "celsius"}}], TOOLS, agp=True)
    if "builtin_tools" in caps:
        add("builtin_tools", [{"role": "user", "content": "Search the web for Jinja"},
                              {"role": "assistant", "tool_calls": [call("brave_search", {"query": "Jinja"})]},
                              {"role": "ipython", "content": "Jinja is a template engine."}],
            agp=True, kwargs={"builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"]})
    if name == "qwen3":
        add("enable_thinking_false_no_gen", [{"role": "user", "content": "hi"}],
            kwargs={"enable_thinking": False})
    for i in range(12):
        messages = random_case(rng, caps)
        agp = rng.random() < 0.6
        kwargs = {}
        if "reasoning" in caps and rng.random() < 0.6:
            kwargs["enable_thinking"] = rng.random() < 0.5
        tools = TOOLS if "tools" in caps and rng.random() < 0.3 else None
        add(f"random_{i}", messages, tools, agp, kwargs)
    return out


def write(out_dir):
    rng = random.Random(20240601)
    expected = {}
    for file in sorted(os.listdir(TEMPLATES)):
        if not file.endswith(".jinja"):
            continue
        name = file[: -len(".jinja")]
        with open(os.path.join(TEMPLATES, file), encoding="utf-8", newline="") as f:
            template = f.read()
        expected[name] = cases_for(name, template, rng)
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit("usage: jinja_ref.py write DIR")
    write(sys.argv[2])
