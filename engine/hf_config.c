/* config.json and generation_config.json for the decoder family, with transformers' defaults. */
#include "hf_config.h"

#include <inttypes.h>
#include <string.h>

#include "json_read.h"

/* Per-architecture names and the defaults of its transformers config class
 * (LlamaConfig, Qwen2Config, Qwen3Config, MistralConfig). */
typedef struct {
    hn_arch arch;
    const char *architecture;
    const char *model_type;
    int64_t max_position_embeddings;
    int64_t kv_heads;         /* 0: same as num_attention_heads */
    int64_t head_dim;         /* 0: hidden_size / num_attention_heads */
    int64_t bos, eos;         /* -1: none */
    bool qkv_bias_always;     /* Qwen2 has q/k/v biases whatever the config says */
    bool reads_attention_bias;
    bool qk_norm;
    int64_t sliding_window;
} arch_info;

static const arch_info arch_table[] = {
    {HN_ARCH_LLAMA, "LlamaForCausalLM", "llama", 2048, 0, 0, 1, 2, false, true, false, 0},
    {HN_ARCH_QWEN2, "Qwen2ForCausalLM", "qwen2", 32768, 32, 0, -1, -1, true, false, false, 4096},
    {HN_ARCH_QWEN3, "Qwen3ForCausalLM", "qwen3", 32768, 32, 128, -1, -1, false, true, true, 4096},
    {HN_ARCH_MISTRAL, "MistralForCausalLM", "mistral", 4096 * 32, 8, 0, 1, 2, false, false, false, 4096},
};

const char *hn_supported_architectures(void)
{
    return "LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM";
}

static const arch_info *arch_info_of(hn_arch arch)
{
    for (size_t i = 0; i < G_N_ELEMENTS(arch_table); i++)
        if (arch_table[i].arch == arch)
            return &arch_table[i];
    return NULL;
}

const char *hn_arch_name(hn_arch arch)
{
    const arch_info *info = arch_info_of(arch);
    return info != NULL ? info->architecture : "unknown";
}

const char *hn_arch_model_type(hn_arch arch)
{
    const arch_info *info = arch_info_of(arch);
    return info != NULL ? info->model_type : "unknown";
}

const char *hn_rope_type_name(hn_rope_type type)
{
    static const char *names[] = {"default", "linear", "dynamic", "yarn", "llama3"};
    return (unsigned)type < G_N_ELEMENTS(names) ? names[type] : "unknown";
}

static hn_status find_architecture(const char *label, const cJSON *root, const arch_info **out,
                                   hn_error *err)
{
    const cJSON *architectures = hn_json_field(root, "architectures");
    const cJSON *model_type = hn_json_field(root, "model_type");
    const char *name = NULL;
    bool by_type = false;
    if (architectures != NULL) {
        const cJSON *first = cJSON_GetArrayItem(architectures, 0);
        if (!cJSON_IsArray(architectures) || !cJSON_IsString(first)) {
            hn_json_at at = {label, "", err};
            return hn_json_type_error(&at, "architectures", "an array of class names",
                                      architectures);
        }
        name = first->valuestring;
    } else if (cJSON_IsString(model_type)) {
        name = model_type->valuestring;
        by_type = true;
    } else {
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: neither \"architectures\" nor \"model_type\" says which model this "
                       "is (expected one of %s)",
                       label, hn_supported_architectures());
    }
    for (size_t i = 0; i < G_N_ELEMENTS(arch_table); i++) {
        if (strcmp(name, by_type ? arch_table[i].model_type : arch_table[i].architecture) == 0) {
            *out = &arch_table[i];
            return HN_OK;
        }
    }
    return hn_fail(err, HN_ERR_UNSUPPORTED,
                   "%s: %s \"%.60s\" is not supported (Hone supports %s)", label,
                   by_type ? "model_type" : "architecture", name, hn_supported_architectures());
}

