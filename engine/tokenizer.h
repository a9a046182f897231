/* Hugging Face tokenizers (tokenizer.json), BPE in both families: byte-level (GPT-2, Llama 3,
 * Qwen, SmolLM2) and SentencePiece-style (Llama 2, Mistral, Gemma). Encoding gives the same
 * ids as the `tokenizers` package; decoding the same text. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hn_error.h"

typedef struct hn_tokenizer hn_tokenizer;

/* Loads tokenizer.json (a file, or a folder holding one, plus tokenizer_config.json if there).
 * A model type, normalizer, pre-tokenizer, post-processor or decoder Hone does not support
 * is an error naming it. */
hn_status hn_tokenizer_load(const char *path, hn_tokenizer **out, hn_error *err);
/* Parses tokenizer.json text; `label` names it in messages. */
hn_status hn_tokenizer_parse(const char *text, size_t length, const char *label,
                             hn_tokenizer **out, hn_error *err);
void hn_tokenizer_free(hn_tokenizer *tok);

/* Encodes UTF-8 text (length bytes, need not be NUL-terminated). With add_special, the
 * post-processor adds its tokens (bos/eos), as `Tokenizer.encode` does by default. Text that
 * is not valid UTF-8 is an error naming the byte. *ids is g_malloc'ed. */
hn_status hn_tokenizer_encode(const hn_tokenizer *tok, const char *text, size_t length,
                              bool add_special, int32_t **ids, size_t *n_ids, hn_error *err);

/* Decodes ids to text through the tokenizer's decoder (g_malloc'ed, NUL-terminated). Ids out
 * of range are an error. */
hn_status hn_tokenizer_decode(const hn_tokenizer *tok, const int32_t *ids, size_t n_ids,
                              bool skip_special, char **text, hn_error *err);

int32_t hn_tokenizer_vocab_size(const hn_tokenizer *tok);
/* The id of a token string (vocabulary or added token), or -1. */
int32_t hn_tokenizer_token_to_id(const hn_tokenizer *tok, const char *token);
/* The token string of an id, or NULL. */
const char *hn_tokenizer_id_to_token(const hn_tokenizer *tok, int32_t id);
bool hn_tokenizer_is_special(const hn_tokenizer *tok, int32_t id);

/* Special tokens and flags from tokenizer_config.json (-1 / NULL when not given). */
typedef struct {
    int32_t bos_id, eos_id, pad_id, unk_id;
    bool add_bos_token, add_eos_token; /* what transformers adds around a sequence */
    char *chat_template;               /* the model's Jinja template, or NULL */
} hn_tokenizer_config;
const hn_tokenizer_config *hn_tokenizer_get_config(const hn_tokenizer *tok);

/* Decoding a stream of ids one at a time, emitting only complete UTF-8: what a chat window
 * shows while tokens arrive. */
typedef struct hn_token_stream hn_token_stream;
hn_token_stream *hn_token_stream_new(const hn_tokenizer *tok, bool skip_special);
/* Adds one id; returns the newly complete text (g_malloc'ed, possibly ""), or NULL with err
 * set for an id out of range. */
char *hn_token_stream_push(hn_token_stream *stream, int32_t id, hn_error *err);
/* What is left at the end (an incomplete UTF-8 tail becomes U+FFFD, as decode does). */
char *hn_token_stream_finish(hn_token_stream *stream);
void hn_token_stream_free(hn_token_stream *stream);
