/* Helpers shared by the CPU ops: widening a stored weight row, column sums that do not depend
 * on the thread count. */
#include "cpu_ops.h"

void hn_cpu_weight_row_to_f32(float *dst, const void *weight, hn_weight_type type, size_t row,
                              int C)
{
    if (type == HN_WEIGHT_BF16) {
        const uint16_t *src = (const uint16_t *)weight + row * (size_t)C;
        for (int c = 0; c < C; c++)
            dst[c] = hn_cpu_bf16_to_f32(src[c]);
    } else {
        memcpy(dst, (const float *)weight + row * (size_t)C, (size_t)C * sizeof *dst);
    }
}

void hn_cpu_add_column_sums(float *dst, const float *src, int N, int C)
{
    int blocks = (C + HN_CPU_COLUMN_BLOCK - 1) / HN_CPU_COLUMN_BLOCK;
#pragma omp parallel for schedule(static)
    for (int block = 0; block < blocks; block++) {
        int begin = block * HN_CPU_COLUMN_BLOCK;
        int end = begin + HN_CPU_COLUMN_BLOCK < C ? begin + HN_CPU_COLUMN_BLOCK : C;
        for (int n = 0; n < N; n++) {
            const float *row = src + (size_t)n * C;
            for (int c = begin; c < end; c++)
                dst[c] += row[c];
        }
    }
}