/* An integer, or an array of integers (eos_token_id may be either). */
static hn_status read_token_ids(const hn_json_at *at, const cJSON *object, const char *key,
                                int64_t *ids, int *n_ids, int max_ids)
{
    const cJSON *item = hn_json_field(object, key);
    if (item == NULL)
        return HN_OK;
    const char *expected = "a token id or an array of token ids";
    if (cJSON_IsArray(item)) {
        int n = cJSON_GetArraySize(item);
        if (n > max_ids)
            return hn_json_type_error(at, key, "at most 8 token ids", item);
        *n_ids = 0;
        const cJSON *id;
        cJSON_ArrayForEach(id, item)
        {
            double v = id->valuedouble;
            if (!cJSON_IsNumber(id) || v < 0 || v > INT32_MAX || (double)(int64_t)v != v)
                return hn_json_type_error(at, key, expected, item);
            ids[(*n_ids)++] = (int64_t)v;
        }
        return HN_OK;
    }
    int64_t id = 0;
    HN_TRY(hn_json_int(at, object, key, HN_OPTIONAL, 0, INT32_MAX, &id));
    ids[0] = id;
    *n_ids = 1;
    return HN_OK;
}

static hn_status read_torch_dtype(const hn_json_at *at, const cJSON *root, hn_dtype *out)
{
    /* transformers 4.x writes "torch_dtype", 5.x writes "dtype". */
    const char *key = hn_json_field(root, "dtype") != NULL ? "dtype" : "torch_dtype";
    char name[32] = "float32";
    HN_TRY(hn_json_string(at, root, key, HN_OPTIONAL, name, sizeof name));
    static const struct {
        const char *name;
        hn_dtype dtype;
    } names[] = {{"float32", HN_DTYPE_F32}, {"bfloat16", HN_DTYPE_BF16},
                 {"float16", HN_DTYPE_F16}, {"float64", HN_DTYPE_F64}};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].dtype;
            return HN_OK;
        }
    }
    return hn_json_type_error(at, key, "one of float32, bfloat16, float16, float64",
                              hn_json_field(root, key));
}

