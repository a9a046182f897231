/* One token through a linear layer whose weight stays in GGUF blocks (Q8_0, Q4_1), with the
 * input quantized to int8 per block of 32 and integer dot products (the opt-in decode mode
 * `decode_activations: int8`; matvec_int8.c). Exposed to the tests as well: the integer dot of
 * one block on the kernel path HONE_CPU_KERNELS selects. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

/* x[C] (C a multiple of 32) per block b of 32: d[b] = max |x| / 127 (fp32), q = round(x / d)
 * in [-127, 127] (0 for an all-zero block), sums[b] = the sum of the block's q. A block with
 * an Inf or NaN gets d[b] = NaN, so the products it enters are NaN as in fp32. */
void hn_cpu_quantize_int8(int8_t *q, float *d, int32_t *sums, const float *x, int C);

/* sum over j of w_j * q[j] for one block at `block`: w_j the int8 of Q8_0 or the 4-bit value
 * (0..15) of Q4_1; q from hn_cpu_quantize_int8 (in [-127, 127]). Exact, on the kernel path
 * the run-time choice takes (HONE_CPU_KERNELS=avx2|plain caps it). */
int32_t hn_cpu_int8_block_dot(const uint8_t *block, hn_weight_type type, const int8_t *q);

/* out[o] (+)= sum over blocks b of row o of d_w * d[b] * dot_b (+ m_w * d[b] * sums[b] for
 * Q4_1): the row's dot product with the dequantized input d[b] * q. accumulate: add to out. */
void hn_cpu_block_matvec_quantized(float *out, const int8_t *q, const float *d,
                                   const int32_t *sums, const void *weight, hn_weight_type type,
                                   bool accumulate, int C, int OC);

/* The backend op: out = x @ weight^T (+ bias) for one row, x quantized as above first. */
void hn_cpu_block_matvec_int8(float *out, const float *x, const void *weight,
                              hn_weight_type type, const float *bias, int C, int OC);

/* block_matvec_group's int8 side: x quantized once, then every part's product as above. */
void hn_cpu_block_matvec_int8_group(const hn_matvec_part *parts, int count, const float *x,
                                    int C);
