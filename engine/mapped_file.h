/* Read-only memory mapping of a whole file, for the model readers (safetensors, GGUF). */
#pragma once

#include <stdint.h>

#include "hn_error.h"

/* Maps `path` (a regular file) read-only. An empty file gives *bytes == NULL and *size == 0. */
hn_status hn_map_file(const char *path, const unsigned char **bytes, uint64_t *size,
                      hn_error *err);
/* Unmaps what hn_map_file mapped (nothing for an empty file). */
void hn_unmap_file(const unsigned char *bytes, uint64_t size);
