/* ggml tensor types: the size table and dequantization to fp32, block by block.
 *
 * Block layouts are ggml's: the structs block_q4_0 ... block_q6_K in ggml/src/ggml-common.h,
 * decoded as dequantize_row_* in ggml/src/ggml-quants.c and gguf-py's gguf/quants.py do.
 * Every block is read byte by byte (memcpy for the fp16 scales), so blocks need no alignment.
 * The arithmetic order follows the reference exactly (each product rounded to fp32 before the
 * next operation), which is what makes the results bit-identical; contraction into fused
 * multiply-adds is switched off below because it would change the rounding. */
#include "gguf_quant.h"

#include <string.h>

#include "dtype.h"
#include "weight_blocks.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "GGUF blocks are little-endian; this file assumes a little-endian host"
#endif

#define QK 32   /* elements per block of the legacy types (QK4_0, QK4_1, QK5_0, QK5_1, QK8_0) */
#define QK_K 256 /* elements per super-block of the k-quants */

static const struct {
    const char *name;
    int64_t block;   /* elements per block */
    size_t bytes;    /* bytes per block */
    bool dequantize; /* hn_ggml_dequantize handles it */
} types[HN_GGML_TYPE_COUNT] = {
    [HN_GGML_F32] = {"F32", 1, 4, true},
    [HN_GGML_F16] = {"F16", 1, 2, true},
    [HN_GGML_Q4_0] = {"Q4_0", QK, 2 + 16, true},
    [HN_GGML_Q4_1] = {"Q4_1", QK, 2 + 2 + 16, true},
    [HN_GGML_Q5_0] = {"Q5_0", QK, 2 + 4 + 16, true},
    [HN_GGML_Q5_1] = {"Q5_1", QK, 2 + 2 + 4 + 16, true},
    [HN_GGML_Q8_0] = {"Q8_0", QK, 2 + 32, true},
    [HN_GGML_Q8_1] = {"Q8_1", QK, 4 + 4 + 32, false},
    [HN_GGML_Q2_K] = {"Q2_K", QK_K, QK_K / 16 + QK_K / 4 + 2 + 2, true},
    [HN_GGML_Q3_K] = {"Q3_K", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2, true},
    [HN_GGML_Q4_K] = {"Q4_K", QK_K, 2 + 2 + 12 + QK_K / 2, true},
    [HN_GGML_Q5_K] = {"Q5_K", QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2, true},
    [HN_GGML_Q6_K] = {"Q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2, true},
    [HN_GGML_Q8_K] = {"Q8_K", QK_K, 4 + QK_K + QK_K / 8, false},
    [HN_GGML_IQ2_XXS] = {"IQ2_XXS", QK_K, 2 + QK_K / 4, false},
    [HN_GGML_IQ2_XS] = {"IQ2_XS", QK_K, 2 + QK_K / 4 + QK_K / 32, false},
    [HN_GGML_IQ3_XXS] = {"IQ3_XXS", QK_K, 2 + QK_K / 4 + QK_K / 8, false},
    [HN_GGML_IQ1_S] = {"IQ1_S", QK_K, 2 + QK_K / 8 + QK_K / 16, false},
    [HN_GGML_IQ4_NL] = {"IQ4_NL", QK, 2 + 16, false},
    [HN_GGML_IQ3_S] = {"IQ3_S", QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4, false},
    [HN_GGML_IQ2_S] = {"IQ2_S", QK_K, 2 + QK_K / 4 + QK_K / 16, false},
    [HN_GGML_IQ4_XS] = {"IQ4_XS", QK_K, 2 + 2 + QK_K / 2 + QK_K / 64, false},
    [HN_GGML_I8] = {"I8", 1, 1, false},
    [HN_GGML_I16] = {"I16", 1, 2, false},
    [HN_GGML_I32] = {"I32", 1, 4, false},
    [HN_GGML_I64] = {"I64", 1, 8, false},
    [HN_GGML_F64] = {"F64", 1, 8, false},
    [HN_GGML_IQ1_M] = {"IQ1_M", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32, false},
    [HN_GGML_BF16] = {"BF16", 1, 2, true},
    [HN_GGML_TQ1_0] = {"TQ1_0", QK_K, 2 + 4 * 13, false},
    [HN_GGML_TQ2_0] = {"TQ2_0", QK_K, 2 + 64, false},
    [HN_GGML_MXFP4] = {"MXFP4", QK, 1 + 16, false},
    [HN_GGML_NVFP4] = {"NVFP4", 64, 4 + 32, false},
    [HN_GGML_Q1_0] = {"Q1_0", 128, 2 + 16, false},
};

const char *hn_ggml_type_name(uint32_t type)
{
    return type < HN_GGML_TYPE_COUNT ? types[type].name : NULL;
}

int64_t hn_ggml_block_size(uint32_t type)
{
    return type < HN_GGML_TYPE_COUNT && types[type].name != NULL ? types[type].block : 0;
}

size_t hn_ggml_type_size(uint32_t type)
{
    return type < HN_GGML_TYPE_COUNT && types[type].name != NULL ? types[type].bytes : 0;
}

const char *hn_ggml_known_names(void)
{
    return "F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, "
           "IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ4_NL, IQ3_S, IQ2_S, IQ4_XS, I8, I16, I32, I64, "
           "F64, IQ1_M, BF16, TQ1_0, TQ2_0, MXFP4, NVFP4, Q1_0";
}

uint64_t hn_ggml_row_bytes(uint32_t type, int64_t numel)
{
    int64_t block = hn_ggml_block_size(type);
    return block > 0 ? (uint64_t)(numel / block) * hn_ggml_type_size(type) : 0;
}

bool hn_ggml_can_dequantize(uint32_t type)
{
    return type < HN_GGML_TYPE_COUNT && types[type].dequantize;
}

const char *hn_ggml_dequantizable_names(void)
{
    return "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K";
}

/* block_q4_0, 18 bytes: d (fp16) | qs[16]: element j in the low nibble of qs[j], element
 * j + 16 in its high nibble; x = d * (q - 8). */
static void dequantize_q4_0(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += 18, y += QK) {
        const float d = hn_half_at(src);
        const uint8_t *qs = src + 2;
        for (int j = 0; j < QK / 2; j++) {
            y[j] = d * (float)((qs[j] & 0x0f) - 8);
            y[j + QK / 2] = d * (float)((qs[j] >> 4) - 8);
        }
    }
}

