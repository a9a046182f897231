/* Element types of tensors in model files (safetensors names) and conversion to fp32 / bf16. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    HN_DTYPE_F64,
    HN_DTYPE_F32,
    HN_DTYPE_F16,
    HN_DTYPE_BF16,
    HN_DTYPE_I64,
    HN_DTYPE_I32,
    HN_DTYPE_I16,
    HN_DTYPE_I8,
    HN_DTYPE_U64,
    HN_DTYPE_U32,
    HN_DTYPE_U16,
    HN_DTYPE_U8,
    HN_DTYPE_BOOL,
    HN_DTYPE_COUNT,
    HN_DTYPE_INVALID = -1,
} hn_dtype;

/* "F32", "BF16", ... as safetensors spells them. */
const char *hn_dtype_name(hn_dtype dtype);
/* Bytes per element. */
size_t hn_dtype_size(hn_dtype dtype);
/* Parses a safetensors dtype name; HN_DTYPE_INVALID when unknown. */
hn_dtype hn_dtype_from_name(const char *name);
/* A comma-separated list of every name hn_dtype_from_name accepts (for error messages). */
const char *hn_dtype_known_names(void);
bool hn_dtype_is_float(hn_dtype dtype);

float hn_f16_to_f32(uint16_t h);
float hn_bf16_to_f32(uint16_t b);
/* Round to nearest, ties to even; NaN stays NaN (quiet) with its sign. */
uint16_t hn_f32_to_bf16(float f);
/* IEEE binary16, round to nearest, ties to even; overflow to inf, NaN stays NaN (quiet). */
uint16_t hn_f32_to_f16(float f);

/* Converts n elements of src (stored as dtype) to fp32. BOOL becomes 0 or 1. */
void hn_convert_to_f32(float *restrict dst, const void *restrict src, hn_dtype dtype, size_t n);
/* Converts n elements of src to bf16: values go through fp32, then round to nearest even. */
void hn_convert_to_bf16(uint16_t *dst, const void *src, hn_dtype dtype, size_t n);
