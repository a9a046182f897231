/* Which compute backend a run uses (the `backend` key: auto, cpu, cuda; LLaMA-Factory's
 * booster) and how the CUDA backend's GEMMs compute (the compute type keys bf16, fp16,
 * pure_bf16 and transformers' tf32). One function for every command that builds a model:
 * train, eval, chat, score, and the desktop app's jobs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "compute_type.h"
#include "hn_error.h"
#include "train_args.h"

/* What a run asks for. backend NULL means auto. */
typedef struct {
    const char *backend; /* "auto", "cpu", "cuda" */
    bool bf16;           /* bf16 mixed precision: fp32 master weights, bf16 GEMMs */
    bool fp16;           /* fp16 mixed precision (needs loss scaling: not built) */
    bool pure_bf16;      /* bf16 weights and optimizer state (not built) */
    bool tf32;           /* fp32 runs with TF32 tensor-core GEMMs (transformers' tf32) */
} hn_backend_request;

/* The backend that runs and the one line that says which and why, e.g.
 * "backend: cpu (auto: no CUDA GPU: <reason>)" or "backend: cuda (GPU 0, bf16 GEMMs)". */
typedef struct {
    const hn_backend *backend;
    char line[512];
} hn_backend_choice;

/* The request of a training or evaluation run: its backend, bf16, fp16, pure_bf16 and tf32
 * keys. */
void hn_backend_request_from_train_args(hn_backend_request *request, const hn_train_args *args);

/* The GEMM mode the compute type keys ask of the CUDA backend: bf16 -> HN_GPU_MATH_BF16;
 * neither bf16 nor fp16 -> fp32, or TF32 with tf32. */
hn_gpu_math hn_backend_gpu_math(const hn_backend_request *request);

/* cpu: the CPU backend. cuda: GPU 0 through hn_cuda_backend, or an error "backend: cuda was
 * asked for, but <its reason>". auto (or NULL): CUDA when hn_cuda_backend gives it, else the
 * CPU, the line saying why. Compute types are checked first (hn_compute_type_check). */
hn_status hn_backend_choose(const hn_backend_request *request, hn_backend_choice *choice,
                            hn_error *err);
