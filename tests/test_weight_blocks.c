/* Weights kept in GGUF blocks (Q8_0, Q4_1) on the CPU backend, on random blocks: a row read
 * back equals the GGUF reader's dequantization bit for bit, and a linear layer on the blocks
 * (one row: the in-register matrix-vector kernel, each of its paths; several rows: widened
 * tiles) equals the same layer on the dequantized fp32 weight within rounding. The int8 decode
 * mode (cpu/matvec_int8.h): each path's integer block dot equals a plain integer reference
 * exactly, its row sums equal a float64 sum of the same terms within 1e-6 (of the sum of the
 * terms' absolute values), and its layer stays
 * within the error its input quantization allows of the fp32 layer. Products grouped in one
 * parallel region (block_matvec_group) equal the same products run alone, bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <omp.h>

#include "backend.h"
#include "cpu/matvec_int8.h"
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

/* The kernel paths: the best this CPU has, then AVX2 and plain C (HONE_CPU_KERNELS). */
static const char *const paths[] = {NULL, "avx2", "plain"};

static void use_path(int path)
{
    if (paths[path] != NULL)
        g_setenv("HONE_CPU_KERNELS", paths[path], TRUE);
    else
        g_unsetenv("HONE_CPU_KERNELS");
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

/* Weight j (0..31) of a block as its integer: Q8_0's int8, Q4_1's 4-bit q (ggml's layout,
 * weight_blocks.h: j < 16 the low nibble of qs[j], else the high nibble of qs[j - 16]). */
static int weight_q(const uint8_t *block, hn_weight_type type, int j)
{
    if (type == HN_WEIGHT_Q8_0)
        return (int8_t)block[2 + j];
    return j < 16 ? block[4 + j] & 0x0f : block[4 + j - 16] >> 4;
}

/* Input x [C] with blocks of different magnitudes, one block all zero, one with an exact
 * maximum at both signs. */
static float *random_input(GRand *rng, int C)
{
    float *x = random_floats(rng, (size_t)C);
    for (int b = 0; b < C / 32; b++) {
        float scale = (float)pow(10.0, g_rand_double_range(rng, -3.0, 2.0));
        for (int j = 0; j < 32; j++)
            x[b * 32 + j] *= b == 1 ? 0.0f : scale;
    }
    x[0] = 1.5f;
    x[1] = -1.5f;
    return x;
}

/* The quantized input obeys its definition: q in [-127, 127], |d q - x| <= d / 2 (plus the
 * rounding of x / d), the sums are the q's. */
static void check_quantized(const float *x, const int8_t *q, const float *d, const int32_t *sums,
                            int C)
{
    for (int b = 0; b < C / 32; b++) {
        int32_t sum = 0;
        float amax = 0;
        for (int j = 0; j < 32; j++)
            amax = fmaxf(amax, fabsf(x[b * 32 + j]));
        g_assert_cmpfloat(d[b], ==, amax / 127.0f);
        for (int j = 0; j < 32; j++) {
            int i = b * 32 + j;
            g_assert_cmpint(q[i], >=, -127);
            g_assert_cmpint(q[i], <=, 127);
            g_assert_cmpfloat(fabs((double)d[b] * q[i] - x[i]), <=, 0.5001 * d[b]);
            sum += q[i];
        }
        g_assert_cmpint(sums[b], ==, sum);
    }
}

/* Every path's integer block dot against a plain integer sum, and its rows against float64
 * sums of d_w d_x dot (+ m_w d_x sum q for Q4_1) within 1e-6 of the terms' absolute sum. */
static void check_int8_exact(hn_weight_type type, int OC, int C)
{
    GRand *rng = g_rand_new_with_seed((guint32)(type * 7919 + OC + C));
    uint8_t *blocks = random_blocks(rng, type, OC, C);
    float *x = random_input(rng, C);
    int blocks_per_row = C / 32;
    int8_t *q = g_new(int8_t, C);
    float *d = g_new(float, blocks_per_row);
    int32_t *sums = g_new(int32_t, blocks_per_row);
    use_path(2); /* plain C */
    hn_cpu_quantize_int8(q, d, sums, x, C);
    check_quantized(x, q, d, sums, C);
    /* every path quantizes to the same bytes, scales and sums as plain C */
    for (int path = 0; path < 3; path++) {
        int8_t *q_path = g_new(int8_t, C);
        float *d_path = g_new(float, blocks_per_row);
        int32_t *sums_path = g_new(int32_t, blocks_per_row);
        use_path(path);
        hn_cpu_quantize_int8(q_path, d_path, sums_path, x, C);
        g_assert_cmpmem(q_path, C, q, C);
        g_assert_cmpmem(d_path, blocks_per_row * sizeof(float), d, blocks_per_row * sizeof(float));
        g_assert_cmpmem(sums_path, blocks_per_row * sizeof(int32_t), sums,
                        blocks_per_row * sizeof(int32_t));
        g_free(sums_path);
        g_free(d_path);
        g_free(q_path);
    }
    size_t row_bytes = hn_weight_row_bytes(type, C), block_bytes = row_bytes / blocks_per_row;
    double *want = g_new(double, OC), *magnitude = g_new(double, OC);
    int32_t *dots = g_new(int32_t, (size_t)OC * blocks_per_row);
    for (int o = 0; o < OC; o++) {
        want[o] = magnitude[o] = 0;
        for (int b = 0; b < blocks_per_row; b++) {
            const uint8_t *block = blocks + o * row_bytes + b * block_bytes;
            int32_t dot = 0, absolute = 0;
            for (int j = 0; j < 32; j++) {
                dot += weight_q(block, type, j) * q[b * 32 + j];
                absolute += abs(weight_q(block, type, j) * q[b * 32 + j]);
            }
            dots[o * blocks_per_row + b] = dot;
            double scaled = (double)hn_f16_to_f32(*(const uint16_t *)block) * d[b] * dot;
            double min = type == HN_WEIGHT_Q4_1
                             ? (double)hn_f16_to_f32(*(const uint16_t *)(block + 2)) * d[b] * sums[b]
                             : 0.0;
            want[o] += scaled + min;
            /* the SIMD paths add partial sums of a block in fp32, so the scale of their
             * rounding is the sum of |products|, not |dot| */
            magnitude[o] += fabs(scaled / (dot != 0 ? dot : 1)) * absolute + fabs(min);
        }
    }
    float *got = g_new(float, OC);
    for (int path = 0; path < 3; path++) {
        use_path(path);
        for (int o = 0; o < OC; o++)
            for (int b = 0; b < blocks_per_row; b++)
                g_assert_cmpint(hn_cpu_int8_block_dot(blocks + o * row_bytes + b * block_bytes,
                                                      type, q + b * 32),
                                ==, dots[o * blocks_per_row + b]);
        memset(got, 0xff, OC * sizeof(float));
        hn_cpu_block_matvec_quantized(got, q, d, sums, blocks, type, false, C, OC);
        double worst = 0;
        for (int o = 0; o < OC; o++)
            worst = fmax(worst, fabs(got[o] - want[o]) / magnitude[o]);
        if (g_test_verbose())
            g_printerr("int8 type %d OC %d C %d path %s: row sums within %.2e\n", type, OC, C,
                       paths[path] != NULL ? paths[path] : "best", worst);
        g_assert_cmpfloat(worst, <=, 1e-6);
    }
    g_unsetenv("HONE_CPU_KERNELS");
    g_free(got);
    g_free(dots);
    g_free(want);
    g_free(magnitude);
    g_free(sums);
    g_free(d);
    g_free(q);
    g_free(x);
    g_free(blocks);
    g_rand_free(rng);
}

/* The backend's int8 layer (with and without bias, each path) beside the fp32 layer on the
 * dequantized weight. Each input value moves by at most d_x / 2 = max|x_block| / 254, so each
 * output by at most the sum over blocks of d_x / 2 * sum |w| (asserted per row, with 1e-5 of
 * the row's sum |w x| for fp32 rounding); for inputs uniform in [-1, 1] and weights of mean
 * about zero this is a relative L2 error of about (d_x / sqrt(12)) / (1 / sqrt(3)) = 1 / 254 =
 * 0.4% (asserted <= 1e-2; measured 0.24% to 0.39%). */
static void check_int8_vs_fp32(hn_weight_type type, int OC, int C)
{
    const hn_backend *cpu = hn_cpu_backend();
    GRand *rng = g_rand_new_with_seed((guint32)(type * 31 + OC + C));
    uint8_t *blocks = random_blocks(rng, type, OC, C);
    float *dense = g_new(float, (size_t)OC * C);
    hn_ggml_dequantize(ggml_type(type), blocks, dense, (int64_t)OC * C);
    float *x = random_floats(rng, (size_t)C), *bias = random_floats(rng, (size_t)OC);
    double *bound = g_new(double, OC);
    for (int o = 0; o < OC; o++) {
        double quantization = 0, rounding = 0;
        for (int b = 0; b < C / 32; b++) {
            double amax = 0, wsum = 0;
            for (int j = 0; j < 32; j++) {
                amax = fmax(amax, fabs(x[b * 32 + j]));
                wsum += fabs(dense[(size_t)o * C + b * 32 + j]);
                rounding += fabs(dense[(size_t)o * C + b * 32 + j] * x[b * 32 + j]);
            }
            quantization += amax / 254.0 * wsum;
        }
        bound[o] = quantization + 1e-5 * (rounding + 1.0);
    }
    float *want = g_new(float, OC), *got = g_new(float, OC);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        const float *b = with_bias ? bias : NULL;
        cpu->matmul_forward(want, x, dense, HN_WEIGHT_F32, b, 1, C, OC);
        for (int path = 0; path < 3; path++) {
            use_path(path);
            memset(got, 0xff, OC * sizeof(float));
            cpu->block_matvec_int8(got, x, blocks, type, b, C, OC);
            double diff2 = 0, want2 = 0;
            for (int o = 0; o < OC; o++) {
                g_assert_true(isfinite(got[o]));
                g_assert_cmpfloat(fabs((double)got[o] - want[o]), <=, bound[o]);
                double plain = want[o] - (b != NULL ? b[o] : 0.0f); /* x W^T alone */
                diff2 += ((double)got[o] - want[o]) * ((double)got[o] - want[o]);
                want2 += plain * plain;
            }
            double relative = sqrt(diff2 / want2);
            if (g_test_verbose())
                g_printerr("int8 vs fp32 type %d OC %d C %d bias %d path %s: relative L2 "
                           "%.2e\n", type, OC, C, with_bias,
                           paths[path] != NULL ? paths[path] : "best", relative);
            g_assert_cmpfloat(relative, <=, 1e-2);
            g_assert_cmpfloat(relative, >, 0); /* the int8 path ran, not the fp32 one */
        }
    }
    g_unsetenv("HONE_CPU_KERNELS");
    g_free(want);
    g_free(got);
    g_free(bound);
    g_free(bias);
    g_free(x);
    g_free(dense);
    g_free(blocks);
    g_rand_free(rng);
}

