/* The forward pass of the decoder family (transformers' LlamaDecoderLayer and its Qwen2,
 * Qwen3 and Mistral variants): embedding, per layer RMSNorm -> q/k/v (-> q/k RMSNorm for
 * Qwen3) -> RoPE -> causal attention -> o_proj + residual -> RMSNorm -> SwiGLU MLP +
 * residual, then the final norm and the fused LM head + cross-entropy. Also the activation
 * buffers a batch shape needs. */
#include <math.h>
#include <string.h>

#include "model_internal.h"
#include "rope_freq.h"

static size_t max3(size_t a, size_t b, size_t c)
{
    return MAX(a, MAX(b, c));
}

static float *take_floats(hn_arena *a, size_t n)
{
    return hn_arena_take(a, n * sizeof(float));
}

static int max_rank(const hn_model *m)
{
    int r = 0;
    for (guint i = 0; i < m->loras->len; i++)
        r = MAX(r, ((hn_lora *)g_ptr_array_index(m->loras, i))->rank);
    return r;
}

/* The LoRA rank of linear `slot` in `layer`; with layer -1 (the one set of buffers that
 * recomputation refills for every layer), the largest over all layers. 0: no adapter. */
static int slot_rank(const hn_model *m, int layer, int slot)
{
    int rank = 0;
    for (int l = layer < 0 ? 0 : layer; l < (layer < 0 ? m->L : layer + 1); l++) {
        const hn_lora *lora = m->layers[l].linears[slot].lora;
        rank = MAX(rank, lora != NULL ? lora->rank : 0);
    }
    return rank;
}

static void layout_layer(const hn_model *m, hn_arena *a, hn_layer_acts *acts, int layer,
                         size_t N, int B, int T)
{
    size_t C = (size_t)m->C, H = (size_t)m->H, qd = (size_t)m->NH * m->HD,
           kd = (size_t)m->NKV * m->HD;
    acts->ln1 = take_floats(a, N * C);
    acts->rstd1 = take_floats(a, N);
    if (m->config.qk_norm) {
        acts->q_raw = take_floats(a, N * qd);
        acts->k_raw = take_floats(a, N * kd);
        acts->q_rstd = take_floats(a, N * (size_t)m->NH);
        acts->k_rstd = take_floats(a, N * (size_t)m->NKV);
    }
    acts->q = take_floats(a, N * qd);
    acts->k = take_floats(a, N * kd);
    acts->v = take_floats(a, N * kd);
    acts->att = take_floats(a, N * qd);
    acts->lse = take_floats(a, (size_t)B * (size_t)m->NH * (size_t)T);
    acts->mid = take_floats(a, N * C);
    acts->ln2 = take_floats(a, N * C);
    acts->rstd2 = take_floats(a, N);
    acts->gate = take_floats(a, N * H);
    acts->up = take_floats(a, N * H);
    acts->act = take_floats(a, N * H);
    for (int k = 0; k < N_LINEARS; k++) {
        int rank = slot_rank(m, layer, k);
        acts->lora_mid[k] = rank > 0 ? take_floats(a, N * (size_t)rank) : NULL;
        bool dora = rank > 0 && m->options.use_dora;
        size_t out = (size_t)m->layers[0].linears[k].out; /* the same in every layer */
        acts->dora_pre[k] = dora ? take_floats(a, N * out) : NULL;
        acts->dora_norm[k] = dora ? take_floats(a, out) : NULL;
    }
}

static void layout_scratch(const hn_model *m, hn_arena *a, hn_scratch *s, size_t N)
{
    size_t C = (size_t)m->C, H = (size_t)m->H, qd = (size_t)m->NH * m->HD,
           kd = (size_t)m->NKV * m->HD, widest = max3(C, H, qd);
    bool lora = m->loras->len > 0;
    s->proj = take_floats(a, N * widest);
    s->lora_out = lora ? take_floats(a, N * widest) : NULL;
    s->lora_in = lora ? take_floats(a, N * widest) : NULL;
    s->lora_dmid = lora ? take_floats(a, N * (size_t)max_rank(m)) : NULL;
    s->dscaled = lora ? take_floats(a, N * widest) : NULL;
    s->dora_dpre = lora && m->options.use_dora ? take_floats(a, N * widest) : NULL;
    s->dres = take_floats(a, N * C);
    s->dres2 = take_floats(a, N * C);
    s->dln = take_floats(a, N * C);
    s->datt = take_floats(a, N * qd);
    s->dq = take_floats(a, N * qd);
    s->dq2 = take_floats(a, N * qd);
    s->dk = take_floats(a, N * kd);
    s->dk2 = take_floats(a, N * kd);
    s->dv = take_floats(a, N * kd);
    s->dgate = take_floats(a, N * H);
    s->dup = take_floats(a, N * H);
    s->dact = take_floats(a, N * H);
    s->dlosses = take_floats(a, N);
}

