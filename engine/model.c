/* Building an hn_model from an opened model: which parameters train (trainable.c), where
 * each lives (one weights buffer and one gradients buffer, carved by model_arena.c), loading
 * the values (frozen bf16 weights, and for inference GGUF blocks, as they are; the rest as
 * fp32), LoRA adapters initialised as PEFT does, and the parameter accessors. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lora_pissa.h"
#include "model_internal.h"
#include "model_layout.h"
#include "gguf_model.h"
#include "gguf_quant.h"
#include "weight_blocks.h"

void hn_model_options_init(hn_model_options *options)
{
    *options = (hn_model_options){
        .backend = hn_cpu_backend(),
        .method = HN_METHOD_NONE,
        .lora_rank = 8,
        .pissa_iter = 16,
        .seed = 42,
    };
    hn_freeze_options_init(&options->freeze);
    hn_lora_target_options_init(&options->targets);
}

static const char *const LINEAR_NAMES[N_LINEARS] = {
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
    "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj",
};

static hn_param *new_param(hn_model *m, const char *name, int ndim, const int64_t shape[2])
{
    hn_param *p = g_new0(hn_param, 1);
    p->name = g_strdup(name);
    p->ndim = ndim;
    p->shape[0] = shape[0];
    p->shape[1] = ndim == 2 ? shape[1] : 1;
    p->numel = (size_t)(shape[0] * (ndim == 2 ? shape[1] : 1));
    p->type = HN_WEIGHT_F32;
    g_ptr_array_add(m->params, p);
    return p;
}

static void free_param(gpointer data)
{
    hn_param *p = data;
    g_free(p->name);
    g_free(p);
}

static hn_param *find_param(const hn_model *m, const char *name)
{
    ptrdiff_t i = hn_model_param_find(m, name);
    return i >= 0 ? g_ptr_array_index(m->params, i) : NULL;
}

/* The transformers config's features Hone's model runs; the rest is a clear error. */
static hn_status check_supported(const hn_model_config *c, hn_error *err)
{
    if (c->arch == HN_ARCH_QWEN2 && c->use_sliding_window)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "Qwen2's use_sliding_window (a window on the "
                       "upper layers only) is not supported yet");
    if (c->hidden_size > INT32_MAX || c->intermediate_size > INT32_MAX ||
        c->vocab_size > INT32_MAX)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "the model's sizes exceed what Hone handles");
    return HN_OK;
}

/* Which base weights train, by method. kinds has one entry per base parameter. */
static hn_status select_trained(hn_model *m, hn_train_kind *kinds, hn_error *err)
{
    size_t n = m->params->len;
    const char **names = g_new(const char *, n);
    for (size_t i = 0; i < n; i++)
        names[i] = ((hn_param *)g_ptr_array_index(m->params, i))->name;
    hn_status s = HN_OK;
    hn_train_kind lm_head_kind = HN_TRAIN_FROZEN;
    switch (m->options.method) {
    case HN_METHOD_NONE:
        memset(kinds, 0, n * sizeof *kinds);
        break;
    case HN_METHOD_FULL:
        for (size_t i = 0; i < n; i++)
            kinds[i] = HN_TRAIN_FULL;
        break;
    case HN_METHOD_FREEZE:
        s = hn_select_freeze(names, n, m->L, &m->options.freeze, kinds, err);
        break;
    case HN_METHOD_LORA:
        s = hn_select_lora(names, n, m->config.tie_word_embeddings, &m->options.targets, kinds,
                           &lm_head_kind, err);
        if (s == HN_OK && lm_head_kind != HN_TRAIN_FROZEN)
            s = hn_fail(err, HN_ERR_UNSUPPORTED, "this model ties lm_head to embed_tokens; "
                        "adapting or training lm_head alone is not supported yet (name "
                        "embed_tokens to train both)");
        for (size_t i = 0; s == HN_OK && i < n; i++)
            if (kinds[i] == HN_TRAIN_LORA && strcmp(names[i], "lm_head.weight") == 0)
                s = hn_fail(err, HN_ERR_UNSUPPORTED, "LoRA on lm_head is not supported yet");
        break;
    }
    g_free(names);
    return s;
}

