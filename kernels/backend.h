/* The compute backends' one interface: a table of function pointers per backend (CPU now,
 * CUDA later) that the engine calls for every op of the decoder's forward and backward pass
 * and the optimizer step. The engine never touches a tensor's elements itself.
 *
 * Rules every entry follows:
 * - Tensor pointers are the backend's device pointers (from its `alloc`); only the memory
 *   functions take host pointers, and they say so. Ops are asynchronous on devices that
 *   queue work: read results through `copy_to_host` or after `synchronize`.
 * - Names are `<op>_forward` / `<op>_backward`; arguments are outputs first, then inputs,
 *   then sizes (B, T, C, ...). Every tensor argument carries its shape in a comment, with
 *   these letters: B batch rows, T tokens per row, N rows (tokens, usually B*T), C input
 *   channels, OC output channels, V vocabulary, NH query heads, NKV key/value heads, HD head
 *   dim, H hidden (MLP) width, n any count.
 * - Activations, gradients and optimizer state are fp32. Weights that may stay in their
 *   stored type (frozen matmul and embedding weights) come with an `hn_weight_type`.
 * - Backward passes ACCUMULATE (+=) into every gradient they write, activations' and
 *   weights' alike, so that branches sum without copies; the caller zeroes first. A weight
 *   gradient pointer may be NULL: the weight is frozen and its gradient is skipped.
 * - Inputs are trusted: token ids are < V, position ids >= 0, sizes > 0. The engine checks
 *   data from files before it reaches a backend.
 * - An entry that a backend does not provide is NULL; the engine then says the op is
 *   missing for that backend.
 * The header is C and C++ (nvcc); its inline helpers run on the host and on the device. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define HN_HOST_DEVICE __host__ __device__
#else
#define HN_HOST_DEVICE
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* How a weight is stored. Compute is fp32 either way; bf16 and the blocks are widened tile by
 * tile, or decoded in registers when one row is multiplied. The block formats are GGUF's
 * (weight_blocks.h), for rows whose length is a multiple of 32; only models opened for
 * inference keep them. */
typedef enum {
    HN_WEIGHT_F32,
    HN_WEIGHT_BF16, /* the upper 16 bits of an fp32 (safetensors "BF16") */
    HN_WEIGHT_Q8_0, /* ggml's block_q8_0, rows of C / 32 blocks */
    HN_WEIGHT_Q4_1, /* ggml's block_q4_1, rows of C / 32 blocks */
} hn_weight_type;

/* The label id that cross-entropy skips, as torch.nn.CrossEntropyLoss's ignore_index. */
#define HN_IGNORE_INDEX (-100)

typedef struct hn_backend hn_backend;

/* One product of block_matvec_group: out[OC] = inp @ weight[OC, C]^T (+ bias[OC], may be
 * NULL). */
typedef struct {
    float *out;
    const void *weight;
    hn_weight_type type;
    const float *bias;
    int OC;
} hn_matvec_part;

struct hn_backend {
    const char *name; /* "cpu", "cuda" */

    /* ---- memory ------------------------------------------------------------------------ */

    /* Device memory of `bytes` bytes, aligned for any element type; NULL when out of memory.
     * Contents are undefined. */
    void *(*alloc)(size_t bytes);
    /* Frees what alloc returned; NULL is a no-op. */
    void (*free)(void *ptr);
    /* Sets `bytes` bytes at device pointer `ptr` to zero. */
    void (*zero)(void *ptr, size_t bytes);
    /* Host -> device and device -> host copies of `bytes` bytes. copy_to_host waits for the
     * work queued before it. */
    void (*copy_to_device)(void *device_dst, const void *host_src, size_t bytes);
    void (*copy_to_host)(void *host_dst, const void *device_src, size_t bytes);
    /* Device -> device copy of `bytes` bytes (the regions do not overlap). */
    void (*copy)(void *device_dst, const void *device_src, size_t bytes);
    /* Waits for all queued work. Returns false and writes a message into `message` (size
     * bytes) when the device reported an error since the last call. */
    bool (*synchronize)(char *message, size_t size);

    /* ---- elementwise ------------------------------------------------------------------- */

