/* cuBLASLt resolved with dlopen/dlsym into hn_cublaslt_api (see cublaslt_api.h), and its
 * handle created, once per process. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cublaslt_api.h"
#include "cuda_internal.h"

#define CUBLASLT_SONAME "libcublasLt.so.13"

static hn_cublaslt_api api;
static bool opened;      /* api is complete */
static char first_error[512];
static GOnce once = G_ONCE_INIT;

/* Resolves one symbol into the function pointer at slot (copied bytewise: POSIX guarantees a
 * function pointer has the representation dlsym returns); false with its name in
 * first_error. */
static bool resolve(void *library, const char *name, void *slot)
{
    void *symbol = dlsym(library, name);
    if (symbol == NULL) {
        snprintf(first_error, sizeof first_error, "%s has no symbol %s (cuBLASLt 13 expected)",
                 CUBLASLT_SONAME, name);
        return false;
    }
    memcpy(slot, &symbol, sizeof symbol);
    return true;
}

static gpointer open_once(gpointer unused)
{
    (void)unused;
    char why[256] = "";
    void *library = hn_cuda_dlopen(CUBLASLT_SONAME, why, sizeof why);
    if (library == NULL) {
        snprintf(first_error, sizeof first_error,
                 "cuBLASLt (%s) cannot be opened: %s; install the CUDA 13 cuBLAS libraries",
                 CUBLASLT_SONAME, why);
        return NULL;
    }
    const struct {
        const char *name;
        void *slot;
    } wanted[] = {
        {"cublasLtCreate", (void *)&api.create},
        {"cublasLtGetStatusString", (void *)&api.status_string},
        {"cublasLtMatmulDescCreate", (void *)&api.desc_create},
        {"cublasLtMatmulDescDestroy", (void *)&api.desc_destroy},
        {"cublasLtMatmulDescSetAttribute", (void *)&api.desc_set},
        {"cublasLtMatrixLayoutCreate", (void *)&api.layout_create},
        {"cublasLtMatrixLayoutDestroy", (void *)&api.layout_destroy},
        {"cublasLtMatmulPreferenceCreate", (void *)&api.preference_create},
        {"cublasLtMatmulPreferenceDestroy", (void *)&api.preference_destroy},
        {"cublasLtMatmulPreferenceSetAttribute", (void *)&api.preference_set},
        {"cublasLtMatmulAlgoGetHeuristic", (void *)&api.heuristic},
        {"cublasLtMatmul", (void *)&api.matmul},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(wanted); i++)
        if (!resolve(library, wanted[i].name, wanted[i].slot))
            return NULL; /* library kept open: unloading CUDA libraries is not safe */
    cublasStatus_t status = api.create(&api.handle);
    if (status != CUBLAS_STATUS_SUCCESS) {
        snprintf(first_error, sizeof first_error, "cublasLtCreate failed: %s",
                 api.status_string(status));
        return NULL;
    }
    opened = true;
    return NULL;
}

const hn_cublaslt_api *hn_cublaslt_open(char *error, size_t error_size)
{
    g_once(&once, open_once, NULL);
    if (!opened) {
        g_strlcpy(error, first_error, error_size);
        return NULL;
    }
    return &api;
}

const hn_cublaslt_api *hn_cublaslt(void)
{
    return opened ? &api : NULL;
}
