/* Where a training run stands, as a checkpoint records it in hone_state.json: the optimizer
 * step, the epoch and the shuffle state it started from, the next micro-batch of that epoch,
 * the dropout sequence, and the running sums of the log, so that a resumed run draws the same
 * batches and masks and logs the same numbers as the run that was not interrupted. The batch
 * geometry is recorded too: resuming with another dataset size or batch layout is refused. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hn_error.h"

#define HN_POSITION_METRICS 8 /* trainer.h's HN_METRIC_COUNT */

typedef struct {
    int64_t step;            /* optimizer steps done */
    int64_t epoch;           /* the epoch in progress (0-based) */
    uint64_t epoch_shuffle;  /* shuffle state before this epoch's order was drawn */
    int64_t next_batch;      /* first micro-batch of the epoch not yet trained */
    uint64_t dropout_position;
    int64_t tokens;          /* tokens trained so far (padding included, as the throughput) */
    double loss_since_log;   /* sum of step losses since the last log line */
    int64_t steps_since_log;
    /* the preference stages' metrics since the last log line: weighted sums and weights
     * (hn_train_metric order); the log shows sum / weight where the weight is not 0 */
    double metric_sums[HN_POSITION_METRICS], metric_weights[HN_POSITION_METRICS];
    double elapsed_s;        /* training time of the earlier sessions */
    /* the geometry the position is about */
    int64_t examples, total_steps, batch_size, accumulation, seed;
} hn_train_position;

hn_status hn_train_position_write(const hn_train_position *p, const char *path, hn_error *err);
hn_status hn_train_position_read(hn_train_position *p, const char *path, hn_error *err);
