/* Tensor element types: names, sizes, and the bit-level conversions to fp32 and bf16. */
#include "dtype.h"

#include <string.h>

#include "weight_blocks.h"

static const struct {
    const char *name;
    size_t size;
} dtype_table[HN_DTYPE_COUNT] = {
    [HN_DTYPE_F64] = {"F64", 8},  [HN_DTYPE_F32] = {"F32", 4},   [HN_DTYPE_F16] = {"F16", 2},
    [HN_DTYPE_BF16] = {"BF16", 2}, [HN_DTYPE_I64] = {"I64", 8},  [HN_DTYPE_I32] = {"I32", 4},
    [HN_DTYPE_I16] = {"I16", 2},  [HN_DTYPE_I8] = {"I8", 1},     [HN_DTYPE_U64] = {"U64", 8},
    [HN_DTYPE_U32] = {"U32", 4},  [HN_DTYPE_U16] = {"U16", 2},   [HN_DTYPE_U8] = {"U8", 1},
    [HN_DTYPE_BOOL] = {"BOOL", 1},
};

const char *hn_dtype_name(hn_dtype dtype)
{
    return (dtype >= 0 && dtype < HN_DTYPE_COUNT) ? dtype_table[dtype].name : "invalid";
}

size_t hn_dtype_size(hn_dtype dtype)
{
    return (dtype >= 0 && dtype < HN_DTYPE_COUNT) ? dtype_table[dtype].size : 0;
}

hn_dtype hn_dtype_from_name(const char *name)
{
    for (int i = 0; i < HN_DTYPE_COUNT; i++)
        if (strcmp(name, dtype_table[i].name) == 0)
            return (hn_dtype)i;
    return HN_DTYPE_INVALID;
}

const char *hn_dtype_known_names(void)
{
    return "F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL";
}

bool hn_dtype_is_float(hn_dtype dtype)
{
    return dtype == HN_DTYPE_F64 || dtype == HN_DTYPE_F32 || dtype == HN_DTYPE_F16 ||
           dtype == HN_DTYPE_BF16;
}

static float f32_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t f32_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

/* IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
float hn_f16_to_f32(uint16_t h)
{
    return hn_half_to_f32(h);
}

float hn_bf16_to_f32(uint16_t b)
{
    return f32_from_bits((uint32_t)b << 16);
}

uint16_t hn_f32_to_bf16(float f)
{
    uint32_t bits = f32_bits(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) /* NaN: make it quiet, keep the sign */
        return (uint16_t)((bits >> 16) | 0x0040u);
    uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)((bits + rounding) >> 16);
}

uint16_t hn_f32_to_f16(float f)
{
    uint32_t bits = f32_bits(f);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u) /* NaN: quiet, top payload bits kept */
        return (uint16_t)(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
    if (magnitude >= 0x477ff000u) /* >= 65520 rounds past 65504: inf */
        return (uint16_t)(sign | 0x7c00u);
    if (magnitude >= 0x38800000u) { /* normal: rebias 127 -> 15, round the 13 dropped bits */
        uint32_t rounded = magnitude - 0x38000000u + 0xfffu + ((magnitude >> 13) & 1u);
        return (uint16_t)(sign | (rounded >> 13));
    }
    /* subnormal (or zero): adding 0.5 leaves the value in units of 2^-24 in the low mantissa
     * bits, rounded to nearest even by the addition itself. */
    float shifted = f32_from_bits(magnitude) + 0.5f;
    return (uint16_t)(sign | (f32_bits(shifted) - 0x3f000000u));
}

/* Tensors inside a mapped file need not be aligned to their element size, so every load
 * goes through memcpy (a plain load once compiled). */
#define CONVERT_LOOP(type, expr)                                     \
    do {                                                             \
        const char *bytes = (const char *)src;                       \
        for (size_t i = 0; i < n; i++) {                             \
            type v;                                                  \
            memcpy(&v, bytes + i * sizeof(type), sizeof v);          \
            dst[i] = (expr);                                         \
        }                                                            \
    } while (0)

void hn_convert_to_f32(float *restrict dst, const void *restrict src, hn_dtype dtype, size_t n)
{
    switch (dtype) {
    case HN_DTYPE_F64: CONVERT_LOOP(double, (float)v); break;
    case HN_DTYPE_F32: memmove(dst, src, n * sizeof(float)); break;
    case HN_DTYPE_F16: CONVERT_LOOP(uint16_t, hn_f16_to_f32(v)); break;
    case HN_DTYPE_BF16: CONVERT_LOOP(uint16_t, hn_bf16_to_f32(v)); break;
    case HN_DTYPE_I64: CONVERT_LOOP(int64_t, (float)v); break;
    case HN_DTYPE_I32: CONVERT_LOOP(int32_t, (float)v); break;
    case HN_DTYPE_I16: CONVERT_LOOP(int16_t, (float)v); break;
    case HN_DTYPE_I8: CONVERT_LOOP(int8_t, (float)v); break;
    case HN_DTYPE_U64: CONVERT_LOOP(uint64_t, (float)v); break;
    case HN_DTYPE_U32: CONVERT_LOOP(uint32_t, (float)v); break;
    case HN_DTYPE_U16: CONVERT_LOOP(uint16_t, (float)v); break;
    case HN_DTYPE_U8: CONVERT_LOOP(uint8_t, (float)v); break;
    case HN_DTYPE_BOOL: CONVERT_LOOP(uint8_t, v ? 1.0f : 0.0f); break;
    default: break;
    }
}

void hn_convert_to_bf16(uint16_t *dst, const void *src, hn_dtype dtype, size_t n)
{
    if (dtype == HN_DTYPE_BF16) {
        memmove(dst, src, n * sizeof(uint16_t));
        return;
    }
    /* Convert in blocks through a small fp32 buffer on the stack. */
    enum { BLOCK = 1024 };
    float block[BLOCK];
    size_t element_size = hn_dtype_size(dtype);
    for (size_t start = 0; start < n; start += BLOCK) {
        size_t count = n - start < BLOCK ? n - start : BLOCK;
        hn_convert_to_f32(block, (const char *)src + start * element_size, dtype, count);
        for (size_t i = 0; i < count; i++)
            dst[start + i] = hn_f32_to_bf16(block[i]);
    }
}
