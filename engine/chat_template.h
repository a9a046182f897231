/* LLaMA-Factory's named chat templates as data: the slot strings of each role, the default
 * system prompt, stop words and the flags that change how a conversation is encoded. The
 * strings are LLaMA-Factory's own (llamafactory/data/template.py); chat_encode.c turns them
 * into token ids. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hn_error.h"

/* One element of a formatter: text (where "{{content}}" stands for the message), or the
 * tokenizer's bos / eos token. A zeroed slot ends the list. */
typedef enum {
    HN_SLOT_END = 0,
    HN_SLOT_TEXT,
    HN_SLOT_BOS,
    HN_SLOT_EOS,
} hn_slot_kind;

typedef struct {
    hn_slot_kind kind;
    const char *text; /* HN_SLOT_TEXT only */
} hn_template_slot;

#define HN_TEMPLATE_MAX_SLOTS 4
#define HN_TEMPLATE_MAX_STOP_WORDS 2

typedef struct {
    hn_template_slot slots[HN_TEMPLATE_MAX_SLOTS + 1]; /* ends with HN_SLOT_END */
} hn_template_format;

/* How the system prompt and thoughts are placed (LLaMA-Factory's template classes). */
typedef enum {
    HN_TEMPLATE_PLAIN = 0, /* Template: the system slot before the first user message */
    HN_TEMPLATE_LLAMA2,    /* Llama2Template: the system text fused into the first user message */
    HN_TEMPLATE_REASONING, /* ReasoningTemplate: an empty thought is added where none is given */
} hn_template_class;

/* A template with upstream's defaults filled in (register_template's): every format is set. */
typedef struct {
    const char *name;
    hn_template_class template_class;
    /* format_function (tool calls) is left out until tools are supported. */
    hn_template_format format_user, format_assistant, format_system, format_observation,
        format_prefix;
    const char *default_system;                               /* "" when none */
    const char *stop_words[HN_TEMPLATE_MAX_STOP_WORDS + 1];   /* NULL-terminated */
    const char *thought_words[2];                             /* open, close */
    bool efficient_eos; /* the eos is not in the assistant slot: it ends the next prompt */
    bool replace_eos;   /* stop_words[0] becomes the tokenizer's eos token */
} hn_chat_template;

/* Looks up a template by name. An unknown name is an error listing the known ones. */
hn_status hn_chat_template_get(const char *name, hn_chat_template *out, hn_error *err);

/* The known names, NULL-terminated, in table order. */
const char *const *hn_chat_template_names(void);
