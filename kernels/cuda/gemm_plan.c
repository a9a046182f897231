/* Row-major GEMM requests turned into column-major cuBLASLt calls (see gemm_plan.h for the
 * derivation), and the three requests of a linear layer. Pure arithmetic, no CUDA. */
#include "gemm_plan.h"

hn_gemm_plan hn_gemm_plan_make(const hn_gemm_request *r)
{
    hn_gemm_plan p = {0};
    p.a_is_request_b = true;
    p.m = r->N;
    p.n = r->M;
    p.k = r->K;
    /* cuBLASLt's A = the request's B read column-major: stored [K, N] row-major is [N, K]
     * column-major = op(A) with no transpose; stored [N, K] is [K, N] column-major, op T. */
    p.trans_a = r->trans_b;
    p.a_rows = (uint64_t)(r->trans_b ? r->K : r->N);
    p.a_cols = (uint64_t)(r->trans_b ? r->N : r->K);
    p.lda = r->ldb;
    /* cuBLASLt's B = the request's A: stored [M, K] row-major is [K, M] column-major = op(B)
     * (k x n) with no transpose; stored [K, M] is [M, K] column-major, op T. */
    p.trans_b = r->trans_a;
    p.b_rows = (uint64_t)(r->trans_a ? r->M : r->K);
    p.b_cols = (uint64_t)(r->trans_a ? r->K : r->M);
    p.ldb = r->lda;
    /* D[M, N] row-major = D^T [N, M] column-major */
    p.d_rows = (uint64_t)r->N;
    p.d_cols = (uint64_t)r->M;
    p.ldd = r->ldd;
    return p;
}

hn_gemm_request hn_gemm_linear_forward(int N, int C, int rows, int OC)
{
    /* out[N, rows] = inp[N, C] @ (W_tile[rows, C])^T */
    hn_gemm_request r = {.M = N, .N = rows, .K = C, .trans_a = false, .trans_b = true,
                         .lda = C, .ldb = C, .ldd = OC};
    return r;
}

hn_gemm_request hn_gemm_linear_dinp(int N, int C, int rows, int OC)
{
    /* dinp[N, C] += dout_tile[N, rows] (row stride OC) @ W_tile[rows, C] */
    hn_gemm_request r = {.M = N, .N = C, .K = rows, .trans_a = false, .trans_b = false,
                         .lda = OC, .ldb = C, .ldd = C};
    return r;
}

hn_gemm_request hn_gemm_linear_dweight(int N, int C, int rows, int OC)
{
    /* dW_tile[rows, C] += (dout_tile stored [N, rows], row stride OC)^T @ inp[N, C] */
    hn_gemm_request r = {.M = rows, .N = C, .K = N, .trans_a = true, .trans_b = false,
                         .lda = OC, .ldb = C, .ldd = C};
    return r;
}
