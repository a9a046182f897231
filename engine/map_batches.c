/* Row ranges of datasets' batched map (see map_batches.h). */
#include "map_batches.h"

static void shard_range(hn_map_batches *it)
{
    size_t n = it->n_rows, k = it->shard, shards = it->shards;
    it->next = n / shards * k + (k < n % shards ? k : n % shards);
    it->end = it->next + n / shards + (k < n % shards ? 1 : 0);
}

void hn_map_batches_init(hn_map_batches *it, size_t n_rows, int batch_size, int num_workers)
{
    size_t shards = num_workers > 1 ? (size_t)num_workers : 1;
    if (shards > n_rows)
        shards = n_rows > 0 ? n_rows : 1;
    *it = (hn_map_batches){.n_rows = n_rows, .shards = shards,
                           .batch = batch_size > 0 ? (size_t)batch_size : 0};
    shard_range(it);
}

bool hn_map_batches_next(hn_map_batches *it, size_t *first, size_t *n)
{
    while (it->next >= it->end) {
        if (it->shard + 1 >= it->shards)
            return false;
        it->shard++;
        shard_range(it);
    }
    size_t left = it->end - it->next;
    *first = it->next;
    *n = it->batch > 0 && it->batch < left ? it->batch : left;
    it->next += *n;
    return true;
}
