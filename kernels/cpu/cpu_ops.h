/* The CPU backend's ops (one file per op family) and the helpers they share. The table that
 * hands them to the engine is in cpu_backend.c; the contracts are in backend.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backend.h"
#include "weight_blocks.h"

/* bf16 is the upper half of an fp32, so widening is a shift. */
static inline float hn_cpu_bf16_to_f32(uint16_t bits)
{
    uint32_t wide = (uint32_t)bits << 16;
    float value;
    memcpy(&value, &wide, sizeof value);
    return value;
}

/* The larger of a and b. fmaxf is a library call unless NaNs are ruled out at compile time;
 * this compiles to one instruction (a NaN in b is dropped, in a kept). */
static inline float hn_cpu_max(float a, float b)
{
    return b > a ? b : a;
}

/* Row `row` of a [rows, C] weight stored as `type`, widened into dst[C]. */
void hn_cpu_weight_row_to_f32(float *dst, const void *weight, hn_weight_type type, size_t row,
                              int C);

/* out[o] (+)= weight[o] . x for every row o of a [OC, C] weight stored in GGUF blocks
 * (HN_WEIGHT_Q8_0 or HN_WEIGHT_Q4_1), the blocks decoded in registers: one token's linear
 * layer (matvec_blocks.c). accumulate: add to out instead of overwriting it. */
void hn_cpu_block_matvec(float *out, const float *x, const void *weight, hn_weight_type type,
                         bool accumulate, int C, int OC);
/* The backend op block_matvec_group: several such products with the same input in one
 * parallel region (matvec_split.h), on the int8 kernel when int8_activations is set. */
void hn_cpu_block_matvec_group(const hn_matvec_part *parts, int count, const float *x,
                               bool int8_activations, int C);

/* Where row `first` of a [rows, C] weight stored as `type` starts. */
static inline const void *hn_cpu_weight_rows(const void *weight, hn_weight_type type, int first,
                                             int C)
{
    return (const char *)weight + (size_t)first * hn_weight_row_bytes(type, C);
}

/* Gradients summed over many rows are split across threads by column blocks of this many
 * channels, each thread adding rows in order: the result does not depend on the thread count
 * (bitwise), and each thread reads contiguous memory. */
enum { HN_CPU_COLUMN_BLOCK = 64 };

/* dst[c] += sum over n of src[n, c] for c in [0, C): column sums of src [N, C]. */
void hn_cpu_add_column_sums(float *dst, const float *src, int N, int C);

void hn_cpu_axpy(float *y, const float *x, float alpha, size_t n);

void hn_cpu_matmul_forward(float *out, const float *inp, const void *weight,
                           hn_weight_type weight_type, const float *bias, int N, int C, int OC);
void hn_cpu_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const void *weight, hn_weight_type weight_type,
                            int N, int C, int OC);

void hn_cpu_embedding_forward(float *out, const int32_t *ids, const void *table,
                              hn_weight_type table_type, int N, int C);
void hn_cpu_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int N, int C);

void hn_cpu_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight,
                            float eps, int N, int C);
void hn_cpu_rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                             const float *weight, const float *rstd, int N, int C);

void hn_cpu_swiglu_forward(float *out, const float *gate, const float *up, int N, int H);
void hn_cpu_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                            const float *up, int N, int H);

void hn_cpu_rope_forward(float *out, const float *inp, const int32_t *position_ids,
                         const float *inv_freq, float attention_factor, int B, int T, int NH,
                         int HD);
void hn_cpu_rope_backward(float *dinp, const float *dout, const int32_t *position_ids,
                          const float *inv_freq, float attention_factor, int B, int T, int NH,
                          int HD);

void hn_cpu_attention_forward(float *out, float *lse, const float *q, const float *k,
                              const float *v, const int32_t *doc_start, float scale, int window,
                              int B, int T, int NH, int NKV, int HD);
void hn_cpu_attention_cached_forward(float *out, const float *q, const float *k, const float *v,
                                     float scale, int window, int past, int T, int NH, int NKV,
                                     int HD);
void hn_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                               const float *q, const float *k, const float *v, const float *out,
                               const float *lse, const int32_t *doc_start, float scale,
                               int window, int B, int T, int NH, int NKV, int HD);

void hn_cpu_cross_entropy_forward(float *losses, float *lse, const float *hidden,
                                  const void *weight, hn_weight_type weight_type,
                                  const int32_t *targets, int N, int C, int V);
void hn_cpu_cross_entropy_backward(float *dhidden, float *dweight, const float *dlosses,
                                   const float *hidden, const void *weight,
                                   hn_weight_type weight_type, const int32_t *targets,
                                   const float *lse, int N, int C, int V);

void hn_cpu_dropout_forward(float *out, const float *inp, float p, uint64_t seed, size_t n);
void hn_cpu_dropout_backward(float *dinp, const float *dout, float p, uint64_t seed, size_t n);

void hn_cpu_dora_norm_forward(float *norm, const void *weight, hn_weight_type weight_type,
                              const float *lora_a, const float *lora_b, float scaling, int C,
                              int OC, int r);
void hn_cpu_dora_scale_forward(float *out, const float *inp, const float *magnitude,
                               const float *norm, const float *bias, int N, int OC);
void hn_cpu_dora_scale_backward(float *dinp, float *dmagnitude, float *dbias, const float *dout,
                                const float *inp, const float *magnitude, const float *norm,
                                int N, int OC);

void hn_cpu_norm_squared_accumulate(float *sum_squares, const float *x, size_t n);
void hn_cpu_adamw_step(float *param, float *m, float *v, const float *grad, size_t n, double lr,
                       double beta1, double beta2, double eps, double weight_decay,
                       float grad_scale, int64_t step);
