/* The CUDA backend's GEMM layout (kernels/cuda/gemm_plan.c), checked on the host: each
 * row-major request, turned into a cuBLASLt call's parameters, is applied by a plain
 * column-major GEMM with cuBLASLt's meaning (D = alpha op(A) op(B) + beta C, A and B read as
 * stored with their leading dimensions) and compared with a row-major triple loop on random
 * data: random shapes, both transposes, padded strides, and the exact requests the linear
 * layer's forward, dinp and dweight issue for a tile of weight rows inside a wider output.
 * Both sides sum the same products in the same order in double, so they must agree to
 * rounding of the final store (relative 1e-12 of the row's absolute sum). */
#include <math.h>
#include <stdlib.h>

#include <glib.h>

#include "cuda/gemm_plan.h"

/* What cuBLASLt computes for a plan, on host memory (a is cuBLASLt's A, b its B). */
static void column_major_gemm(const hn_gemm_plan *p, const double *a, const double *b, double *d,
                              double alpha, double beta)
{
    g_assert_cmpuint(p->d_rows, ==, (uint64_t)p->m);
    g_assert_cmpuint(p->d_cols, ==, (uint64_t)p->n);
    /* op(A) is m x k, op(B) is k x n, as stored shapes say */
    g_assert_cmpuint(p->trans_a ? p->a_cols : p->a_rows, ==, (uint64_t)p->m);
    g_assert_cmpuint(p->trans_a ? p->a_rows : p->a_cols, ==, (uint64_t)p->k);
    g_assert_cmpuint(p->trans_b ? p->b_cols : p->b_rows, ==, (uint64_t)p->k);
    g_assert_cmpuint(p->trans_b ? p->b_rows : p->b_cols, ==, (uint64_t)p->n);
    g_assert_cmpint(p->lda, >=, (int64_t)p->a_rows);
    g_assert_cmpint(p->ldb, >=, (int64_t)p->b_rows);
    g_assert_cmpint(p->ldd, >=, (int64_t)p->d_rows);
    for (int j = 0; j < p->n; j++)
        for (int i = 0; i < p->m; i++) {
            double sum = 0.0;
            for (int l = 0; l < p->k; l++) {
                double x = p->trans_a ? a[l + (size_t)i * p->lda] : a[i + (size_t)l * p->lda];
                double y = p->trans_b ? b[j + (size_t)l * p->ldb] : b[l + (size_t)j * p->ldb];
                sum += x * y;
            }
            double *out = &d[i + (size_t)j * p->ldd];
            *out = alpha * sum + beta * *out;
        }
}

/* The row-major meaning of a request, written independently of the plan. */
static void row_major_gemm(const hn_gemm_request *r, const double *a, const double *b, double *d,
                           double alpha, double beta)
{
    for (int i = 0; i < r->M; i++)
        for (int j = 0; j < r->N; j++) {
            double sum = 0.0;
            for (int l = 0; l < r->K; l++) {
                double x = r->trans_a ? a[(size_t)l * r->lda + i] : a[(size_t)i * r->lda + l];
                double y = r->trans_b ? b[(size_t)j * r->ldb + l] : b[(size_t)l * r->ldb + j];
                sum += x * y;
            }
            double *out = &d[(size_t)i * r->ldd + j];
            *out = alpha * sum + beta * *out;
        }
}

static double *random_buffer(GRand *rng, size_t n)
{
    double *x = g_new(double, n);
    for (size_t i = 0; i < n; i++)
        x[i] = g_rand_double_range(rng, -1.0, 1.0);
    return x;
}

/* Applies a request both ways on buffers of a_size, b_size, d_size elements, the operands
 * starting at the given offsets (as the ops pass dout + first, dW + first * C), and checks
 * that every element of D agrees and that nothing outside the request's D changed. */
static void check_request(GRand *rng, const hn_gemm_request *r, size_t a_size, size_t a_offset,
                          size_t b_size, size_t d_size, size_t d_offset, double beta)
{
    double *a = random_buffer(rng, a_size), *b = random_buffer(rng, b_size);
    double *d_plan = random_buffer(rng, d_size);
    double *d_reference = g_memdup2(d_plan, d_size * sizeof *d_plan);
    double alpha = g_rand_double_range(rng, 0.5, 2.0);
    hn_gemm_plan plan = hn_gemm_plan_make(r);
    g_assert_true(plan.a_is_request_b);
    column_major_gemm(&plan, b, a + a_offset, d_plan + d_offset, alpha, beta);
    row_major_gemm(r, a + a_offset, b, d_reference + d_offset, alpha, beta);
    double worst = 0.0;
    for (size_t i = 0; i < d_size; i++) {
        double error = fabs(d_plan[i] - d_reference[i]) / (1.0 + fabs(d_reference[i]));
        worst = fmax(worst, error);
    }
    g_test_message("M %d N %d K %d trans %d%d lda %" G_GINT64_FORMAT " ldb %" G_GINT64_FORMAT
                   " ldd %" G_GINT64_FORMAT ": worst relative difference %.1e",
                   r->M, r->N, r->K, r->trans_a, r->trans_b, r->lda, r->ldb, r->ldd, worst);
    g_assert_cmpfloat(worst, <=, 1e-12);
    g_free(a);
    g_free(b);
    g_free(d_plan);
    g_free(d_reference);
}