static void layout_activations(hn_model *m, hn_arena *a, int B, int T)
{
    hn_activations *act = &m->act;
    size_t N = (size_t)B * (size_t)T, C = (size_t)m->C;
    for (int l = 0; l <= m->L; l++)
        act->resid[l] = take_floats(a, N * C);
    int kept = m->options.recompute ? 1 : m->L;
    for (int l = 0; l < kept; l++)
        layout_layer(m, a, &act->layers[l], m->options.recompute ? -1 : l, N, B, T);
    act->normed = take_floats(a, N * C);
    act->rstd_final = take_floats(a, N);
    act->losses = take_floats(a, N);
    act->lse = take_floats(a, N);
    act->ids = hn_arena_take(a, N * sizeof(int32_t));
    act->targets = hn_arena_take(a, N * sizeof(int32_t));
    act->positions = hn_arena_take(a, N * sizeof(int32_t));
    act->doc_start = hn_arena_take(a, N * sizeof(int32_t));
    layout_scratch(m, a, &act->scratch, N);
}

void hn_activations_free(hn_model *m)
{
    hn_activations *act = &m->act;
    m->be->free(act->memory);
    g_free(act->resid);
    g_free(act->layers);
    *act = (hn_activations){0};
    m->have_batch = false;
}

/* Every buffer scales with the token count B x T, so a batch no larger than the one the
 * memory was made for is carved again from it: batches of varying length (a trainer pads each
 * to its longest example) do not reallocate. */
hn_status hn_activations_prepare(hn_model *m, int B, int T, hn_error *err)
{
    hn_activations *act = &m->act;
    if (act->memory != NULL && act->B == B && act->T == T)
        return HN_OK;
    hn_arena sizing = {0};
    if (act->resid == NULL) {
        act->resid = g_new0(float *, m->L + 1);
        act->layers = g_new0(hn_layer_acts, m->options.recompute ? 1 : m->L);
    }
    layout_activations(m, &sizing, B, T);
    if (act->memory == NULL || sizing.used > act->capacity) {
        m->be->free(act->memory);
        act->memory = m->be->alloc(sizing.used);
        act->capacity = act->memory != NULL ? sizing.used : 0;
    }
    if (act->memory == NULL) {
        hn_activations_free(m);
        return hn_fail(err, HN_ERR_NOMEM, "out of %s memory for the activations of a batch of "
                       "%d x %d tokens (%zu bytes); lower the batch size or cutoff_len, or turn "
                       "on recomputation", m->be->name, B, T, sizing.used);
    }
    hn_arena carve = {act->memory, 0};
    layout_activations(m, &carve, B, T);
    act->B = B;
    act->T = T;
    return HN_OK;
}

