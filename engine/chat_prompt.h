/* What chat feeds the model: a conversation (an optional system prompt, then user and
 * assistant turns ending with a user turn) rendered up to the generation prompt, with a
 * named LLaMA-Factory template (Template.encode_oneturn of the conversation plus an empty
 * answer, as its chat engine does) or with the model's own Jinja template (`auto`:
 * apply_chat_template with add_generation_prompt=True); and the ids that end an answer
 * (named: Template.get_stop_token_ids, the eos after the template's replacement and each stop
 * word's id; auto: the eos ids of generation_config.json / config.json and the tokenizer's). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "chat_encode.h"
#include "chat_jinja.h"
#include "hf_config.h"
#include "tokenizer.h"

typedef struct hn_chat_prompt hn_chat_prompt;

/* template_name: a LLaMA-Factory template name, or NULL / "" / "auto" for the model's own.
 * gen (may be NULL) gives auto's eos ids. The tokenizer must outlive the result. */
hn_status hn_chat_prompt_new(const hn_tokenizer *tok, const char *template_name,
                             const hn_generation_config *gen, hn_chat_prompt **out,
                             hn_error *err);
void hn_chat_prompt_free(hn_chat_prompt *prompt);

/* The prompt ids (g_malloc'ed) of messages (user / assistant alternating, starting and ending
 * with user). system: NULL or "" for the template's default. */
hn_status hn_chat_prompt_encode(const hn_chat_prompt *prompt, const hn_chat_message *messages,
                                size_t n_messages, const char *system, bool enable_thinking,
                                int32_t **ids, int *n_ids, hn_error *err);

/* The ids that end an answer. */
const int32_t *hn_chat_prompt_stop_ids(const hn_chat_prompt *prompt, int *n);
/* The words around a thought ("<think>", "</think>", whitespace stripped): the template's
 * thought_words, LLaMA-Factory's default ones for auto. */
const char *hn_chat_prompt_thought_open(const hn_chat_prompt *prompt);
const char *hn_chat_prompt_thought_close(const hn_chat_prompt *prompt);
