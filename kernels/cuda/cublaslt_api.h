/* cuBLASLt opened at run time (the project's rule: cuBLAS, cuBLASLt and cuDNN are dlopen'ed,
 * never linked, so that `hone` starts without them): the functions the CUDA backend's GEMMs
 * call, as pointers with exactly the types cublasLt.h declares. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* cublasLt.h declares cublasLtLoggerForceDisable() without a prototype: a warning of the
 * header, not ours */
#if defined(__GNUC__) && !defined(__cplusplus)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#endif
#include <cublasLt.h>
#if defined(__GNUC__) && !defined(__cplusplus)
#pragma GCC diagnostic pop
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    __typeof__(&cublasLtCreate) create;
    __typeof__(&cublasLtGetStatusString) status_string;
    __typeof__(&cublasLtMatmulDescCreate) desc_create;
    __typeof__(&cublasLtMatmulDescDestroy) desc_destroy;
    __typeof__(&cublasLtMatmulDescSetAttribute) desc_set;
    __typeof__(&cublasLtMatrixLayoutCreate) layout_create;
    __typeof__(&cublasLtMatrixLayoutDestroy) layout_destroy;
    __typeof__(&cublasLtMatmulPreferenceCreate) preference_create;
    __typeof__(&cublasLtMatmulPreferenceDestroy) preference_destroy;
    __typeof__(&cublasLtMatmulPreferenceSetAttribute) preference_set;
    __typeof__(&cublasLtMatmulAlgoGetHeuristic) heuristic;
    __typeof__(&cublasLtMatmul) matmul;
    cublasLtHandle_t handle; /* created once, on the device current when opened */
} hn_cublaslt_api;

/* Opens libcublasLt.so.13, resolves every function and creates the handle, once per process
 * (later calls return the first result). NULL with a message naming the library or the
 * missing symbol in error. Needs the backend's device to be current. */
const hn_cublaslt_api *hn_cublaslt_open(char *error, size_t error_size);

/* The opened API (after a successful hn_cublaslt_open), else NULL. */
const hn_cublaslt_api *hn_cublaslt(void);

#ifdef __cplusplus
}
#endif