/* An Inf or a NaN in the input makes every output NaN (as in the fp32 product, where it meets
 * a non-zero weight), on every path. */
static void check_int8_nonfinite(hn_weight_type type)
{
    const hn_backend *cpu = hn_cpu_backend();
    GRand *rng = g_rand_new_with_seed(5u + (guint32)type);
    int OC = 19, C = 64;
    uint8_t *blocks = random_blocks(rng, type, OC, C);
    float *x = random_floats(rng, (size_t)C), out[19];
    for (int bad = 0; bad < 2; bad++) {
        x[40] = bad ? NAN : INFINITY;
        for (int path = 0; path < 3; path++) {
            use_path(path);
            cpu->block_matvec_int8(out, x, blocks, type, NULL, C, OC);
            for (int o = 0; o < OC; o++)
                g_assert_true(isnan(out[o]));
        }
    }
    g_unsetenv("HONE_CPU_KERNELS");
    g_free(x);
    g_free(blocks);
    g_rand_free(rng);
}

static void test_int8_q8_0(void)
{
    check_int8_exact(HN_WEIGHT_Q8_0, 67, 96);
    check_int8_exact(HN_WEIGHT_Q8_0, 1531, 576);
    check_int8_vs_fp32(HN_WEIGHT_Q8_0, 67, 96);
    check_int8_vs_fp32(HN_WEIGHT_Q8_0, 1531, 576);
    check_int8_nonfinite(HN_WEIGHT_Q8_0);
}

