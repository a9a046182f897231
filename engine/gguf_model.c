/* GGUF files of the decoder family as Hugging Face models: config and weights (see
 * gguf_model.h). Which metadata keys give which config field follows transformers' GGUF
 * loader (integrations/ggml.py GGUF_CONFIG_MAPPING, modeling_gguf_pytorch_utils.py
 * load_gguf_checkpoint and TENSOR_PROCESSORS); the tensor names follow llama.cpp's gguf-py
 * (tensor_mapping.py) and are in gguf_names.c. */
#include "gguf_model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_layout.h"

/* One llama.cpp architecture and how transformers reads it. */
typedef struct {
    const char *name;         /* general.architecture, also the metadata prefix ("qwen2.*") */
    const char *families;     /* for messages */
    hn_arch arch;             /* the transformers class (model_type, architectures) */
    const char *head_dim_key; /* the key transformers maps to head_dim; NULL: the class default */
    bool unpermute_qk;        /* llama.cpp's converter interleaved the Q/K rows (LlamaModel.permute;
                                 transformers undoes it with LlamaTensorProcessor) */
    bool attention_bias_from_tensors; /* q/k/v/o biases are optional: the tensors decide */
    bool mlp_bias_from_tensors;       /* gate/up/down biases likewise (LlamaConfig.mlp_bias) */
} gguf_arch;

/* Qwen2 and Qwen3 use NeoX-style RoPE (rotate halves) in llama.cpp, so their converter
 * (Qwen2Model) stores Q and K as transformers does; transformers maps no head_dim key for qwen2
 * (hidden_size / heads) nor for qwen3 (Qwen3Config's 128), but llama.cpp writes qwen3's as
 * attention.key_length, which Hone reads (equal for every released Qwen3). Qwen2 always has
 * q/k/v biases and no others; Qwen3 and Llama have none unless their config says so, which
 * transformers' GGUF loader never does: Hone keeps the biases a file has, as llama.cpp does.
 * Mistral is written as "llama" by llama.cpp; transformers makes it a MistralConfig only when
 * general.name is exactly "mistral", which converted files never are, so Hone reads it as a
 * Llama (the same computation without a sliding window, as llama.cpp runs it). */
static const gguf_arch gguf_archs[] = {
    {"llama", "Llama, Mistral, SmolLM2", HN_ARCH_LLAMA, "rope.dimension_count", true, true, true},
    {"qwen2", "Qwen2, Qwen2.5", HN_ARCH_QWEN2, NULL, false, false, false},
    {"qwen3", "Qwen3", HN_ARCH_QWEN3, "attention.key_length", false, true, false},
};

static const gguf_arch *find_arch(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(gguf_archs); i++)
        if (strcmp(name, gguf_archs[i].name) == 0)
            return &gguf_archs[i];
    return NULL;
}

static hn_status file_arch(const hn_gguf_file *file, const gguf_arch **out, hn_error *err)
{
    const char *name = NULL;
    HN_TRY(hn_gguf_get_string(file, "general.architecture", HN_REQUIRED, &name, err));
    *out = find_arch(name);
    if (*out != NULL)
        return HN_OK;
    GString *supported = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(gguf_archs); i++)
        g_string_append_printf(supported, "%s\"%s\" (%s)", i > 0 ? ", " : "", gguf_archs[i].name,
                               gguf_archs[i].families);
    hn_status status = hn_fail(err, HN_ERR_UNSUPPORTED,
                               "%s: metadata key \"general.architecture\": expected one of %s, "
                               "found \"%.60s\" (Hone does not load that architecture)",
                               hn_gguf_path(file), supported->str, name);
    g_string_free(supported, TRUE);
    return status;
}

/* "qwen2.KEY" */
static const char *arch_key(char *buf, size_t size, const gguf_arch *arch, const char *suffix)
{
    snprintf(buf, size, "%s.%s", arch->name, suffix);
    return buf;
}

