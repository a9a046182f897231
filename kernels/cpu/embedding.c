/* Token embedding: a gather of table rows forward, a scatter-add into the table's gradient
 * backward (torch.nn.functional.embedding). */
#include "cpu_ops.h"

void hn_cpu_embedding_forward(float *out, const int32_t *ids, const void *table,
                              hn_weight_type table_type, int N, int C)
{
#pragma omp parallel for schedule(static) if ((size_t)N * (size_t)C > 32768)
    for (int n = 0; n < N; n++)
        hn_cpu_weight_row_to_f32(out + (size_t)n * C, table, table_type, (size_t)ids[n], C);
}

void hn_cpu_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int N, int C)
{
    /* Threads own column blocks, so repeated ids never race and tokens add up in order. */
    int blocks = (C + HN_CPU_COLUMN_BLOCK - 1) / HN_CPU_COLUMN_BLOCK;
#pragma omp parallel for schedule(static)
    for (int block = 0; block < blocks; block++) {
        int begin = block * HN_CPU_COLUMN_BLOCK;
        int end = begin + HN_CPU_COLUMN_BLOCK < C ? begin + HN_CPU_COLUMN_BLOCK : C;
        for (int n = 0; n < N; n++) {
            float *dst = dtable + (size_t)ids[n] * C;
            const float *src = dout + (size_t)n * C;
            for (int c = begin; c < end; c++)
                dst[c] += src[c];
        }
    }
}
