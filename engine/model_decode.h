/* Inference with a key/value cache: a prompt runs through the model once (prefill), then each
 * new token alone, attending to the keys and values cached for the tokens before it (RoPE
 * positions continue; grouped KV heads, Qwen2's biases, Qwen3's q/k norms and Mistral's
 * sliding window as in the training forward, LoRA adapters applied without merging). The
 * logits equal a full forward's at every position (tests/test_decode.c). One sequence at a
 * time (batch 1). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

typedef struct hn_kv_decoder hn_kv_decoder;

/* "fp32" or "int8" (the config key decode_activations); anything else is an error naming
 * `where`, the key and the value. */
hn_status hn_decode_activations_parse(const char *text, const char *where,
                                      hn_decode_activations *out, hn_error *err);
/* Sets how one-token decoding multiplies the GGUF block weights (model.h). Returns false when
 * int8 is asked for but changes nothing: no weight of the model is in Q8_0 / Q4_1 blocks (a
 * safetensors model, or a GGUF of other types), or the backend has no block_matvec_int8;
 * callers say so. */
bool hn_model_set_decode_activations(hn_model *model, hn_decode_activations mode);
/* The warning callers print when it returns false. */
#define HN_DECODE_INT8_NO_EFFECT                                                                  \
    "decode_activations: int8 has no effect: the model has no weights in GGUF Q8_0 / Q4_1 "      \
    "blocks (or the backend has no int8 kernel); decoding stays fp32"

/* A decoder on a built model (which must outlive it). The model must not apply LoRA dropout
 * (lora_dropout 0: inference). */
hn_status hn_kv_decoder_new(hn_model *model, hn_kv_decoder **out, hn_error *err);
void hn_kv_decoder_free(hn_kv_decoder *decoder);

/* The model it runs. */
const hn_model *hn_kv_decoder_model(const hn_kv_decoder *decoder);
/* The tokens in the cache, in order. */
int hn_kv_decoder_length(const hn_kv_decoder *decoder);
const int32_t *hn_kv_decoder_tokens(const hn_kv_decoder *decoder);
/* Forgets every cached token from `length` on (0: all of them). */
void hn_kv_decoder_truncate(hn_kv_decoder *decoder, int length);
/* How many leading ids equal the cached tokens (what a new prompt can reuse). */
int hn_kv_decoder_common_prefix(const hn_kv_decoder *decoder, const int32_t *ids, int n);

/* Runs ids [n] through the model after the cached tokens and caches them. logits (host, may
 * be NULL) gets the next-token logits: [n, V] of every new token when all_logits, else [V] of
 * the last one. */
hn_status hn_kv_decoder_append(hn_kv_decoder *decoder, const int32_t *ids, int n, float *logits,
                            bool all_logits, hn_error *err);
