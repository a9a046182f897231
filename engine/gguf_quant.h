/* ggml tensor types as GGUF files store them: names, block sizes, bytes per block, and
 * dequantization to fp32 of the float and quantized types Hone reads.
 * Type ids, block sizes and byte counts follow ggml (ggml.h `enum ggml_type`, ggml.c
 * `type_traits`), as gguf-py repeats them in constants.py (GGML_QUANT_SIZES). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    HN_GGML_F32 = 0,
    HN_GGML_F16 = 1,
    HN_GGML_Q4_0 = 2,
    HN_GGML_Q4_1 = 3,
    /* 4, 5: Q4_2, Q4_3, removed from ggml */
    HN_GGML_Q5_0 = 6,
    HN_GGML_Q5_1 = 7,
    HN_GGML_Q8_0 = 8,
    HN_GGML_Q8_1 = 9,
    HN_GGML_Q2_K = 10,
    HN_GGML_Q3_K = 11,
    HN_GGML_Q4_K = 12,
    HN_GGML_Q5_K = 13,
    HN_GGML_Q6_K = 14,
    HN_GGML_Q8_K = 15,
    HN_GGML_IQ2_XXS = 16,
    HN_GGML_IQ2_XS = 17,
    HN_GGML_IQ3_XXS = 18,
    HN_GGML_IQ1_S = 19,
    HN_GGML_IQ4_NL = 20,
    HN_GGML_IQ3_S = 21,
    HN_GGML_IQ2_S = 22,
    HN_GGML_IQ4_XS = 23,
    HN_GGML_I8 = 24,
    HN_GGML_I16 = 25,
    HN_GGML_I32 = 26,
    HN_GGML_I64 = 27,
    HN_GGML_F64 = 28,
    HN_GGML_IQ1_M = 29,
    HN_GGML_BF16 = 30,
    /* 31-33, 36-38: repacked Q4_0 / IQ4_NL variants, removed from ggml */
    HN_GGML_TQ1_0 = 34,
    HN_GGML_TQ2_0 = 35,
    HN_GGML_MXFP4 = 39,
    HN_GGML_NVFP4 = 40,
    HN_GGML_Q1_0 = 41,
    HN_GGML_TYPE_COUNT,
} hn_ggml_type;

/* "Q4_K", ... as ggml and gguf-py spell them; NULL for an id ggml does not define. */
const char *hn_ggml_type_name(uint32_t type);
/* Elements per block (1 for plain types) and bytes per block; 0 for an unknown id. */
int64_t hn_ggml_block_size(uint32_t type);
size_t hn_ggml_type_size(uint32_t type);
/* "F32, F16, Q4_0, ..." : every type ggml defines (for error messages). */
const char *hn_ggml_known_names(void);
/* Bytes of `numel` elements; numel must be a multiple of the block size. */
uint64_t hn_ggml_row_bytes(uint32_t type, int64_t numel);

/* Whether hn_ggml_dequantize handles the type: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
 * Q2_K, Q3_K, Q4_K, Q5_K, Q6_K. */
bool hn_ggml_can_dequantize(uint32_t type);
/* "F32, F16, BF16, ..." (for error messages). */
const char *hn_ggml_dequantizable_names(void);

/* Converts n elements of src (stored as `type`, n a multiple of its block size, src holding
 * hn_ggml_row_bytes(type, n) bytes, any alignment) to fp32. The results are bit-identical to
 * ggml's dequantize_row_* and gguf-py's gguf.quants.dequantize. Types hn_ggml_can_dequantize
 * refuses leave dst untouched. */
void hn_ggml_dequantize(uint32_t type, const void *restrict src, float *restrict dst, int64_t n);