static hn_status get_size(const hn_gguf_file *file, const gguf_arch *arch, const char *suffix,
                          hn_presence presence, int64_t max, int64_t *out, hn_error *err)
{
    char key[96];
    return hn_gguf_get_int(file, arch_key(key, sizeof key, arch, suffix), presence, 1, max, out,
                           err);
}

static hn_status get_real(const hn_gguf_file *file, const gguf_arch *arch, const char *suffix,
                          double min, double max, double *out, hn_error *err)
{
    char key[96];
    arch_key(key, sizeof key, arch, suffix);
    HN_TRY(hn_gguf_get_double(file, key, HN_OPTIONAL, out, err));
    if (hn_gguf_kv_find(file, key) != NULL && !(*out >= min && *out <= max))
        return hn_fail(err, HN_ERR_FORMAT, "%s: metadata key \"%s\": expected a number in "
                       "[%g, %g], found %g", hn_gguf_path(file), key, min, max, *out);
    return HN_OK;
}

/* transformers' GGUF loader reads no RoPE scaling for these architectures (only gpt-oss's):
 * a file that asks for it (linear or YaRN metadata, Llama 3.1's frequency factors) would load
 * as a different model from the one llama.cpp runs, so it is refused. */
static hn_status check_plain_rope(const hn_gguf_file *file, const gguf_arch *arch, hn_error *err)
{
    const char *path = hn_gguf_path(file);
    const char *why = "transformers' GGUF loader ignores RoPE scaling and would run plain RoPE; "
                      "load the model's Hugging Face folder instead";
    if (hn_gguf_tensor_find(file, "rope_freqs.weight") != NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: tensor \"rope_freqs.weight\": expected no RoPE frequency factors, "
                       "found them (Llama 3.1-style rope scaling): %s", path, why);
    char key[96];
    const char *type = "none";
    HN_TRY(hn_gguf_get_string(file, arch_key(key, sizeof key, arch, "rope.scaling.type"),
                              HN_OPTIONAL, &type, err));
    if (strcmp(type, "none") != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: metadata key \"%s\": expected \"none\", "
                       "found \"%.40s\": %s", path, key, type, why);
    /* llama.cpp scales positions by any factor other than 0 or 1, whatever the type says */
    static const char *const factor_keys[] = {"rope.scaling.factor", "rope.scale_linear"};
    for (size_t i = 0; i < G_N_ELEMENTS(factor_keys); i++) {
        double factor = 1;
        HN_TRY(hn_gguf_get_double(file, arch_key(key, sizeof key, arch, factor_keys[i]),
                                  HN_OPTIONAL, &factor, err));
        if (factor != 0 && factor != 1)
            return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: metadata key \"%s\": expected no RoPE "
                           "scaling factor (0 or 1), found %g: %s", path, key, factor, why);
    }
    return HN_OK;
}

/* Every tensor must have a transformers name and lie in a layer that exists. */
static hn_status check_tensor_names(const hn_gguf_file *file, const gguf_arch *arch,
                                    int64_t layers, hn_error *err)
{
    for (size_t i = 0; i < hn_gguf_tensor_count(file); i++) {
        const hn_gguf_tensor *t = hn_gguf_tensor_get(file, i);
        char *hf = hn_gguf_hf_name(t->name);
        if (hf == NULL)
            return hn_fail(err, HN_ERR_UNSUPPORTED,
                           "%s: tensor \"%s\": expected a decoder weight (token_embd, output_norm, "
                           "output, blk.N.attn_norm/attn_q/attn_k/attn_v/attn_output/attn_q_norm/"
                           "attn_k_norm/ffn_norm/ffn_gate/ffn_up/ffn_down), found a tensor "
                           "transformers has no name for",
                           hn_gguf_path(file), t->name);
        int64_t layer = -1;
        if (strncmp(t->name, "blk.", 4) == 0)
            layer = g_ascii_strtoll(t->name + 4, NULL, 10);
        g_free(hf);
        if (layer >= layers)
            return hn_fail(err, HN_ERR_FORMAT,
                           "%s: tensor \"%s\": expected a block below %s.block_count (%" PRId64
                           "), found block %" PRId64,
                           hn_gguf_path(file), t->name, arch->name, layers, layer);
    }
    return HN_OK;
}

