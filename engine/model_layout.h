/* The weights a model of the decoder family has for a given config: each one's transformers
 * name and shape, as the matching transformers class (LlamaForCausalLM, Qwen2ForCausalLM,
 * Qwen3ForCausalLM, MistralForCausalLM) creates them. Used to check that a file holds
 * exactly the model its config describes. */
#pragma once

#include <stddef.h>

#include "hf_config.h"

typedef struct {
    char name[80];    /* "model.layers.3.self_attn.q_proj.weight" */
    int ndim;         /* 1 or 2 */
    int64_t shape[2]; /* [ndim], PyTorch order (rows first) */
} hn_weight_spec;

/* Every weight of the model `config` describes: the embedding, each layer's, the final norm
 * and the head unless tied. Returns *count entries; the caller frees the array (g_free). */
hn_weight_spec *hn_model_weight_specs(const hn_model_config *config, size_t *count);
