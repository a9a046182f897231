/* The table of named chat templates. Strings and flags are LLaMA-Factory 0.9.5's
 * (llamafactory/data/template.py, register_template calls); a format left empty here takes
 * register_template's default, filled in by hn_chat_template_get. */
#include "chat_template.h"

#include <glib.h>
#include <string.h>

#define TEXT(s) {HN_SLOT_TEXT, s}
#define BOS {HN_SLOT_BOS, NULL}
#define EOS {HN_SLOT_EOS, NULL}
#define FORMAT(...) {.slots = {__VA_ARGS__}}

/* ChatML's slots, shared by chatml and the Qwen templates. */
#define IM_USER "<|im_start|>user\n{{content}}<|im_end|>\n<|im_start|>assistant\n"
#define IM_ASSISTANT "{{content}}<|im_end|>\n"
#define IM_SYSTEM "<|im_start|>system\n{{content}}<|im_end|>\n"
#define QWEN_OBSERVATION \
    "<|im_start|>user\n<tool_response>\n{{content}}\n</tool_response><|im_end|>\n" \
    "<|im_start|>assistant\n"

/* The templates as upstream registers them, before defaults. */
static const hn_chat_template TEMPLATES[] = {
    {
        .name = "default",
        .format_user = FORMAT(TEXT("Human: {{content}}"), EOS, TEXT("\nAssistant:")),
        .format_assistant = FORMAT(TEXT("{{content}}"), EOS, TEXT("\n")),
        .format_system = FORMAT(TEXT("System: {{content}}"), EOS, TEXT("\n")),
    },
    {
        .name = "empty",
        .format_assistant = FORMAT(TEXT("{{content}}")),
    },
    {
        .name = "alpaca",
        .format_user = FORMAT(TEXT("### Instruction:\n{{content}}\n\n### Response:\n")),
        .format_assistant = FORMAT(TEXT("{{content}}"), EOS, TEXT("\n\n")),
        .default_system = "Below is an instruction that describes a task. Write a response "
                          "that appropriately completes the request.\n\n",
    },
    {
        .name = "vicuna",
        .format_user = FORMAT(TEXT("USER: {{content}} ASSISTANT:")),
        .default_system = "A chat between a curious user and an artificial intelligence "
                          "assistant. The assistant gives helpful, detailed, and polite "
                          "answers to the user's questions.",
    },
    {
        .name = "chatml",
        .format_user = FORMAT(TEXT(IM_USER)),
        .format_assistant = FORMAT(TEXT(IM_ASSISTANT)),
        .format_system = FORMAT(TEXT(IM_SYSTEM)),
        .format_observation = FORMAT(TEXT("<|im_start|>tool\n{{content}}<|im_end|>\n"
                                          "<|im_start|>assistant\n")),
        .stop_words = {"<|im_end|>", "<|im_start|>"},
        .replace_eos = true,
    },
    {
        .name = "qwen",
        .format_user = FORMAT(TEXT(IM_USER)),
        .format_assistant = FORMAT(TEXT(IM_ASSISTANT)),
        .format_system = FORMAT(TEXT(IM_SYSTEM)),
        .format_observation = FORMAT(TEXT(QWEN_OBSERVATION)),
        .default_system = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
        .stop_words = {"<|im_end|>"},
        .replace_eos = true,
    },
    {
        .name = "qwen3",
        .template_class = HN_TEMPLATE_REASONING,
        .format_user = FORMAT(TEXT(IM_USER)),
        .format_assistant = FORMAT(TEXT(IM_ASSISTANT)),
        .format_system = FORMAT(TEXT(IM_SYSTEM)),
        .format_observation = FORMAT(TEXT(QWEN_OBSERVATION)),
        .stop_words = {"<|im_end|>"},
        .replace_eos = true,
    },
    {
        .name = "qwen3_nothink",
        .format_user = FORMAT(TEXT(IM_USER)),
        .format_assistant = FORMAT(TEXT(IM_ASSISTANT)),
        .format_system = FORMAT(TEXT(IM_SYSTEM)),
        .format_observation = FORMAT(TEXT(QWEN_OBSERVATION)),
        .stop_words = {"<|im_end|>"},
        .replace_eos = true,
    },
    {
        .name = "llama2",
        .template_class = HN_TEMPLATE_LLAMA2,
        .format_user = FORMAT(BOS, TEXT("[INST] {{content}} [/INST]")),
        .format_system = FORMAT(TEXT("<<SYS>>\n{{content}}\n<</SYS>>\n\n")),
    },
    {
        .name = "llama3",
        .format_user = FORMAT(TEXT("<|start_header_id|>user<|end_header_id|>\n\n{{content}}"
                                   "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")),
        .format_assistant = FORMAT(TEXT("{{content}}<|eot_id|>")),
        .format_system = FORMAT(TEXT("<|start_header_id|>system<|end_header_id|>\n\n{{content}}"
                                     "<|eot_id|>")),
        .format_observation = FORMAT(TEXT("<|start_header_id|>ipython<|end_header_id|>\n\n"
                                          "{{content}}<|eot_id|><|start_header_id|>assistant"
                                          "<|end_header_id|>\n\n")),
        .format_prefix = FORMAT(BOS),
        .stop_words = {"<|eot_id|>", "<|eom_id|>"},
        .replace_eos = true,
    },
    {
        .name = "mistral",
        .template_class = HN_TEMPLATE_LLAMA2,
        .format_user = FORMAT(TEXT("[INST] {{content}}[/INST]")),
        .format_assistant = FORMAT(TEXT(" {{content}}"), EOS),
        .format_system = FORMAT(TEXT("{{content}}\n\n")),
        .format_observation = FORMAT(TEXT("[TOOL_RESULTS] {\"content\": {{content}}}"
                                          "[/TOOL_RESULTS]")),
        .format_prefix = FORMAT(BOS),
    },
    {
        .name = "gemma",
        .template_class = HN_TEMPLATE_LLAMA2,
        .format_user = FORMAT(TEXT("<start_of_turn>user\n{{content}}<end_of_turn>\n"
                                   "<start_of_turn>model\n")),
        .format_assistant = FORMAT(TEXT("{{content}}<end_of_turn>\n")),
        .format_system = FORMAT(TEXT("{{content}}\n\n")),
        .format_observation = FORMAT(TEXT("<start_of_turn>tool\n{{content}}<end_of_turn>\n"
                                          "<start_of_turn>model\n")),
        .format_prefix = FORMAT(BOS),
        .stop_words = {"<end_of_turn>"},
        .replace_eos = true,
    },
    {
        .name = "deepseek3",
        .format_user = FORMAT(TEXT("<｜User｜>{{content}}<｜Assistant｜>")),
        .format_prefix = FORMAT(BOS),
    },
    {
        .name = "glm4",
        .format_user = FORMAT(TEXT("<|user|>\n{{content}}<|assistant|>")),
        .format_assistant = FORMAT(TEXT("\n{{content}}")),
        .format_system = FORMAT(TEXT("<|system|>\n{{content}}")),
        .format_observation = FORMAT(TEXT("<|observation|>\n{{content}}<|assistant|>")),
        .format_prefix = FORMAT(TEXT("[gMASK]<sop>")),
        .stop_words = {"<|user|>", "<|observation|>"},
        .efficient_eos = true,
    },
};

