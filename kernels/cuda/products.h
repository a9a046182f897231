/* What the CUDA backend's product files share (not for the engine): the ops they implement
 * (hn_backend's matmul, cross-entropy and attention entries, same signatures and meaning as
 * backend.h), the cuBLASLt GEMM they all call, the weight widening, and the scratch slots
 * they use. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "gemm_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* hn_cuda_scratch slots of the product ops: cuBLASLt's workspace, a widened weight tile, a
 * chunk of logits, per-row state (cross-entropy's running sums, attention's D). */
enum {
    HN_PRODUCTS_SLOT_WORKSPACE = 0,
    HN_PRODUCTS_SLOT_WEIGHT = 1,
    HN_PRODUCTS_SLOT_LOGITS = 2,
    HN_PRODUCTS_SLOT_ROWS = 3,
};

/* Bytes of cuBLASLt's workspace (NVIDIA recommends 32 MiB for Hopper). */
#define HN_PRODUCTS_WORKSPACE_BYTES ((size_t)32 << 20)

/* Queues the row-major product `request` (gemm_plan.h) through cuBLASLt on the backend's
 * stream: d = alpha op(a) op(b) + beta d, plus bias[request->N] on every row when bias is
 * non-NULL (the BIAS epilogue; then beta must be 0), computed as hn_cuda_math() says. False
 * with the error recorded (hn_cuda_record_error, naming `where`) when a call fails. */
bool hn_cuda_gemm(const hn_gemm_request *request, const float *a, const float *b, float *d,
                  float alpha, float beta, const float *bias, const char *where);

/* Checks the launch just queued (cudaGetLastError); false with the error recorded. */
bool hn_cuda_products_launched(const char *where);

/* Weight rows a widened tile holds: about 64 MiB of fp32 (at least 1 row, at most OC). */
int hn_cuda_widen_tile_rows(int C, int OC);

/* dst[rows, C] = weight rows first .. first + rows - 1 in fp32 (bf16 widened, GGUF blocks
 * decoded as weight_blocks.h does). False with the error recorded when the launch fails. */
bool hn_cuda_widen_rows(float *dst, const void *weight, hn_weight_type type, size_t first,
                        int rows, int C);

void hn_cuda_matmul_forward(float *out, const float *inp, const void *weight,
                            hn_weight_type weight_type, const float *bias, int N, int C, int OC);
void hn_cuda_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const void *weight, hn_weight_type weight_type,
                             int N, int C, int OC);
void hn_cuda_cross_entropy_forward(float *losses, float *lse, const float *hidden,
                                   const void *weight, hn_weight_type weight_type,
                                   const int32_t *targets, int N, int C, int V);
void hn_cuda_cross_entropy_backward(float *dhidden, float *dweight, const float *dlosses,
                                    const float *hidden, const void *weight,
                                    hn_weight_type weight_type, const int32_t *targets,
                                    const float *lse, int N, int C, int V);
void hn_cuda_attention_forward(float *out, float *lse, const float *q, const float *k,
                               const float *v, const int32_t *doc_start, float scale, int window,
                               int B, int T, int NH, int NKV, int HD);
void hn_cuda_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                                const float *q, const float *k, const float *v, const float *out,
                                const float *lse, const int32_t *doc_start, float scale,
                                int window, int B, int T, int NH, int NKV, int HD);
void hn_cuda_attention_cached_forward(float *out, const float *q, const float *k, const float *v,
                                      float scale, int window, int past, int T, int NH, int NKV,
                                      int HD);

#ifdef __cplusplus
}
#endif
