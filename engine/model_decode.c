/* Inference with a key/value cache (model_decode.h). Each call runs the new tokens through
 * every layer as the training forward does (model_forward.c: RMSNorm -> q/k/v -> Qwen3's q/k
 * norms -> RoPE -> attention -> o_proj + residual -> RMSNorm -> SwiGLU MLP + residual), with
 * two differences: the keys and values go straight into the cache at the tokens' positions,
 * and attention (the backend's attention_cached_forward) reads the whole cache. Nothing is
 * kept for a backward; one set of buffers serves every layer. A long prompt runs in chunks of
 * DECODE_CHUNK tokens, so the buffers stay small (transformers' generate prefills in one go;
 * the result is the same up to fp32 rounding). */
#include <math.h>
#include <string.h>

#include "kv_cache.h"
#include "model_decode.h"
#include "model_internal.h"
#include "rope_freq.h"

enum { DECODE_CHUNK = 128 }; /* tokens per prefill step */

struct hn_kv_decoder {
    hn_model *m;
    hn_kv_cache cache;
    void *memory;          /* the buffers below, for DECODE_CHUNK rows */
    float *x, *ln;         /* [n, C] residual stream, normed input */
    float *q, *att;        /* [n, NH*HD] */
    float *q_raw, *k_raw;  /* [n, NH*HD], [n, NKV*HD]: Qwen3, before the norms */
    float *gate, *up, *act; /* [n, H] */
    float *proj;           /* [n, max(C, H, NH*HD)] */
    float *logits;         /* [n, V] */
    int32_t *ids, *positions; /* [n] on the device */
    hn_layer_acts acts;    /* the LoRA buffers of hn_linear_forward_with, shared by layers */
    hn_scratch scratch;
};

static float *take(hn_arena *a, size_t n)
{
    return hn_arena_take(a, n * sizeof(float));
}

static void layout(hn_kv_decoder *d, hn_arena *a)
{
    const hn_model *m = d->m;
    size_t n = DECODE_CHUNK, C = (size_t)m->C, H = (size_t)m->H,
           qd = (size_t)m->NH * (size_t)m->HD, kd = (size_t)m->NKV * (size_t)m->HD;
    size_t widest = MAX(C, MAX(H, qd));
    d->x = take(a, n * C);
    d->ln = take(a, n * C);
    d->q = take(a, n * qd);
    d->att = take(a, n * qd);
    d->q_raw = m->config.qk_norm ? take(a, n * qd) : NULL;
    d->k_raw = m->config.qk_norm ? take(a, n * kd) : NULL;
    d->gate = take(a, n * H);
    d->up = take(a, n * H);
    d->act = take(a, n * H);
    d->proj = take(a, n * widest);
    d->logits = take(a, n * (size_t)m->V);
    d->ids = hn_arena_take(a, n * sizeof(int32_t));
    d->positions = hn_arena_take(a, n * sizeof(int32_t));
    int rank = 0;
    for (guint i = 0; i < m->loras->len; i++)
        rank = MAX(rank, ((const hn_lora *)g_ptr_array_index(m->loras, i))->rank);
    d->acts = (hn_layer_acts){0};
    d->scratch = (hn_scratch){0};
    if (rank > 0) { /* within one linear's forward only, so every slot can share them */
        float *mid = take(a, n * (size_t)rank);
        float *pre = m->options.use_dora ? take(a, n * widest) : NULL;
        float *norm = m->options.use_dora ? take(a, widest) : NULL;
        for (int k = 0; k < N_LINEARS; k++) {
            d->acts.lora_mid[k] = mid;
            d->acts.dora_pre[k] = pre;
            d->acts.dora_norm[k] = norm;
        }
        d->scratch.lora_out = take(a, n * widest);
    }
}

hn_status hn_kv_decoder_new(hn_model *model, hn_kv_decoder **out, hn_error *err)
{
    *out = NULL;
    for (guint i = 0; i < model->loras->len; i++)
        if (((const hn_lora *)g_ptr_array_index(model->loras, i))->dropout > 0)
            return hn_fail(err, HN_ERR_ARGUMENT, "inference needs a model without LoRA dropout "
                           "(build it with lora_dropout 0)");
    if (model->be->attention_cached_forward == NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "the %s backend has no attention_cached_forward "
                       "(inference with a key/value cache)", model->be->name);
    hn_kv_decoder *d = g_new0(hn_kv_decoder, 1);
    d->m = model;
    hn_kv_cache_init(&d->cache, model->be, model->L, model->NKV * model->HD);
    hn_arena sizing = {0};
    layout(d, &sizing);
    d->memory = model->be->alloc(sizing.used);
    if (d->memory == NULL) {
        hn_kv_decoder_free(d);
        return hn_fail(err, HN_ERR_NOMEM, "out of %s memory for inference buffers (%zu bytes)",
                       model->be->name, sizing.used);
    }
    hn_arena carve = {d->memory, 0};
    layout(d, &carve);
    *out = d;
    return HN_OK;
}