/* rope_scaling (4.x) or rope_parameters (5.x): {"rope_type" or "type": ..., fields}. */
static hn_status read_rope(const char *label, const cJSON *root, hn_rope *rope, hn_error *err)
{
    hn_json_at top = {label, "", err};
    const char *key = hn_json_field(root, "rope_parameters") != NULL ? "rope_parameters"
                                                                     : "rope_scaling";
    const cJSON *params = hn_json_field(root, key);
    rope->theta = 10000.0;
    rope->factor = 1.0;
    rope->beta_fast = 32.0;
    rope->beta_slow = 1.0;
    rope->truncate = true;
    HN_TRY(hn_json_double(&top, root, "rope_theta", HN_OPTIONAL, 1e-9, 1e12, &rope->theta));
    if (params == NULL) {
        rope->type = HN_ROPE_DEFAULT;
        return HN_OK;
    }
    if (!cJSON_IsObject(params))
        return hn_json_type_error(&top, key, "an object", params);

    hn_json_at at = {label, key, err};
    HN_TRY(hn_json_double(&at, params, "rope_theta", HN_OPTIONAL, 1e-9, 1e12, &rope->theta));
    char type[32] = "default";
    const char *type_key = hn_json_field(params, "rope_type") != NULL ? "rope_type" : "type";
    HN_TRY(hn_json_string(&at, params, type_key, HN_OPTIONAL, type, sizeof type));
    static const char *types[] = {"default", "linear", "dynamic", "yarn", "llama3"};
    rope->type = (hn_rope_type)-1;
    for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
        if (strcmp(type, types[i]) == 0)
            rope->type = (hn_rope_type)i;
    if ((int)rope->type < 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: field \"%s.%s\": RoPE type \"%s\" is not supported (Hone supports "
                       "default, linear, dynamic, yarn, llama3)",
                       label, key, type_key, type);
    if (rope->type == HN_ROPE_DEFAULT)
        return HN_OK;

    HN_TRY(hn_json_double(&at, params, "factor", HN_REQUIRED, 1e-6, 1e6, &rope->factor));
    bool is_llama3 = rope->type == HN_ROPE_LLAMA3;
    HN_TRY(hn_json_int(&at, params, "original_max_position_embeddings",
                       is_llama3 ? HN_REQUIRED : HN_OPTIONAL, 1, INT32_MAX,
                       &rope->original_max_position_embeddings));
    if (is_llama3) {
        HN_TRY(hn_json_double(&at, params, "low_freq_factor", HN_REQUIRED, 1e-6, 1e6,
                              &rope->low_freq_factor));
        HN_TRY(hn_json_double(&at, params, "high_freq_factor", HN_REQUIRED, 1e-6, 1e6,
                              &rope->high_freq_factor));
        if (rope->high_freq_factor <= rope->low_freq_factor)
            return hn_fail(err, HN_ERR_FORMAT,
                           "%s: field \"%s\": high_freq_factor (%g) must exceed "
                           "low_freq_factor (%g)",
                           label, key, rope->high_freq_factor, rope->low_freq_factor);
    }
    if (rope->type == HN_ROPE_YARN) {
        HN_TRY(hn_json_double(&at, params, "beta_fast", HN_OPTIONAL, 1e-6, 1e6, &rope->beta_fast));
        HN_TRY(hn_json_double(&at, params, "beta_slow", HN_OPTIONAL, 1e-6, 1e6, &rope->beta_slow));
        HN_TRY(hn_json_double(&at, params, "attention_factor", HN_OPTIONAL, 1e-6, 1e6,
                              &rope->attention_factor));
        HN_TRY(hn_json_double(&at, params, "mscale", HN_OPTIONAL, 0, 1e6, &rope->mscale));
        HN_TRY(hn_json_double(&at, params, "mscale_all_dim", HN_OPTIONAL, 0, 1e6,
                              &rope->mscale_all_dim));
        HN_TRY(hn_json_bool(&at, params, "truncate", HN_OPTIONAL, &rope->truncate));
    }
    return HN_OK;
}

/* Sizes that must agree with each other. */
static hn_status check_shapes(const char *label, const hn_model_config *c, hn_error *err)
{
    if (c->num_attention_heads % c->num_key_value_heads != 0)
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: num_attention_heads (%" PRId64 ") must be a multiple of "
                       "num_key_value_heads (%" PRId64 ")",
                       label, c->num_attention_heads, c->num_key_value_heads);
    if (c->head_dim % 2 != 0)
        return hn_fail(err, HN_ERR_FORMAT, "%s: head_dim (%" PRId64 ") must be even for RoPE",
                       label, c->head_dim);
    return HN_OK;
}