/* block_q4_1, 20 bytes: d (fp16) | m (fp16) | qs[16] as in Q4_0; x = d * q + m. The
 * backends read these blocks in place with the same decoder (weight_blocks.h). */
static void dequantize_q4_1(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += HN_Q4_1_BLOCK_BYTES, y += QK)
        hn_block_q4_1_to_f32(src, y);
}

/* The 5-bit quants of a Q5_0 / Q5_1 block: low nibbles from qs, fifth bits from qh. Decoded
 * first into q: the simple loops vectorise, one mixed loop would not. */
static inline void unpack_q5(const uint8_t *qs, uint32_t qh, int32_t *q)
{
    for (int j = 0; j < QK / 2; j++) {
        q[j] = qs[j] & 0x0f;
        q[j + QK / 2] = qs[j] >> 4;
    }
    for (int j = 0; j < QK; j++)
        q[j] |= (int32_t)((qh >> j) & 1u) << 4;
}

/* block_q5_0, 22 bytes: d (fp16) | qh (32 bits, little-endian: bit i is the fifth bit of
 * element i) | qs[16] low nibbles as in Q4_0; x = d * (q - 16). */
static void dequantize_q5_0(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += 22, y += QK) {
        const float d = hn_half_at(src);
        uint32_t qh;
        memcpy(&qh, src + 2, sizeof qh);
        const uint8_t *qs = src + 6;
        int32_t q[QK];
        unpack_q5(qs, qh, q);
        for (int j = 0; j < QK; j++)
            y[j] = d * (float)(q[j] - 16);
    }
}

/* block_q5_1, 24 bytes: d (fp16) | m (fp16) | qh (32 bits) | qs[16], as Q5_0; x = d * q + m. */
static void dequantize_q5_1(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += 24, y += QK) {
        const float d = hn_half_at(src), m = hn_half_at(src + 2);
        uint32_t qh;
        memcpy(&qh, src + 4, sizeof qh);
        const uint8_t *qs = src + 8;
        int32_t q[QK];
        unpack_q5(qs, qh, q);
        for (int j = 0; j < QK; j++)
            y[j] = d * (float)q[j] + m;
    }
}

/* block_q8_0, 34 bytes: d (fp16) | qs[32] (int8); x = d * q (weight_blocks.h, as Q4_1). */
static void dequantize_q8_0(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += HN_Q8_0_BLOCK_BYTES, y += QK)
        hn_block_q8_0_to_f32(src, y);
}

