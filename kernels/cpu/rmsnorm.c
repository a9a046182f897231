/* RMSNorm (Zhang & Sennrich, arXiv:1910.07467) as transformers' LlamaRMSNorm computes it:
 * y = x * rsqrt(mean(x^2) + eps) * w, in fp32.
 * Backward, with r = rsqrt(mean(x^2) + eps) and g = dy * w:
 *   dx = r * g - x * r^3 * sum(g * x) / C,   dw = sum over rows of dy * x * r. */
#include <math.h>

#include "cpu_ops.h"

void hn_cpu_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight,
                            float eps, int N, int C)
{
    /* threads only for enough work: one token's norm (decoding) costs less than waking them */
#pragma omp parallel for schedule(static) if ((size_t)N * (size_t)C > 32768)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        float sum_squares = 0.0f;
#pragma omp simd reduction(+ : sum_squares)
        for (int c = 0; c < C; c++)
            sum_squares += x[c] * x[c];
        float r = 1.0f / sqrtf(sum_squares / (float)C + eps);
        for (int c = 0; c < C; c++)
            y[c] = x[c] * r * weight[c];
        if (rstd != NULL)
            rstd[n] = r;
    }
}

void hn_cpu_rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                             const float *weight, const float *rstd, int N, int C)
{
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        const float *dy = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float r = rstd[n];
        float dot = 0.0f; /* sum(dy * w * x) */
#pragma omp simd reduction(+ : dot)
        for (int c = 0; c < C; c++)
            dot += dy[c] * weight[c] * x[c];
        float correction = r * r * r * dot / (float)C;
        for (int c = 0; c < C; c++)
            dx[c] += r * dy[c] * weight[c] - x[c] * correction;
    }
    if (dweight == NULL)
        return;
    int blocks = (C + HN_CPU_COLUMN_BLOCK - 1) / HN_CPU_COLUMN_BLOCK;
#pragma omp parallel for schedule(static)
    for (int block = 0; block < blocks; block++) {
        int begin = block * HN_CPU_COLUMN_BLOCK;
        int end = begin + HN_CPU_COLUMN_BLOCK < C ? begin + HN_CPU_COLUMN_BLOCK : C;
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C;
            const float *dy = dout + (size_t)n * C;
            for (int c = begin; c < end; c++)
                dweight[c] += dy[c] * x[c] * rstd[n];
        }
    }
}
