/* SwiGLU (Shazeer, arXiv:2002.05202) as the Llama MLP uses it: out = silu(gate) * up with
 * silu(x) = x * sigmoid(x) (torch.nn.functional.silu).
 * Backward: d silu(x)/dx = s * (1 + x * (1 - s)), s = sigmoid(x). */
#include <math.h>

#include "cpu_ops.h"

static inline float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x)); /* expf overflows to inf for x < -88: s = 0, never NaN */
}

void hn_cpu_swiglu_forward(float *out, const float *gate, const float *up, int N, int H)
{
    size_t count = (size_t)N * H;
#pragma omp parallel for simd schedule(static) if (count > 32768)
    for (size_t i = 0; i < count; i++)
        out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

void hn_cpu_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                            const float *up, int N, int H)
{
    size_t count = (size_t)N * H;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < count; i++) {
        float g = gate[i];
        float s = sigmoid(g);
        dgate[i] += dout[i] * up[i] * s * (1.0f + g * (1.0f - s));
        dup[i] += dout[i] * g * s;
    }
}