static hn_status parse_root(const char *label, const cJSON *root, hn_model_config *c,
                            hn_error *err)
{
    memset(c, 0, sizeof *c);
    const arch_info *info = NULL;
    HN_TRY(find_architecture(label, root, &info, err));
    c->arch = info->arch;
    g_strlcpy(c->architecture, info->architecture, sizeof c->architecture);
    g_strlcpy(c->model_type, info->model_type, sizeof c->model_type);

    hn_json_at at = {label, "", err};
    const int64_t big = INT32_MAX;
    /* Bounds far above any real model that keep every size product inside 64 bits. */
    HN_TRY(hn_json_int(&at, root, "vocab_size", HN_REQUIRED, 1, 1 << 24, &c->vocab_size));
    HN_TRY(hn_json_int(&at, root, "hidden_size", HN_REQUIRED, 1, 1 << 20, &c->hidden_size));
    HN_TRY(hn_json_int(&at, root, "intermediate_size", HN_REQUIRED, 1, 1 << 22, &c->intermediate_size));
    HN_TRY(hn_json_int(&at, root, "num_hidden_layers", HN_REQUIRED, 1, 1 << 12, &c->num_hidden_layers));
    HN_TRY(hn_json_int(&at, root, "num_attention_heads", HN_REQUIRED, 1, 1 << 12,
                       &c->num_attention_heads));
    c->num_key_value_heads = info->kv_heads > 0 ? info->kv_heads : c->num_attention_heads;
    HN_TRY(hn_json_int(&at, root, "num_key_value_heads", HN_OPTIONAL, 1, 1 << 12,
                       &c->num_key_value_heads));
    if (info->head_dim > 0) {
        c->head_dim = info->head_dim;
    } else if (c->hidden_size % c->num_attention_heads != 0 &&
               hn_json_field(root, "head_dim") == NULL) {
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: hidden_size (%" PRId64 ") is not a multiple of num_attention_heads "
                       "(%" PRId64 ") and no head_dim is given",
                       label, c->hidden_size, c->num_attention_heads);
    } else {
        c->head_dim = c->hidden_size / c->num_attention_heads;
    }
    HN_TRY(hn_json_int(&at, root, "head_dim", HN_OPTIONAL, 1, 1 << 16, &c->head_dim));
    c->max_position_embeddings = info->max_position_embeddings;
    HN_TRY(hn_json_int(&at, root, "max_position_embeddings", HN_OPTIONAL, 1, big,
                       &c->max_position_embeddings));
    c->rms_norm_eps = 1e-6;
    HN_TRY(hn_json_double(&at, root, "rms_norm_eps", HN_OPTIONAL, 0, 1, &c->rms_norm_eps));
    HN_TRY(read_rope(label, root, &c->rope, err));
    HN_TRY(hn_json_bool(&at, root, "tie_word_embeddings", HN_OPTIONAL, &c->tie_word_embeddings));

    if (info->reads_attention_bias)
        HN_TRY(hn_json_bool(&at, root, "attention_bias", HN_OPTIONAL, &c->attention_bias));
    c->o_proj_bias = c->attention_bias;
    if (info->qkv_bias_always)
        c->attention_bias = true;
    HN_TRY(hn_json_bool(&at, root, "mlp_bias", HN_OPTIONAL, &c->mlp_bias));
    c->qk_norm = info->qk_norm;

    char act[32] = "silu";
    HN_TRY(hn_json_string(&at, root, "hidden_act", HN_OPTIONAL, act, sizeof act));
    if (strcmp(act, "silu") != 0 && strcmp(act, "swish") != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: field \"hidden_act\": \"%s\" is not supported (Hone's MLP is SwiGLU: "
                       "expected \"silu\")",
                       label, act);

    c->use_sliding_window = info->arch == HN_ARCH_MISTRAL;
    HN_TRY(hn_json_bool(&at, root, "use_sliding_window", HN_OPTIONAL, &c->use_sliding_window));
    c->sliding_window = info->sliding_window;
    const cJSON *window = cJSON_GetObjectItemCaseSensitive(root, "sliding_window");
    if (window != NULL && cJSON_IsNull(window))
        c->sliding_window = 0; /* explicitly no window */
    HN_TRY(hn_json_int(&at, root, "sliding_window", HN_OPTIONAL, 0, big, &c->sliding_window));
    if (c->sliding_window == 0)
        c->use_sliding_window = false;

    HN_TRY(read_torch_dtype(&at, root, &c->torch_dtype));
    c->bos_token_id = info->bos;
    HN_TRY(hn_json_int(&at, root, "bos_token_id", HN_OPTIONAL, 0, big, &c->bos_token_id));
    c->n_eos = info->eos >= 0 ? 1 : 0;
    c->eos_token_ids[0] = info->eos;
    HN_TRY(read_token_ids(&at, root, "eos_token_id", c->eos_token_ids, &c->n_eos, HN_MAX_EOS));
    c->pad_token_id = -1;
    HN_TRY(hn_json_int(&at, root, "pad_token_id", HN_OPTIONAL, 0, big, &c->pad_token_id));
    return check_shapes(label, c, err);
}