/* The special tokens, the stored dtype and the biases, as transformers decides them. */
static hn_status add_file_facts(const hn_gguf_file *file, const gguf_arch *arch, int64_t vocab,
                                cJSON *config, hn_error *err)
{
    const char *const id_keys[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                   "tokenizer.ggml.padding_token_id"};
    const char *const id_fields[] = {"bos_token_id", "eos_token_id", "pad_token_id"};
    for (size_t i = 0; i < G_N_ELEMENTS(id_keys); i++) {
        int64_t id = -1;
        HN_TRY(hn_gguf_get_int(file, id_keys[i], HN_OPTIONAL, 0, vocab - 1, &id, err));
        if (id >= 0)
            cJSON_AddNumberToObject(config, id_fields[i], (double)id);
    }
    /* torch_dtype: what the weights are stored as, float32 for quantized files (Hone
     * dequantizes them to fp32); general.file_type 1 is MOSTLY_F16, 32 MOSTLY_BF16. */
    int64_t file_type = 0;
    HN_TRY(hn_gguf_get_int(file, "general.file_type", HN_OPTIONAL, 0, INT32_MAX, &file_type, err));
    cJSON_AddStringToObject(config, "torch_dtype", file_type == 1    ? "float16"
                                                   : file_type == 32 ? "bfloat16"
                                                                     : "float32");
    /* As transformers decides: tied when there is no output tensor. */
    cJSON_AddBoolToObject(config, "tie_word_embeddings",
                          hn_gguf_tensor_find(file, "output.weight") == NULL);
    if (arch->attention_bias_from_tensors)
        cJSON_AddBoolToObject(config, "attention_bias",
                              hn_gguf_tensor_find(file, "blk.0.attn_q.bias") != NULL);
    if (arch->mlp_bias_from_tensors)
        cJSON_AddBoolToObject(config, "mlp_bias",
                              hn_gguf_tensor_find(file, "blk.0.ffn_gate.bias") != NULL);
    return HN_OK;
}

