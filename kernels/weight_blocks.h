/* GGUF's block formats that a backend reads in place (HN_WEIGHT_Q8_0, HN_WEIGHT_Q4_1): the
 * bytes of a row and the decoding of one block of 32 weights to fp32. The engine's GGUF
 * reader (engine/gguf_quant.c) decodes these two formats with the same functions, so a weight
 * kept in blocks has exactly the values of its fp32 dequantization. Layouts are ggml's
 * (ggml-common.h): block_q8_0 is d (fp16) | qs[32] (int8), x = d * q; block_q4_1 is d (fp16) |
 * m (fp16) | qs[16], element j in the low nibble of qs[j] and element j + 16 in its high
 * nibble, x = d * q + m. Blocks are read byte by byte (no alignment needed). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    HN_BLOCK_ELEMENTS = 32, /* weights per block of either format */
    HN_Q8_0_BLOCK_BYTES = 2 + 32,
    HN_Q4_1_BLOCK_BYTES = 2 + 2 + 16,
};

/* Bytes of one stored row of C weights (C a multiple of 32 for the block formats). */
HN_HOST_DEVICE static inline size_t hn_weight_row_bytes(hn_weight_type type, int C)
{
    switch (type) {
    case HN_WEIGHT_BF16: return (size_t)C * 2;
    case HN_WEIGHT_Q8_0: return (size_t)(C / HN_BLOCK_ELEMENTS) * HN_Q8_0_BLOCK_BYTES;
    case HN_WEIGHT_Q4_1: return (size_t)(C / HN_BLOCK_ELEMENTS) * HN_Q4_1_BLOCK_BYTES;
    default: return (size_t)C * sizeof(float);
    }
}

/* IEEE half precision to fp32, exactly (subnormals, infinities and NaN payloads kept). */
HN_HOST_DEVICE static inline float hn_half_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else { /* subnormal: normalise the mantissa */
            int shift = 0;
            while ((mantissa & 0x400u) == 0) {
                mantissa <<= 1;
                shift++;
            }
            bits = sign | ((uint32_t)(127 - 15 + 1 - shift) << 23) | ((mantissa & 0x3ffu) << 13);
        }
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The fp16 stored little-endian at p. */
static inline float hn_half_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return hn_half_to_f32(h);
}

/* The 32 weights of one block_q8_0 at src. */
static inline void hn_block_q8_0_to_f32(const uint8_t *src, float *dst)
{
    const float d = hn_half_at(src);
    const int8_t *qs = (const int8_t *)(src + 2);
    for (int j = 0; j < HN_BLOCK_ELEMENTS; j++)
        dst[j] = d * (float)qs[j];
}

/* The 32 weights of one block_q4_1 at src. d * q is exact in fp32 (11 + 4 significant bits),
 * so a fused multiply-add gives the same value. */
static inline void hn_block_q4_1_to_f32(const uint8_t *src, float *dst)
{
    const float d = hn_half_at(src), m = hn_half_at(src + 2);
    const uint8_t *qs = src + 4;
    for (int j = 0; j < HN_BLOCK_ELEMENTS / 2; j++) {
        dst[j] = d * (float)(qs[j] & 0x0f) + m;
        dst[j + HN_BLOCK_ELEMENTS / 2] = d * (float)(qs[j] >> 4) + m;
    }
}

#ifdef __cplusplus
}
#endif
