/* The key/value cache of one sequence for inference: per layer the keys (after RoPE and
 * Qwen3's k norm) and values of every token seen so far, [capacity, NKV * HD] in backend
 * memory, growing by doubling as tokens arrive, and the token ids they came from (host). */
#pragma once

#include <stdint.h>

#include "backend.h"
#include "hn_error.h"

typedef struct {
    const hn_backend *be;
    int layers, row;  /* row: floats per token per layer (NKV * HD) */
    int capacity;     /* tokens the buffers hold */
    int length;       /* tokens cached */
    float **k, **v;   /* [layers] of [capacity, row] */
    int32_t *ids;     /* [capacity] (host) */
} hn_kv_cache;

void hn_kv_cache_init(hn_kv_cache *cache, const hn_backend *be, int layers, int row);
/* Makes room for `tokens` tokens in all (the cached ones kept). */
hn_status hn_kv_cache_reserve(hn_kv_cache *cache, int tokens, hn_error *err);
void hn_kv_cache_free(hn_kv_cache *cache);
/* Layer l's keys / values of token t. */
static inline float *hn_kv_cache_keys(const hn_kv_cache *cache, int l, int t)
{
    return cache->k[l] + (size_t)t * (size_t)cache->row;
}
static inline float *hn_kv_cache_values(const hn_kv_cache *cache, int l, int t)
{
    return cache->v[l] + (size_t)t * (size_t)cache->row;
}
