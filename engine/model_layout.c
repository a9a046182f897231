/* The weights (names and shapes) that a config of the decoder family implies. */
#include "model_layout.h"

#include <inttypes.h>
#include <stdio.h>

static void add(GArray *specs, const char *name, int64_t rows, int64_t cols)
{
    hn_weight_spec spec = {.ndim = cols > 0 ? 2 : 1, .shape = {rows, cols}};
    g_strlcpy(spec.name, name, sizeof spec.name);
    g_array_append_val(specs, spec);
}

/* A module's weight (cols 0: a vector) and, when `bias`, its bias. */
static void add_module(GArray *specs, const char *module, int64_t rows, int64_t cols, bool bias)
{
    char name[80];
    snprintf(name, sizeof name, "%s.weight", module);
    add(specs, name, rows, cols);
    if (bias) {
        snprintf(name, sizeof name, "%s.bias", module);
        add(specs, name, rows, 0);
    }
}

hn_weight_spec *hn_model_weight_specs(const hn_model_config *c, size_t *count)
{
    const int64_t hidden = c->hidden_size, ffn = c->intermediate_size, dim = c->head_dim;
    const int64_t q = c->num_attention_heads * dim, kv = c->num_key_value_heads * dim;
    const struct {
        const char *part;
        int64_t rows, cols; /* cols 0: a vector */
        bool present, bias;
    } layer[] = {
        {"input_layernorm", hidden, 0, true, false},
        {"self_attn.q_proj", q, hidden, true, c->attention_bias},
        {"self_attn.k_proj", kv, hidden, true, c->attention_bias},
        {"self_attn.v_proj", kv, hidden, true, c->attention_bias},
        {"self_attn.o_proj", hidden, q, true, c->o_proj_bias},
        {"self_attn.q_norm", dim, 0, c->qk_norm, false},
        {"self_attn.k_norm", dim, 0, c->qk_norm, false},
        {"post_attention_layernorm", hidden, 0, true, false},
        {"mlp.gate_proj", ffn, hidden, true, c->mlp_bias},
        {"mlp.up_proj", ffn, hidden, true, c->mlp_bias},
        {"mlp.down_proj", hidden, ffn, true, c->mlp_bias},
    };
    GArray *specs = g_array_new(FALSE, FALSE, sizeof(hn_weight_spec));
    add_module(specs, "model.embed_tokens", c->vocab_size, hidden, false);
    for (int64_t l = 0; l < c->num_hidden_layers; l++) {
        for (size_t i = 0; i < G_N_ELEMENTS(layer); i++) {
            if (!layer[i].present)
                continue;
            char module[64];
            snprintf(module, sizeof module, "model.layers.%" PRId64 ".%s", l, layer[i].part);
            add_module(specs, module, layer[i].rows, layer[i].cols, layer[i].bias);
        }
    }
    add_module(specs, "model.norm", hidden, 0, false);
    if (!c->tie_word_embeddings)
        add_module(specs, "lm_head", c->vocab_size, hidden, false);
    *count = specs->len;
    return (hn_weight_spec *)g_array_free(specs, FALSE);
}
