/* A Llama-architecture GGUF file seen as a Hugging Face model: llama.cpp's tensor names mapped
 * to transformers' (token_embd -> model.embed_tokens, blk.N.attn_q -> model.layers.N.self_attn
 * .q_proj, ...), the config.json that the `llama.*` and `tokenizer.ggml.*` metadata imply
 * (the keys transformers' GGUF loader reads), and weights in transformers' layout: dequantized
 * to fp32 with llama.cpp's row permutation of the Q and K projections undone.
 * llama.cpp's convert_hf_to_gguf.py (LlamaModel.permute) interleaves the two rotary halves of
 * each head: HF row h*D + j*D/2 + i is stored as GGUF row h*D + 2i + j (D = head_dim, j < 2,
 * i < D/2), with h counting query heads for Q and key/value heads for K. */
#pragma once

#include <cjson/cJSON.h>

#include "gguf.h"
#include "hf_config.h"

/* The transformers name of a llama.cpp tensor name ("blk.3.ffn_down.weight" ->
 * "model.layers.3.mlp.down_proj.weight"); NULL when it is not a Llama-family tensor.
 * The caller frees the result. */
char *hn_gguf_hf_name(const char *gguf_name);

/* The config.json (an object in transformers' LlamaConfig keys) of a GGUF file whose
 * general.architecture is "llama"; every metadata key is checked on the way, and the tensors
 * must match the names above and the vocabulary. The caller deletes the object. */
hn_status hn_gguf_hf_config_json(const hn_gguf_file *file, cJSON **out, hn_error *err);
/* The same, parsed as config.json would be (hf_config's defaults and checks). */
hn_status hn_gguf_hf_config(const hn_gguf_file *file, hn_model_config *config, hn_error *err);

/* The tensor in transformers' order: shape[0] is the number of rows (ggml's last dimension). */
void hn_gguf_hf_shape(const hn_gguf_tensor *tensor, int *ndim, int64_t shape[HN_GGUF_MAX_DIMS]);

/* Dequantizes a tensor to fp32 in transformers' layout (numel floats); Q and K projections
 * (weights and biases) get their rows un-permuted with the head counts from config. */
hn_status hn_gguf_hf_tensor_f32(const hn_gguf_file *file, const hn_gguf_tensor *tensor,
                                const hn_model_config *config, float *dst, hn_error *err);
