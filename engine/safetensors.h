/* safetensors files: a validating, memory-mapped reader and an atomic writer.
 * Format: 8-byte little-endian header length N, N bytes of JSON header
 * {"__metadata__": {str: str}, NAME: {"dtype", "shape", "data_offsets": [begin, end]}},
 * then the data area; offsets count from the start of the data area. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"
#include "hn_error.h"

#define HN_MAX_DIMS 8
/* Like the reference implementation, refuse headers over 100 MB. */
#define HN_ST_MAX_HEADER (100u * 1000u * 1000u)

/* One tensor: where its bytes are and how to read them. */
typedef struct {
    const char *name;
    hn_dtype dtype;
    int ndim;
    int64_t shape[HN_MAX_DIMS]; /* [ndim] */
    int64_t numel;
    uint64_t nbytes;
    const void *data;           /* inside the mapping (reader) or the caller's memory (writer);
                                   not necessarily aligned to the element size */
} hn_st_tensor;

typedef struct hn_st_file hn_st_file;

/* Maps and validates a file; every header field is checked before anything is returned. */
hn_status hn_st_open(const char *path, hn_st_file **out, hn_error *err);
/* Validates a file image already in memory (not copied: keep it alive); `label` names it in
 * messages. */
hn_status hn_st_open_buffer(const char *label, const void *data, size_t size, hn_st_file **out,
                            hn_error *err);
void hn_st_close(hn_st_file *file);

const char *hn_st_path(const hn_st_file *file);
uint64_t hn_st_file_size(const hn_st_file *file);
/* Tensors in the order of their data offsets. */
size_t hn_st_count(const hn_st_file *file);
const hn_st_tensor *hn_st_get(const hn_st_file *file, size_t index);
const hn_st_tensor *hn_st_find(const hn_st_file *file, const char *name);
size_t hn_st_metadata_count(const hn_st_file *file);
void hn_st_metadata_get(const hn_st_file *file, size_t index, const char **key,
                        const char **value);
/* The value of a __metadata__ key, or NULL. */
const char *hn_st_metadata(const hn_st_file *file, const char *key);

/* A key/value pair for a file's __metadata__. */
typedef struct {
    const char *key;
    const char *value;
} hn_st_meta;

/* Writes one file atomically. Only name, dtype, ndim, shape and data of each tensor are used. */
hn_status hn_st_write(const char *path, const hn_st_tensor *tensors, size_t n_tensors,
                      const hn_st_meta *meta, size_t n_meta, hn_error *err);

/* Writes `prefix`.safetensors, or, when the data exceeds max_shard_bytes, shards named
 * `prefix`-00001-of-0000N.safetensors plus `prefix`.safetensors.index.json, into folder.
 * A tensor larger than max_shard_bytes gets a shard of its own. Each shard is written
 * atomically; the index last. *n_shards_out (may be NULL) receives the shard count. */
hn_status hn_st_write_sharded(const char *folder, const char *prefix,
                              const hn_st_tensor *tensors, size_t n_tensors,
                              const hn_st_meta *meta, size_t n_meta, uint64_t max_shard_bytes,
                              int *n_shards_out, hn_error *err);
