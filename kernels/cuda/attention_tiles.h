/* The mask and tile bounds of the CUDA attention kernels (products_attention.cu), host and
 * device code, so that tests/test_cuda_attention_tiles.c checks on the host that the kernels'
 * loops visit every (query, key) pair the mask allows exactly once: which key tiles a block of
 * queries walks (forward, dq) and which query tiles a block of keys walks (dk, dv). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backend.h" /* HN_HOST_DEVICE */

#ifdef __cplusplus
extern "C" {
#endif

enum {
    HN_ATTENTION_QUERIES = 16,    /* query rows per block (forward, dq) */
    HN_ATTENTION_KEYS = 32,       /* keys per tile (forward, dq): one per lane */
    HN_ATTENTION_KEY_ROWS = 16,   /* key rows per block (dk, dv) */
    HN_ATTENTION_QUERY_TILE = 32, /* queries per tile (dk, dv): one per lane */
};

/* Query t of a batch row sits at position past + t; its keys are the row's first
 * `past + T` (training: past = 0). */
typedef struct {
    const int32_t *doc_start; /* [B, T] or NULL */
    int T, past, window;
} hn_attention_mask;

/* The first key query t of row b sees: its document's start or the window's (backend.h);
 * never decreasing along t. The last is past + t. */
HN_HOST_DEVICE static inline int hn_attention_first_key(const hn_attention_mask *m, int b, int t)
{
    int position = m->past + t;
    int first = m->doc_start != NULL ? m->doc_start[(int64_t)b * m->T + t] : 0;
    if (m->window > 0 && position - m->window + 1 > first)
        first = position - m->window + 1;
    return first;
}

HN_HOST_DEVICE static inline bool hn_attention_visible(const hn_attention_mask *m, int b, int t,
                                                       int s)
{
    return s >= hn_attention_first_key(m, b, t) && s <= m->past + t;
}

/* The keys a block of `rows` queries from t0 walks, [*begin, *end]: from its first query's
 * first key to its last query's position. */
HN_HOST_DEVICE static inline void hn_attention_block_keys(const hn_attention_mask *m, int b,
                                                          int t0, int rows, int *begin, int *end)
{
    *begin = hn_attention_first_key(m, b, t0);
    *end = m->past + t0 + rows - 1;
}

/* Training (past = 0): the query tiles a block of key rows [k0, key_last] walks start at k0
 * (no earlier query sees a later key) and go on while this holds for the tile's first query
 * t0: once a query's first key is past key_last, so is every later query's. */
HN_HOST_DEVICE static inline bool hn_attention_query_tile_needed(const hn_attention_mask *m,
                                                                 int b, int t0, int key_last)
{
    return t0 < m->T && hn_attention_first_key(m, b, t0) <= key_last;
}

#ifdef __cplusplus
}
#endif