    /* y += alpha * x: residual sums and scaled branches (LoRA's scaling). */
    void (*axpy)(float *y,        /* [n] */
                 const float *x,  /* [n] */
                 float alpha, size_t n);

    /* ---- matmul (a linear layer) ------------------------------------------------------- */

    /* out = inp @ weight^T (+ bias): torch.nn.functional.linear.
     * weight is stored as `weight_type`; bias may be NULL. */
    void (*matmul_forward)(float *out,          /* [N, OC] */
                           const float *inp,    /* [N, C] */
                           const void *weight,  /* [OC, C] */
                           hn_weight_type weight_type,
                           const float *bias,   /* [OC] or NULL */
                           int N, int C, int OC);
    /* Optional (NULL: the backend has none): out = inp @ weight^T (+ bias) for one row and a
     * weight in GGUF blocks (HN_WEIGHT_Q8_0, HN_WEIGHT_Q4_1), with inp quantized to int8 per
     * block of 32 first and integer dot products (the decode mode `decode_activations: int8`:
     * faster, not exact; cpu/matvec_int8.h). */
    void (*block_matvec_int8)(float *out,          /* [OC] */
                              const float *inp,    /* [C] */
                              const void *weight,  /* [OC, C] in blocks */
                              hn_weight_type weight_type,
                              const float *bias,   /* [OC] or NULL */
                              int C, int OC);
    /* Optional (NULL: none): several one-row products that read the same input, in one pass
     * over the backend's threads (q, k, v; gate and up), each parts[i].out = inp @
     * parts[i].weight^T (+ parts[i].bias) for a weight in GGUF blocks (HN_WEIGHT_Q8_0,
     * HN_WEIGHT_Q4_1). Every output equals, bit for bit, what matmul_forward (N = 1) gives, or
     * with int8_activations what block_matvec_int8 gives (the input quantized once for all the
     * parts); only the work's split over threads differs. */
    void (*block_matvec_group)(const hn_matvec_part *parts, int count,
                               const float *inp,    /* [C] */
                               bool int8_activations, int C);
    /* dinp += dout @ weight; dweight += dout^T @ inp; dbias += sum over N of dout.
     * Any of dinp, dweight, dbias may be NULL (not needed: the first layer's input, a frozen
     * weight, no bias). */
    void (*matmul_backward)(float *dinp,         /* [N, C] or NULL */
                            float *dweight,      /* [OC, C] fp32 or NULL */
                            float *dbias,        /* [OC] or NULL */
                            const float *dout,   /* [N, OC] */
                            const float *inp,    /* [N, C] */
                            const void *weight,  /* [OC, C] */
                            hn_weight_type weight_type,
                            int N, int C, int OC);

    /* ---- embedding --------------------------------------------------------------------- */

    /* out[n] = table[ids[n]]: torch.nn.functional.embedding. */
    void (*embedding_forward)(float *out,          /* [N, C] */
                              const int32_t *ids,  /* [N], each in [0, V) */
                              const void *table,   /* [V, C] */
                              hn_weight_type table_type,
                              int N, int C);
    /* dtable[ids[n]] += dout[n] (repeated ids add up). */
    void (*embedding_backward)(float *dtable,        /* [V, C] */
                               const float *dout,    /* [N, C] */
                               const int32_t *ids,   /* [N] */
                               int N, int C);

    /* ---- RMSNorm ----------------------------------------------------------------------- */

    /* out = inp * rsqrt(mean(inp^2) + eps) * weight over the last axis, in fp32 as
     * transformers' LlamaRMSNorm computes it. rstd (may be NULL) keeps rsqrt(...) per row for
     * the backward. Qwen3's q/k norm is this op over rows of one head (C = HD). */
    void (*rmsnorm_forward)(float *out,           /* [N, C] */
                            float *rstd,          /* [N] or NULL */
                            const float *inp,     /* [N, C] */
                            const float *weight,  /* [C] */
                            float eps, int N, int C);
    /* dinp += d/dinp, dweight += d/dweight (dweight may be NULL: frozen). rstd is what the
     * forward saved. */
    void (*rmsnorm_backward)(float *dinp,          /* [N, C] */
                             float *dweight,       /* [C] or NULL */
                             const float *dout,    /* [N, C] */
                             const float *inp,     /* [N, C] */
                             const float *weight,  /* [C] */
                             const float *rstd,    /* [N] */
                             int N, int C);

