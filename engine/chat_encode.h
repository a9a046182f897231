/* A conversation to token ids and labels with a named chat template: what every training
 * stage feeds the model. Equal to LLaMA-Factory's Template.encode_multiturn followed by its
 * supervised processor (llamafactory/data/processor/supervised.py). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat_template.h"
#include "hn_error.h"
#include "tokenizer.h"

#define HN_IGNORE_INDEX (-100) /* a label that takes no part in the loss */

typedef enum {
    HN_ROLE_USER,
    HN_ROLE_ASSISTANT,
    HN_ROLE_SYSTEM,
    HN_ROLE_FUNCTION,
    HN_ROLE_OBSERVATION,
} hn_chat_role;

typedef struct {
    hn_chat_role role;
    const char *content; /* UTF-8; NULL is an error naming the message */
} hn_chat_message;

typedef struct {
    const char *system;     /* NULL or "": the template's default system prompt */
    const char *tools;      /* tool descriptions (JSON); not supported yet, must be NULL */
    bool train_on_prompt;   /* labels keep the prompt tokens too */
    bool mask_history;      /* only the last turn's response is trained on */
    bool enable_thinking;   /* reasoning templates: false drops thoughts, masks the empty one */
    bool preserve_thinking; /* reasoning templates with mask_history: keep history thoughts */
    int cutoff_len;         /* > 0: at most this many tokens, each turn shortened as LLaMA-Factory
                               does (infer_seqlen); 0: no limit */
} hn_chat_encode_options;

/* LLaMA-Factory's defaults: no system override, enable_thinking true, the rest false. */
void hn_chat_encode_options_init(hn_chat_encode_options *options);

typedef struct {
    int32_t *input_ids; /* [n] */
    int32_t *labels;    /* [n]: the id, or HN_IGNORE_INDEX */
    size_t n;
} hn_chat_encoded;

/* Encodes messages (an optional leading system message, which then overrides
 * options->system, then user/observation and assistant turns alternating, ending with an
 * assistant message). Each slot string is tokenized on its own without the post-processor's
 * special tokens; bos/eos slots are the tokenizer's bos/eos ids after the template's eos
 * replacement. Errors name the message index and what was expected. */
hn_status hn_chat_encode(const hn_chat_template *tmpl, const hn_tokenizer *tok,
                         const hn_chat_message *messages, size_t n_messages,
                         const hn_chat_encode_options *options, hn_chat_encoded *out,
                         hn_error *err);
void hn_chat_encoded_clear(hn_chat_encoded *encoded);

/* A conversation as one prompt and its last answer (LLaMA-Factory's Template.encode_oneturn,
 * with ReasoningTemplate's thought rules): every message before the last answer, system and
 * history included, then that answer's ids, neither truncated nor masked. With efficient_eos
 * templates the answer has no eos: the caller appends it (the pairwise and feedback
 * processors do). What the rm/dpo/kto stages' processors encode. */
typedef struct {
    int32_t *prompt; /* [n_prompt] */
    size_t n_prompt;
    int32_t *response; /* [n_response] */
    size_t n_response;
} hn_chat_oneturn;

/* messages and options as hn_chat_encode (train_on_prompt and mask_history play no part;
 * preserve_thinking keeps the history's thoughts). */
hn_status hn_chat_encode_oneturn(const hn_chat_template *tmpl, const hn_tokenizer *tok,
                                 const hn_chat_message *messages, size_t n_messages,
                                 const hn_chat_encode_options *options, hn_chat_oneturn *out,
                                 hn_error *err);
void hn_chat_oneturn_clear(hn_chat_oneturn *oneturn);

/* The eos id a template gives this tokenizer (replace_eos makes it stop_words[0]; a tokenizer
 * without eos gets <|endoftext|>). A token the tokenizer lacks as a special token is an error:
 * LLaMA-Factory would add it and resize the vocabulary, which Hone does not do yet. */
hn_status hn_chat_template_eos(const hn_chat_template *tmpl, const hn_tokenizer *tok,
                               int32_t *eos_id, hn_error *err);

/* LLaMA-Factory's infer_seqlen (llamafactory/data/processor/processor_utils.py): how much of a
 * prompt (source) and an answer (target) fit in `budget` tokens. */
void hn_infer_seqlen(size_t source_len, size_t target_len, size_t budget, size_t *new_source,
                     size_t *new_target);
/* "user", "assistant", "system", "function", "observation" (LLaMA-Factory's role names). */
bool hn_chat_role_parse(const char *name, hn_chat_role *out);
const char *hn_chat_role_name(hn_chat_role role);