/* PEFT's scaling: lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA (Kalajdzievski,
 * arXiv:2312.03732). LLaMA-Factory's default alpha is 2 x rank. */
static float lora_scaling(const hn_model_options *o)
{
    double alpha = o->lora_alpha > 0 ? o->lora_alpha : 2.0 * o->lora_rank;
    return (float)(o->use_rslora ? alpha / sqrt((double)o->lora_rank) : alpha / o->lora_rank);
}

static hn_status add_lora(hn_model *m, hn_linear *lin, const char *module, hn_error *err)
{
    int r = m->options.lora_rank;
    if (r <= 0 || r > lin->in || r > lin->out)
        return hn_fail(err, HN_ERR_ARGUMENT, "lora_rank %d: expected 1 to %d for %s", r,
                       MIN(lin->in, lin->out), module);
    const hn_backend *be = m->be;
    if (m->options.use_dora && (be->dora_norm_forward == NULL || be->dora_scale_forward == NULL ||
                                be->dora_scale_backward == NULL))
        return hn_fail(err, HN_ERR_UNSUPPORTED, "the %s backend has no DoRA ops (use_dora)",
                       be->name);
    hn_lora *lora = g_new0(hn_lora, 1);
    char *name = g_strdup_printf("%s.lora_A.weight", module);
    lora->A = new_param(m, name, 2, (int64_t[2]){r, lin->in});
    g_free(name);
    name = g_strdup_printf("%s.lora_B.weight", module);
    lora->B = new_param(m, name, 2, (int64_t[2]){lin->out, r});
    g_free(name);
    if (m->options.use_dora) {
        name = g_strdup_printf("%s.lora_magnitude_vector", module);
        lora->magnitude = new_param(m, name, 1, (int64_t[2]){lin->out, 1});
        g_free(name);
    }
    lora->rank = r;
    lora->scaling = lora_scaling(&m->options);
    lora->dropout = m->options.lora_dropout;
    lin->lora = lora;
    g_ptr_array_add(m->loras, lora);
    return HN_OK;
}

/* The base parameters in the order transformers lists them, wired into the layer structs. */
static void create_base_params(hn_model *m)
{
    size_t count = 0;
    hn_weight_spec *specs = hn_model_weight_specs(&m->config, &count);
    for (size_t i = 0; i < count; i++)
        new_param(m, specs[i].name, specs[i].ndim, specs[i].shape);
    g_free(specs);
    m->embed = find_param(m, "model.embed_tokens.weight");
    m->final_norm = find_param(m, "model.norm.weight");
    m->lm_head = m->config.tie_word_embeddings ? m->embed : find_param(m, "lm_head.weight");
    m->layers = g_new0(hn_layer, m->L);
    for (int l = 0; l < m->L; l++) {
        hn_layer *layer = &m->layers[l];
        char name[128];
        snprintf(name, sizeof name, "model.layers.%d.input_layernorm.weight", l);
        layer->input_norm = find_param(m, name);
        snprintf(name, sizeof name, "model.layers.%d.post_attention_layernorm.weight", l);
        layer->post_norm = find_param(m, name);
        snprintf(name, sizeof name, "model.layers.%d.self_attn.q_norm.weight", l);
        layer->q_norm = find_param(m, name);
        snprintf(name, sizeof name, "model.layers.%d.self_attn.k_norm.weight", l);
        layer->k_norm = find_param(m, name);
        for (int k = 0; k < N_LINEARS; k++) {
            hn_linear *lin = &layer->linears[k];
            snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, LINEAR_NAMES[k]);
            lin->weight = find_param(m, name);
            snprintf(name, sizeof name, "model.layers.%d.%s.bias", l, LINEAR_NAMES[k]);
            lin->bias = find_param(m, name);
            lin->out = (int)lin->weight->shape[0];
            lin->in = (int)lin->weight->shape[1];
            lin->slot = k;
        }
    }
}