#define N_TEMPLATES (sizeof TEMPLATES / sizeof TEMPLATES[0])

static bool format_is_set(const hn_template_format *format)
{
    return format->slots[0].kind != HN_SLOT_END;
}

/* register_template's defaults: user "{{content}}"; assistant "{{content}}" + eos (no eos with
 * efficient_eos); system the default user format (not format_user); observation format_user;
 * thought words ("<think>\n", "\n</think>\n\n"). */
static void fill_defaults(hn_chat_template *t)
{
    const hn_template_format plain = FORMAT(TEXT("{{content}}"));
    const hn_template_format with_eos = FORMAT(TEXT("{{content}}"), EOS);
    if (!format_is_set(&t->format_user))
        t->format_user = plain;
    if (!format_is_set(&t->format_assistant))
        t->format_assistant = t->efficient_eos ? plain : with_eos;
    if (!format_is_set(&t->format_system))
        t->format_system = plain;
    if (!format_is_set(&t->format_observation))
        t->format_observation = t->format_user;
    if (t->default_system == NULL)
        t->default_system = "";
    if (t->thought_words[0] == NULL) {
        t->thought_words[0] = "<think>\n";
        t->thought_words[1] = "\n</think>\n\n";
    }
}

const char *const *hn_chat_template_names(void)
{
    static const char *names[N_TEMPLATES + 1];
    static gsize filled = 0;
    if (g_once_init_enter(&filled)) {
        for (size_t i = 0; i < N_TEMPLATES; i++)
            names[i] = TEMPLATES[i].name;
        g_once_init_leave(&filled, 1);
    }
    return names;
}

hn_status hn_chat_template_get(const char *name, hn_chat_template *out, hn_error *err)
{
    for (size_t i = 0; i < N_TEMPLATES; i++) {
        if (strcmp(TEMPLATES[i].name, name) == 0) {
            *out = TEMPLATES[i];
            fill_defaults(out);
            return HN_OK;
        }
    }
    GString *known = g_string_new(NULL);
    for (size_t i = 0; i < N_TEMPLATES; i++)
        g_string_append_printf(known, i > 0 ? ", %s" : "%s", TEMPLATES[i].name);
    hn_status status = hn_fail(err, HN_ERR_ARGUMENT,
                               "template \"%s\": expected one of the known templates (%s)",
                               name, known->str);
    g_string_free(known, TRUE);
    return status;
}
