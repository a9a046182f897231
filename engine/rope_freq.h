/* The tables RoPE runs on: inv_freq per rotated pair and the attention factor that scales
 * cos and sin, for every rope_scaling type Hone reads (default, linear, dynamic, yarn,
 * llama3), equal to transformers' ROPE_INIT_FUNCTIONS (modeling_rope_utils.py). The backends'
 * rope_forward / rope_backward (kernels/backend.h) take them as they are. */
#pragma once

#include <stdint.h>

#include "hf_config.h"

/* Fills inv_freq[config->head_dim / 2] and *attention_factor.
 * seq_len is the longest sequence of the batch (largest position id + 1); only "dynamic"
 * uses it, as transformers recomputes its frequencies once a batch grows past
 * max_position_embeddings (transformers also keeps a grown table while later batches stay
 * longer than max_position_embeddings; Hone computes each batch's table from its own length). */
void hn_rope_frequencies(const hn_model_config *config, int64_t seq_len, float *inv_freq,
                         float *attention_factor);