    /* ---- SwiGLU ------------------------------------------------------------------------ */

    /* out = silu(gate) * up, silu(x) = x * sigmoid(x): the Llama MLP's act_fn(gate_proj(x)) *
     * up_proj(x). */
    void (*swiglu_forward)(float *out,          /* [N, H] */
                           const float *gate,   /* [N, H] */
                           const float *up,     /* [N, H] */
                           int N, int H);
    void (*swiglu_backward)(float *dgate,         /* [N, H] */
                            float *dup,           /* [N, H] */
                            const float *dout,    /* [N, H] */
                            const float *gate,    /* [N, H] */
                            const float *up,      /* [N, H] */
                            int N, int H);

    /* ---- rotary position embedding ----------------------------------------------------- */

    /* out = inp * cos + rotate_half(inp) * sin per head, with the half-split ("NeoX") layout of
     * transformers' apply_rotary_pos_emb: angle[i] = position * inv_freq[i] for the pair
     * (i, i + HD/2), and cos, sin multiplied by attention_factor (yarn; else 1). The tables
     * come from engine/rope_freq.h. Positions are per token so packed sequences can restart
     * them. out may equal inp (in place). */
    void (*rope_forward)(float *out,                  /* [B, T, NH, HD] */
                         const float *inp,            /* [B, T, NH, HD] */
                         const int32_t *position_ids, /* [B, T] */
                         const float *inv_freq,       /* [HD / 2] */
                         float attention_factor,
                         int B, int T, int NH, int HD);
    /* dinp += the rotation transposed applied to dout (dinp must not alias dout). */
    void (*rope_backward)(float *dinp,                 /* [B, T, NH, HD] */
                          const float *dout,           /* [B, T, NH, HD] */
                          const int32_t *position_ids, /* [B, T] */
                          const float *inv_freq,       /* [HD / 2] */
                          float attention_factor,
                          int B, int T, int NH, int HD);

    /* ---- causal attention --------------------------------------------------------------- */

    /* softmax(q k^T * scale + mask) v per query head, query head h reading KV head
     * h / (NH / NKV) (grouped-query attention). Token t sees token s of its row when
     * doc_start[b, t] <= s <= t (per-document masks of packed sequences: the index of the
     * first token of t's document, so it never decreases along t; NULL means 0: plain
     * causal) and, when window > 0, t - s < window (sliding window). Tiled over blocks of
     * queries so memory grows with T, not T^2; lse keeps each row's log-sum-exp for the
     * backward. */
    void (*attention_forward)(float *out,                /* [B, T, NH, HD] */
                              float *lse,                /* [B, NH, T] */
                              const float *q,            /* [B, T, NH, HD] */
                              const float *k,            /* [B, T, NKV, HD] */
                              const float *v,            /* [B, T, NKV, HD] */
                              const int32_t *doc_start,  /* [B, T] or NULL */
                              float scale, int window,
                              int B, int T, int NH, int NKV, int HD);
    void (*attention_backward)(float *dq,                 /* [B, T, NH, HD] */
                               float *dk,                 /* [B, T, NKV, HD] */
                               float *dv,                 /* [B, T, NKV, HD] */
                               const float *dout,         /* [B, T, NH, HD] */
                               const float *q,            /* [B, T, NH, HD] */
                               const float *k,            /* [B, T, NKV, HD] */
                               const float *v,            /* [B, T, NKV, HD] */
                               const float *out,          /* [B, T, NH, HD] */
                               const float *lse,          /* [B, NH, T] */
                               const int32_t *doc_start,  /* [B, T] or NULL */
                               float scale, int window,
                               int B, int T, int NH, int NKV, int HD);