static hn_status config_json(const hn_gguf_file *file, const gguf_arch *arch, cJSON **out,
                             hn_error *err)
{
    const char *path = hn_gguf_path(file);
    int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, context = 0;
    int64_t head_dim = 0;
    HN_TRY(get_size(file, arch, "embedding_length", HN_REQUIRED, 1 << 20, &hidden, err));
    HN_TRY(get_size(file, arch, "feed_forward_length", HN_REQUIRED, 1 << 22, &intermediate, err));
    HN_TRY(get_size(file, arch, "block_count", HN_REQUIRED, 1 << 12, &layers, err));
    HN_TRY(get_size(file, arch, "attention.head_count", HN_REQUIRED, 1 << 12, &heads, err));
    kv_heads = heads;
    HN_TRY(get_size(file, arch, "attention.head_count_kv", HN_OPTIONAL, 1 << 12, &kv_heads, err));
    HN_TRY(get_size(file, arch, "context_length", HN_REQUIRED, INT32_MAX, &context, err));
    if (arch->head_dim_key != NULL)
        HN_TRY(get_size(file, arch, arch->head_dim_key, HN_OPTIONAL, 1 << 16, &head_dim, err));
    double eps = -1, theta = -1;
    HN_TRY(get_real(file, arch, "attention.layer_norm_rms_epsilon", 0, 1, &eps, err));
    HN_TRY(get_real(file, arch, "rope.freq_base", 1e-9, 1e12, &theta, err));
    HN_TRY(check_plain_rope(file, arch, err));

    const hn_gguf_value *tokens = NULL;
    HN_TRY(hn_gguf_get_array(file, "tokenizer.ggml.tokens", HN_REQUIRED, HN_GGUF_STRING, &tokens,
                             err));
    int64_t vocab = (int64_t)tokens->array.count, declared = vocab;
    HN_TRY(get_size(file, arch, "vocab_size", HN_OPTIONAL, 1 << 24, &declared, err));
    if (declared != vocab)
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: metadata key \"%s.vocab_size\": expected %" PRId64 " (the tokens of "
                       "tokenizer.ggml.tokens), found %" PRId64,
                       path, arch->name, vocab, declared);
    HN_TRY(check_tensor_names(file, arch, layers, err));

    cJSON *config = cJSON_CreateObject();
    const char *architectures[] = {hn_arch_name(arch->arch)};
    cJSON_AddItemToObject(config, "architectures", cJSON_CreateStringArray(architectures, 1));
    cJSON_AddStringToObject(config, "model_type", hn_arch_model_type(arch->arch));
    cJSON_AddNumberToObject(config, "vocab_size", (double)vocab);
    cJSON_AddNumberToObject(config, "hidden_size", (double)hidden);
    cJSON_AddNumberToObject(config, "intermediate_size", (double)intermediate);
    cJSON_AddNumberToObject(config, "num_hidden_layers", (double)layers);
    cJSON_AddNumberToObject(config, "num_attention_heads", (double)heads);
    cJSON_AddNumberToObject(config, "num_key_value_heads", (double)kv_heads);
    if (head_dim > 0)
        cJSON_AddNumberToObject(config, "head_dim", (double)head_dim);
    cJSON_AddNumberToObject(config, "max_position_embeddings", (double)context);
    if (eps >= 0)
        cJSON_AddNumberToObject(config, "rms_norm_eps", eps);
    if (theta >= 0)
        cJSON_AddNumberToObject(config, "rope_theta", theta);
    hn_status status = add_file_facts(file, arch, vocab, config, err);
    if (status != HN_OK) {
        cJSON_Delete(config);
        return status;
    }
    *out = config;
    return HN_OK;
}

hn_status hn_gguf_hf_config_json(const hn_gguf_file *file, cJSON **out, hn_error *err)
{
    const gguf_arch *arch = NULL;
    HN_TRY(file_arch(file, &arch, err));
    return config_json(file, arch, out, err);
}

/* transformers takes head_dim from one key or its class default; the other sizes llama.cpp
 * writes must agree, since Hone (like transformers) rotates whole heads and gives keys and
 * values one size. */
static hn_status check_head_sizes(const hn_gguf_file *file, const gguf_arch *arch,
                                  const hn_model_config *config, hn_error *err)
{
    static const char *const keys[] = {"rope.dimension_count", "attention.key_length",
                                       "attention.value_length"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        int64_t size = 0;
        HN_TRY(get_size(file, arch, keys[i], HN_OPTIONAL, 1 << 16, &size, err));
        if (size > 0 && size != config->head_dim)
            return hn_fail(err, HN_ERR_UNSUPPORTED,
                           "%s: metadata key \"%s.%s\": expected %" PRId64 ", the model's "
                           "head_dim, found %" PRId64 " (Hone applies RoPE to whole heads, with "
                           "keys and values of one size)",
                           hn_gguf_path(file), arch->name, keys[i], config->head_dim,
                           size);
    }
    return HN_OK;
}