void hn_layer_forward(const hn_model *m, int l, hn_layer_acts *acts, const float *x,
                      float *out)
{
    const hn_backend *be = m->be;
    const hn_layer *layer = &m->layers[l];
    const hn_activations *act = &m->act;
    int B = act->B, T = act->T, N = B * T, C = m->C, NH = m->NH, NKV = m->NKV, HD = m->HD;
    float eps = (float)m->config.rms_norm_eps;
    size_t NC = (size_t)N * (size_t)C;
    const hn_linear *lin = layer->linears;

    be->rmsnorm_forward(acts->ln1, acts->rstd1, x, layer->input_norm->data, eps, N, C);
    bool qk_norm = layer->q_norm != NULL;
    hn_linear_forward(m, &lin[LINEAR_Q], qk_norm ? acts->q_raw : acts->q, acts->ln1, acts, l, N);
    hn_linear_forward(m, &lin[LINEAR_K], qk_norm ? acts->k_raw : acts->k, acts->ln1, acts, l, N);
    hn_linear_forward(m, &lin[LINEAR_V], acts->v, acts->ln1, acts, l, N);
    if (qk_norm) { /* Qwen3: RMSNorm over each head before RoPE */
        be->rmsnorm_forward(acts->q, acts->q_rstd, acts->q_raw, layer->q_norm->data, eps,
                            N * NH, HD);
        be->rmsnorm_forward(acts->k, acts->k_rstd, acts->k_raw, layer->k_norm->data, eps,
                            N * NKV, HD);
    }
    be->rope_forward(acts->q, acts->q, act->positions, m->inv_freq, m->attention_factor, B, T,
                     NH, HD);
    be->rope_forward(acts->k, acts->k, act->positions, m->inv_freq, m->attention_factor, B, T,
                     NKV, HD);
    be->attention_forward(acts->att, acts->lse, acts->q, acts->k, acts->v, act->doc_start,
                          1.0f / sqrtf((float)HD), m->window, B, T, NH, NKV, HD);
    float *proj = act->scratch.proj;
    hn_linear_forward(m, &lin[LINEAR_O], proj, acts->att, acts, l, N);
    be->copy(acts->mid, x, NC * sizeof(float));
    be->axpy(acts->mid, proj, 1.0f, NC);

    be->rmsnorm_forward(acts->ln2, acts->rstd2, acts->mid, layer->post_norm->data, eps, N, C);
    hn_linear_forward(m, &lin[LINEAR_GATE], acts->gate, acts->ln2, acts, l, N);
    hn_linear_forward(m, &lin[LINEAR_UP], acts->up, acts->ln2, acts, l, N);
    be->swiglu_forward(acts->act, acts->gate, acts->up, N, m->H);
    /* Recomputing for the backward (out NULL), the output is not needed, but a LoRA adapter
     * on down_proj needs its kept value again. */
    if (out == NULL && lin[LINEAR_DOWN].lora == NULL)
        return;
    hn_linear_forward(m, &lin[LINEAR_DOWN], proj, acts->act, acts, l, N);
    if (out == NULL)
        return;
    be->copy(out, acts->mid, NC * sizeof(float));
    be->axpy(out, proj, 1.0f, NC);
}

/* The batch's ids, positions, document starts and shifted targets, checked and uploaded. */
static hn_status upload_batch(hn_model *m, const hn_batch *batch, int64_t *n_targets,
                              int32_t *max_position, hn_error *err)
{
    int B = batch->B, T = batch->T;
    size_t N = (size_t)B * (size_t)T;
    int32_t *positions = g_new(int32_t, N), *targets = g_new(int32_t, N),
            *doc = g_new(int32_t, N);
    hn_status s = HN_OK;
    *n_targets = 0;
    *max_position = 0;
    for (int b = 0; b < B && s == HN_OK; b++) {
        for (int t = 0; t < T && s == HN_OK; t++) {
            size_t n = (size_t)b * (size_t)T + (size_t)t;
            int32_t id = batch->input_ids[n];
            positions[n] = batch->position_ids != NULL ? batch->position_ids[n] : t;
            doc[n] = batch->doc_start != NULL ? batch->doc_start[n] : 0;
            targets[n] = batch->labels != NULL && t + 1 < T ? batch->labels[n + 1]
                                                             : HN_IGNORE_INDEX;
            if (id < 0 || id >= m->V)
                s = hn_fail(err, HN_ERR_ARGUMENT, "batch row %d, token %d: id %d is outside the "
                            "vocabulary (0 to %d)", b, t, id, m->V - 1);
            else if (targets[n] != HN_IGNORE_INDEX && (targets[n] < 0 || targets[n] >= m->V))
                s = hn_fail(err, HN_ERR_ARGUMENT, "batch row %d, token %d: label %d is outside "
                            "the vocabulary", b, t + 1, targets[n]);
            else if (positions[n] < 0)
                s = hn_fail(err, HN_ERR_ARGUMENT, "batch row %d, token %d: negative position",
                            b, t);
            else if (doc[n] < 0 || doc[n] > t || (t > 0 && doc[n] < doc[n - 1]))
                s = hn_fail(err, HN_ERR_ARGUMENT, "batch row %d, token %d: document start %d "
                            "must lie in [previous start, %d]", b, t, doc[n], t);
            *n_targets += targets[n] != HN_IGNORE_INDEX;
            *max_position = MAX(*max_position, positions[n]);
        }
    }
    if (s == HN_OK) {
        hn_activations *act = &m->act;
        m->be->copy_to_device(act->ids, batch->input_ids, N * sizeof(int32_t));
        m->be->copy_to_device(act->positions, positions, N * sizeof(int32_t));
        m->be->copy_to_device(act->targets, targets, N * sizeof(int32_t));
        m->be->copy_to_device(act->doc_start, doc, N * sizeof(int32_t));
    }
    g_free(positions);
    g_free(targets);
    g_free(doc);
    return s;
}

