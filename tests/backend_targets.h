/* What test_backend_compare checks and how closely: the backends compared with the CPU (the
 * CUDA backend in each GEMM math mode, the offset test backend), the NMSE allowed per op and
 * mode (with the reasons, in backend_targets.c), the entries of backend.h with the optional
 * ones marked, and the run of one case on the CPU and a target. */
#pragma once

#include <stdbool.h>

#include "backend.h"
#include "backend_compare.h"

typedef struct {
    const char *label;
    bool cuda;        /* else the offset test backend, which must equal the CPU bit for bit */
    hn_gpu_math math; /* CUDA only */
} target;

enum { TARGETS = 4 };
extern const target targets[TARGETS];

/* The backend of a target. CUDA's is asked for again each time: the call chooses its math. */
const hn_backend *target_backend(const target *t);
/* The NMSE allowed against the CPU for op (case.json's "op") on t. */
double tolerance_of(const target *t, const char *op);

/* backend.h's entries: every one is listed (test_backend_compare checks the count against
 * sizeof(hn_backend)); optional ones may be NULL. */
typedef struct {
    const char *name;
    size_t offset;
    bool optional;
} backend_entry;

enum { BACKEND_ENTRIES = 32 };
extern const backend_entry backend_entries[BACKEND_ENTRIES];
/* The entry of that name (the test fails for an unknown name). */
const backend_entry *backend_entry_named(const char *name);
bool backend_has(const hn_backend *backend, const backend_entry *e);

/* A case's op run as `run` on the CPU (host arrays, d NULL) and on t (its copy of the arrays,
 * made before the CPU ran), then compared (device_case_compare: exact on the offset backend,
 * else within tolerance_of(t, op)). */
typedef void (*op_runner)(const hn_backend *backend, const device_case *d, const void *state);
double compare_on_target(const target *t, op_case *c, const char *op, op_runner run,
                         const void *state, const char *const *written);
