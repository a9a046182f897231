/* Llama-architecture GGUF files as Hugging Face models: names, config and weights (see
 * gguf_model.h). The metadata keys and their transformers meaning follow transformers'
 * GGUF loader (integrations/ggml.py, GGUF_CONFIG_MAPPING["llama"]); the names follow
 * llama.cpp's gguf-py (tensor_mapping.py, MODEL_ARCH.LLAMA). */
#include "gguf_model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* llama.cpp's per-block tensor names and transformers' (under model.layers.N.). */
static const struct {
    const char *gguf, *hf;
} block_names[] = {
    {"attn_norm", "input_layernorm"},     {"attn_q", "self_attn.q_proj"},
    {"attn_k", "self_attn.k_proj"},       {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"},  {"ffn_norm", "post_attention_layernorm"},
    {"ffn_gate", "mlp.gate_proj"},        {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},
};

static const struct {
    const char *gguf, *hf;
} top_names[] = {
    {"token_embd", "model.embed_tokens"},
    {"output_norm", "model.norm"},
    {"output", "lm_head"},
};

char *hn_gguf_hf_name(const char *gguf_name)
{
    const char *suffix = strrchr(gguf_name, '.');
    if (suffix == NULL || (strcmp(suffix, ".weight") != 0 && strcmp(suffix, ".bias") != 0))
        return NULL;
    size_t stem = (size_t)(suffix - gguf_name);
    for (size_t i = 0; i < G_N_ELEMENTS(top_names); i++)
        if (strlen(top_names[i].gguf) == stem && strncmp(gguf_name, top_names[i].gguf, stem) == 0)
            return g_strconcat(top_names[i].hf, suffix, NULL);
    /* blk.N.NAME with N a plain decimal number */
    if (strncmp(gguf_name, "blk.", 4) != 0 || !g_ascii_isdigit(gguf_name[4]))
        return NULL;
    const char *p = gguf_name + 4;
    int64_t layer = 0;
    while (g_ascii_isdigit(*p) && layer < 1000000)
        layer = layer * 10 + (*p++ - '0');
    if (*p != '.' || (gguf_name[4] == '0' && p != gguf_name + 5))
        return NULL;
    const char *part = p + 1;
    size_t length = (size_t)(suffix - part);
    for (size_t i = 0; i < G_N_ELEMENTS(block_names); i++)
        if (strlen(block_names[i].gguf) == length && strncmp(part, block_names[i].gguf, length) == 0)
            return g_strdup_printf("model.layers.%" PRId64 ".%s%s", layer, block_names[i].hf, suffix);
    return NULL;
}

void hn_gguf_hf_shape(const hn_gguf_tensor *tensor, int *ndim, int64_t shape[HN_GGUF_MAX_DIMS])
{
    *ndim = tensor->n_dims;
    for (int d = 0; d < tensor->n_dims; d++)
        shape[d] = tensor->dims[tensor->n_dims - 1 - d];
}

/* "llama.KEY" */
static const char *arch_key(char *buf, size_t size, const char *suffix)
{
    snprintf(buf, size, "llama.%s", suffix);
    return buf;
}

static hn_status get_size(const hn_gguf_file *file, const char *suffix, hn_presence presence,
                          int64_t max, int64_t *out, hn_error *err)
{
    char key[96];
    return hn_gguf_get_int(file, arch_key(key, sizeof key, suffix), presence, 1, max, out, err);
}

/* Every tensor must be a Llama-family weight of a layer that exists. */
static hn_status check_tensor_names(const hn_gguf_file *file, int64_t layers, hn_error *err)
{
    for (size_t i = 0; i < hn_gguf_tensor_count(file); i++) {
        const hn_gguf_tensor *t = hn_gguf_tensor_get(file, i);
        char *hf = hn_gguf_hf_name(t->name);
        if (hf == NULL) {
            bool rope = strcmp(t->name, "rope_freqs.weight") == 0;
            return hn_fail(err, HN_ERR_UNSUPPORTED,
                           "%s: tensor \"%s\": expected a Llama weight (token_embd, output_norm, "
                           "output, blk.N.attn_norm/attn_q/attn_k/attn_v/attn_output/ffn_norm/"
                           "ffn_gate/ffn_up/ffn_down)%s",
                           hn_gguf_path(file), t->name,
                           rope ? ", found RoPE frequency factors (Llama 3.1 rope scaling), which "
                                  "Hone does not read from GGUF files yet"
                                : ", found a tensor transformers has no name for");
        }
        int64_t layer = -1;
        if (strncmp(t->name, "blk.", 4) == 0)
            layer = g_ascii_strtoll(t->name + 4, NULL, 10);
        g_free(hf);
        if (layer >= layers)
            return hn_fail(err, HN_ERR_FORMAT,
                           "%s: tensor \"%s\": expected a block below llama.block_count (%" PRId64
                           "), found block %" PRId64,
                           hn_gguf_path(file), t->name, layers, layer);
    }
    return HN_OK;
}

hn_status hn_gguf_hf_config_json(const hn_gguf_file *file, cJSON **out, hn_error *err)
{
    const char *path = hn_gguf_path(file);
    const char *arch = NULL;
    HN_TRY(hn_gguf_get_string(file, "general.architecture", HN_REQUIRED, &arch, err));
    if (strcmp(arch, "llama") != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: metadata key \"general.architecture\": expected \"llama\" (Hone reads "
                       "Llama-family GGUF files: Llama, Mistral, SmolLM2), found \"%.60s\"",
                       path, arch);
    int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, context = 0;
    int64_t head_dim = 0, key_length = 0, value_length = 0;
    HN_TRY(get_size(file, "embedding_length", HN_REQUIRED, 1 << 20, &hidden, err));
    HN_TRY(get_size(file, "feed_forward_length", HN_REQUIRED, 1 << 22, &intermediate, err));
    HN_TRY(get_size(file, "block_count", HN_REQUIRED, 1 << 12, &layers, err));
    HN_TRY(get_size(file, "attention.head_count", HN_REQUIRED, 1 << 12, &heads, err));
    kv_heads = heads;
    HN_TRY(get_size(file, "attention.head_count_kv", HN_OPTIONAL, 1 << 12, &kv_heads, err));
    HN_TRY(get_size(file, "context_length", HN_REQUIRED, INT32_MAX, &context, err));
    HN_TRY(get_size(file, "rope.dimension_count", HN_OPTIONAL, 1 << 16, &head_dim, err));
    HN_TRY(get_size(file, "attention.key_length", HN_OPTIONAL, 1 << 16, &key_length, err));
    HN_TRY(get_size(file, "attention.value_length", HN_OPTIONAL, 1 << 16, &value_length, err));
    int64_t dim = head_dim > 0 ? head_dim : key_length > 0 ? key_length : 0;
    if ((key_length > 0 && key_length != dim) || (value_length > 0 && value_length != dim))
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: metadata keys \"llama.attention.key_length\" (%" PRId64 ") and "
                       "\"llama.attention.value_length\" (%" PRId64 "): expected both equal to the "
                       "rotary dimension %" PRId64 " (Hone applies RoPE to whole heads)",
                       path, key_length, value_length, dim);
    double eps = -1, theta = -1;
    char key[96];
    HN_TRY(hn_gguf_get_double(file, arch_key(key, sizeof key, "attention.layer_norm_rms_epsilon"),
                              HN_OPTIONAL, &eps, err));
    if (hn_gguf_kv_find(file, key) != NULL && !(eps >= 0 && eps <= 1))
        return hn_fail(err, HN_ERR_FORMAT, "%s: metadata key \"%s\": expected a number in [0, 1], "
                       "found %g", path, key, eps);
    HN_TRY(hn_gguf_get_double(file, arch_key(key, sizeof key, "rope.freq_base"), HN_OPTIONAL,
                              &theta, err));
    if (hn_gguf_kv_find(file, key) != NULL && !(theta >= 1e-9 && theta <= 1e12))
        return hn_fail(err, HN_ERR_FORMAT, "%s: metadata key \"%s\": expected a number in "
                       "[1e-9, 1e12], found %g", path, key, theta);
    const char *scaling = "none";
    HN_TRY(hn_gguf_get_string(file, arch_key(key, sizeof key, "rope.scaling.type"), HN_OPTIONAL,
                              &scaling, err));
    if (strcmp(scaling, "none") != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: metadata key \"llama.rope.scaling.type\": expected \"none\" (Hone does "
                       "not read RoPE scaling from GGUF files yet), found \"%.40s\"",
                       path, scaling);

    const hn_gguf_value *tokens = NULL;
    HN_TRY(hn_gguf_get_array(file, "tokenizer.ggml.tokens", HN_REQUIRED, HN_GGUF_STRING, &tokens, err));
    int64_t vocab = (int64_t)tokens->array.count, declared = vocab;
    HN_TRY(get_size(file, "vocab_size", HN_OPTIONAL, 1 << 24, &declared, err));
    const hn_gguf_tensor *embed = hn_gguf_tensor_find(file, "token_embd.weight");
    if (declared != vocab || embed == NULL || embed->n_dims != 2 || embed->dims[1] != vocab ||
        embed->dims[0] != hidden)
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: expected token_embd.weight of %" PRId64 " x %" PRId64 " (the %" PRId64
                       " tokens of tokenizer.ggml.tokens by llama.embedding_length%s), found %s",
                       path, vocab, hidden, vocab,
                       declared != vocab ? "; llama.vocab_size disagrees" : "",
                       embed == NULL ? "no such tensor" : "another shape");
    HN_TRY(check_tensor_names(file, layers, err));

    int64_t bos = -1, eos = -1, pad = -1;
    const char *const id_keys[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                   "tokenizer.ggml.padding_token_id"};
    int64_t *ids[] = {&bos, &eos, &pad};
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
        HN_TRY(hn_gguf_get_int(file, id_keys[i], HN_OPTIONAL, 0, vocab - 1, ids[i], err));
    /* torch_dtype: what the weights are stored as, float32 for quantized files (Hone
     * dequantizes them to fp32); general.file_type 1 is MOSTLY_F16, 32 MOSTLY_BF16. */
    int64_t file_type = 0;
    HN_TRY(hn_gguf_get_int(file, "general.file_type", HN_OPTIONAL, 0, INT32_MAX, &file_type, err));
    const char *dtype = file_type == 1 ? "float16" : file_type == 32 ? "bfloat16" : "float32";

    cJSON *config = cJSON_CreateObject();
    const char *architectures[] = {"LlamaForCausalLM"};
    cJSON_AddItemToObject(config, "architectures", cJSON_CreateStringArray(architectures, 1));
    cJSON_AddStringToObject(config, "model_type", "llama");
    cJSON_AddNumberToObject(config, "vocab_size", (double)vocab);
    cJSON_AddNumberToObject(config, "hidden_size", (double)hidden);
    cJSON_AddNumberToObject(config, "intermediate_size", (double)intermediate);
    cJSON_AddNumberToObject(config, "num_hidden_layers", (double)layers);
    cJSON_AddNumberToObject(config, "num_attention_heads", (double)heads);
    cJSON_AddNumberToObject(config, "num_key_value_heads", (double)kv_heads);
    if (dim > 0)
        cJSON_AddNumberToObject(config, "head_dim", (double)dim);
    cJSON_AddNumberToObject(config, "max_position_embeddings", (double)context);
    if (eps >= 0)
        cJSON_AddNumberToObject(config, "rms_norm_eps", eps);
    if (theta >= 0)
        cJSON_AddNumberToObject(config, "rope_theta", theta);
    /* As transformers decides: tied when there is no output tensor; biases when they exist. */
    bool tied = hn_gguf_tensor_find(file, "output.weight") == NULL;
    bool attention_bias = hn_gguf_tensor_find(file, "blk.0.attn_q.bias") != NULL;
    bool mlp_bias = hn_gguf_tensor_find(file, "blk.0.ffn_gate.bias") != NULL;
    cJSON_AddBoolToObject(config, "tie_word_embeddings", tied);
    cJSON_AddBoolToObject(config, "attention_bias", attention_bias);
    cJSON_AddBoolToObject(config, "mlp_bias", mlp_bias);
    cJSON_AddStringToObject(config, "torch_dtype", dtype);
    if (bos >= 0)
        cJSON_AddNumberToObject(config, "bos_token_id", (double)bos);
    if (eos >= 0)
        cJSON_AddNumberToObject(config, "eos_token_id", (double)eos);
    if (pad >= 0)
        cJSON_AddNumberToObject(config, "pad_token_id", (double)pad);
    *out = config;
    return HN_OK;
}

