/* DoRA, weight-decomposed LoRA (Liu et al., "DoRA", arXiv:2402.09353), as PEFT computes it
 * (peft/tuners/lora/dora.py, DoraLinearLayer): the row norms of the adapted weight
 * ||W + scaling B A|| (get_weight_norm; detached, so no backward), and the scale of each output
 * column by magnitude / norm, with its backward. */
#include <cblas.h>
#include <glib.h>
#include <math.h>

#include "cpu_ops.h"

/* Rows of W + scaling B A formed per tile: about 1 MiB of fp32, at least 16 rows. */
static int tile_rows(int C, int OC)
{
    int rows = (1 << 18) / (C > 0 ? C : 1);
    if (rows < 16)
        rows = 16;
    return rows < OC ? rows : OC;
}

void hn_cpu_dora_norm_forward(float *norm, const void *weight, hn_weight_type weight_type,
                              const float *lora_a, const float *lora_b, float scaling, int C,
                              int OC, int r)
{
    int rows = tile_rows(C, OC);
    float *tile = g_new(float, (size_t)rows * C); /* [rows, C] */
    for (int first = 0; first < OC; first += rows) {
        int count = first + rows <= OC ? rows : OC - first;
#pragma omp parallel for schedule(static)
        for (int o = 0; o < count; o++)
            hn_cpu_weight_row_to_f32(tile + (size_t)o * C, weight, weight_type,
                                     (size_t)first + o, C);
        /* tile += scaling * B[first : first + count] @ A */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, count, C, r, scaling,
                    lora_b + (size_t)first * r, r, lora_a, C, 1.0f, tile, C);
#pragma omp parallel for schedule(static)
        for (int o = 0; o < count; o++) {
            const float *row = tile + (size_t)o * C;
            double sum_squares = 0.0;
            for (int c = 0; c < C; c++)
                sum_squares += (double)row[c] * row[c];
            norm[first + o] = (float)sqrt(sum_squares);
        }
    }
    g_free(tile);
}

void hn_cpu_dora_scale_forward(float *out, const float *inp, const float *magnitude,
                               const float *norm, const float *bias, int N, int OC)
{
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * OC;
        float *y = out + (size_t)n * OC;
        for (int o = 0; o < OC; o++) {
            float g = magnitude[o] / norm[o];
            y[o] = x[o] * g + (bias != NULL ? bias[o] : 0.0f);
        }
    }
}

void hn_cpu_dora_scale_backward(float *dinp, float *dmagnitude, float *dbias, const float *dout,
                                const float *inp, const float *magnitude, const float *norm,
                                int N, int OC)
{
    if (dinp != NULL) {
#pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++) {
            const float *dy = dout + (size_t)n * OC;
            float *dx = dinp + (size_t)n * OC;
            for (int o = 0; o < OC; o++)
                dx[o] += dy[o] * (magnitude[o] / norm[o]);
        }
    }
    if (dbias != NULL)
        hn_cpu_add_column_sums(dbias, dout, N, OC);
    if (dmagnitude == NULL)
        return;
    /* Column blocks per thread, rows in order: the same bits on any thread count. */
    int blocks = (OC + HN_CPU_COLUMN_BLOCK - 1) / HN_CPU_COLUMN_BLOCK;
#pragma omp parallel for schedule(static)
    for (int block = 0; block < blocks; block++) {
        int begin = block * HN_CPU_COLUMN_BLOCK;
        int end = begin + HN_CPU_COLUMN_BLOCK < OC ? begin + HN_CPU_COLUMN_BLOCK : OC;
        float sums[HN_CPU_COLUMN_BLOCK] = {0};
        for (int n = 0; n < N; n++) {
            const float *dy = dout + (size_t)n * OC;
            const float *x = inp + (size_t)n * OC;
            for (int o = begin; o < end; o++)
                sums[o - begin] += dy[o] * x[o];
        }
        for (int o = begin; o < end; o++)
            dmagnitude[o] += sums[o - begin] / norm[o];
    }
}
