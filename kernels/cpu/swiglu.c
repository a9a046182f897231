/* SwiGLU (Shazeer, arXiv:2002.05202) as the Llama MLP uses it: out = silu(gate) * up with
 * silu(x) = x * sigmoid(x) (torch.nn.functional.silu).
 * Backward: d silu(x)/dx = s * (1 + x * (1 - s)), s = sigmoid(x).
 * The element loops are row kernels (vector_math.h) around fast_exp; each thread takes one
 * contiguous range of elements. */
#include <omp.h>

#include "cpu_ops.h"
#include "vector_math.h"

/* fast_exp clamps its argument to [-87, 88]: for x < -87, s is ~1e-38 instead of 0, and x * s
 * still underflows to (almost) nothing; NaN stays NaN */
static inline float sigmoid(float x)
{
    return 1.0f / (1.0f + fast_exp(-x));
}

ROW_KERNEL
static void swiglu_forward_range(float *out, const float *gate, const float *up, size_t first,
                                 size_t last)
{
#pragma omp simd
    for (size_t i = first; i < last; i++)
        out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

ROW_KERNEL
static void swiglu_backward_range(float *dgate, float *dup, const float *dout, const float *gate,
                                  const float *up, size_t first, size_t last)
{
#pragma omp simd
    for (size_t i = first; i < last; i++) {
        float g = gate[i];
        float s = sigmoid(g);
        dgate[i] += dout[i] * up[i] * s * (1.0f + g * (1.0f - s));
        dup[i] += dout[i] * g * s;
    }
}

/* This thread's share [*first, *last) of count elements. */
static void thread_range(size_t count, size_t *first, size_t *last)
{
    size_t threads = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
    *first = count * id / threads;
    *last = count * (id + 1) / threads;
}

void hn_cpu_swiglu_forward(float *out, const float *gate, const float *up, int N, int H)
{
    size_t count = (size_t)N * H;
    /* threads only for enough work: one decoded token's MLP costs less than waking them */
#pragma omp parallel if (count > 32768)
    {
        size_t first, last;
        thread_range(count, &first, &last);
        swiglu_forward_range(out, gate, up, first, last);
    }
}

void hn_cpu_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                            const float *up, int N, int H)
{
    size_t count = (size_t)N * H;
#pragma omp parallel
    {
        size_t first, last;
        thread_range(count, &first, &last);
        swiglu_backward_range(dgate, dup, dout, gate, up, first, last);
    }
}
