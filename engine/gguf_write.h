/* Writing GGUF v3 files (the layout gguf.h describes): metadata collected in order, tensor infos
 * with their types and ggml dims, then the file written atomically with each tensor's bytes
 * produced by the caller when its turn comes, so a model never has to be in memory at once.
 * Alignment 32 (general.alignment is not written), as gguf-py's GGUFWriter does. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

typedef struct hn_gguf_writer hn_gguf_writer;

hn_gguf_writer *hn_gguf_writer_new(void);
void hn_gguf_writer_free(hn_gguf_writer *w);

void hn_gguf_add_u32(hn_gguf_writer *w, const char *key, uint32_t value);
void hn_gguf_add_i32(hn_gguf_writer *w, const char *key, int32_t value);
void hn_gguf_add_f32(hn_gguf_writer *w, const char *key, float value);
void hn_gguf_add_bool(hn_gguf_writer *w, const char *key, bool value);
void hn_gguf_add_string(hn_gguf_writer *w, const char *key, const char *value);
/* An array of strings. */
void hn_gguf_add_strings(hn_gguf_writer *w, const char *key, const char *const *values,
                         size_t n);
/* An array of int32. */
void hn_gguf_add_i32s(hn_gguf_writer *w, const char *key, const int32_t *values, size_t n);
/* A value read from another file, copied as it is (any type, arrays of arrays included). */
void hn_gguf_add_value(hn_gguf_writer *w, const char *key, const hn_gguf_value *value);
/* Whether a key was added. */
bool hn_gguf_writer_has(const hn_gguf_writer *w, const char *key);

/* A tensor: ggml type, dims in ggml order (dims[0] is the row length). */
void hn_gguf_add_tensor(hn_gguf_writer *w, const char *name, uint32_t type, int n_dims,
                        const int64_t *dims);

/* Fills dst (the tensor's bytes, as many as its type and dims imply) for tensor `index`. */
typedef hn_status (*hn_gguf_fill)(void *user, size_t index, void *dst, hn_error *err);

/* Writes the file atomically; tensors' data come from fill, in the order they were added. */
hn_status hn_gguf_writer_write(hn_gguf_writer *w, const char *path, hn_gguf_fill fill,
                               void *user, hn_error *err);
