/* Inverted dropout (Srivastava et al., JMLR 2014; scaled at training time as torch's
 * nn.Dropout): kept elements are divided by 1 - p. The mask is hn_dropout_keep's, recomputed
 * in the backward rather than stored. */
#include "cpu_ops.h"

void hn_cpu_dropout_forward(float *out, const float *inp, float p, uint64_t seed, size_t n)
{
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = hn_dropout_keep(seed, i, p) ? inp[i] * scale : 0.0f;
}

void hn_cpu_dropout_backward(float *dinp, const float *dout, float p, uint64_t seed, size_t n)
{
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++)
        if (hn_dropout_keep(seed, i, p))
            dinp[i] += dout[i] * scale;
}
