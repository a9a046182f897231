/* A linear layer with its optional LoRA adapter, forward and backward (Hu et al., "LoRA",
 * arXiv:2106.09685; PEFT's lora.Linear.forward: result + lora_B(lora_A(dropout(x))) *
 * scaling). Dropout masks come from a seed per forward, layer and linear, so the backward
 * (and a recomputed forward) draws the same mask.
 * With DoRA (Liu et al., "DoRA", arXiv:2402.09353) as PEFT's DoraLinearVariant.forward and
 * DoraLinearLayer.forward compute it: with g = magnitude / ||W + scaling B A|| per output row
 * (the norm detached) and x~ = dropout(x),
 *   out = x W^T + b + (g - 1) * x~ W^T + g * scaling * x~ A^T B^T
 *       = g * pre + b + (x - x~) W^T,   pre = x~ W^T + scaling * x~ A^T B^T (kept),
 * the last term only with dropout (without it x~ = x and PEFT reuses the base result). The
 * backward: d pre = g * dout, d magnitude = sum over rows of dout * pre / norm, and with
 * dropout x W^T takes dout while x~ W^T takes d pre - dout. */
#include "model_internal.h"

static uint64_t dropout_seed(const hn_model *m, int layer, int slot)
{
    return m->options.seed * 0x9E3779B97F4A7C15ull + m->forward_count * 0x100000001B3ull +
           (uint64_t)(layer * N_LINEARS + slot) * 0xC2B2AE3D27D4EB4Full;
}

/* The LoRA dropout rate in effect: none while evaluating. */
static float active_dropout(const hn_model *m, const hn_lora *lora)
{
    return lora == NULL || m->evaluating ? 0.0f : lora->dropout;
}

/* The adapter a forward uses: none while adapters are off. */
static const hn_lora *active_lora(const hn_model *m, const hn_linear *lin)
{
    return m->adapters_off ? NULL : lin->lora;
}

/* dropout(x) into the scratch, or x itself when there is no dropout. */
static const float *lora_input(const hn_model *m, const hn_linear *lin, const float *x,
                               const hn_scratch *s, int layer, int N)
{
    float p = active_dropout(m, lin->lora);
    if (p <= 0)
        return x;
    float *dropped = s->lora_in;
    m->be->dropout_forward(dropped, x, p, dropout_seed(m, layer, lin->slot),
                           (size_t)N * (size_t)lin->in);
    return dropped;
}

/* out += scaling * in @ A^T @ B^T, keeping in @ A^T. */
static void lora_forward(const hn_model *m, const hn_linear *lin, float *out, const float *in,
                         hn_layer_acts *acts, const hn_scratch *s, int N)
{
    const hn_backend *be = m->be;
    const hn_lora *lora = lin->lora;
    float *mid = acts->lora_mid[lin->slot]; /* [N, r] */
    be->matmul_forward(mid, in, lora->A->data, HN_WEIGHT_F32, NULL, N, lin->in, lora->rank);
    float *term = s->lora_out; /* [N, out] */
    be->matmul_forward(term, mid, lora->B->data, HN_WEIGHT_F32, NULL, N, lora->rank, lin->out);
    be->axpy(out, term, lora->scaling, (size_t)N * (size_t)lin->out);
}

