/* Text generation on a decoder with a key/value cache (model_decode.h): the prompt is run
 * (reusing whatever prefix the cache already holds, so a chat's next turn only runs its new
 * tokens), then tokens are chosen one at a time (sampling.h, transformers' semantics) until a
 * stop id, max_new_tokens or a cancel request. Text is streamed through the tokenizer's
 * UTF-8-safe incremental decoder. Meant to run on a worker thread: `cancel` is read before
 * every token. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hn_error.h"
#include "model_decode.h"
#include "sampling.h"
#include "tokenizer.h"

typedef struct {
    hn_sampling sampling;
    uint64_t seed;          /* for the draws when sampling */
    int max_new_tokens;     /* > 0 */
    const int32_t *stop_ids; /* generation ends after one of these (it is not streamed) */
    int n_stop;
} hn_generate_options;

/* LLaMA-Factory's generating arguments (hparams/generating_args.py): do_sample, temperature
 * 0.95, top_p 0.7, top_k 50, repetition_penalty 1.0, max_new_tokens 1024; no stop ids; seed 42
 * (LLaMA-Factory's chat draws from torch's unseeded generator; Hone's draws repeat). */
void hn_generate_options_init(hn_generate_options *options);

typedef enum {
    HN_FINISH_STOP,      /* a stop id came */
    HN_FINISH_LENGTH,    /* max_new_tokens reached */
    HN_FINISH_CANCELLED, /* *cancel became true */
} hn_finish_reason;

typedef struct {
    int32_t *ids;            /* [n_ids] the new tokens, the stop id included when one came */
    int n_ids;
    char *text;              /* decoded without special tokens (g_malloc'ed) */
    hn_finish_reason finish;
    int prompt_tokens;       /* the prompt's length */
    int prompt_computed;     /* of which the model had to run (the rest was cached) */
    double prefill_seconds;  /* running the prompt */
    double decode_seconds;   /* everything after it */
} hn_generate_result;

/* Called with each new piece of text (never empty) as it completes; `user` is passed on. */
typedef void (*hn_generate_piece_fn)(const char *piece, void *user);

/* Generates after prompt [n_prompt]. on_piece and cancel may be NULL. On error *result holds
 * what was generated before it. */
hn_status hn_generate(hn_kv_decoder *decoder, const hn_tokenizer *tok, const int32_t *prompt,
                      int n_prompt, const hn_generate_options *options,
                      hn_generate_piece_fn on_piece, void *user, const atomic_bool *cancel,
                      hn_generate_result *result, hn_error *err);
void hn_generate_result_clear(hn_generate_result *result);