static hn_status upload_rope(hn_model *m, int32_t max_position)
{
    size_t n = (size_t)m->HD / 2;
    float *inv_freq = g_new(float, n);
    hn_rope_frequencies(&m->config, (int64_t)max_position + 1, inv_freq, &m->attention_factor);
    m->be->copy_to_device(m->inv_freq, inv_freq, n * sizeof(float));
    g_free(inv_freq);
    return HN_OK;
}

static hn_status device_check(const hn_model *m, hn_error *err)
{
    char message[512];
    if (!m->be->synchronize(message, sizeof message))
        return hn_fail(err, HN_ERR_IO, "%s backend: %s", m->be->name, message);
    return HN_OK;
}

hn_status hn_model_forward(hn_model *m, const hn_batch *batch, double *loss_sum,
                           int64_t *n_targets, hn_error *err)
{
    if (batch->B <= 0 || batch->T <= 0 || (int64_t)batch->B * batch->T > INT32_MAX)
        return hn_fail(err, HN_ERR_ARGUMENT, "batch of %d x %d tokens: expected a positive size",
                       batch->B, batch->T);
    m->have_batch = false;
    HN_TRY(hn_activations_prepare(m, batch->B, batch->T, err));
    int64_t targets = 0;
    int32_t max_position = 0;
    HN_TRY(upload_batch(m, batch, &targets, &max_position, err));
    HN_TRY(upload_rope(m, max_position));
    if (!m->evaluating)
        m->forward_count++;

    const hn_backend *be = m->be;
    hn_activations *act = &m->act;
    int N = batch->B * batch->T;
    be->embedding_forward(act->resid[0], act->ids, m->embed->data, m->embed->type, N, m->C);
    for (int l = 0; l < m->L; l++) {
        hn_layer_acts *acts = &act->layers[m->options.recompute ? 0 : l];
        hn_layer_forward(m, l, acts, act->resid[l], act->resid[l + 1]);
    }
    be->rmsnorm_forward(act->normed, act->rstd_final, act->resid[m->L], m->final_norm->data,
                        (float)m->config.rms_norm_eps, N, m->C);
    m->has_labels = batch->labels != NULL;
    double sum = 0;
    if (m->has_labels) {
        be->cross_entropy_forward(act->losses, act->lse, act->normed, m->lm_head->data,
                                  m->lm_head->type, act->targets, N, m->C, m->V);
        float *losses = g_new(float, N);
        be->copy_to_host(losses, act->losses, (size_t)N * sizeof(float));
        for (int n = 0; n < N; n++)
            sum += losses[n];
        g_free(losses);
    }
    HN_TRY(device_check(m, err));
    m->have_batch = true;
    if (loss_sum != NULL)
        *loss_sum = sum;
    if (n_targets != NULL)
        *n_targets = targets;
    return HN_OK;
}

hn_status hn_model_target_logprobs(hn_model *m, float *logprobs, hn_error *err)
{
    if (!m->have_batch || !m->has_labels)
        return hn_fail(err, HN_ERR_ARGUMENT, "log-probabilities need a forward pass with labels");
    size_t N = (size_t)m->act.B * (size_t)m->act.T;
    m->be->copy_to_host(logprobs, m->act.losses, N * sizeof(float));
    for (size_t n = 0; n < N; n++)
        logprobs[n] = 0.0f - logprobs[n]; /* rows without a target hold 0 */
    return HN_OK;
}

hn_status hn_model_logits(hn_model *m, float *logits, hn_error *err)
{
    if (!m->have_batch)
        return hn_fail(err, HN_ERR_ARGUMENT, "logits need a forward pass first");
    int N = m->act.B * m->act.T, rows = MAX(1, MIN(N, (int)(((size_t)64 << 20) /
                                                            ((size_t)m->V * sizeof(float)))));
    float *chunk = m->be->alloc((size_t)rows * (size_t)m->V * sizeof(float));
    if (chunk == NULL)
        return hn_fail(err, HN_ERR_NOMEM, "out of memory for the logits");
    for (int first = 0; first < N; first += rows) {
        int count = MIN(rows, N - first);
        m->be->matmul_forward(chunk, m->act.normed + (size_t)first * (size_t)m->C,
                              m->lm_head->data, m->lm_head->type, NULL, count, m->C, m->V);
        m->be->copy_to_host(logits + (size_t)first * (size_t)m->V, chunk,
                            (size_t)count * (size_t)m->V * sizeof(float));
    }
    m->be->free(chunk);
    return device_check(m, err);
}