/* block_q2_K, 84 bytes: scales[16] (low nibble: scale, high nibble: min, one pair per 16
 * elements) | qs[64] (2-bit values) | d (fp16) | dmin (fp16). Element e = 128h + 32j + l
 * (h < 2, j < 4, l < 32) is bits 2j..2j+1 of qs[32h + l]; x = (d * scale) * q - (dmin * min). */
static void dequantize_q2_k(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += 84, y += QK_K) {
        const uint8_t *scales = src, *qs = src + 16;
        const float d = hn_half_at(src + 80), dmin = hn_half_at(src + 82);
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int g = 0; g < 2; g++) { /* two groups of 16 share a scale */
                    int e0 = 128 * h + 32 * j + 16 * g;
                    uint8_t sc = scales[e0 / 16];
                    const float dl = d * (float)(sc & 0x0f), ml = dmin * (float)(sc >> 4);
                    const uint8_t *q = qs + 32 * h + 16 * g;
                    for (int l = 0; l < 16; l++)
                        y[e0 + l] = dl * (float)((q[l] >> (2 * j)) & 3) - ml;
                }
    }
}

/* block_q3_K, 110 bytes: hmask[32] | qs[64] (low 2 bits, placed as in Q2_K) | scales[12]
 * (sixteen 6-bit signed scales: low 4 bits of scale i in nibble i / 8 of scales[i % 8], high
 * 2 bits in bits 2 * (i / 4) of scales[8 + i % 4], offset by 32) | d (fp16). The high bit of
 * element e = 32m + l is bit m of hmask[l]; when clear, 4 is subtracted. x = (d * scale) * q. */
static void dequantize_q3_k(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += 110, y += QK_K) {
        const uint8_t *hmask = src, *qs = src + 32, *packed = src + 96;
        const float d = hn_half_at(src + 108);
        float dl[16];
        for (int i = 0; i < 16; i++) {
            int low = (packed[i % 8] >> (4 * (i / 8))) & 0x0f;
            int high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
            dl[i] = d * (float)((low | (high << 4)) - 32);
        }
        for (int m = 0; m < 8; m++) { /* 32 elements: e / 32 == m */
            const uint8_t *q = qs + 32 * (m / 4);
            const int shift = 2 * (m % 4);
            int8_t v[32];
            for (int l = 0; l < 32; l++)
                v[l] = (int8_t)(((q[l] >> shift) & 3) - (((hmask[l] >> m) & 1) ? 0 : 4));
            float *out = y + 32 * m;
            for (int l = 0; l < 16; l++)
                out[l] = dl[2 * m] * (float)v[l];
            for (int l = 0; l < 16; l++)
                out[16 + l] = dl[2 * m + 1] * (float)v[16 + l];
        }
    }
}

/* The 6-bit scale and min of sub-block j (< 8) packed in the 12 bytes of Q4_K and Q5_K:
 * j < 4: low 6 bits of bytes j and j + 4; j >= 4: a nibble of byte j + 4 plus the top two
 * bits of bytes j - 4 and j. */
