/* The weights a config implies: names and shapes per family, and their element count equal
 * to hn_model_config_param_count (two independent sums of the same model). */
#include <string.h>

#include "hf_config.h"
#include "model_layout.h"
#include "test_util.h"

static const hn_weight_spec *find(const hn_weight_spec *specs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(specs[i].name, name) == 0)
            return &specs[i];
    return NULL;
}

static void test_families(void)
{
    static const struct {
        const char *json;
        size_t per_layer;             /* weights in one layer */
        const char *present, *absent; /* a weight the model has, one it has not */
        gint64 q_rows;
    } cases[] = {
        {"{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 10, \"hidden_size\": 8, "
         "\"intermediate_size\": 12, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, "
         "\"num_key_value_heads\": 1, \"tie_word_embeddings\": false}",
         9, "lm_head.weight", "model.layers.1.self_attn.q_proj.bias", 8},
        {"{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 10, \"hidden_size\": 8, "
         "\"intermediate_size\": 12, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, "
         "\"attention_bias\": true, \"mlp_bias\": true, \"tie_word_embeddings\": true}",
         16, "model.layers.1.self_attn.o_proj.bias", "lm_head.weight", 8},
        {"{\"architectures\": [\"Qwen2ForCausalLM\"], \"vocab_size\": 10, \"hidden_size\": 8, "
         "\"intermediate_size\": 12, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, "
         "\"num_key_value_heads\": 1, \"tie_word_embeddings\": true}",
         12, "model.layers.1.self_attn.v_proj.bias", "model.layers.1.self_attn.o_proj.bias", 8},
        {"{\"architectures\": [\"Qwen3ForCausalLM\"], \"vocab_size\": 10, \"hidden_size\": 8, "
         "\"intermediate_size\": 12, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, "
         "\"num_key_value_heads\": 1, \"head_dim\": 6, \"tie_word_embeddings\": false}",
         11, "model.layers.1.self_attn.k_norm.weight", "model.layers.1.self_attn.q_proj.bias", 12},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        hn_model_config c;
        hn_error err = {0};
        const char *json = cases[i].json;
        if (hn_model_config_parse(json, strlen(json), "config.json", &c, &err) != HN_OK)
            g_error("%s", err.message);
        size_t n = 0;
        hn_weight_spec *specs = hn_model_weight_specs(&c, &n);
        size_t top = c.tie_word_embeddings ? 2 : 3;
        g_assert_cmpuint(n, ==, top + 2 * cases[i].per_layer);
        gint64 total = 0;
        for (size_t s = 0; s < n; s++)
            total += specs[s].shape[0] * (specs[s].ndim == 2 ? specs[s].shape[1] : 1);
        g_assert_cmpint(total, ==, hn_model_config_param_count(&c));
        g_assert_nonnull(find(specs, n, cases[i].present));
        g_assert_null(find(specs, n, cases[i].absent));
        const hn_weight_spec *q = find(specs, n, "model.layers.0.self_attn.q_proj.weight");
        g_assert_cmpint(q->ndim, ==, 2);
        g_assert_cmpint(q->shape[0], ==, cases[i].q_rows);
        g_assert_cmpint(q->shape[1], ==, 8);
        const hn_weight_spec *o = find(specs, n, "model.layers.1.self_attn.o_proj.weight");
        g_assert_cmpint(o->shape[0], ==, 8);
        g_assert_cmpint(o->shape[1], ==, cases[i].q_rows);
        const hn_weight_spec *down = find(specs, n, "model.layers.1.mlp.down_proj.weight");
        g_assert_cmpint(down->shape[0], ==, 8);
        g_assert_cmpint(down->shape[1], ==, 12);
        g_free(specs);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/model-layout/families", test_families);
    return g_test_run();
}
