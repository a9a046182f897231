/* GGUF model files (llama.cpp / ggml): a validating, memory-mapped reader for versions 2 and 3.
 * Format (ggml docs/gguf.md), all little-endian:
 *   "GGUF" | version u32 | tensor_count u64 | kv_count u64
 *   kv_count x { key: string | value type u32 | value }
 *   tensor_count x { name: string | n_dims u32 | dims u64[n_dims] | ggml type u32 | offset u64 }
 *   padding to `general.alignment` (u32, default 32) | tensor data
 * A string is a u64 byte length and that many bytes (UTF-8, no terminator); an array is an
 * element type u32, a u64 count and the elements. Tensor offsets count from the start of the
 * tensor data and are multiples of the alignment. dims[0] is the row length (fastest-varying),
 * the reverse of the PyTorch / safetensors shape. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "gguf_quant.h"
#include "hn_error.h"
#include "json_read.h" /* hn_presence */

#define HN_GGUF_MAX_DIMS 4          /* ggml's GGML_MAX_DIMS */
#define HN_GGUF_DEFAULT_ALIGNMENT 32
#define HN_GGUF_MAX_NESTING 16      /* arrays of arrays deeper than this are refused */

/* Metadata value types, with gguf's ids. */
typedef enum {
    HN_GGUF_UINT8 = 0,
    HN_GGUF_INT8 = 1,
    HN_GGUF_UINT16 = 2,
    HN_GGUF_INT16 = 3,
    HN_GGUF_UINT32 = 4,
    HN_GGUF_INT32 = 5,
    HN_GGUF_FLOAT32 = 6,
    HN_GGUF_BOOL = 7,
    HN_GGUF_STRING = 8,
    HN_GGUF_ARRAY = 9,
    HN_GGUF_UINT64 = 10,
    HN_GGUF_INT64 = 11,
    HN_GGUF_FLOAT64 = 12,
    HN_GGUF_TYPE_COUNT,
} hn_gguf_type;

/* Bytes inside the file: not NUL-terminated, not checked to be UTF-8. */
typedef struct {
    const char *data;
    uint64_t length;
} hn_gguf_string;

typedef struct hn_gguf_value hn_gguf_value;

/* One metadata value. Scalars are widened: unsigned integers and BOOL (0 or 1) into u,
 * signed integers into i, FLOAT32 and FLOAT64 into f (exactly). */
struct hn_gguf_value {
    hn_gguf_type type;
    union {
        uint64_t u;
        int64_t i;
        double f;
        struct {
            hn_gguf_string bytes;
            const char *text; /* a NUL-terminated copy; NULL for strings inside arrays */
        } string;
        struct {
            hn_gguf_type type;           /* element type */
            uint64_t count;
            const unsigned char *raw;    /* scalar elements: count packed little-endian values */
            const hn_gguf_string *strings; /* STRING elements: [count] */
            const hn_gguf_value *items;  /* ARRAY elements: [count] */
        } array;
    };
};

/* A key and its value, with where the pair starts in the file. */
typedef struct {
    const char *key;
    hn_gguf_value value;
    uint64_t offset;
} hn_gguf_kv;

typedef struct {
    const char *name;
    uint32_t type;                     /* hn_ggml_type */
    int n_dims;
    int64_t dims[HN_GGUF_MAX_DIMS];    /* [n_dims], ggml order: dims[0] is the row length */
    int64_t numel;
    uint64_t offset;                   /* from the start of the tensor data, aligned */
    uint64_t nbytes;
    const void *data;                  /* inside the mapping */
    uint64_t info_offset;              /* where its tensor info starts in the file */
} hn_gguf_tensor;

typedef struct hn_gguf_file hn_gguf_file;

/* Maps and validates a file: the header, every metadata value, every tensor info, and that
 * each tensor's data lies aligned inside the file and overlaps no other. */
hn_status hn_gguf_open(const char *path, hn_gguf_file **out, hn_error *err);
/* Validates a file image already in memory (not copied: keep it alive); `label` names it in
 * messages. */
hn_status hn_gguf_open_buffer(const char *label, const void *data, size_t size,
                              hn_gguf_file **out, hn_error *err);
void hn_gguf_close(hn_gguf_file *file);

const char *hn_gguf_path(const hn_gguf_file *file);
uint64_t hn_gguf_file_size(const hn_gguf_file *file);
uint32_t hn_gguf_version(const hn_gguf_file *file);
uint32_t hn_gguf_alignment(const hn_gguf_file *file);
/* Where the tensor data starts in the file. */
uint64_t hn_gguf_data_offset(const hn_gguf_file *file);

/* Metadata in file order. */
size_t hn_gguf_kv_count(const hn_gguf_file *file);
const hn_gguf_kv *hn_gguf_kv_get(const hn_gguf_file *file, size_t index);
const hn_gguf_kv *hn_gguf_kv_find(const hn_gguf_file *file, const char *key);

/* Tensors in file order (the order of their infos). */
size_t hn_gguf_tensor_count(const hn_gguf_file *file);
const hn_gguf_tensor *hn_gguf_tensor_get(const hn_gguf_file *file, size_t index);
const hn_gguf_tensor *hn_gguf_tensor_find(const hn_gguf_file *file, const char *name);

/* "UINT8", ..., "FLOAT64" as gguf-py spells them; "unknown" otherwise. */
const char *hn_gguf_type_name(uint32_t type);

/* Typed getters. An absent optional key leaves *out unchanged and returns HN_OK; an absent
 * required key, a value of the wrong type or out of [min, max] fails with a message naming
 * the file, the key and what was expected. Integer getters take any integer type whose value
 * fits; hn_gguf_get_double takes FLOAT32, FLOAT64 and integers. */
hn_status hn_gguf_get_int(const hn_gguf_file *file, const char *key, hn_presence presence,
                          int64_t min, int64_t max, int64_t *out, hn_error *err);
hn_status hn_gguf_get_uint(const hn_gguf_file *file, const char *key, hn_presence presence,
                           uint64_t max, uint64_t *out, hn_error *err);
hn_status hn_gguf_get_double(const hn_gguf_file *file, const char *key, hn_presence presence,
                             double *out, hn_error *err);
hn_status hn_gguf_get_bool(const hn_gguf_file *file, const char *key, hn_presence presence,
                           bool *out, hn_error *err);
/* *out points into the file object (NUL-terminated; a string with a NUL byte inside is cut
 * there: use the value's bytes for the whole). */
hn_status hn_gguf_get_string(const hn_gguf_file *file, const char *key, hn_presence presence,
                             const char **out, hn_error *err);
/* An array whose elements have type `element` (HN_GGUF_TYPE_COUNT: any). */
hn_status hn_gguf_get_array(const hn_gguf_file *file, const char *key, hn_presence presence,
                            hn_gguf_type element, const hn_gguf_value **out, hn_error *err);

/* Element `index` (< count) of an array as a value of its own (strings get no text copy). */
void hn_gguf_array_get(const hn_gguf_value *array, uint64_t index, hn_gguf_value *out);

/* Dequantizes a whole tensor to fp32 (dst holds numel floats). A type Hone cannot convert
 * fails with a message naming the file, the tensor and the types it can. */
hn_status hn_gguf_tensor_to_f32(const hn_gguf_file *file, const hn_gguf_tensor *tensor,
                                float *dst, hn_error *err);