static void test_int8_q4_1(void)
{
    check_int8_exact(HN_WEIGHT_Q4_1, 67, 96);
    check_int8_exact(HN_WEIGHT_Q4_1, 2053, 576);
    check_int8_vs_fp32(HN_WEIGHT_Q4_1, 67, 96);
    check_int8_vs_fp32(HN_WEIGHT_Q4_1, 2053, 576);
    check_int8_nonfinite(HN_WEIGHT_Q4_1);
}

/* block_matvec_group (products sharing their input in one parallel region): every part's
 * output equals, bit for bit, the same product run alone (matmul_forward with N = 1, or
 * block_matvec_int8), for a mix of formats, sizes below and above the parallel threshold,
 * with and without bias, on 1, 2 and 3 threads (so a thread's range of rows spans the end of
 * one part and the start of the next) and on each kernel path. */
static void test_group(void)
{
    const hn_backend *cpu = hn_cpu_backend();
    GRand *rng = g_rand_new_with_seed(77u);
    enum { COUNT = 4, C = 576 };
    const hn_weight_type types[COUNT] = {HN_WEIGHT_Q4_1, HN_WEIGHT_Q8_0, HN_WEIGHT_Q4_1,
                                         HN_WEIGHT_Q8_0};
    const int OCs[COUNT] = {1531, 33, 97, 577};
    uint8_t *blocks[COUNT];
    float *bias[COUNT], *want[COUNT], *got[COUNT];
    hn_matvec_part parts[COUNT];
    float *x = random_floats(rng, C);
    for (int i = 0; i < COUNT; i++) {
        blocks[i] = random_blocks(rng, types[i], OCs[i], C);
        bias[i] = i % 2 == 0 ? random_floats(rng, (size_t)OCs[i]) : NULL;
        want[i] = g_new(float, OCs[i]);
        got[i] = g_new(float, OCs[i]);
        parts[i] = (hn_matvec_part){got[i], blocks[i], types[i], bias[i], OCs[i]};
    }
    int threads = omp_get_max_threads();
    for (int int8 = 0; int8 < 2; int8++)
        for (int path = 0; path < 3; path++) {
            use_path(path);
            for (int i = 0; i < COUNT; i++)
                if (int8)
                    cpu->block_matvec_int8(want[i], x, blocks[i], types[i], bias[i], C, OCs[i]);
                else
                    cpu->matmul_forward(want[i], x, blocks[i], types[i], bias[i], 1, C, OCs[i]);
            for (int count = 1; count <= COUNT; count++)
                for (int t = 1; t <= 3; t++) {
                    omp_set_num_threads(t);
                    for (int i = 0; i < count; i++)
                        memset(got[i], 0xff, (size_t)OCs[i] * sizeof(float));
                    cpu->block_matvec_group(parts, count, x, int8, C);
                    for (int i = 0; i < count; i++)
                        g_assert_cmpmem(got[i], (size_t)OCs[i] * sizeof(float), want[i],
                                        (size_t)OCs[i] * sizeof(float));
                }
            omp_set_num_threads(threads);
        }
    g_unsetenv("HONE_CPU_KERNELS");
    for (int i = 0; i < COUNT; i++) {
        g_free(blocks[i]);
        g_free(bias[i]);
        g_free(want[i]);
        g_free(got[i]);
    }
    g_free(x);
    g_rand_free(rng);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernels/cpu/weight_blocks/q8_0", test_q8_0);
    g_test_add_func("/kernels/cpu/weight_blocks/q4_1", test_q4_1);
    g_test_add_func("/kernels/cpu/weight_blocks/int8_q8_0", test_int8_q8_0);
    g_test_add_func("/kernels/cpu/weight_blocks/int8_q4_1", test_int8_q4_1);
    g_test_add_func("/kernels/cpu/weight_blocks/group", test_group);
    return g_test_run();
}