static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *scale, uint8_t *min)
{
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = (uint8_t)((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        *min = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* block_q4_K, 144 bytes: d (fp16) | dmin (fp16) | scales[12] (eight 6-bit scale/min pairs) |
 * qs[128]. Sub-block s = 2c + h (32 elements) is nibble h of qs[32c .. 32c + 31];
 * x = (d * scale) * q - (dmin * min). */
static void dequantize_q4_k(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += 144, y += QK_K) {
        const float d = hn_half_at(src), dmin = hn_half_at(src + 2);
        const uint8_t *scales = src + 4, *qs = src + 16;
        float dl[8], ml[8];
        for (int s = 0; s < 8; s++) {
            uint8_t sc, mn;
            scale_min_k4(s, scales, &sc, &mn);
            dl[s] = d * (float)sc;
            ml[s] = dmin * (float)mn;
        }
        for (int c = 0; c < 4; c++) { /* sub-blocks 2c (low nibbles) and 2c + 1 (high) */
            const uint8_t *q = qs + 32 * c;
            float *out = y + 64 * c;
            const float d0 = dl[2 * c], m0 = ml[2 * c], d1 = dl[2 * c + 1], m1 = ml[2 * c + 1];
            for (int l = 0; l < 32; l++)
                out[l] = d0 * (float)(q[l] & 0x0f) - m0;
            for (int l = 0; l < 32; l++)
                out[32 + l] = d1 * (float)(q[l] >> 4) - m1;
        }
    }
}

/* block_q5_K, 176 bytes: d | dmin | scales[12] as Q4_K | qh[32] | qs[128] as Q4_K; the fifth
 * bit of element l of sub-block s is bit s of qh[l]. */
static void dequantize_q5_k(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += 176, y += QK_K) {
        const float d = hn_half_at(src), dmin = hn_half_at(src + 2);
        const uint8_t *scales = src + 4, *qh = src + 16, *qs = src + 48;
        for (int s = 0; s < 8; s++) {
            uint8_t sc, mn;
            scale_min_k4(s, scales, &sc, &mn);
            const float dl = d * (float)sc, ml = dmin * (float)mn;
            const uint8_t *q = qs + 32 * (s / 2);
            const int shift = 4 * (s % 2);
            for (int l = 0; l < 32; l++) {
                int v = ((q[l] >> shift) & 0x0f) | (((qh[l] >> s) & 1) << 4);
                y[32 * s + l] = dl * (float)v - ml;
            }
        }
    }
}

/* block_q6_K, 210 bytes: ql[128] (low 4 bits) | qh[64] (high 2 bits) | scales[16] (int8, one
 * per 16 elements) | d (fp16). Element e = 128h + 32r + l (h < 2, r < 4, l < 32): low nibble
 * r / 2 of ql[64h + 32(r % 2) + l], high bits 2r..2r+1 of qh[32h + l]; x = (d * scale) * (q - 32). */
static void dequantize_q6_k(const uint8_t *restrict src, float *restrict y, int64_t n_blocks)
{
    for (int64_t b = 0; b < n_blocks; b++, src += 210, y += QK_K) {
        const uint8_t *ql = src, *qh = src + 128;
        const int8_t *scales = (const int8_t *)(src + 192);
        const float d = hn_half_at(src + 208);
        for (int h = 0; h < 2; h++)
            for (int r = 0; r < 4; r++)
                for (int g = 0; g < 2; g++) { /* two groups of 16 with their own scale */
                    int e0 = 128 * h + 32 * r + 16 * g;
                    const float dl = d * (float)scales[e0 / 16];
                    const uint8_t *lo = ql + 64 * h + 32 * (r % 2) + 16 * g;
                    const uint8_t *hi = qh + 32 * h + 16 * g;
                    const int shift = 4 * (r / 2);
                    for (int l = 0; l < 16; l++) {
                        int v = ((lo[l] >> shift) & 0x0f) | (((hi[l] >> (2 * r)) & 3) << 4);
                        y[e0 + l] = dl * (float)(v - 32);
                    }
                }
    }
}

void hn_ggml_dequantize(uint32_t type, const void *restrict src, float *restrict dst, int64_t n)
{
    if (!hn_ggml_can_dequantize(type) || n <= 0)
        return;
    const uint8_t *bytes = src;
    const int64_t n_blocks = n / types[type].block;
    switch ((hn_ggml_type)type) {
    case HN_GGML_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case HN_GGML_F16: hn_convert_to_f32(dst, src, HN_DTYPE_F16, (size_t)n); break;
    case HN_GGML_BF16: hn_convert_to_f32(dst, src, HN_DTYPE_BF16, (size_t)n); break;
    case HN_GGML_Q4_0: dequantize_q4_0(bytes, dst, n_blocks); break;
    case HN_GGML_Q4_1: dequantize_q4_1(bytes, dst, n_blocks); break;
    case HN_GGML_Q5_0: dequantize_q5_0(bytes, dst, n_blocks); break;
    case HN_GGML_Q5_1: dequantize_q5_1(bytes, dst, n_blocks); break;
    case HN_GGML_Q8_0: dequantize_q8_0(bytes, dst, n_blocks); break;
    case HN_GGML_Q2_K: dequantize_q2_k(bytes, dst, n_blocks); break;
    case HN_GGML_Q3_K: dequantize_q3_k(bytes, dst, n_blocks); break;
    case HN_GGML_Q4_K: dequantize_q4_k(bytes, dst, n_blocks); break;
    case HN_GGML_Q5_K: dequantize_q5_k(bytes, dst, n_blocks); break;
    case HN_GGML_Q6_K: dequantize_q6_k(bytes, dst, n_blocks); break;
    default: break;
    }
}