static void dora_forward(const hn_model *m, const hn_linear *lin, float *out, const float *x,
                         hn_layer_acts *acts, const hn_scratch *s, int layer, int N)
{
    const hn_backend *be = m->be;
    const hn_param *w = lin->weight;
    const hn_lora *lora = lin->lora;
    size_t n_out = (size_t)N * (size_t)lin->out;
    float *pre = acts->dora_pre[lin->slot]; /* [N, out] */
    const float *in = lora_input(m, lin, x, s, layer, N);
    be->matmul_forward(pre, in, w->data, w->type, NULL, N, lin->in, lin->out);
    if (in != x) { /* out = (x - x~) W^T, the part of PEFT's base result outside the scale */
        be->matmul_forward(out, x, w->data, w->type, NULL, N, lin->in, lin->out);
        be->axpy(out, pre, -1.0f, n_out);
    }
    lora_forward(m, lin, pre, in, acts, s, N);
    float *norm = acts->dora_norm[lin->slot]; /* [out] */
    be->dora_norm_forward(norm, w->data, w->type, lora->A->data, lora->B->data, lora->scaling,
                          lin->in, lin->out, lora->rank);
    const float *bias = lin->bias != NULL ? lin->bias->data : NULL;
    if (in == x) {
        be->dora_scale_forward(out, pre, lora->magnitude->data, norm, bias, N, lin->out);
    } else {
        float *scaled = s->lora_out; /* [N, out], free after lora_forward */
        be->dora_scale_forward(scaled, pre, lora->magnitude->data, norm, bias, N, lin->out);
        be->axpy(out, scaled, 1.0f, n_out);
    }
}

void hn_weight_forward(const hn_model *m, const hn_scratch *s, float *out, const float *x,
                       const hn_param *w, const float *bias, int N, int C, int OC)
{
    if (s->int8_activations && N == 1 &&
        (w->type == HN_WEIGHT_Q8_0 || w->type == HN_WEIGHT_Q4_1) &&
        m->be->block_matvec_int8 != NULL)
        m->be->block_matvec_int8(out, x, w->data, w->type, bias, C, OC);
    else
        m->be->matmul_forward(out, x, w->data, w->type, bias, N, C, OC);
}

/* Whether one block_matvec_group call can run these linears: one row, no adapter in effect,
 * every weight in GGUF blocks, and the backend has the op. */
static bool groupable(const hn_model *m, const hn_linear *const *lins, int count, int N)
{
    if (N != 1 || m->be->block_matvec_group == NULL || count > HN_LINEAR_GROUP_MAX)
        return false;
    for (int i = 0; i < count; i++) {
        hn_weight_type type = lins[i]->weight->type;
        if (active_lora(m, lins[i]) != NULL || lins[i]->in != lins[0]->in ||
            (type != HN_WEIGHT_Q8_0 && type != HN_WEIGHT_Q4_1))
            return false;
    }
    return true;
}

void hn_linears_forward_shared(const hn_model *m, const hn_linear *const *lins, float *const *outs,
                               int count, const float *x, hn_layer_acts *acts,
                               const hn_scratch *s, int layer, int N)
{
    if (!groupable(m, lins, count, N)) {
        for (int i = 0; i < count; i++)
            hn_linear_forward_with(m, lins[i], outs[i], x, acts, s, layer, N);
        return;
    }
    hn_matvec_part parts[HN_LINEAR_GROUP_MAX];
    for (int i = 0; i < count; i++) {
        const hn_linear *lin = lins[i];
        parts[i] = (hn_matvec_part){outs[i], lin->weight->data, lin->weight->type,
                                    lin->bias != NULL ? lin->bias->data : NULL, lin->out};
    }
    bool int8 = s->int8_activations && m->be->block_matvec_int8 != NULL;
    m->be->block_matvec_group(parts, count, x, int8, lins[0]->in);
}

void hn_linear_forward_with(const hn_model *m, const hn_linear *lin, float *out, const float *x,
                            hn_layer_acts *acts, const hn_scratch *s, int layer, int N)
{
    const hn_lora *lora = active_lora(m, lin);
    if (lora != NULL && lora->magnitude != NULL) {
        dora_forward(m, lin, out, x, acts, s, layer, N);
        return;
    }
    hn_weight_forward(m, s, out, x, lin->weight, lin->bias != NULL ? lin->bias->data : NULL, N,
                      lin->in, lin->out);
    if (lora != NULL)
        lora_forward(m, lin, out, lora_input(m, lin, x, s, layer, N), acts, s, N);
}

