/* Helpers shared by the CPU ops: widening a stored weight row, column sums that do not depend
 * on the thread count. */
#include "cpu_ops.h"

void hn_cpu_weight_row_to_f32(float *dst, const void *weight, hn_weight_type type, size_t row,
                              int C)
{
    const uint8_t *src = (const uint8_t *)weight + row * hn_weight_row_bytes(type, C);
    switch (type) {
    case HN_WEIGHT_BF16:
        for (int c = 0; c < C; c++) {
            uint16_t bits;
            memcpy(&bits, src + 2 * (size_t)c, sizeof bits);
            dst[c] = hn_cpu_bf16_to_f32(bits);
        }
        break;
    case HN_WEIGHT_Q8_0:
        for (int b = 0; b < C / HN_BLOCK_ELEMENTS; b++)
            hn_block_q8_0_to_f32(src + (size_t)b * HN_Q8_0_BLOCK_BYTES,
                                 dst + b * HN_BLOCK_ELEMENTS);
        break;
    case HN_WEIGHT_Q4_1:
        for (int b = 0; b < C / HN_BLOCK_ELEMENTS; b++)
            hn_block_q4_1_to_f32(src + (size_t)b * HN_Q4_1_BLOCK_BYTES,
                                 dst + b * HN_BLOCK_ELEMENTS);
        break;
    default:
        memcpy(dst, src, (size_t)C * sizeof *dst);
        break;
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
