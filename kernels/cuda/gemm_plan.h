/* The layout arithmetic of the CUDA backend's GEMMs, kept apart from any CUDA call so that it
 * is unit-tested on the host (tests/test_cuda_gemm_plan.c). Hone's matrices are row-major;
 * cuBLASLt's are column-major (cuBLASLt docs, "cublasLtMatmul": D = alpha op(A) op(B) +
 * beta C, A described as stored, op(A) m x k). A row-major D[M, N] with row stride ldd is the
 * column-major D^T [N, M] with leading dimension ldd, and D^T = op(B)^T op(A)^T, so a
 * row-major product is one column-major call with the operands swapped: cuBLASLt's A is the
 * row-major B, cuBLASLt's B is the row-major A, m = N, n = M, k = K, and each transpose flag
 * kept as it is (a row-major [r, c] buffer read column-major is already its transpose). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A row-major product D[M, N] = alpha op(A)[M, K] op(B)[K, N] + beta D. A is stored [M, K]
 * (or [K, M] when trans_a) with row stride lda; B is stored [K, N] (or [N, K] when trans_b)
 * with row stride ldb; D has row stride ldd. */
typedef struct {
    int M, N, K;
    bool trans_a, trans_b;
    int64_t lda, ldb, ldd;
} hn_gemm_request;

/* One cuBLASLt call: which request operand each of cuBLASLt's A and B is, their transposes
 * (true = CUBLAS_OP_T), the stored column-major shapes (rows, cols, ld) of A, B and D as
 * cublasLtMatrixLayoutCreate takes them, and m, n, k. */
typedef struct {
    bool a_is_request_b; /* cuBLASLt's A reads the request's B (always, in this mapping) */
    bool trans_a, trans_b;
    int m, n, k;
    uint64_t a_rows, a_cols, b_rows, b_cols, d_rows, d_cols;
    int64_t lda, ldb, ldd;
} hn_gemm_plan;

hn_gemm_plan hn_gemm_plan_make(const hn_gemm_request *request);

/* The requests of a linear layer out = inp @ W^T (matmul.c's meaning), for a tile of `rows`
 * weight rows (output columns) starting at column `first` of an output with `OC` columns:
 *   forward:   out[N, first : first + rows] = inp[N, C] @ W_tile[rows, C]^T   (D = out + first)
 *   dinp:      dinp[N, C] += dout[N, first : first + rows] @ W_tile[rows, C] (A = dout + first)
 *   dweight:   dW[first : first + rows, C] += dout[N, first : ...]^T @ inp[N, C]
 *              (A = dout + first, D = dW + first * C) */
hn_gemm_request hn_gemm_linear_forward(int N, int C, int rows, int OC);
hn_gemm_request hn_gemm_linear_dinp(int N, int C, int rows, int OC);
hn_gemm_request hn_gemm_linear_dweight(int N, int C, int rows, int OC);

#ifdef __cplusplus
}
#endif
