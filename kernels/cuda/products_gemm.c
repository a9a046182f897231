/* The one GEMM of the CUDA backend's products: a row-major request (gemm_plan.h) queued as a
 * cublasLtMatmul on the backend's stream, fp32 matrices, the compute type from the backend's
 * math (cuBLASLt docs, "cublasLtMatmul" supported types: CUBLAS_COMPUTE_32F,
 * CUBLAS_COMPUTE_32F_FAST_TF32 and CUBLAS_COMPUTE_32F_FAST_16BF all take CUDA_R_32F A, B, C, D
 * with a CUDA_R_32F scale), an optional bias through the BIAS epilogue, the workspace from the
 * backend's scratch. Descriptors and the heuristic's choice are made per call (correctness
 * first; a cache keyed by shape would save some microseconds per GEMM). */
#include <stdio.h>

#include <cuda_runtime_api.h>

#include "cublaslt_api.h"
#include "cuda_ops.h"
#include "products.h"

static cublasComputeType_t compute_type(void)
{
    switch (hn_cuda_math()) {
    case HN_GPU_MATH_TF32: return CUBLAS_COMPUTE_32F_FAST_TF32;
    case HN_GPU_MATH_BF16: return CUBLAS_COMPUTE_32F_FAST_16BF;
    default: return CUBLAS_COMPUTE_32F;
    }
}

/* The largest power of two up to 256 that divides the address: cuBLASLt's preferences
 * assume 256-byte aligned matrices unless told less (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*),
 * and the ops pass offset views (a tile's columns, a chunk's rows). */
static uint32_t alignment_of(const void *pointer)
{
    uintptr_t address = (uintptr_t)pointer;
    uint32_t alignment = 256;
    while (alignment > 1 && address % alignment != 0)
        alignment /= 2;
    return alignment;
}

/* Records a failed cuBLASLt call; returns whether it succeeded. */
static bool lt_ok(const hn_cublaslt_api *lt, cublasStatus_t status, const char *call,
                  const char *where)
{
    if (status == CUBLAS_STATUS_SUCCESS)
        return true;
    char what[256];
    snprintf(what, sizeof what, "%s failed: %s", call, lt->status_string(status));
    hn_cuda_record_error(where, what);
    return false;
}

bool hn_cuda_products_launched(const char *where)
{
    cudaError_t status = cudaGetLastError();
    if (status == cudaSuccess)
        return true;
    char what[256];
    snprintf(what, sizeof what, "kernel launch failed: %s (%s)", cudaGetErrorString(status),
             cudaGetErrorName(status));
    hn_cuda_record_error(where, what);
    return false;
}

