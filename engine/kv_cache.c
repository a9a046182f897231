/* The key/value cache of one sequence (kv_cache.h): buffers per layer that grow by doubling,
 * copying what is cached, so a conversation's cache costs what its tokens need. */
#include <glib.h>

#include "kv_cache.h"

void hn_kv_cache_init(hn_kv_cache *cache, const hn_backend *be, int layers, int row)
{
    *cache = (hn_kv_cache){.be = be, .layers = layers, .row = row};
    cache->k = g_new0(float *, layers);
    cache->v = g_new0(float *, layers);
}

/* A buffer of `capacity` rows holding the first `keep` rows of old (freed). */
static float *grown(const hn_backend *be, float *old, size_t row, int keep, int capacity)
{
    float *fresh = be->alloc((size_t)capacity * row * sizeof(float));
    if (fresh != NULL && old != NULL && keep > 0)
        be->copy(fresh, old, (size_t)keep * row * sizeof(float));
    if (fresh != NULL)
        be->free(old);
    return fresh;
}

hn_status hn_kv_cache_reserve(hn_kv_cache *cache, int tokens, hn_error *err)
{
    if (tokens <= cache->capacity)
        return HN_OK;
    int64_t wanted = MAX((int64_t)cache->capacity * 2, MAX((int64_t)tokens, 256));
    int capacity = (int)MIN(wanted, (int64_t)INT32_MAX);
    for (int l = 0; l < cache->layers; l++) {
        float *k = grown(cache->be, cache->k[l], (size_t)cache->row, cache->length, capacity);
        float *v = k != NULL ? grown(cache->be, cache->v[l], (size_t)cache->row, cache->length,
                                     capacity)
                             : NULL;
        if (k != NULL)
            cache->k[l] = k;
        if (k == NULL || v == NULL) /* the layers before keep their grown buffers: harmless */
            return hn_fail(err, HN_ERR_NOMEM, "out of %s memory for the key/value cache of %d "
                           "tokens (%zu bytes per layer)", cache->be->name, capacity,
                           (size_t)capacity * (size_t)cache->row * 2 * sizeof(float));
        cache->v[l] = v;
    }
    /* every layer grew: from here on all buffers have the new capacity */
    cache->ids = g_renew(int32_t, cache->ids, capacity);
    cache->capacity = capacity;
    return HN_OK;
}

void hn_kv_cache_free(hn_kv_cache *cache)
{
    for (int l = 0; l < cache->layers; l++) {
        cache->be->free(cache->k[l]);
        cache->be->free(cache->v[l]);
    }
    g_free(cache->k);
    g_free(cache->v);
    g_free(cache->ids);
    *cache = (hn_kv_cache){0};
}