hn_status hn_gguf_hf_config(const hn_gguf_file *file, hn_model_config *config, hn_error *err)
{
    cJSON *json = NULL;
    HN_TRY(hn_gguf_hf_config_json(file, &json, err));
    char *text = cJSON_PrintUnformatted(json);
    char *label = g_strdup_printf("%s (its metadata as config.json)", hn_gguf_path(file));
    hn_status status = hn_model_config_parse(text, strlen(text), label, config, err);
    /* cJSON prints numbers with 15 significant digits when they round-trip within its
     * tolerance, which loses the last bits of a widened FLOAT32: take those exactly. */
    if (status == HN_OK)
        status = hn_gguf_get_double(file, "llama.attention.layer_norm_rms_epsilon", HN_OPTIONAL,
                                    &config->rms_norm_eps, err);
    if (status == HN_OK)
        status = hn_gguf_get_double(file, "llama.rope.freq_base", HN_OPTIONAL, &config->rope.theta,
                                    err);
    g_free(label);
    cJSON_free(text);
    cJSON_Delete(json);
    return status;
}

/* The heads whose rows llama.cpp interleaved in this tensor, or 0. */
static int64_t permuted_heads(const hn_gguf_tensor *t, const hn_model_config *config)
{
    if (config->arch != HN_ARCH_LLAMA || strncmp(t->name, "blk.", 4) != 0)
        return 0;
    if (strstr(t->name, ".attn_q.") != NULL)
        return config->num_attention_heads;
    if (strstr(t->name, ".attn_k.") != NULL)
        return config->num_key_value_heads;
    return 0;
}

