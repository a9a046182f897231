/* Tokenized training examples on disk, so that a second run with the same inputs starts at
 * once. One file per key (train_data.h computes the key: a SHA-256 over everything that
 * changes the examples), named <key hex>.bin in the cache folder, written atomically
 * (atomic_file.h). Layout, host byte order (little-endian on every machine Hone builds for):
 *
 *   "HONETOK\0", u32 format version (HN_DATA_CACHE_VERSION), u32 0, 32 bytes key,
 *   u64 payload size, 32 bytes SHA-256 of the payload, then the payload:
 *   u64 n_examples, u64 n_dropped, i64 n_tokens, i64 n_label_tokens,
 *   u32 length + bytes of first_dropped (length 0xffffffff: NULL), u32 group, u32 1 when
 *   the desirable flags follow (u8 desirable[n_examples / group]) else 0, and per example:
 *   u64 n, u32 flags (1: position_ids follow, 2: doc_start follow), i32 input_ids[n],
 *   i32 labels[n], [i32 position_ids[n]], [i32 doc_start[n]].
 *
 * Bump HN_DATA_CACHE_VERSION whenever this layout or the meaning of the examples changes; the
 * version is also part of the key. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sft_data.h"

#define HN_DATA_CACHE_VERSION 2u
#define HN_DATA_CACHE_KEY_SIZE 32

/* The default cache folder: $XDG_CACHE_HOME/hone/tokenized (~/.cache/hone/tokenized), beside
 * the models' ~/.cache/hone/models. g_free the result. */
char *hn_data_cache_default_dir(void);
/* <dir>/<key hex>.bin; g_free the result. */
char *hn_data_cache_path(const char *dir, const uint8_t key[HN_DATA_CACHE_KEY_SIZE]);

/* Reads the file at path into *out. *found is false (and HN_OK) when there is no file. A file
 * that is truncated, has a wrong magic, version, key or checksum, or whose payload does not
 * parse, is an HN_ERR_FORMAT error naming the file and what is wrong. */
hn_status hn_data_cache_read(const char *path, const uint8_t key[HN_DATA_CACHE_KEY_SIZE],
                             hn_sft_data *out, bool *found, hn_error *err);
/* Writes *data under path atomically, creating its folder. */
hn_status hn_data_cache_write(const char *path, const uint8_t key[HN_DATA_CACHE_KEY_SIZE],
                              const hn_sft_data *data, hn_error *err);