/* "[151936, 896]" */
static const char *shape_text(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, d > 0 ? ", " : "",
                                 shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

/* The file holds exactly the weights of the model its config describes, in their shapes. */
static hn_status check_layout(const hn_gguf_file *file, const hn_model_config *config,
                              hn_error *err)
{
    size_t n = 0;
    hn_weight_spec *specs = hn_model_weight_specs(config, &n);
    GHashTable *missing = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < n; i++)
        g_hash_table_insert(missing, specs[i].name, &specs[i]);
    hn_status status = HN_OK;
    const char *path = hn_gguf_path(file);
    for (size_t i = 0; i < hn_gguf_tensor_count(file) && status == HN_OK; i++) {
        const hn_gguf_tensor *t = hn_gguf_tensor_get(file, i);
        char *name = hn_gguf_hf_name(t->name);
        const hn_weight_spec *spec = name != NULL ? g_hash_table_lookup(missing, name) : NULL;
        int ndim = 0;
        int64_t shape[HN_GGUF_MAX_DIMS] = {0};
        hn_gguf_hf_shape(t, &ndim, shape);
        if (spec == NULL)
            status = hn_fail(err, HN_ERR_FORMAT,
                             "%s: tensor \"%s\": expected only the weights of a %s with this "
                             "file's metadata, found \"%s\", which it does not have",
                             path, t->name, config->architecture, name != NULL ? name : "?");
        else if (ndim != spec->ndim ||
                 memcmp(shape, spec->shape, (size_t)ndim * sizeof *shape) != 0) {
            char want[64], found[96];
            status = hn_fail(err, HN_ERR_FORMAT,
                             "%s: tensor \"%s\": expected %s of shape %s (rows first), found %s",
                             path, t->name, spec->name,
                             shape_text(want, sizeof want, spec->ndim, spec->shape),
                             shape_text(found, sizeof found, ndim, shape));
        }
        else
            g_hash_table_remove(missing, name);
        g_free(name);
    }
    for (size_t i = 0; i < n && status == HN_OK; i++) {
        if (!g_hash_table_contains(missing, specs[i].name))
            continue;
        char *gguf_name = hn_gguf_name_of_hf(specs[i].name);
        status = hn_fail(err, HN_ERR_FORMAT,
                         "%s: expected tensor \"%s\" (%s of a %s with this file's metadata), "
                         "found no such tensor",
                         path, gguf_name != NULL ? gguf_name : "?", specs[i].name,
                         config->architecture);
        g_free(gguf_name);
    }
    g_hash_table_destroy(missing);
    g_free(specs);
    return status;
}

hn_status hn_gguf_hf_config(const hn_gguf_file *file, hn_model_config *config, hn_error *err)
{
    const gguf_arch *arch = NULL;
    HN_TRY(file_arch(file, &arch, err));
    cJSON *json = NULL;
    HN_TRY(config_json(file, arch, &json, err));
    char *text = cJSON_PrintUnformatted(json);
    char *label = g_strdup_printf("%s (its metadata as config.json)", hn_gguf_path(file));
    hn_status status = hn_model_config_parse(text, strlen(text), label, config, err);
    g_free(label);
    cJSON_free(text);
    cJSON_Delete(json);
    /* cJSON prints numbers with 15 significant digits when they round-trip within its
     * tolerance, which loses the last bits of a widened FLOAT32: take those exactly. */
    char eps_key[96], theta_key[96];
    arch_key(eps_key, sizeof eps_key, arch, "attention.layer_norm_rms_epsilon");
    arch_key(theta_key, sizeof theta_key, arch, "rope.freq_base");
    if (status == HN_OK)
        status = hn_gguf_get_double(file, eps_key, HN_OPTIONAL, &config->rms_norm_eps, err);
    if (status == HN_OK)
        status = hn_gguf_get_double(file, theta_key, HN_OPTIONAL, &config->rope.theta, err);
    if (status == HN_OK)
        status = check_head_sizes(file, arch, config, err);
    if (status == HN_OK)
        status = check_layout(file, config, err);
    return status;
}