    /* Inference against a key/value cache (one sequence): T new queries at positions past ..
     * past + T - 1 attend to the cache's keys 0 .. past + T - 1, the new ones included
     * (written there by the caller). Query t sees key s when s <= past + t and, with window
     * > 0, past + t - s < window (Mistral's sliding window, as in attention_forward). The same
     * softmax(q k^T * scale) v, grouped KV heads too; no lse, no backward. */
    void (*attention_cached_forward)(float *out,          /* [T, NH, HD] */
                                     const float *q,      /* [T, NH, HD] */
                                     const float *k,      /* [past + T, NKV, HD] */
                                     const float *v,      /* [past + T, NKV, HD] */
                                     float scale, int window, int past,
                                     int T, int NH, int NKV, int HD);

    /* ---- LM head + cross-entropy, fused ------------------------------------------------- */

    /* losses[n] = logsumexp(logits[n]) - logits[n, targets[n]] with logits = hidden @
     * weight^T computed a chunk of the vocabulary at a time (never [N, V] at once). Rows
     * with targets[n] == HN_IGNORE_INDEX cost nothing and get losses[n] = lse[n] = 0; lse
     * keeps the other rows' log-sum-exp for the backward. */
    void (*cross_entropy_forward)(float *losses,          /* [N] */
                                  float *lse,             /* [N] */
                                  const float *hidden,    /* [N, C] */
                                  const void *weight,     /* [V, C] */
                                  hn_weight_type weight_type,
                                  const int32_t *targets, /* [N] */
                                  int N, int C, int V);
    /* With dlosses the gradient of the loss per row (1 / count of counted rows for a mean):
     * dhidden += dlogits @ weight, dweight += dlogits^T @ hidden (dweight NULL when frozen),
     * dlogits = (softmax(logits) - onehot(target)) * dlosses, again chunk by chunk; ignored
     * rows get no gradient. */
    void (*cross_entropy_backward)(float *dhidden,         /* [N, C] */
                                   float *dweight,         /* [V, C] or NULL */
                                   const float *dlosses,   /* [N] */
                                   const float *hidden,    /* [N, C] */
                                   const void *weight,     /* [V, C] */
                                   hn_weight_type weight_type,
                                   const int32_t *targets, /* [N] */
                                   const float *lse,       /* [N] */
                                   int N, int C, int V);

    /* ---- dropout (LoRA's lora_dropout) --------------------------------------------------- */

    /* out = inp * keep / (1 - p), keep drawn per element by hn_dropout_keep(seed, i, p): a
     * pure function of (seed, i), so the backward regenerates the mask instead of storing it
     * and every backend draws the same mask. The caller takes a new seed per call (per layer,
     * per step). torch's nn.Dropout draws from its own generator: the same distribution, not
     * the same mask. out may equal inp. */
    void (*dropout_forward)(float *out,        /* [n] */
                            const float *inp,  /* [n] */
                            float p, uint64_t seed, size_t n);
    /* dinp += dout * keep / (1 - p) with the forward's mask (same seed and p). */
    void (*dropout_backward)(float *dinp,        /* [n] */
                             const float *dout,  /* [n] */
                             float p, uint64_t seed, size_t n);

    /* ---- DoRA (weight-decomposed LoRA) ------------------------------------------------- */

    /* norm[o] = || W[o, :] + scaling * (B @ A)[o, :] ||_2: the row norms of the adapted
     * weight, DoRA's ||V + dV||_c (Liu et al., arXiv:2402.09353, eq. 5; PEFT's
     * DoraLinearLayer.get_weight_norm). No backward: PEFT detaches it (the paper's section
     * 4.3). With B = 0 it is ||W|| per row, the magnitude's initial value. */
    void (*dora_norm_forward)(float *norm,            /* [OC] */
                              const void *weight,     /* [OC, C] */
                              hn_weight_type weight_type,
                              const float *lora_a,    /* [r, C] */
                              const float *lora_b,    /* [OC, r] */
                              float scaling, int C, int OC, int r);
    /* out[n, o] = inp[n, o] * magnitude[o] / norm[o] + bias[o]: a DoRA linear's output from
     * its pre-scale output inp = x W^T + scaling * x A^T B^T (PEFT's DoraLinearLayer.forward:
     * result + (magnitude / norm - 1) * base_result + magnitude / norm * lora_result * scaling,
     * result carrying the bias). bias may be NULL; out may equal inp. */
    void (*dora_scale_forward)(float *out,              /* [N, OC] */
                               const float *inp,        /* [N, OC] */
                               const float *magnitude,  /* [OC] */
                               const float *norm,       /* [OC] */
                               const float *bias,       /* [OC] or NULL */
                               int N, int OC);
    /* With norm a constant (detached): dinp += dout * magnitude / norm, dmagnitude += sum over
     * n of dout * inp / norm, dbias += sum over n of dout. Each of dinp, dmagnitude, dbias may
     * be NULL (not needed); dinp must not alias dout. */
    void (*dora_scale_backward)(float *dinp,             /* [N, OC] or NULL */
                                float *dmagnitude,       /* [OC] or NULL */
                                float *dbias,            /* [OC] or NULL */
                                const float *dout,       /* [N, OC] */
                                const float *inp,        /* [N, OC] */
                                const float *magnitude,  /* [OC] */
                                const float *norm,       /* [OC] */
                                int N, int OC);

