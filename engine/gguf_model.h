/* A GGUF file of the decoder family seen as the Hugging Face model transformers' GGUF loader
 * makes of it. One table (gguf_model.c) lists the llama.cpp architectures Hone reads:
 * general.architecture "llama" (Llama, Mistral, SmolLM2), "qwen2" (Qwen2, Qwen2.5) and "qwen3",
 * each with its metadata prefix ("qwen2.*"), its transformers class, where head_dim comes from
 * and whether llama.cpp permuted the Q/K rows; any other architecture is refused, naming the
 * supported ones.
 * - names: llama.cpp's tensor names mapped to transformers' (token_embd -> model.embed_tokens,
 *   blk.N.attn_q -> model.layers.N.self_attn.q_proj, blk.N.attn_q_norm -> ...q_norm, ...);
 * - config: the config.json that the `ARCH.*` and `tokenizer.ggml.*` metadata imply (the keys
 *   transformers reads), checked against the tensors: the file must hold exactly the weights of
 *   that model (model_layout.h) in their shapes;
 * - weights: dequantized to fp32 in transformers' layout. For "llama" only, llama.cpp's
 *   convert_hf_to_gguf.py (LlamaModel.permute) interleaved the two rotary halves of each head
 *   of Q and K: HF row h*D + j*D/2 + i is stored as GGUF row h*D + 2i + j (D = head_dim, j < 2,
 *   i < D/2), with h counting query heads for Q and key/value heads for K; that is undone.
 *   Qwen2/Qwen3 (NeoX-style RoPE in llama.cpp) are stored unpermuted.
 * RoPE scaling in a GGUF file (rope.scaling.* metadata, Llama 3.1's rope_freqs.weight) is
 * refused: transformers' GGUF loader ignores it and would load a model with plain RoPE. */
#pragma once

#include <cjson/cJSON.h>

#include "gguf.h"
#include "hf_config.h"

/* The transformers name of a llama.cpp tensor name ("blk.3.ffn_down.weight" ->
 * "model.layers.3.mlp.down_proj.weight"); NULL when it is not a decoder-family tensor.
 * The caller frees the result. */
char *hn_gguf_hf_name(const char *gguf_name);
/* The reverse: the llama.cpp name of a transformers weight name, or NULL. */
char *hn_gguf_name_of_hf(const char *hf_name);

/* The config.json (an object in transformers' config keys) of a GGUF file of a supported
 * architecture; every metadata key it uses is checked, and every tensor must have a
 * transformers name in a layer that exists. The caller deletes the object. */
hn_status hn_gguf_hf_config_json(const hn_gguf_file *file, cJSON **out, hn_error *err);
/* The same, parsed as config.json would be (hf_config's defaults and checks), then checked
 * against the tensors: every weight of that model present, in its shape, and no other. */
hn_status hn_gguf_hf_config(const hn_gguf_file *file, hn_model_config *config, hn_error *err);

/* The tensor in transformers' order: shape[0] is the number of rows (ggml's last dimension). */
void hn_gguf_hf_shape(const hn_gguf_tensor *tensor, int *ndim, int64_t shape[HN_GGUF_MAX_DIMS]);

/* Dequantizes a tensor to fp32 in transformers' layout (numel floats); in "llama" files the Q
 * and K projections (weights and biases) get their rows un-permuted with the head counts from
 * config. */
hn_status hn_gguf_hf_tensor_f32(const hn_gguf_file *file, const hn_gguf_tensor *tensor,
                                const hn_model_config *config, float *dst, hn_error *err);
/* The tensor's stored bytes (tensor->nbytes, in its ggml type) with the rows in transformers'
 * order, un-permuted as hn_gguf_hf_tensor_f32 does. */
hn_status hn_gguf_hf_tensor_bytes(const hn_gguf_file *file, const hn_gguf_tensor *tensor,
                                  const hn_model_config *config, void *dst, hn_error *err);
