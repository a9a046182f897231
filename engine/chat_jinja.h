/* A conversation to token ids and labels with the model's own Jinja chat_template (what
 * `template: auto`, or no template, means). The ids are exactly transformers'
 * apply_chat_template(messages, tokenize=True): the whole rendering tokenized at once without
 * the post-processor's tokens. The labels keep the tokens of each assistant turn: from the end
 * of the turn's header (the template's generation prompt) to the end of the text the template
 * writes after the answer (its end-of-turn, e.g. "<|im_end|>\n"), thoughts included. Where
 * the rendering departs from the generation prompt before the header ends (Qwen3 without
 * thinking prompts with an empty thought; an answer that has a thought departs inside it),
 * the answer starts at the departure; a token that straddles an edge counts as inside.
 *
 * Where each answer lies in the rendering is found by rendering again with one marker
 * character added at the start or the end of that answer and comparing; a template that
 * renders an answer twice, or changes control flow on such a marker, gets no labels for that
 * answer's edge it hides, and an answer that cannot be found at all is an error naming the
 * message. LLaMA-Factory instead derives a slot template from the Jinja text (parse_template);
 * that differs from the model's own rendering for templates that move the system prompt
 * (Mistral) or drop earlier thoughts (Qwen3), which Hone renders as the model expects. */
#pragma once

#include <cjson/cJSON.h>

#include "chat_encode.h"
#include "hn_error.h"
#include "jinja.h"
#include "tokenizer.h"

typedef struct hn_chat_jinja hn_chat_jinja;

/* Compiles the tokenizer's chat_template (tokenizer_config.json, chat_template.jinja or the
 * GGUF metadata). A tokenizer without one is an error that says to name a template. The
 * tokenizer must outlive the result. */
hn_status hn_chat_jinja_new(const hn_tokenizer *tok, hn_chat_jinja **out, hn_error *err);
void hn_chat_jinja_free(hn_chat_jinja *chat);

/* Encodes messages (a JSON array of {"role", "content", ...} in transformers' roles: system,
 * user, assistant, tool; content a string). A conversation that ends with an assistant
 * message is rendered as is; otherwise the generation prompt is added (what chat feeds the
 * model). options: system (replaces or adds the first system message), tools (a JSON array
 * of tool schemas passed to the template), train_on_prompt, mask_history (only the last
 * answer is labelled), enable_thinking (passed to the template as a variable);
 * preserve_thinking is for named templates and is refused here. kwargs (an object or NULL)
 * adds template variables, such as date_string for Llama 3's templates. */
hn_status hn_chat_jinja_encode(const hn_chat_jinja *chat, const cJSON *messages,
                               const hn_chat_encode_options *options, const cJSON *kwargs,
                               hn_chat_encoded *out, hn_error *err);

/* The same rendering as text (for `hone tokenize --render` and the chat page). */
hn_status hn_chat_jinja_render(const hn_chat_jinja *chat, const cJSON *messages,
                               const hn_chat_encode_options *options, const cJSON *kwargs,
                               char **text, hn_error *err);
