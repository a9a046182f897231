/* The backward pass: the forward of model_forward.c in reverse, each op's backward adding
 * into the gradients of what trains (a frozen weight's gradient pointer is NULL and its
 * backward skips it). The residual stream's gradient runs through one buffer: a layer
 * receives d(output) there and leaves d(input). */
#include <math.h>

#include "model_internal.h"

static void zero_floats(const hn_backend *be, float *p, size_t n)
{
    be->zero(p, n * sizeof(float));
}

static float *grad_of(const hn_param *p)
{
    return p != NULL ? p->grad : NULL;
}

/* dres holds d(layer output) on entry and d(layer input) on return. */
static void layer_backward(const hn_model *m, int l, const hn_layer_acts *acts, const float *x,
                           float *dres)
{
    const hn_backend *be = m->be;
    const hn_layer *layer = &m->layers[l];
    const hn_activations *act = &m->act;
    const hn_scratch *s = &act->scratch;
    int B = act->B, T = act->T, N = B * T, C = m->C, H = m->H, NH = m->NH, NKV = m->NKV,
        HD = m->HD;
    size_t n = (size_t)N, qd = (size_t)NH * HD, kd = (size_t)NKV * HD;
    const hn_linear *lin = layer->linears;

    /* out = mid + down(silu(gate(ln2)) * up(ln2)), ln2 = post_norm(mid) */
    zero_floats(be, s->dact, n * H);
    hn_linear_backward(m, &lin[LINEAR_DOWN], s->dact, dres, acts->act, acts, l, N);
    zero_floats(be, s->dgate, n * H);
    zero_floats(be, s->dup, n * H);
    be->swiglu_backward(s->dgate, s->dup, s->dact, acts->gate, acts->up, N, H);
    zero_floats(be, s->dln, n * C);
    hn_linear_backward(m, &lin[LINEAR_GATE], s->dln, s->dgate, acts->ln2, acts, l, N);
    hn_linear_backward(m, &lin[LINEAR_UP], s->dln, s->dup, acts->ln2, acts, l, N);
    be->rmsnorm_backward(dres, grad_of(layer->post_norm), s->dln, acts->mid,
                         layer->post_norm->data, acts->rstd2, N, C); /* dres = d(mid) now */

    /* mid = x + o(attention(rope(q), rope(k), v)), q/k/v from ln1 = input_norm(x) */
    zero_floats(be, s->datt, n * qd);
    hn_linear_backward(m, &lin[LINEAR_O], s->datt, dres, acts->att, acts, l, N);
    zero_floats(be, s->dq, n * qd);
    zero_floats(be, s->dk, n * kd);
    zero_floats(be, s->dv, n * kd);
    be->attention_backward(s->dq, s->dk, s->dv, s->datt, acts->q, acts->k, acts->v, acts->att,
                           acts->lse, act->doc_start, 1.0f / sqrtf((float)HD), m->window, B, T,
                           NH, NKV, HD);
    zero_floats(be, s->dq2, n * qd);
    zero_floats(be, s->dk2, n * kd);
    be->rope_backward(s->dq2, s->dq, act->positions, m->inv_freq, m->attention_factor, B, T, NH,
                      HD);
    be->rope_backward(s->dk2, s->dk, act->positions, m->inv_freq, m->attention_factor, B, T,
                      NKV, HD);
    const float *dq_lin = s->dq2, *dk_lin = s->dk2;
    if (layer->q_norm != NULL) { /* through Qwen3's per-head norms; dq, dk are free again */
        zero_floats(be, s->dq, n * qd);
        zero_floats(be, s->dk, n * kd);
        be->rmsnorm_backward(s->dq, grad_of(layer->q_norm), s->dq2, acts->q_raw,
                             layer->q_norm->data, acts->q_rstd, N * NH, HD);
        be->rmsnorm_backward(s->dk, grad_of(layer->k_norm), s->dk2, acts->k_raw,
                             layer->k_norm->data, acts->k_rstd, N * NKV, HD);
        dq_lin = s->dq;
        dk_lin = s->dk;
    }
    zero_floats(be, s->dln, n * C);
    hn_linear_backward(m, &lin[LINEAR_Q], s->dln, dq_lin, acts->ln1, acts, l, N);
    hn_linear_backward(m, &lin[LINEAR_K], s->dln, dk_lin, acts->ln1, acts, l, N);
    hn_linear_backward(m, &lin[LINEAR_V], s->dln, s->dv, acts->ln1, acts, l, N);
    be->rmsnorm_backward(dres, grad_of(layer->input_norm), s->dln, x, layer->input_norm->data,
                         acts->rstd1, N, C); /* dres = d(mid) + the norm path = d(x) */
}