static hn_status create_loras(hn_model *m, const hn_train_kind *kinds, hn_error *err)
{
    for (int l = 0; l < m->L; l++) {
        for (int k = 0; k < N_LINEARS; k++) {
            hn_linear *lin = &m->layers[l].linears[k];
            ptrdiff_t i = hn_model_param_find(m, lin->weight->name);
            if (kinds[i] != HN_TRAIN_LORA)
                continue;
            char *module = g_strndup(lin->weight->name, strlen(lin->weight->name) - 7);
            hn_status s = add_lora(m, lin, module, err);
            g_free(module);
            HN_TRY(s);
        }
    }
    return HN_OK;
}

/* How a frozen matrix may stay as its file stores it: bf16 from safetensors; with
 * keep_gguf_blocks, GGUF's Q8_0 and Q4_1 blocks (rows a multiple of 32 long). */
static hn_weight_type stored_type(const hn_model *m, const hn_model_weight *w, const hn_param *p)
{
    if (w == NULL)
        return HN_WEIGHT_F32;
    if (w->st != NULL && w->st->dtype == HN_DTYPE_BF16)
        return HN_WEIGHT_BF16;
    if (w->gguf == NULL || !m->options.keep_gguf_blocks || p->shape[1] % HN_BLOCK_ELEMENTS != 0)
        return HN_WEIGHT_F32;
    if (w->gguf->type == HN_GGML_Q8_0)
        return HN_WEIGHT_Q8_0;
    if (w->gguf->type == HN_GGML_Q4_1)
        return HN_WEIGHT_Q4_1;
    return HN_WEIGHT_F32;
}

/* Frozen matrices keep their stored type where stored_type allows; everything else is fp32. */
static void choose_types(hn_model *m, const hn_model_dir *dir, const bool *trained, size_t n_base)
{
    for (size_t i = 0; i < n_base; i++) {
        hn_param *p = g_ptr_array_index(m->params, i);
        const hn_model_weight *w = hn_model_dir_find_weight(dir, p->name);
        p->type = !trained[i] && p->ndim == 2 ? stored_type(m, w, p) : HN_WEIGHT_F32;
    }
}

/* Bytes of a parameter in its type. */
static size_t param_bytes(const hn_param *p)
{
    if (p->ndim != 2)
        return p->numel * sizeof(float);
    return (size_t)p->shape[0] * hn_weight_row_bytes(p->type, (int)p->shape[1]);
}

static void layout_params(hn_model *m, hn_arena *weights, hn_arena *grads, const bool *trained)
{
    for (guint i = 0; i < m->params->len; i++) {
        hn_param *p = g_ptr_array_index(m->params, i);
        p->data = hn_arena_take(weights, param_bytes(p));
        p->grad = trained[i] ? hn_arena_take(grads, p->numel * sizeof(float)) : NULL;
    }
}

static hn_status load_gguf_blocks(hn_model *m, const hn_model_dir *dir,
                                  const hn_model_weight *w, hn_param *p, hn_error *err)
{
    void *host = g_try_malloc(param_bytes(p));
    if (host == NULL)
        return hn_fail(err, HN_ERR_NOMEM, "out of memory loading %s", p->name);
    hn_status s = hn_gguf_hf_tensor_bytes(dir->gguf, w->gguf, &dir->config, host, err);
    if (s == HN_OK)
        m->be->copy_to_device(p->data, host, param_bytes(p));
    g_free(host);
    return s;
}

