/* The batches of rows that datasets' Dataset.map(batched=True, batch_size, num_proc) hands a
 * LLaMA-Factory processor: the rows split into num_proc contiguous shards (Dataset.shard with
 * contiguous=True: the first n_rows % shards shards one row longer; fewer shards when there
 * are fewer rows, as datasets' "Reducing num_proc"), each cut into batch_size rows. Packing
 * (pt, sft) and KTO's mismatched KL pairs work within one batch, so Hone walks the same ones. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t n_rows, shards, batch;
    size_t shard;      /* the shard being walked */
    size_t next, end;  /* its next batch's first row, its end */
} hn_map_batches;

/* batch_size <= 0: one batch per shard; num_workers <= 1: one shard (upstream's None). */
void hn_map_batches_init(hn_map_batches *it, size_t n_rows, int batch_size, int num_workers);
/* The next batch's first row and row count; false after the last. */
bool hn_map_batches_next(hn_map_batches *it, size_t *first, size_t *n);
