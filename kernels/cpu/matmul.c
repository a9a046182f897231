/* The linear layer out = inp @ W^T + b and its backward, on OpenBLAS's sgemm. An fp32 weight
 * goes to sgemm as it is; a bf16 or block weight is widened a tile of rows at a time into a
 * small fp32 buffer, so the whole matrix is never expanded; one row times a block weight
 * decodes the blocks in registers instead (matvec_blocks.c). */
#include <cblas.h>
#include <glib.h>

#include "cpu_ops.h"

/* Rows of a bf16 weight widened per tile: about 1 MiB of fp32, at least 16 rows. */
static int tile_rows(int C, int OC)
{
    int rows = (1 << 18) / (C > 0 ? C : 1);
    if (rows < 16)
        rows = 16;
    return rows < OC ? rows : OC;
}

/* tile[rows, C] = weight[first : first + rows] in fp32. */
static void widen_tile(float *tile, const void *weight, hn_weight_type type, int first, int rows,
                       int C)
{
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++)
        hn_cpu_weight_row_to_f32(tile + (size_t)r * C, weight, type, (size_t)first + r, C);
}

void hn_cpu_matmul_forward(float *out, const float *inp, const void *weight,
                           hn_weight_type weight_type, const float *bias, int N, int C, int OC)
{
    /* With a bias, out starts as the bias on every row and sgemm adds to it (beta = 1). */
    float beta = 0.0f;
    if (bias != NULL) {
#pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++)
            memcpy(out + (size_t)n * OC, bias, (size_t)OC * sizeof *out);
        beta = 1.0f;
    }
    if (weight_type == HN_WEIGHT_F32) {
        /* one row (decoding a token): a matrix-vector product reads the weight once, where
         * sgemm would first copy it into its packed layout */
        if (N == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, OC, C, 1.0f, weight, C, inp, 1, beta, out,
                        1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, weight,
                        C, beta, out, OC);
        return;
    }
    if (N == 1 && (weight_type == HN_WEIGHT_Q8_0 || weight_type == HN_WEIGHT_Q4_1)) {
        hn_cpu_block_matvec(out, inp, weight, weight_type, bias != NULL, C, OC);
        return;
    }
    int rows = tile_rows(C, OC);
    float *tile = g_new(float, (size_t)rows * C);
    for (int first = 0; first < OC; first += rows) {
        int count = first + rows <= OC ? rows : OC - first;
        widen_tile(tile, weight, weight_type, first, count, C);
        /* out[:, first : first + count] (+)= inp @ tile^T */
        if (N == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, count, C, 1.0f, tile, C, inp, 1, beta,
                        out + first, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, count, C, 1.0f, inp, C,
                        tile, C, beta, out + first, OC);
    }
    g_free(tile);
}

/* dinp[N, C] += dout[N, OC] @ weight[OC, C] */
static void matmul_backward_input(float *dinp, const float *dout, const void *weight,
                                  hn_weight_type weight_type, int N, int C, int OC)
{
    if (weight_type == HN_WEIGHT_F32) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight,
                    C, 1.0f, dinp, C);
        return;
    }
    int rows = tile_rows(C, OC);
    float *tile = g_new(float, (size_t)rows * C);
    for (int first = 0; first < OC; first += rows) {
        int count = first + rows <= OC ? rows : OC - first;
        widen_tile(tile, weight, weight_type, first, count, C);
        /* dinp += dout[:, first : first + count] @ tile */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, count, 1.0f, dout + first,
                    OC, tile, C, 1.0f, dinp, C);
    }
    g_free(tile);
}

void hn_cpu_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const void *weight, hn_weight_type weight_type,
                            int N, int C, int OC)
{
    if (dinp != NULL)
        matmul_backward_input(dinp, dout, weight, weight_type, N, C, OC);
    if (dweight != NULL) /* dweight[OC, C] += dout^T @ inp */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C,
                    1.0f, dweight, C);
    if (dbias != NULL)
        hn_cpu_add_column_sums(dbias, dout, N, OC);
}