void hn_kv_decoder_free(hn_kv_decoder *d)
{
    if (d == NULL)
        return;
    hn_kv_cache_free(&d->cache);
    d->m->be->free(d->memory);
    g_free(d);
}

const hn_model *hn_kv_decoder_model(const hn_kv_decoder *d)
{
    return d->m;
}

int hn_kv_decoder_length(const hn_kv_decoder *d)
{
    return d->cache.length;
}

const int32_t *hn_kv_decoder_tokens(const hn_kv_decoder *d)
{
    return d->cache.ids;
}

void hn_kv_decoder_truncate(hn_kv_decoder *d, int length)
{
    d->cache.length = CLAMP(length, 0, d->cache.length);
}

int hn_kv_decoder_common_prefix(const hn_kv_decoder *d, const int32_t *ids, int n)
{
    int same = 0;
    while (same < n && same < d->cache.length && ids[same] == d->cache.ids[same])
        same++;
    return same;
}

hn_status hn_decode_activations_parse(const char *text, const char *where,
                                      hn_decode_activations *out, hn_error *err)
{
    if (strcmp(text, "fp32") == 0)
        *out = HN_DECODE_FP32;
    else if (strcmp(text, "int8") == 0)
        *out = HN_DECODE_INT8;
    else
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: decode_activations must be fp32 or int8, "
                       "found \"%s\"", where, text);
    return HN_OK;
}

bool hn_model_set_decode_activations(hn_model *m, hn_decode_activations mode)
{
    m->options.decode_activations = mode;
    if (mode == HN_DECODE_FP32)
        return true;
    if (m->be->block_matvec_int8 == NULL)
        return false;
    for (guint i = 0; i < m->params->len; i++) {
        const hn_param *p = g_ptr_array_index(m->params, i);
        if (p->type == HN_WEIGHT_Q8_0 || p->type == HN_WEIGHT_Q4_1)
            return true;
    }
    return false;
}

/* One layer over n new tokens at cache positions past .. past + n - 1; d->x in place. */
static void layer_step(hn_kv_decoder *d, int l, int past, int n)
{
    const hn_model *m = d->m;
    const hn_backend *be = m->be;
    const hn_layer *layer = &m->layers[l];
    const hn_linear *lin = layer->linears;
    int C = m->C, NH = m->NH, NKV = m->NKV, HD = m->HD;
    float eps = (float)m->config.rms_norm_eps;
    float *k = hn_kv_cache_keys(&d->cache, l, past), *v = hn_kv_cache_values(&d->cache, l, past);
    bool qk_norm = layer->q_norm != NULL;

    be->rmsnorm_forward(d->ln, NULL, d->x, layer->input_norm->data, eps, n, C);
    /* q, k, v (and below gate, up) read the same input: one group, one pass over threads */
    const hn_linear *qkv[] = {&lin[LINEAR_Q], &lin[LINEAR_K], &lin[LINEAR_V]};
    float *qkv_out[] = {qk_norm ? d->q_raw : d->q, qk_norm ? d->k_raw : k, v};
    hn_linears_forward_shared(m, qkv, qkv_out, 3, d->ln, &d->acts, &d->scratch, l, n);
    if (qk_norm) { /* Qwen3: RMSNorm over each head before RoPE */
        be->rmsnorm_forward(d->q, NULL, d->q_raw, layer->q_norm->data, eps, n * NH, HD);
        be->rmsnorm_forward(k, NULL, d->k_raw, layer->k_norm->data, eps, n * NKV, HD);
    }
    be->rope_forward(d->q, d->q, d->positions, m->inv_freq, m->attention_factor, 1, n, NH, HD);
    be->rope_forward(k, k, d->positions, m->inv_freq, m->attention_factor, 1, n, NKV, HD);
    be->attention_cached_forward(d->att, d->q, d->cache.k[l], d->cache.v[l],
                                 1.0f / sqrtf((float)HD), m->window, past, n, NH, NKV, HD);
    size_t nc = (size_t)n * (size_t)C;
    hn_linear_forward_with(m, &lin[LINEAR_O], d->proj, d->att, &d->acts, &d->scratch, l, n);
    be->axpy(d->x, d->proj, 1.0f, nc);

    be->rmsnorm_forward(d->ln, NULL, d->x, layer->post_norm->data, eps, n, C);
    const hn_linear *gate_up[] = {&lin[LINEAR_GATE], &lin[LINEAR_UP]};
    float *gate_up_out[] = {d->gate, d->up};
    hn_linears_forward_shared(m, gate_up, gate_up_out, 2, d->ln, &d->acts, &d->scratch, l, n);
    be->swiglu_forward(d->act, d->gate, d->up, n, m->H);
    hn_linear_forward_with(m, &lin[LINEAR_DOWN], d->proj, d->act, &d->acts, &d->scratch, l, n);
    be->axpy(d->x, d->proj, 1.0f, nc);
}