static hn_status load_base_values(hn_model *m, const hn_model_dir *dir, size_t n_base,
                                  hn_error *err)
{
    for (size_t i = 0; i < n_base; i++) {
        hn_param *p = g_ptr_array_index(m->params, i);
        const hn_model_weight *w = hn_model_dir_find_weight(dir, p->name);
        if (w == NULL || (size_t)w->numel != p->numel)
            return hn_fail(err, HN_ERR_FORMAT, "%s: weight %s is missing or has %" PRId64
                           " values (expected %zu)", dir->path, p->name,
                           w != NULL ? w->numel : 0, p->numel);
        if (p->type == HN_WEIGHT_BF16) {
            m->be->copy_to_device(p->data, w->st->data, p->numel * 2);
            continue;
        }
        if (p->type != HN_WEIGHT_F32) { /* GGUF blocks */
            HN_TRY(load_gguf_blocks(m, dir, w, p, err));
            continue;
        }
        float *host = g_try_malloc(p->numel * sizeof(float));
        if (host == NULL)
            return hn_fail(err, HN_ERR_NOMEM, "out of memory loading %s", p->name);
        hn_status s = hn_model_dir_weight_f32(dir, w, host, err);
        if (s == HN_OK)
            m->be->copy_to_device(p->data, host, p->numel * sizeof(float));
        g_free(host);
        HN_TRY(s);
    }
    return HN_OK;
}

/* SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): a uniform double in [0, 1). */
static double next_uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* PEFT's default init (init_lora_weights=True): A by kaiming_uniform_(a=sqrt(5)), which is
 * U(-1/sqrt(in), 1/sqrt(in)), and B = 0, so training starts from the base model. DoRA's
 * magnitude is then ||W + scaling B A|| = ||W|| per output row (DoraLinearLayer.update_layer),
 * so that magnitude / norm starts at 1. */
static void init_loras(hn_model *m)
{
    uint64_t state = m->options.seed;
    for (int l = 0; l < m->L; l++) {
        for (int k = 0; k < N_LINEARS; k++) {
            const hn_linear *lin = &m->layers[l].linears[k];
            const hn_lora *lora = lin->lora;
            if (lora == NULL)
                continue;
            size_t n = lora->A->numel;
            float *values = g_new(float, n);
            double bound = 1.0 / sqrt((double)lora->A->shape[1]);
            for (size_t j = 0; j < n; j++)
                values[j] = (float)((2.0 * next_uniform(&state) - 1.0) * bound);
            m->be->copy_to_device(lora->A->data, values, n * sizeof(float));
            g_free(values);
            m->be->zero(lora->B->data, lora->B->numel * sizeof(float));
            if (lora->magnitude != NULL)
                m->be->dora_norm_forward(lora->magnitude->data, lin->weight->data,
                                         lin->weight->type, lora->A->data, lora->B->data,
                                         lora->scaling, lin->in, lin->out, lora->rank);
        }
    }
}

/* PiSSA instead of PEFT's default init: every adapted weight is factored on the host and
 * its residual replaces it (in its stored type). */
static hn_status init_pissa(hn_model *m, hn_error *err)
{
    for (int l = 0; l < m->L; l++) {
        for (int k = 0; k < N_LINEARS; k++) {
            const hn_linear *lin = &m->layers[l].linears[k];
            const hn_lora *lora = lin->lora;
            if (lora == NULL)
                continue;
            hn_param *w = lin->weight;
            ptrdiff_t index = hn_model_param_find(m, w->name);
            float *W = g_new(float, w->numel), *A = g_new(float, lora->A->numel),
                  *B = g_new(float, lora->B->numel);
            hn_status s = hn_model_param_read(m, (size_t)index, W, err);
            if (s == HN_OK)
                s = hn_pissa_factor(W, lin->out, lin->in, lora->rank, lora->scaling,
                                    m->options.pissa_iter, m->options.seed + (uint64_t)index, A,
                                    B, W, err);
            if (s == HN_OK && w->type == HN_WEIGHT_BF16) {
                uint16_t *bits = g_new(uint16_t, w->numel);
                hn_convert_to_bf16(bits, W, HN_DTYPE_F32, w->numel);
                m->be->copy_to_device(w->data, bits, w->numel * sizeof(uint16_t));
                g_free(bits);
            } else if (s == HN_OK) {
                m->be->copy_to_device(w->data, W, w->numel * sizeof(float));
            }
            if (s == HN_OK) {
                m->be->copy_to_device(lora->A->data, A, lora->A->numel * sizeof(float));
                m->be->copy_to_device(lora->B->data, B, lora->B->numel * sizeof(float));
            } else {
                hn_error_prefix(err, "%s", w->name);
            }
            g_free(W);
            g_free(A);
            g_free(B);
            HN_TRY(s);
        }
    }
    return HN_OK;
}

