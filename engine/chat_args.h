/* The keys of a chat (inference) config, LLaMA-Factory's names (hparams/model_args.py,
 * data_args.py, generating_args.py) with its defaults: what `hone chat CONFIG.yaml` and its
 * --key value options set. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "generate.h"
#include "hn_error.h"
#include "model.h"

typedef struct {
    char *model_name_or_path;
    char *adapter_name_or_path;  /* NULL: none; commas: several (not built yet) */
    char *template_name;         /* NULL: the model's own ("auto") */
    char *default_system;        /* NULL: the template's */
    char *backend;               /* NULL or auto, cpu, cuda (backend_choice.h); GEMMs in fp32 */
    bool enable_thinking;        /* true */
    hn_decode_activations decode_activations; /* decode_activations: fp32 (default) or int8
                                                 (model.h) */
    hn_generate_options generate; /* do_sample true, temperature 0.95, top_p 0.7, top_k 50,
                                     repetition_penalty 1.0, max_new_tokens 1024, seed 42 */
} hn_chat_args;

void hn_chat_args_init(hn_chat_args *args);
void hn_chat_args_clear(hn_chat_args *args);
/* Sets one key from text; where names the source. HN_ERR_UNSUPPORTED (no message) for a key
 * chat does not use; a bad value is an error naming the key, the value and what it must be. */
hn_status hn_chat_args_set(hn_chat_args *args, const char *key, const char *value,
                           const char *where, hn_error *err);
/* After every key is set: a model is named; temperature 0 means greedy (LLaMA-Factory's
 * chat engine turns do_sample off then). */
hn_status hn_chat_args_check(hn_chat_args *args, hn_error *err);