/* The RoPE tables for positions up to `last` (dynamic scaling depends on the length, as
 * transformers' dynamic_rope_update recomputes them per forward). */
static void upload_rope(hn_model *m, int last)
{
    size_t half = (size_t)m->HD / 2;
    float *inv_freq = g_new(float, half);
    hn_rope_frequencies(&m->config, (int64_t)last + 1, inv_freq, &m->attention_factor);
    m->be->copy_to_device(m->inv_freq, inv_freq, half * sizeof(float));
    g_free(inv_freq);
}

/* n <= DECODE_CHUNK tokens; logits of the rows from `first_logit` on into host memory. */
static hn_status step(hn_kv_decoder *d, const int32_t *ids, int n, float *logits, int first_logit,
                      hn_error *err)
{
    hn_model *m = d->m;
    const hn_backend *be = m->be;
    int past = d->cache.length;
    HN_TRY(hn_kv_cache_reserve(&d->cache, past + n, err));
    int32_t positions[DECODE_CHUNK];
    for (int t = 0; t < n; t++)
        positions[t] = past + t;
    be->copy_to_device(d->ids, ids, (size_t)n * sizeof(int32_t));
    be->copy_to_device(d->positions, positions, (size_t)n * sizeof(int32_t));
    upload_rope(m, past + n - 1);
    /* one token at a time (not a prefill): the int8 products if the model asks for them */
    d->scratch.int8_activations = n == 1 && m->options.decode_activations == HN_DECODE_INT8;
    be->embedding_forward(d->x, d->ids, m->embed->data, m->embed->type, n, m->C);
    for (int l = 0; l < m->L; l++)
        layer_step(d, l, past, n);
    memcpy(d->cache.ids + past, ids, (size_t)n * sizeof(int32_t));
    d->cache.length = past + n;
    if (logits != NULL && first_logit < n) {
        int rows = n - first_logit;
        const float *x = d->x + (size_t)first_logit * (size_t)m->C;
        be->rmsnorm_forward(d->ln, NULL, x, m->final_norm->data, (float)m->config.rms_norm_eps,
                            rows, m->C);
        hn_weight_forward(m, &d->scratch, d->logits, d->ln, m->lm_head, NULL, rows, m->C, m->V);
        be->copy_to_host(logits, d->logits, (size_t)rows * (size_t)m->V * sizeof(float));
    }
    char message[512];
    if (!be->synchronize(message, sizeof message))
        return hn_fail(err, HN_ERR_IO, "%s backend: %s", be->name, message);
    return HN_OK;
}

hn_status hn_kv_decoder_append(hn_kv_decoder *d, const int32_t *ids, int n, float *logits,
                            bool all_logits, hn_error *err)
{
    const hn_model *m = d->m;
    if (n <= 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "no tokens to run (expected at least one)");
    if ((int64_t)d->cache.length + n > INT32_MAX)
        return hn_fail(err, HN_ERR_ARGUMENT, "%d tokens after %d cached: too long a sequence",
                       n, d->cache.length);
    for (int t = 0; t < n; t++)
        if (ids[t] < 0 || ids[t] >= m->V)
            return hn_fail(err, HN_ERR_ARGUMENT, "token %d: id %d is outside the vocabulary "
                           "(0 to %d)", t, ids[t], m->V - 1);
    for (int first = 0; first < n; first += DECODE_CHUNK) {
        int count = MIN(DECODE_CHUNK, n - first);
        float *rows = NULL;
        int first_logit = count; /* none */
        if (logits != NULL && all_logits) {
            rows = logits + (size_t)first * (size_t)m->V;
            first_logit = 0;
        } else if (logits != NULL && first + count == n) {
            rows = logits;
            first_logit = count - 1;
        }
        HN_TRY(step(d, ids + first, count, rows, first_logit, err));
    }
    return HN_OK;
}