static hn_status allocate(hn_model *m, const bool *trained, hn_error *err)
{
    hn_arena weights = {0}, grads = {0};
    layout_params(m, &weights, &grads, trained);
    m->weights_memory = m->be->alloc(weights.used);
    m->grads_bytes = grads.used;
    m->grads_memory = grads.used > 0 ? m->be->alloc(grads.used) : NULL;
    m->inv_freq = m->be->alloc((size_t)m->HD / 2 * sizeof(float));
    if (m->weights_memory == NULL || (grads.used > 0 && m->grads_memory == NULL) ||
        m->inv_freq == NULL)
        return hn_fail(err, HN_ERR_NOMEM, "out of %s memory for the model (%zu bytes of "
                       "weights, %zu of gradients)", m->be->name, weights.used, grads.used);
    weights = (hn_arena){m->weights_memory, 0};
    grads = (hn_arena){m->grads_memory, 0};
    layout_params(m, &weights, &grads, trained);
    return HN_OK;
}

static hn_status build(hn_model *m, const hn_model_dir *dir, hn_error *err)
{
    HN_TRY(check_supported(&m->config, err));
    if (m->options.pissa_init && m->options.method != HN_METHOD_LORA)
        return hn_fail(err, HN_ERR_ARGUMENT, "pissa_init initialises LoRA adapters: it needs "
                       "finetuning_type lora");
    create_base_params(m);
    size_t n_base = m->params->len;
    hn_train_kind *kinds = g_new0(hn_train_kind, n_base);
    hn_status s = select_trained(m, kinds, err);
    if (s == HN_OK)
        s = create_loras(m, kinds, err);
    if (s == HN_OK && m->options.value_head)
        hn_value_head_create(m, new_param);
    bool *trained = g_new0(bool, m->params->len);
    for (size_t i = 0; i < m->params->len; i++)
        trained[i] = i >= n_base || kinds[i] == HN_TRAIN_FULL;
    if (s == HN_OK) {
        choose_types(m, dir, trained, n_base);
        s = allocate(m, trained, err);
    }
    if (s == HN_OK)
        s = load_base_values(m, dir, n_base, err);
    if (s == HN_OK && m->options.pissa_init)
        s = init_pissa(m, err);
    else if (s == HN_OK)
        init_loras(m);
    if (s == HN_OK && m->v_weight != NULL) {
        uint64_t state = m->options.seed ^ 0x7A1E4EADull;
        hn_value_head_init(m, next_uniform, &state);
    }
    if (s == HN_OK)
        hn_model_zero_grad(m);
    g_free(trained);
    g_free(kinds);
    return s;
}

hn_status hn_model_new(const hn_model_dir *dir, const hn_model_options *options,
                       hn_model **out, hn_error *err)
{
    *out = NULL;
    hn_model *m = g_new0(hn_model, 1);
    m->be = options->backend != NULL ? options->backend : hn_cpu_backend();
    m->options = *options;
    m->config = dir->config;
    const hn_model_config *c = &m->config;
    m->C = (int)c->hidden_size;
    m->H = (int)c->intermediate_size;
    m->NH = (int)c->num_attention_heads;
    m->NKV = (int)c->num_key_value_heads;
    m->HD = (int)c->head_dim;
    m->V = (int)c->vocab_size;
    m->L = (int)c->num_hidden_layers;
    m->window = c->use_sliding_window ? (int)c->sliding_window : 0;
    m->params = g_ptr_array_new_with_free_func(free_param);
    m->loras = g_ptr_array_new_with_free_func(g_free);
    hn_status s = build(m, dir, err);
    if (s != HN_OK) {
        hn_error_prefix(err, "%s", dir->path);
        hn_model_free(m);
        return s;
    }
    *out = m;
    return HN_OK;
}

