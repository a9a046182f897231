/* One element of a stored weight row as fp32, host and device: the rule the CUDA widening
 * kernel (products_matmul.cu) applies per element, written as weight_blocks.h decodes whole
 * blocks (bf16: the upper half of an fp32; Q8_0: d * q; Q4_1: d * q + m, element j in the low
 * nibble of qs[j], j + 16 in its high nibble). tests/test_cuda_weight_widen.c compares it
 * with the CPU backend's decoding bit for bit. */
#pragma once

#include <stdint.h>
#include <string.h>

#include "weight_blocks.h"

#ifdef __cplusplus
extern "C" {
#endif

HN_HOST_DEVICE static inline float hn_widen_half_at(const uint8_t *p)
{
    return hn_half_to_f32((uint16_t)(p[0] | (p[1] << 8)));
}

/* Element c of the row of C weights stored at `row` (row bytes: hn_weight_row_bytes). */
HN_HOST_DEVICE static inline float hn_widen_element(const uint8_t *row, hn_weight_type type,
                                                    int c)
{
    int j = c % HN_BLOCK_ELEMENTS;
    switch (type) {
    case HN_WEIGHT_BF16: {
        uint32_t bits = (uint32_t)(row[2 * c] | (row[2 * c + 1] << 8)) << 16;
        float value;
        memcpy(&value, &bits, sizeof value);
        return value;
    }
    case HN_WEIGHT_Q8_0: {
        const uint8_t *block = row + (size_t)(c / HN_BLOCK_ELEMENTS) * HN_Q8_0_BLOCK_BYTES;
        return hn_widen_half_at(block) * (float)(int8_t)block[2 + j];
    }
    case HN_WEIGHT_Q4_1: {
        const uint8_t *block = row + (size_t)(c / HN_BLOCK_ELEMENTS) * HN_Q4_1_BLOCK_BYTES;
        uint8_t byte = block[4 + j % (HN_BLOCK_ELEMENTS / 2)];
        int q = j < HN_BLOCK_ELEMENTS / 2 ? byte & 0x0f : byte >> 4;
        /* d * q is exact in fp32, so a fused multiply-add gives the same value */
        return hn_widen_half_at(block) * (float)q + hn_widen_half_at(block + 2);
    }
    default: {
        float value;
        memcpy(&value, row + sizeof(float) * (size_t)c, sizeof value);
        return value;
    }
    }
}

#ifdef __cplusplus
}
#endif
