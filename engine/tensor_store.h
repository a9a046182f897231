/* All weights of a model folder by name, whether in one model.safetensors or in shards listed
 * by model.safetensors.index.json. */
#pragma once

#include "safetensors.h"

typedef struct hn_tensor_store hn_tensor_store;

/* `path` is a model folder or a single .safetensors file. Every shard named by the index is
 * opened and validated, and every tensor the index lists must be in the shard it names. */
hn_status hn_tensor_store_open(const char *path, hn_tensor_store **out, hn_error *err);
void hn_tensor_store_close(hn_tensor_store *store);

size_t hn_tensor_store_count(const hn_tensor_store *store);
/* Tensors shard by shard, each shard in offset order. *shard (may be NULL) gets its index. */
const hn_st_tensor *hn_tensor_store_get(const hn_tensor_store *store, size_t index, int *shard);
const hn_st_tensor *hn_tensor_store_find(const hn_tensor_store *store, const char *name);
int hn_tensor_store_shard_count(const hn_tensor_store *store);
const hn_st_file *hn_tensor_store_shard(const hn_tensor_store *store, int shard);
/* The index file, or NULL for a single-file model. */
const char *hn_tensor_store_index_path(const hn_tensor_store *store);
