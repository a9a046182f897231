/* The optimizer's ops: the squared L2 norm of gradients (for clipping as
 * torch.nn.utils.clip_grad_norm_) and one AdamW step in the order of operations of
 * torch.optim.AdamW's single-tensor path (torch/optim/adamw.py, adam.py). */
#include <glib.h>
#include <math.h>

#include "cpu_ops.h"

/* Elements summed per chunk; chunk sums are added in order, so the norm does not depend on
 * the thread count. */
enum { NORM_CHUNK = 1 << 16 };

void hn_cpu_norm_squared_accumulate(float *sum_squares, const float *x, size_t n)
{
    size_t chunks = (n + NORM_CHUNK - 1) / NORM_CHUNK;
    double *partial = g_new(double, chunks > 0 ? chunks : 1);
#pragma omp parallel for schedule(static)
    for (size_t chunk = 0; chunk < chunks; chunk++) {
        size_t begin = chunk * NORM_CHUNK, end = begin + NORM_CHUNK < n ? begin + NORM_CHUNK : n;
        double sum = 0.0;
#pragma omp simd reduction(+ : sum)
        for (size_t i = begin; i < end; i++)
            sum += (double)x[i] * x[i];
        partial[chunk] = sum;
    }
    double total = sum_squares[0];
    for (size_t chunk = 0; chunk < chunks; chunk++)
        total += partial[chunk];
    sum_squares[0] = (float)total;
    g_free(partial);
}

void hn_cpu_adamw_step(float *param, float *m, float *v, const float *grad, size_t n, double lr,
                       double beta1, double beta2, double eps, double weight_decay,
                       float grad_scale, int64_t step)
{
    /* Scalars in double as torch computes them in Python, then used in fp32. */
    float decay = (float)(1.0 - lr * weight_decay);
    float step_size = (float)(lr / (1.0 - pow(beta1, (double)step)));
    float bias_correction2_sqrt = (float)sqrt(1.0 - pow(beta2, (double)step));
    float m_weight = (float)(1.0 - beta1), v_weight = (float)(1.0 - beta2);
    float beta1_f = (float)beta1, beta2_f = (float)beta2, eps_f = (float)eps;
    /* m.lerp_(g, 1 - beta1): torch's lerp uses the form that is exact at its nearer end */
    bool lerp_from_m = m_weight < 0.5f;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] * grad_scale;
        float p = param[i] * decay;
        float mi = lerp_from_m ? m[i] + m_weight * (g - m[i]) : g - (g - m[i]) * beta1_f;
        float vi = v[i] * beta2_f + v_weight * g * g;
        float denominator = sqrtf(vi) / bias_correction2_sqrt + eps_f;
        param[i] = p - step_size * (mi / denominator);
        m[i] = mi;
        v[i] = vi;
    }
}