/* Whether the last forward can be differentiated. */
static hn_status check_ready(const hn_model *m, bool need_labels, hn_error *err)
{
    if (!m->have_batch || (need_labels && !m->has_labels))
        return hn_fail(err, HN_ERR_ARGUMENT, "the backward pass needs a forward pass%s",
                       need_labels ? " with labels" : "");
    if (m->adapters_off)
        return hn_fail(err, HN_ERR_ARGUMENT, "no backward pass while the adapters are off");
    return HN_OK;
}

/* From d(final normed hidden) in the scratch's dln down to the embeddings. */
static hn_status backward_from_normed(hn_model *m, hn_error *err)
{
    const hn_backend *be = m->be;
    hn_activations *act = &m->act;
    const hn_scratch *s = &act->scratch;
    int N = act->B * act->T;
    size_t NC = (size_t)N * (size_t)m->C;
    zero_floats(be, s->dres, NC);
    be->rmsnorm_backward(s->dres, m->final_norm->grad, s->dln, act->resid[m->L],
                         m->final_norm->data, act->rstd_final, N, m->C);
    for (int l = m->L - 1; l >= 0; l--) {
        hn_layer_acts *acts = &act->layers[m->options.recompute ? 0 : l];
        if (m->options.recompute)
            hn_layer_forward(m, l, acts, act->resid[l], NULL);
        layer_backward(m, l, acts, act->resid[l], s->dres);
    }
    if (m->embed->grad != NULL)
        be->embedding_backward(m->embed->grad, s->dres, act->ids, N, m->C);
    char message[512];
    if (!be->synchronize(message, sizeof message))
        return hn_fail(err, HN_ERR_IO, "%s backend: %s", be->name, message);
    return HN_OK;
}

hn_status hn_model_backward_tokens(hn_model *m, const float *dlosses, hn_error *err)
{
    HN_TRY(check_ready(m, true, err));
    const hn_backend *be = m->be;
    hn_activations *act = &m->act;
    const hn_scratch *s = &act->scratch;
    int N = act->B * act->T;
    be->copy_to_device(s->dlosses, dlosses, (size_t)N * sizeof(float));
    zero_floats(be, s->dln, (size_t)N * (size_t)m->C);
    be->cross_entropy_backward(s->dln, m->lm_head->grad, s->dlosses, act->normed,
                               m->lm_head->data, m->lm_head->type, act->targets, act->lse, N,
                               m->C, m->V);
    return backward_from_normed(m, err);
}

hn_status hn_model_backward(hn_model *m, float loss_scale, hn_error *err)
{
    HN_TRY(check_ready(m, true, err));
    size_t n = (size_t)m->act.B * (size_t)m->act.T;
    /* d(loss_scale * sum of losses) / d(loss of row n) */
    int32_t *targets = g_new(int32_t, n);
    float *dlosses = g_new(float, n);
    m->be->copy_to_host(targets, m->act.targets, n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++)
        dlosses[i] = targets[i] != HN_IGNORE_INDEX ? loss_scale : 0.0f;
    hn_status s = hn_model_backward_tokens(m, dlosses, err);
    g_free(dlosses);
    g_free(targets);
    return s;
}

hn_status hn_model_backward_hidden(hn_model *m, const int32_t *rows, const float *dhidden,
                                   int n, hn_error *err)
{
    HN_TRY(check_ready(m, false, err));
    const hn_backend *be = m->be;
    const hn_scratch *s = &m->act.scratch;
    int N = m->act.B * m->act.T;
    size_t C = (size_t)m->C;
    zero_floats(be, s->dln, (size_t)N * C);
    for (int i = 0; i < n; i++) {
        if (rows[i] < 0 || rows[i] >= N)
            return hn_fail(err, HN_ERR_ARGUMENT, "hidden row %d: expected 0 to %d", rows[i],
                           N - 1);
        be->copy_to_device(s->dln + (size_t)rows[i] * C, dhidden + (size_t)i * C,
                           C * sizeof(float));
    }
    return backward_from_normed(m, err);
}