hn_status hn_gguf_hf_tensor_f32(const hn_gguf_file *file, const hn_gguf_tensor *tensor,
                                const hn_model_config *config, float *dst, hn_error *err)
{
    int64_t heads = permuted_heads(tensor, config);
    if (heads == 0 || tensor->numel == 0)
        return hn_gguf_tensor_to_f32(file, tensor, dst, err);
    /* rows: output features (the last ggml dimension); cols: 1 for a bias */
    int64_t cols = tensor->n_dims >= 2 ? tensor->dims[0] : 1;
    int64_t rows = tensor->numel / cols;
    if (rows != heads * config->head_dim)
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: tensor \"%s\": expected %" PRId64 " rows (%" PRId64 " heads of %" PRId64
                       "), found %" PRId64,
                       hn_gguf_path(file), tensor->name, heads * config->head_dim, heads,
                       config->head_dim, rows);
    float *stored = g_try_malloc((size_t)tensor->numel * sizeof(float));
    if (stored == NULL)
        return hn_fail(err, HN_ERR_NOMEM, "%s: tensor \"%s\": cannot allocate %" PRId64 " floats",
                       hn_gguf_path(file), tensor->name, tensor->numel);
    hn_status status = hn_gguf_tensor_to_f32(file, tensor, stored, err);
    const int64_t d = config->head_dim, half = d / 2;
    for (int64_t h = 0; status == HN_OK && h < heads; h++)
        for (int64_t j = 0; j < 2; j++)
            for (int64_t i = 0; i < half; i++)
                memcpy(dst + (h * d + j * half + i) * cols, stored + (h * d + 2 * i + j) * cols,
                       (size_t)cols * sizeof(float));
    g_free(stored);
    return status;
}