bool hn_cuda_gemm(const hn_gemm_request *request, const float *a, const float *b, float *d,
                  float alpha, float beta, const float *bias, const char *where)
{
    const hn_cublaslt_api *lt = hn_cublaslt();
    if (lt == NULL) {
        hn_cuda_record_error(where, "cuBLASLt is not open");
        return false;
    }
    void *workspace = hn_cuda_scratch(HN_PRODUCTS_SLOT_WORKSPACE, HN_PRODUCTS_WORKSPACE_BYTES);
    if (workspace == NULL)
        return false; /* hn_cuda_scratch recorded it */
    hn_gemm_plan plan = hn_gemm_plan_make(request);
    /* cuBLASLt's A is the request's B and its B the request's A (gemm_plan.h) */
    const float *lt_a = b, *lt_b = a;

    cublasLtMatmulDesc_t desc = NULL;
    cublasLtMatrixLayout_t a_layout = NULL, b_layout = NULL, d_layout = NULL;
    cublasLtMatmulPreference_t preference = NULL;
    bool ok = lt_ok(lt, lt->desc_create(&desc, compute_type(), CUDA_R_32F),
                    "cublasLtMatmulDescCreate", where);
    cublasOperation_t trans_a = plan.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t trans_b = plan.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    ok = ok && lt_ok(lt, lt->desc_set(desc, CUBLASLT_MATMUL_DESC_TRANSA, &trans_a, sizeof trans_a),
                     "cublasLtMatmulDescSetAttribute(TRANSA)", where);
    ok = ok && lt_ok(lt, lt->desc_set(desc, CUBLASLT_MATMUL_DESC_TRANSB, &trans_b, sizeof trans_b),
                     "cublasLtMatmulDescSetAttribute(TRANSB)", where);
    if (bias != NULL) {
        /* bias[m] added to every column of the column-major D: to every row of the request's
         * row-major D, m being its column count */
        cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
        ok = ok && lt_ok(lt, lt->desc_set(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                          sizeof epilogue),
                         "cublasLtMatmulDescSetAttribute(EPILOGUE)", where);
        ok = ok && lt_ok(lt, lt->desc_set(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                          sizeof bias),
                         "cublasLtMatmulDescSetAttribute(BIAS_POINTER)", where);
    }
    ok = ok && lt_ok(lt, lt->layout_create(&a_layout, CUDA_R_32F, plan.a_rows, plan.a_cols,
                                           plan.lda),
                     "cublasLtMatrixLayoutCreate(A)", where);
    ok = ok && lt_ok(lt, lt->layout_create(&b_layout, CUDA_R_32F, plan.b_rows, plan.b_cols,
                                           plan.ldb),
                     "cublasLtMatrixLayoutCreate(B)", where);
    ok = ok && lt_ok(lt, lt->layout_create(&d_layout, CUDA_R_32F, plan.d_rows, plan.d_cols,
                                           plan.ldd),
                     "cublasLtMatrixLayoutCreate(D)", where);
    ok = ok && lt_ok(lt, lt->preference_create(&preference), "cublasLtMatmulPreferenceCreate",
                     where);
    uint64_t workspace_bytes = HN_PRODUCTS_WORKSPACE_BYTES;
    ok = ok && lt_ok(lt, lt->preference_set(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                            &workspace_bytes, sizeof workspace_bytes),
                     "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)", where);
    const struct {
        cublasLtMatmulPreferenceAttributes_t attribute;
        const void *pointer;
    } alignments[] = {
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, lt_a},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, lt_b},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, d},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, d},
    };
    for (size_t i = 0; i < sizeof alignments / sizeof alignments[0]; i++) {
        uint32_t bytes = alignment_of(alignments[i].pointer);
        ok = ok && lt_ok(lt, lt->preference_set(preference, alignments[i].attribute, &bytes,
                                                sizeof bytes),
                         "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT)", where);
    }
    cublasLtMatmulHeuristicResult_t heuristic;
    int found = 0;
    if (ok) {
        cublasStatus_t status = lt->heuristic(lt->handle, desc, a_layout, b_layout, d_layout,
                                              d_layout, preference, 1, &heuristic, &found);
        if (status != CUBLAS_STATUS_SUCCESS || found == 0) {
            char what[320];
            snprintf(what, sizeof what,
                     "cublasLtMatmulAlgoGetHeuristic found no algorithm (%s) for m %d n %d k %d, "
                     "transposes %d%d, lda %lld ldb %lld ldd %lld%s",
                     lt->status_string(status), plan.m, plan.n, plan.k, plan.trans_a,
                     plan.trans_b, (long long)plan.lda, (long long)plan.ldb, (long long)plan.ldd,
                     bias != NULL ? ", bias epilogue" : "");
            hn_cuda_record_error(where, what);
            ok = false;
        }
    }
    ok = ok && lt_ok(lt, lt->matmul(lt->handle, desc, &alpha, lt_a, a_layout, lt_b, b_layout,
                                    &beta, d, d_layout, d, d_layout, &heuristic.algo, workspace,
                                    HN_PRODUCTS_WORKSPACE_BYTES, hn_cuda_stream()),
                     "cublasLtMatmul", where);
    if (preference != NULL)
        lt->preference_destroy(preference);
    if (d_layout != NULL)
        lt->layout_destroy(d_layout);
    if (b_layout != NULL)
        lt->layout_destroy(b_layout);
    if (a_layout != NULL)
        lt->layout_destroy(a_layout);
    if (desc != NULL)
        lt->desc_destroy(desc);
    return ok;
}
