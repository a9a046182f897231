/* The CPU backend's ops (one file per op family) and the helpers they share. The table that
 * hands them to the engine is in cpu_backend.c; the contracts are in backend.h. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backend.h"

/* bf16 is the upper half of an fp32, so widening is a shift. */
static inline float hn_cpu_bf16_to_f32(uint16_t bits)
{
    uint32_t wide = (uint32_t)bits << 16;
    float value;
    memcpy(&value, &wide, sizeof value);
    return value;
}

/* Row `row` of a [rows, C] weight stored as `type`, widened into dst[C]. */
void hn_cpu_weight_row_to_f32(float *dst, const void *weight, hn_weight_type type, size_t row,
                              int C);

/* Gradients summed over many rows are split across threads by column blocks of this many
 * channels, each thread adding rows in order: the result does not depend on the thread count
 * (bitwise), and each thread reads contiguous memory. */
enum { HN_CPU_COLUMN_BLOCK = 64 };

/* dst[c] += sum over n of src[n, c] for c in [0, C): column sums of src [N, C]. */
void hn_cpu_add_column_sums(float *dst, const float *src, int N, int C);

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

void hn_cpu_norm_squared_accumulate(float *sum_squares, const float *x, size_t n);
void hn_cpu_adamw_step(float *param, float *m, float *v, const float *grad, size_t n, double lr,
                       double beta1, double beta2, double eps, double weight_decay,
                       float grad_scale, int64_t step);
