/* PiSSA: a LoRA adapter initialised from the principal singular vectors of the weight it
 * adapts, the base keeping the residual (Meng, Wang & Zhang, "PiSSA", arXiv:2404.02948), as
 * PEFT's pissa_init computes it (peft/tuners/lora/layer.py): with W = V diag(S) U^T,
 *   A = diag(sqrt(S_r / scaling)) U_r^T    [r, in]
 *   B = V_r diag(sqrt(S_r / scaling))      [out, r]
 *   W_res = W - scaling * B A              [out, in]
 * so that W_res + scaling * B A = W: training starts from the same model. The singular
 * vectors come from a full SVD (LLaMA-Factory's pissa_iter -1, PEFT's "pissa") or from a
 * randomized SVD with niter subspace iterations (pissa_iter N, PEFT's "pissa_niter_N",
 * torch.svd_lowrank's algorithm: Halko, Martinsson & Tropp, arXiv:0909.4061, Alg. 4.4); the
 * random start is Hone's own, so the randomized factors are as good as torch's, not equal. */
#pragma once

#include <stdint.h>

#include "hn_error.h"

/* W [out, in] row-major -> A [r, in], B [out, r], W_res [out, in] (may alias W). niter < 0:
 * full SVD. LAPACK failures are errors. */
hn_status hn_pissa_factor(const float *W, int out, int in, int r, float scaling, int niter,
                          uint64_t seed, float *A, float *B, float *W_res, hn_error *err);