hn_status hn_model_config_parse(const char *text, size_t length, const char *label,
                                hn_model_config *config, hn_error *err)
{
    cJSON *root = NULL;
    HN_TRY(hn_json_parse(text, length, label, &root, err));
    hn_status status;
    if (!cJSON_IsObject(root))
        status = hn_fail(err, HN_ERR_FORMAT, "%s: expected a JSON object at the top level, found %s",
                         label, hn_json_kind(root));
    else
        status = parse_root(label, root, config, err);
    cJSON_Delete(root);
    return status;
}

hn_status hn_model_config_load(const char *path, hn_model_config *config, hn_error *err)
{
    cJSON *root = NULL;
    HN_TRY(hn_json_load_object(path, &root, err));
    hn_status status = parse_root(path, root, config, err);
    cJSON_Delete(root);
    return status;
}

int64_t hn_model_config_param_count(const hn_model_config *c)
{
    int64_t h = c->hidden_size, q = c->num_attention_heads * c->head_dim;
    int64_t kv = c->num_key_value_heads * c->head_dim, f = c->intermediate_size;
    int64_t attention = h * q + 2 * h * kv + q * h;
    if (c->attention_bias)
        attention += q + 2 * kv;
    if (c->o_proj_bias)
        attention += h;
    if (c->qk_norm)
        attention += 2 * c->head_dim;
    int64_t mlp = 3 * h * f + (c->mlp_bias ? 2 * f + h : 0);
    int64_t layer = attention + mlp + 2 * h; /* two RMSNorm weights */
    int64_t embeddings = c->vocab_size * h * (c->tie_word_embeddings ? 1 : 2);
    return embeddings + c->num_hidden_layers * layer + h; /* + final norm */
}

void hn_generation_config_defaults(hn_generation_config *gen)
{
    *gen = (hn_generation_config){
        .bos_token_id = -1,
        .n_eos = 0,
        .pad_token_id = -1,
        .do_sample = false,
        .temperature = 1.0,
        .top_p = 1.0,
        .top_k = 50,
        .repetition_penalty = 1.0,
        .max_new_tokens = 0,
        .max_length = 20,
    };
}

hn_status hn_generation_config_load(const char *path, hn_generation_config *gen, hn_error *err)
{
    cJSON *root = NULL;
    HN_TRY(hn_json_load_object(path, &root, err));
    hn_json_at at = {path, "", err};
    const int64_t big = INT32_MAX;
    hn_status s = hn_json_int(&at, root, "bos_token_id", HN_OPTIONAL, 0, big, &gen->bos_token_id);
    if (s == HN_OK)
        s = read_token_ids(&at, root, "eos_token_id", gen->eos_token_ids, &gen->n_eos, HN_MAX_EOS);
    if (s == HN_OK)
        s = hn_json_int(&at, root, "pad_token_id", HN_OPTIONAL, 0, big, &gen->pad_token_id);
    if (s == HN_OK)
        s = hn_json_bool(&at, root, "do_sample", HN_OPTIONAL, &gen->do_sample);
    if (s == HN_OK)
        s = hn_json_double(&at, root, "temperature", HN_OPTIONAL, 0, 100, &gen->temperature);
    if (s == HN_OK)
        s = hn_json_double(&at, root, "top_p", HN_OPTIONAL, 0, 1, &gen->top_p);
    if (s == HN_OK)
        s = hn_json_int(&at, root, "top_k", HN_OPTIONAL, 0, big, &gen->top_k);
    if (s == HN_OK)
        s = hn_json_double(&at, root, "repetition_penalty", HN_OPTIONAL, 1e-6, 100,
                           &gen->repetition_penalty);
    if (s == HN_OK)
        s = hn_json_int(&at, root, "max_new_tokens", HN_OPTIONAL, 0, big, &gen->max_new_tokens);
    if (s == HN_OK)
        s = hn_json_int(&at, root, "max_length", HN_OPTIONAL, 0, big, &gen->max_length);
    cJSON_Delete(root);
    return s;
}
