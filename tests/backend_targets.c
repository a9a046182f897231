/* The targets, tolerances and entries of test_backend_compare (backend_targets.h). */
#include "backend_targets.h"

#include <stddef.h>
#include <string.h>

#include "offset_backend.h"

const target targets[TARGETS] = {
    {"offset", false, HN_GPU_MATH_FP32},
    {"cuda_fp32", true, HN_GPU_MATH_FP32},
    {"cuda_tf32", true, HN_GPU_MATH_TF32},
    {"cuda_bf16", true, HN_GPU_MATH_BF16},
};

const hn_backend *target_backend(const target *t)
{
    if (!t->cuda)
        return test_offset_backend();
    char error[512] = "";
    const hn_backend *backend = hn_cuda_backend(0, t->math, error, sizeof error);
    if (backend == NULL)
        g_error("the CUDA backend went away: %s", error);
    return backend;
}

/* NMSE against the CPU per op, for the CUDA backend's math modes fp32, tf32, bf16. fp32:
 * both sides compute in fp32, differing only in summation order, fused multiply-adds and
 * libm (each about 1e-7 relative per element: NMSE ~1e-14); sums of K terms in another order
 * grow that to ~K x 1e-14, so 1e-10 for elementwise and per-row ops and 1e-9 for the GEMMs
 * and long reductions (K up to 4100 here). TF32 rounds both GEMM inputs to 10 mantissa bits
 * (relative error up to 2^-11 each, 2^-10 when truncated): a random-sign sum's NMSE is about
 * 2 x (2^-10)^2 / 3 = 6.4e-7 at worst, so 1e-5. BF16 rounds them to 7 bits: about
 * 2 x (2^-8)^2 / 3 = 1e-5 (4e-5 truncated), so 1e-4. The tf32/bf16 tolerances apply to the
 * ops that may run through GEMMs (matmul, cross-entropy's logits, attention, DoRA's B A);
 * the others stay fp32 in every mode. The int8 decode mode quantizes its input on each
 * backend: a different rounding at a tie moves one term by d_x |w| (about 1e-3 relative of
 * the output), hence 1e-6 there. Dropout's masks must be equal exactly (checked apart). */
typedef struct {
    const char *op; /* case.json's "op" */
    double nmse[3]; /* HN_GPU_MATH_FP32, _TF32, _BF16 */
} op_tolerance;

static const op_tolerance tolerances[] = {
    {"axpy", {1e-10, 1e-10, 1e-10}},
    {"embedding", {1e-10, 1e-10, 1e-10}},
    {"rmsnorm", {1e-10, 1e-10, 1e-10}},
    {"swiglu", {1e-10, 1e-10, 1e-10}},
    {"rope", {1e-10, 1e-10, 1e-10}},
    {"dropout", {1e-10, 1e-10, 1e-10}},
    {"norm_squared", {1e-10, 1e-10, 1e-10}},
    {"adamw", {1e-10, 1e-10, 1e-10}},
    {"matmul", {1e-9, 1e-5, 1e-4}},
    {"block_matvec", {1e-9, 1e-5, 1e-4}},
    {"block_matvec_int8", {1e-6, 1e-6, 1e-6}},
    {"cross_entropy", {1e-9, 1e-5, 1e-4}},
    {"attention", {1e-9, 1e-5, 1e-4}},
    {"attention_cached", {1e-9, 1e-5, 1e-4}},
    {"dora", {1e-9, 1e-5, 1e-4}},
};

double tolerance_of(const target *t, const char *op)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tolerances); i++)
        if (strcmp(tolerances[i].op, op) == 0)
            return tolerances[i].nmse[t->math];
    g_error("no tolerance for op %s", op);
}

#define ENTRY(NAME, OPTIONAL) {#NAME, offsetof(hn_backend, NAME), OPTIONAL}
const backend_entry backend_entries[BACKEND_ENTRIES] = {
    ENTRY(alloc, false), ENTRY(free, false), ENTRY(zero, false), ENTRY(copy_to_device, false),
    ENTRY(copy_to_host, false), ENTRY(copy, false), ENTRY(synchronize, false),
    ENTRY(axpy, false), ENTRY(matmul_forward, false), ENTRY(block_matvec_int8, true),
    ENTRY(block_matvec_group, true), ENTRY(matmul_backward, false),
    ENTRY(embedding_forward, false), ENTRY(embedding_backward, false),
    ENTRY(rmsnorm_forward, false), ENTRY(rmsnorm_backward, false), ENTRY(swiglu_forward, false),
    ENTRY(swiglu_backward, false), ENTRY(rope_forward, false), ENTRY(rope_backward, false),
    ENTRY(attention_forward, false), ENTRY(attention_backward, false),
    ENTRY(attention_cached_forward, false), ENTRY(cross_entropy_forward, false),
    ENTRY(cross_entropy_backward, false), ENTRY(dropout_forward, false),
    ENTRY(dropout_backward, false), ENTRY(dora_norm_forward, false),
    ENTRY(dora_scale_forward, false), ENTRY(dora_scale_backward, false),
    ENTRY(norm_squared_accumulate, false), ENTRY(adamw_step, false),
};
#undef ENTRY


const backend_entry *backend_entry_named(const char *name)
{
    for (size_t i = 0; i < BACKEND_ENTRIES; i++)
        if (strcmp(backend_entries[i].name, name) == 0)
            return &backend_entries[i];
    g_error("backend.h has no entry %s", name);
}

bool backend_has(const hn_backend *backend, const backend_entry *e)
{
    void (*fn)(void);
    memcpy(&fn, (const char *)backend + e->offset, sizeof fn);
    return fn != NULL;
}

double compare_on_target(const target *t, op_case *c, const char *op, op_runner run,
                         const void *state, const char *const *written)
{
    const hn_backend *backend = target_backend(t);
    device_case d;
    device_case_upload(&d, backend, c);
    run(hn_cpu_backend(), NULL, state);
    run(backend, &d, state);
    double worst = device_case_compare(&d, !t->cuda, tolerance_of(t, op), written);
    device_case_free(&d);
    return worst;
}
