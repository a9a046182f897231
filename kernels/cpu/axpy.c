/* y += alpha * x, the one elementwise sum the engine needs (residual connections, LoRA's
 * scaled branch). */
#include "cpu_ops.h"

void hn_cpu_axpy(float *y, const float *x, float alpha, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++)
        y[i] += alpha * x[i];
}