void hn_model_free(hn_model *model)
{
    if (model == NULL)
        return;
    hn_activations_free(model);
    model->be->free(model->weights_memory);
    model->be->free(model->grads_memory);
    model->be->free(model->inv_freq);
    g_free(model->layers);
    g_ptr_array_free(model->loras, TRUE);
    g_ptr_array_free(model->params, TRUE);
    g_free(model);
}

const hn_model_config *hn_model_get_config(const hn_model *model)
{
    return &model->config;
}

void hn_model_zero_grad(hn_model *model)
{
    if (model->grads_memory != NULL)
        model->be->zero(model->grads_memory, model->grads_bytes);
}

size_t hn_model_param_count(const hn_model *model)
{
    return model->params->len;
}

void hn_model_param_info(const hn_model *model, size_t index, hn_param_info *info)
{
    const hn_param *p = g_ptr_array_index(model->params, index);
    *info = (hn_param_info){p->name, p->ndim, {p->shape[0], p->shape[1]}, p->numel,
                            p->grad != NULL, param_bytes(p)};
}

ptrdiff_t hn_model_param_find(const hn_model *model, const char *name)
{
    for (guint i = 0; i < model->params->len; i++)
        if (strcmp(((hn_param *)g_ptr_array_index(model->params, i))->name, name) == 0)
            return (ptrdiff_t)i;
    return -1;
}

hn_status hn_model_param_read(const hn_model *model, size_t index, float *dst, hn_error *err)
{
    const hn_param *p = g_ptr_array_index(model->params, index);
    if (p->type == HN_WEIGHT_F32) {
        model->be->copy_to_host(dst, p->data, p->numel * sizeof(float));
        return HN_OK;
    }
    static const uint32_t ggml_types[] = {[HN_WEIGHT_Q8_0] = HN_GGML_Q8_0,
                                          [HN_WEIGHT_Q4_1] = HN_GGML_Q4_1};
    void *stored = g_try_malloc(param_bytes(p));
    if (stored == NULL)
        return hn_fail(err, HN_ERR_NOMEM, "out of memory reading %s", p->name);
    model->be->copy_to_host(stored, p->data, param_bytes(p));
    if (p->type == HN_WEIGHT_BF16)
        hn_convert_to_f32(dst, stored, HN_DTYPE_BF16, p->numel);
    else
        hn_ggml_dequantize(ggml_types[p->type], stored, dst, (int64_t)p->numel);
    g_free(stored);
    return HN_OK;
}

hn_status hn_model_param_write(hn_model *model, size_t index, const float *src, hn_error *err)
{
    hn_param *p = g_ptr_array_index(model->params, index);
    if (p->type != HN_WEIGHT_F32)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s is a frozen weight kept in its stored type "
                       "(bf16 or GGUF blocks); it is not written", p->name);
    model->be->copy_to_device(p->data, src, p->numel * sizeof(float));
    return HN_OK;
}

hn_status hn_model_grad_read(const hn_model *model, size_t index, float *dst, hn_error *err)
{
    const hn_param *p = g_ptr_array_index(model->params, index);
    if (p->grad == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s does not train: it has no gradient", p->name);
    model->be->copy_to_host(dst, p->grad, p->numel * sizeof(float));
    return HN_OK;
}

void hn_model_set_adapters_enabled(hn_model *model, bool enabled)
{
    model->adapters_off = !enabled;
    model->have_batch = false; /* the activations no longer match the weights in use */
}

void hn_model_set_evaluating(hn_model *model, bool evaluating)
{
    model->evaluating = evaluating;
}

uint64_t hn_model_dropout_position(const hn_model *model)
{
    return model->forward_count;
}

void hn_model_set_dropout_position(hn_model *model, uint64_t position)
{
    model->forward_count = position;
}

int64_t hn_model_trained_count(const hn_model *model)
{
    int64_t n = 0;
    for (guint i = 0; i < model->params->len; i++) {
        const hn_param *p = g_ptr_array_index(model->params, i);
        if (p->grad != NULL)
            n += (int64_t)p->numel;
    }
    return n;
}