/* The heads whose rows llama.cpp interleaved in this tensor, or 0. */
static int64_t permuted_heads(const hn_gguf_file *file, const hn_gguf_tensor *t,
                              const hn_model_config *config)
{
    const char *name = NULL;
    if (hn_gguf_get_string(file, "general.architecture", HN_OPTIONAL, &name, NULL) != HN_OK)
        return 0;
    const gguf_arch *arch = name != NULL ? find_arch(name) : NULL;
    if (arch == NULL || !arch->unpermute_qk || strncmp(t->name, "blk.", 4) != 0)
        return 0;
    if (strstr(t->name, ".attn_q.") != NULL)
        return config->num_attention_heads;
    if (strstr(t->name, ".attn_k.") != NULL)
        return config->num_key_value_heads;
    return 0;
}

/* Checks that a Q/K tensor's rows are `heads` heads of head_dim. */
static hn_status check_permuted_rows(const hn_gguf_file *file, const hn_gguf_tensor *tensor,
                                     const hn_model_config *config, int64_t heads, int64_t rows,
                                     hn_error *err)
{
    if (rows == heads * config->head_dim)
        return HN_OK;
    return hn_fail(err, HN_ERR_FORMAT,
                   "%s: tensor \"%s\": expected %" PRId64 " rows (%" PRId64 " heads of %" PRId64
                   "), found %" PRId64,
                   hn_gguf_path(file), tensor->name, heads * config->head_dim, heads,
                   config->head_dim, rows);
}

/* dst = stored with the rows of every head back in transformers' order: llama.cpp's converter
 * moved row 2i + j of a head (j < 2) to row j * head_dim / 2 + i. */
static void unpermute_rows(void *dst, const void *stored, int64_t heads, int64_t head_dim,
                           size_t row_bytes)
{
    const int64_t half = head_dim / 2;
    for (int64_t h = 0; h < heads; h++)
        for (int64_t j = 0; j < 2; j++)
            for (int64_t i = 0; i < half; i++)
                memcpy((char *)dst + (size_t)(h * head_dim + j * half + i) * row_bytes,
                       (const char *)stored + (size_t)(h * head_dim + 2 * i + j) * row_bytes,
                       row_bytes);
}

hn_status hn_gguf_hf_tensor_f32(const hn_gguf_file *file, const hn_gguf_tensor *tensor,
                                const hn_model_config *config, float *dst, hn_error *err)
{
    int64_t heads = permuted_heads(file, tensor, config);
    if (heads == 0 || tensor->numel == 0)
        return hn_gguf_tensor_to_f32(file, tensor, dst, err);
    /* rows: output features (the last ggml dimension); cols: 1 for a bias */
    int64_t cols = tensor->n_dims >= 2 ? tensor->dims[0] : 1;
    int64_t rows = tensor->numel / cols;
    HN_TRY(check_permuted_rows(file, tensor, config, heads, rows, err));
    float *stored = g_try_malloc((size_t)tensor->numel * sizeof(float));
    if (stored == NULL)
        return hn_fail(err, HN_ERR_NOMEM, "%s: tensor \"%s\": cannot allocate %" PRId64 " floats",
                       hn_gguf_path(file), tensor->name, tensor->numel);
    hn_status status = hn_gguf_tensor_to_f32(file, tensor, stored, err);
    if (status == HN_OK)
        unpermute_rows(dst, stored, heads, config->head_dim, (size_t)cols * sizeof(float));
    g_free(stored);
    return status;
}

hn_status hn_gguf_hf_tensor_bytes(const hn_gguf_file *file, const hn_gguf_tensor *tensor,
                                  const hn_model_config *config, void *dst, hn_error *err)
{
    int64_t heads = permuted_heads(file, tensor, config);
    if (heads == 0 || tensor->numel == 0) {
        memcpy(dst, tensor->data, (size_t)tensor->nbytes);
        return HN_OK;
    }
    int64_t cols = tensor->n_dims >= 2 ? tensor->dims[0] : 1;
    HN_TRY(check_permuted_rows(file, tensor, config, heads, tensor->numel / cols, err));
    unpermute_rows(dst, tensor->data, heads, config->head_dim,
                   (size_t)hn_ggml_row_bytes(tensor->type, cols));
    return HN_OK;
}