void hn_linear_forward(const hn_model *m, const hn_linear *lin, float *out, const float *x,
                       hn_layer_acts *acts, int layer, int N)
{
    hn_linear_forward_with(m, lin, out, x, acts, &m->act.scratch, layer, N);
}

void hn_linear_backward(const hn_model *m, const hn_linear *lin, float *dx, const float *dout,
                        const float *x, const hn_layer_acts *acts, int layer, int N)
{
    const hn_backend *be = m->be;
    const hn_param *w = lin->weight;
    const hn_lora *lora = lin->lora;
    const hn_scratch *s = &m->act.scratch;
    size_t n_out = (size_t)N * (size_t)lin->out;
    float p = active_dropout(m, lora);
    bool dora = lora != NULL && lora->magnitude != NULL;
    float *dbias = lin->bias != NULL ? lin->bias->grad : NULL;
    const float *dbase = dout; /* the gradient of x W^T */
    const float *dlora = dout; /* ... and of the LoRA term before its scaling */
    if (dora) { /* through DoRA's scale: d pre */
        float *dpre = s->dora_dpre; /* [N, out] */
        be->zero(dpre, n_out * sizeof(float));
        be->dora_scale_backward(dpre, lora->magnitude->grad, dbias, dout,
                                acts->dora_pre[lin->slot], lora->magnitude->data,
                                acts->dora_norm[lin->slot], N, lin->out);
        dbias = NULL;
        dlora = dpre;
        if (p <= 0) /* pre holds x W^T itself */
            dbase = dpre;
    }
    be->matmul_backward(dx, w->grad, dbias, dbase, x, w->data, w->type, N, lin->in, lin->out);
    if (lora == NULL)
        return;
    /* scaled = scaling * dlora; then dmid = scaled @ B, dB += scaled^T @ mid */
    be->zero(s->dscaled, n_out * sizeof(float));
    be->axpy(s->dscaled, dlora, lora->scaling, n_out);
    be->zero(s->lora_dmid, (size_t)N * (size_t)lora->rank * sizeof(float));
    be->matmul_backward(s->lora_dmid, lora->B->grad, NULL, s->dscaled, acts->lora_mid[lin->slot],
                        lora->B->data, HN_WEIGHT_F32, N, lora->rank, lin->out);
    /* dA += dmid^T @ dropout(x); d dropout(x) = dmid @ A */
    const float *in = lora_input(m, lin, x, s, layer, N);
    be->matmul_backward(p <= 0 ? dx : NULL, lora->A->grad, NULL, s->lora_dmid, in,
                        lora->A->data, HN_WEIGHT_F32, N, lin->in, lora->rank);
    float *ddropped = NULL; /* DoRA with dropout: x~ W^T's gradient d pre - dout */
    if (dora && p > 0) {
        ddropped = s->dora_dpre; /* d pre is no longer needed once scaled has it */
        be->axpy(ddropped, dout, -1.0f, n_out);
        if (w->grad != NULL)
            be->matmul_backward(NULL, w->grad, NULL, ddropped, in, w->data, w->type, N, lin->in,
                                lin->out);
    }
    if (p <= 0 || dx == NULL)
        return;
    size_t n_in = (size_t)N * (size_t)lin->in;
    float *din = s->lora_in; /* dropout(x) is no longer needed once dA (and dW) have it */
    be->zero(din, n_in * sizeof(float));
    be->matmul_backward(din, NULL, NULL, s->lora_dmid, x /* unread without dA */, lora->A->data,
                        HN_WEIGHT_F32, N, lin->in, lora->rank);
    if (ddropped != NULL)
        be->matmul_backward(din, NULL, NULL, ddropped, x /* unread without dW */, w->data,
                            w->type, N, lin->in, lin->out);
    be->dropout_backward(dx, din, p, dropout_seed(m, layer, lin->slot), n_in);
}