    /* ---- optimizer --------------------------------------------------------------------- */

    /* sum_squares[0] += sum of x^2 (accumulated in double where the backend can): call it
     * for every gradient buffer, then the global L2 norm is sqrt(sum_squares[0]), as
     * torch.nn.utils.clip_grad_norm_ computes it. */
    void (*norm_squared_accumulate)(float *sum_squares, /* [1] */
                                    const float *x,     /* [n] */
                                    size_t n);
    /* One AdamW step as torch.optim.AdamW does it (decoupled weight decay, bias
     * correction; Loshchilov & Hutter, arXiv:1711.05101), over grad * grad_scale:
     *   param *= 1 - lr * weight_decay
     *   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
     *   param -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
     * grad_scale carries gradient clipping (hn_clip_coefficient) or accumulation averaging;
     * step counts from 1. The hyperparameters are doubles, as torch's Python floats: 1 - beta2
     * from an fp32 beta2 = 0.999 would be off by 1.3e-5 relative. */
    void (*adamw_step)(float *param,       /* [n] */
                       float *m,           /* [n] first moment */
                       float *v,           /* [n] second moment */
                       const float *grad,  /* [n] */
                       size_t n, double lr, double beta1, double beta2, double eps,
                       double weight_decay, float grad_scale, int64_t step);
};

/* The CPU backend (always built): fp32 compute, OpenMP threads, OpenBLAS GEMM. */
const hn_backend *hn_cpu_backend(void);

/* How the CUDA backend's GEMMs compute (activations and gradients stay fp32 at this
 * interface): fp32 exactly, TF32 tensor cores, or bf16 tensor cores (inputs rounded to bf16,
 * fp32 accumulation: cuBLAS's CUBLAS_COMPUTE_32F_FAST_16BF). */
typedef enum {
    HN_GPU_MATH_FP32,
    HN_GPU_MATH_TF32,
    HN_GPU_MATH_BF16,
} hn_gpu_math;

/* The CUDA backend on GPU `device` (0-based), its GEMMs computing as `math`; NULL with the
 * reason in `error` when it cannot run here (a build without CUDA, no driver or GPU, cuBLASLt
 * missing). The first call for a device creates its stream and library handles; they live
 * until the process ends. */
const hn_backend *hn_cuda_backend(int device, hn_gpu_math math, char *error, size_t error_size);

/* Whether dropout keeps element `index` (probability 1 - p): SplitMix64's output function
 * (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) of
 * seed + index, top 24 bits as a uniform in [0, 1). Backends share it so masks agree. */
HN_HOST_DEVICE static inline bool hn_dropout_keep(uint64_t seed, uint64_t index, float p)
{
    uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    float uniform = (float)(z >> 40) * (1.0f / 16777216.0f);
    return uniform >= p;
}

/* The factor torch.nn.utils.clip_grad_norm_ multiplies gradients by:
 * min(max_norm / (total_norm + 1e-6), 1). No clipping when max_norm <= 0. */
static inline float hn_clip_coefficient(double total_norm, double max_norm)
{
    if (max_norm <= 0)
        return 1.0f;
    double coefficient = max_norm / (total_norm + 1e-6);
    return coefficient < 1.0 ? (float)coefficient : 1.0f;
}

#ifdef __cplusplus
}
#endif