/* Random shapes, every transpose pair, strides padded past the minimum. */
static void test_random_requests(void)
{
    GRand *rng = g_rand_new_with_seed(9);
    for (int round = 0; round < 40; round++) {
        hn_gemm_request r = {.M = g_rand_int_range(rng, 1, 13), .N = g_rand_int_range(rng, 1, 13),
                             .K = g_rand_int_range(rng, 1, 13), .trans_a = round & 1,
                             .trans_b = (round >> 1) & 1};
        int a_cols = r.trans_a ? r.M : r.K, a_rows = r.trans_a ? r.K : r.M;
        int b_cols = r.trans_b ? r.K : r.N, b_rows = r.trans_b ? r.N : r.K;
        r.lda = a_cols + g_rand_int_range(rng, 0, 4);
        r.ldb = b_cols + g_rand_int_range(rng, 0, 4);
        r.ldd = r.N + g_rand_int_range(rng, 0, 4);
        check_request(rng, &r, (size_t)a_rows * r.lda, 0, (size_t)b_rows * r.ldb,
                      (size_t)r.M * r.ldd, 0, round % 3 == 0 ? 0.0 : 1.0);
    }
    g_rand_free(rng);
}

/* The linear layer's three requests for the tile of weight rows [first, first + rows) of OC,
 * on the buffers the ops pass (matmul products_matmul.c, products_cross_entropy.cu), against
 * the layer's own formulas: out = inp W^T, dinp += dout W, dW += dout^T inp. */
static void test_linear_tiles(void)
{
    GRand *rng = g_rand_new_with_seed(17);
    const int shapes[][3] = {{1, 32, 7}, {5, 16, 9}, {8, 3, 20}, {13, 11, 6}, {4, 64, 33}};
    for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
        int N = shapes[s][0], C = shapes[s][1], OC = shapes[s][2];
        int first = g_rand_int_range(rng, 0, OC), rows = g_rand_int_range(rng, 1, OC - first + 1);
        double *inp = random_buffer(rng, (size_t)N * C);
        double *weight = random_buffer(rng, (size_t)rows * C); /* the tile, as widened */
        double *dout = random_buffer(rng, (size_t)N * OC);

        /* forward into columns [first, first + rows) of out[N, OC] */
        hn_gemm_request forward = hn_gemm_linear_forward(N, C, rows, OC);
        double *out = random_buffer(rng, (size_t)N * OC);
        double *expected = g_memdup2(out, (size_t)N * OC * sizeof *out);
        hn_gemm_plan plan = hn_gemm_plan_make(&forward);
        column_major_gemm(&plan, weight, inp, out + first, 1.0, 0.0);
        for (int n = 0; n < N; n++)
            for (int o = 0; o < rows; o++) {
                double sum = 0.0;
                for (int c = 0; c < C; c++)
                    sum += inp[(size_t)n * C + c] * weight[(size_t)o * C + c];
                expected[(size_t)n * OC + first + o] = sum;
            }
        for (size_t i = 0; i < (size_t)N * OC; i++)
            g_assert_cmpfloat(fabs(out[i] - expected[i]), <=, 1e-12 * (1.0 + fabs(expected[i])));

        /* dinp[N, C] += dout[:, first : first + rows] @ W_tile */
        hn_gemm_request dinp_request = hn_gemm_linear_dinp(N, C, rows, OC);
        double *dinp = random_buffer(rng, (size_t)N * C);
        double *dinp_expected = g_memdup2(dinp, (size_t)N * C * sizeof *dinp);
        plan = hn_gemm_plan_make(&dinp_request);
        column_major_gemm(&plan, weight, dout + first, dinp, 1.0, 1.0);
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++) {
                double sum = 0.0;
                for (int o = 0; o < rows; o++)
                    sum += dout[(size_t)n * OC + first + o] * weight[(size_t)o * C + c];
                dinp_expected[(size_t)n * C + c] += sum;
            }
        for (size_t i = 0; i < (size_t)N * C; i++)
            g_assert_cmpfloat(fabs(dinp[i] - dinp_expected[i]), <=,
                              1e-12 * (1.0 + fabs(dinp_expected[i])));

        /* dW[first : first + rows, C] += dout[:, first : first + rows]^T @ inp, in dW[OC, C] */
        hn_gemm_request dweight_request = hn_gemm_linear_dweight(N, C, rows, OC);
        double *dweight = random_buffer(rng, (size_t)OC * C);
        double *dweight_expected = g_memdup2(dweight, (size_t)OC * C * sizeof *dweight);
        plan = hn_gemm_plan_make(&dweight_request);
        column_major_gemm(&plan, inp, dout + first, dweight + (size_t)first * C, 1.0, 1.0);
        for (int o = 0; o < rows; o++)
            for (int c = 0; c < C; c++) {
                double sum = 0.0;
                for (int n = 0; n < N; n++)
                    sum += dout[(size_t)n * OC + first + o] * inp[(size_t)n * C + c];
                dweight_expected[(size_t)(first + o) * C + c] += sum;
            }
        for (size_t i = 0; i < (size_t)OC * C; i++)
            g_assert_cmpfloat(fabs(dweight[i] - dweight_expected[i]), <=,
                              1e-12 * (1.0 + fabs(dweight_expected[i])));
        g_test_message("N %d C %d OC %d tile [%d, %d): forward, dinp, dweight agree", N, C, OC,
                       first, first + rows);

        g_free(inp);
        g_free(weight);
        g_free(dout);
        g_free(out);
        g_free(expected);
        g_free(dinp);
        g_free(dinp_expected);
        g_free(dweight);
        g_free(dweight_expected);
    }
    g_rand_free(rng);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernels/cuda/gemm_plan/random_requests", test_random_requests);
    g_test_add_func("/kernels/cuda/gemm_plan/linear_tiles", test_linear_tiles);
    return g_test_run();
}
