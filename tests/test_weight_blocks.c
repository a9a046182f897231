/* Weights kept in GGUF blocks (Q8_0, Q4_1) on the CPU backend, on random blocks: a row read
 * back equals the GGUF reader's dequantization bit for bit, and a linear layer on the blocks
 * (one row: the in-register matrix-vector kernel, each of its paths; several rows: widened
 * tiles) equals the same layer on the dequantized fp32 weight within rounding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "backend.h"
#include "dtype.h"
#include "gguf_quant.h"
#include "weight_blocks.h"

/* A random fp16 scale in about +-[1e-3, 0.5] (sign as given). */
static uint16_t random_scale(GRand *rng, bool negative_ok)
{
    float magnitude = (float)pow(10.0, g_rand_double_range(rng, -3.0, -0.3));
    bool negative = negative_ok && g_rand_boolean(rng);
    return hn_f32_to_f16(negative ? -magnitude : magnitude);
}

/* rows x C weights of random blocks in the format's bytes. */
static uint8_t *random_blocks(GRand *rng, hn_weight_type type, int rows, int C)
{
    size_t row_bytes = hn_weight_row_bytes(type, C), n_blocks = (size_t)rows * C / 32;
    uint8_t *bytes = g_malloc(row_bytes * rows);
    size_t block_bytes = row_bytes / (C / 32);
    for (size_t b = 0; b < n_blocks; b++) {
        uint8_t *block = bytes + b * block_bytes;
        for (size_t i = 0; i < block_bytes; i++)
            block[i] = (uint8_t)g_rand_int_range(rng, 0, 256);
        uint16_t d = random_scale(rng, type == HN_WEIGHT_Q8_0);
        memcpy(block, &d, 2);
        if (type == HN_WEIGHT_Q4_1) {
            uint16_t m = hn_f32_to_f16((float)g_rand_double_range(rng, -4.0, 0.0) *
                                       hn_f16_to_f32(d));
            memcpy(block + 2, &m, 2);
        }
    }
    return bytes;
}

static float *random_floats(GRand *rng, size_t n)
{
    float *x = g_new(float, n);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)g_rand_double_range(rng, -1.0, 1.0);
    return x;
}

static uint32_t ggml_type(hn_weight_type type)
{
    return type == HN_WEIGHT_Q8_0 ? HN_GGML_Q8_0 : HN_GGML_Q4_1;
}

/* max |got - want| over max |want|, with want from an fp32 layer on the dequantized weight. */
static double relative_error(const float *got, const float *want, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        g_assert_true(isfinite(got[i]));
        diff = fmax(diff, fabs((double)got[i] - want[i]));
        scale = fmax(scale, fabs((double)want[i]));
    }
    return diff / scale;
}

static void check_format(hn_weight_type type, int OC, int C)
{
    const hn_backend *cpu = hn_cpu_backend();
    GRand *rng = g_rand_new_with_seed((guint32)(type * 1000 + OC + C));
    uint8_t *blocks = random_blocks(rng, type, OC, C);
    float *dense = g_new(float, (size_t)OC * C);
    hn_ggml_dequantize(ggml_type(type), blocks, dense, (int64_t)OC * C);

    /* every row read back (embedding lookups of all ids) equals the dequantization */
    int32_t *ids = g_new(int32_t, OC);
    for (int i = 0; i < OC; i++)
        ids[i] = OC - 1 - i;
    float *rows = g_new(float, (size_t)OC * C);
    cpu->embedding_forward(rows, ids, blocks, type, OC, C);
    for (int i = 0; i < OC; i++)
        g_assert_cmpmem(rows + (size_t)i * C, C * sizeof(float),
                        dense + (size_t)ids[i] * C, C * sizeof(float));

    /* linear layers: 1 row (with and without bias, each kernel path) and 5 rows */
    float *bias = random_floats(rng, OC);
    for (int N = 1; N <= 5; N += 4) {
        float *x = random_floats(rng, (size_t)N * C);
        float *want = g_new(float, (size_t)N * OC), *got = g_new(float, (size_t)N * OC);
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const float *b = with_bias ? bias : NULL;
            cpu->matmul_forward(want, x, dense, HN_WEIGHT_F32, b, N, C, OC);
            /* one row: the best path, then AVX2 and plain C (the paths this CPU has) */
            static const char *const paths[] = {NULL, "avx2", "plain"};
            for (int path = 0; path < (N == 1 ? 3 : 1); path++) {
                if (paths[path] != NULL)
                    g_setenv("HONE_CPU_KERNELS", paths[path], TRUE);
                memset(got, 0xff, (size_t)N * OC * sizeof(float)); /* NaNs: every output is written */
                cpu->matmul_forward(got, x, blocks, type, b, N, C, OC);
                g_unsetenv("HONE_CPU_KERNELS");
                double error = relative_error(got, want, (size_t)N * OC);
                if (g_test_verbose())
                    g_printerr("type %d OC %d C %d N %d bias %d path %s: %.2e\n", type, OC, C,
                               N, with_bias, paths[path] != NULL ? paths[path] : "best", error);
                g_assert_cmpfloat(error, <, 2e-6);
            }
        }
        g_free(x);
        g_free(want);
        g_free(got);
    }
    g_free(bias);
    g_free(rows);
    g_free(ids);
    g_free(dense);
    g_free(blocks);
    g_rand_free(rng);
}

static void test_q8_0(void)
{
    check_format(HN_WEIGHT_Q8_0, 67, 96);    /* odd rows: uneven thread ranges; serial */
    check_format(HN_WEIGHT_Q8_0, 1531, 576); /* large enough to run in parallel */
}

static void test_q4_1(void)
{
    check_format(HN_WEIGHT_Q4_1, 67, 96);
    check_format(HN_WEIGHT_Q4_1, 2053, 576);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernels/cpu/weight_blocks/q8_0", test_q8_0);
    g_test_add_func("/kernels/cpu/weight_blocks/q4_1", test_q4_1);
    return g_test_run();
}
