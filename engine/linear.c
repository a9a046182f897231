/* A linear layer with its optional LoRA adapter, forward and backward (Hu et al., "LoRA",
 * arXiv:2106.09685; PEFT's lora.Linear.forward: result + lora_B(lora_A(dropout(x))) *
 * scaling). Dropout masks come from a seed per forward, layer and linear, so the backward
 * (and a recomputed forward) draws the same mask.
 * With DoRA (Liu et al., "DoRA", arXiv:2402.09353; PEFT's DoraLinearLayer.forward, which adds
 * (g - 1) * x W^T + g * scaling * lora(x) to x W^T + b, g = magnitude / ||W + scaling B A||
 * per output row, the norm detached): out = g * pre + b with pre = x W^T + scaling lora(x)
 * kept for the backward, where d pre = g * dout and d magnitude = sum over rows of dout * pre
 * / norm. Dropout is refused with DoRA (model.c). */
#include "model_internal.h"

static uint64_t dropout_seed(const hn_model *m, int layer, int slot)
{
    return m->options.seed * 0x9E3779B97F4A7C15ull + m->forward_count * 0x100000001B3ull +
           (uint64_t)(layer * N_LINEARS + slot) * 0xC2B2AE3D27D4EB4Full;
}

/* dropout(x) into the scratch, or x itself when there is no dropout. */
static const float *lora_input(const hn_model *m, const hn_linear *lin, const float *x,
                               int layer, int N)
{
    float p = lin->lora->dropout;
    if (p <= 0)
        return x;
    float *dropped = m->act.scratch.lora_in;
    m->be->dropout_forward(dropped, x, p, dropout_seed(m, layer, lin->slot),
                           (size_t)N * (size_t)lin->in);
    return dropped;
}

void hn_linear_forward(const hn_model *m, const hn_linear *lin, float *out, const float *x,
                       hn_layer_acts *acts, int layer, int N)
{
    const hn_backend *be = m->be;
    const hn_param *w = lin->weight;
    const hn_lora *lora = lin->lora;
    const float *bias = lin->bias != NULL ? lin->bias->data : NULL;
    bool dora = lora != NULL && lora->magnitude != NULL;
    float *final_out = out;
    if (dora) { /* the sum before DoRA's scale, kept; the bias joins after the scale */
        out = acts->dora_pre[lin->slot]; /* [N, out] */
        bias = NULL;
    }
    be->matmul_forward(out, x, w->data, w->type, bias, N, lin->in, lin->out);
    if (lora == NULL)
        return;
    float *mid = acts->lora_mid[lin->slot]; /* [N, r] */
    const float *in = lora_input(m, lin, x, layer, N);
    be->matmul_forward(mid, in, lora->A->data, HN_WEIGHT_F32, NULL, N, lin->in, lora->rank);
    float *term = m->act.scratch.lora_out; /* [N, out] */
    be->matmul_forward(term, mid, lora->B->data, HN_WEIGHT_F32, NULL, N, lora->rank, lin->out);
    be->axpy(out, term, lora->scaling, (size_t)N * (size_t)lin->out);
    if (!dora)
        return;
    float *norm = acts->dora_norm[lin->slot]; /* [out] */
    be->dora_norm_forward(norm, w->data, w->type, lora->A->data, lora->B->data, lora->scaling,
                          lin->in, lin->out, lora->rank);
    be->dora_scale_forward(final_out, out, lora->magnitude->data, norm,
                           lin->bias != NULL ? lin->bias->data : NULL, N, lin->out);
}

void hn_linear_backward(const hn_model *m, const hn_linear *lin, float *dx, const float *dout,
                        const float *x, const hn_layer_acts *acts, int layer, int N)
{
    const hn_backend *be = m->be;
    const hn_param *w = lin->weight;
    const hn_lora *lora = lin->lora;
    const hn_scratch *s = &m->act.scratch;
    size_t n_out = (size_t)N * (size_t)lin->out;
    float *dbias = lin->bias != NULL ? lin->bias->grad : NULL;
    if (lora != NULL && lora->magnitude != NULL) { /* through DoRA's scale: dout becomes d pre */
        be->zero(s->dora_dpre, n_out * sizeof(float));
        be->dora_scale_backward(s->dora_dpre, lora->magnitude->grad, dbias, dout,
                                acts->dora_pre[lin->slot], lora->magnitude->data,
                                acts->dora_norm[lin->slot], N, lin->out);
        dout = s->dora_dpre;
        dbias = NULL;
    }
    be->matmul_backward(dx, w->grad, dbias, dout, x, w->data, w->type, N, lin->in, lin->out);
    if (lora == NULL)
        return;
    /* scaled = scaling * dout; then dmid = scaled @ B, dB += scaled^T @ mid */
    be->zero(s->dscaled, n_out * sizeof(float));
    be->axpy(s->dscaled, dout, lora->scaling, n_out);
    be->zero(s->lora_dmid, (size_t)N * (size_t)lora->rank * sizeof(float));
    be->matmul_backward(s->lora_dmid, lora->B->grad, NULL, s->dscaled, acts->lora_mid[lin->slot],
                        lora->B->data, HN_WEIGHT_F32, N, lora->rank, lin->out);
    /* dA += dmid^T @ dropout(x); d dropout(x) = dmid @ A */
    float p = lora->dropout;
    const float *in = lora_input(m, lin, x, layer, N);
    if (dx == NULL) {
        be->matmul_backward(NULL, lora->A->grad, NULL, s->lora_dmid, in, lora->A->data,
                            HN_WEIGHT_F32, N, lin->in, lora->rank);
    } else if (p <= 0) {
        be->matmul_backward(dx, lora->A->grad, NULL, s->lora_dmid, in, lora->A->data,
                            HN_WEIGHT_F32, N, lin->in, lora->rank);
    } else {
        size_t n_in = (size_t)N * (size_t)lin->in;
        float *din = s->lora_in; /* dropout(x) is no longer needed once dA has it */
        be->matmul_backward(NULL, lora->A->grad, NULL, s->lora_dmid, in, lora->A->data,
                            HN_WEIGHT_F32, N, lin->in, lora->rank);
        be->zero(din, n_in * sizeof(float));
        be->matmul_backward(din, NULL, NULL, s->lora_dmid, x /* unread without dA */,
                            lora->A->data, HN_WEIGHT_F32, N, lin->in, lora->rank);
        be->dropout_backward(dx, din, p, dropout_seed(m, layer, lin->slot), n_in);
    }
}
