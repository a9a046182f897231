/* The training loop (see trainer.h): epochs of shuffled micro-batches, gradient accumulation
 * with the loss over the step's targets, optimizer steps, a log line every logging_steps,
 * evaluation every eval_steps (or each epoch), a checkpoint every save_steps and at the end.
 * Step counts follow transformers' Trainer: len(dataloader) = ceil(examples / batch size),
 * steps per epoch = ceil(len(dataloader) / gradient_accumulation_steps); the last step of an
 * epoch takes the batches left over. Everything a step depends on is in tr->pos, which a
 * checkpoint saves, so a resumed run continues exactly where the saved one stood. */
#include <math.h>
#include <string.h>

#include "splitmix.h"
#include "trainer_internal.h"

/* The per-epoch shuffle: SplitMix64 (torch's RandomSampler draws differently: the same kind
 * of order, not the same order). */
/* Fisher-Yates from the end, j in [0, i) by the remainder. */
static void shuffle(size_t *order, size_t n, uint64_t *state)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(hn_splitmix_next(state) % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

void hn_trainer_make_batch(const hn_sft_data *data, const size_t *order, size_t first,
                           size_t count, int32_t pad_id, hn_batch_buffers *buf, hn_batch *batch)
{
    size_t T = 1;
    bool packed = false;
    for (size_t i = 0; i < count; i++) {
        const hn_sft_example *e = &data->examples[order[first + i]];
        T = MAX(T, e->n);
        packed = packed || e->position_ids != NULL || e->doc_start != NULL;
    }
    buf->ids = g_renew(int32_t, buf->ids, count * T);
    buf->labels = g_renew(int32_t, buf->labels, count * T);
    if (packed) {
        buf->positions = g_renew(int32_t, buf->positions, count * T);
        buf->doc_start = g_renew(int32_t, buf->doc_start, count * T);
    }
    for (size_t i = 0; i < count; i++) {
        const hn_sft_example *e = &data->examples[order[first + i]];
        for (size_t t = 0; t < T; t++) {
            bool in = t < e->n;
            buf->ids[i * T + t] = in ? e->input_ids[t] : pad_id;
            buf->labels[i * T + t] = in ? e->labels[t] : HN_IGNORE_INDEX;
            if (!packed)
                continue;
            /* padding after a packed row: position 0, a document of its own; it trains
             * nothing */
            buf->positions[i * T + t] = !in ? 0 : e->position_ids ? e->position_ids[t] : (int32_t)t;
            buf->doc_start[i * T + t] = !in ? (int32_t)t : e->doc_start ? e->doc_start[t] : 0;
        }
    }
    *batch = (hn_batch){buf->ids, buf->labels, packed ? buf->positions : NULL,
                        packed ? buf->doc_start : NULL, (int)count, (int)T};
}

void hn_batch_buffers_clear(hn_batch_buffers *buf)
{
    g_free(buf->ids);
    g_free(buf->labels);
    g_free(buf->positions);
    g_free(buf->doc_start);
    *buf = (hn_batch_buffers){0};
}

int64_t hn_trainer_count_targets(const hn_sft_data *data, const size_t *order, size_t first,
                                 size_t count)
{
    int64_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const hn_sft_example *e = &data->examples[order[first + i]];
        for (size_t t = 1; t < e->n; t++)
            n += e->labels[t] != HN_IGNORE_INDEX;
    }
    return n;
}

/* The micro-batches [first, last) of a preference stage's step: each micro-batch's mean loss
 * over the micro-batch count (transformers' Trainer with a loss that takes no item count). */
static hn_status pref_micro_batches(hn_trainer *tr, const size_t *order, size_t first,
                                    size_t last, double *step_loss, hn_error *err)
{
    hn_train_position *p = &tr->pos;
    size_t bs = (size_t)tr->args->per_device_train_batch_size;
    size_t micro = (last - first + bs - 1) / bs;
    hn_status s = HN_OK;
    for (size_t mb = first; mb < last && s == HN_OK; mb += bs) {
        hn_pref_batch out = {0};
        s = hn_trainer_pref_batch(tr, tr->train.data, order, mb, MIN(bs, last - mb), true,
                                  1.0 / (double)micro, &out, err);
        *step_loss += out.loss;
        p->tokens += out.tokens;
        hn_train_history_add_flos(tr->history, hn_train_flos(out.tokens,
                                                             tr->non_embedding_params));
        for (int m = 0; m < HN_METRIC_COUNT; m++) {
            p->metric_sums[m] += out.metric_sums[m];
            p->metric_weights[m] += out.metric_weights[m];
        }
    }
    return s;
}

/* The micro-batches of one optimizer step, from pos.next_batch, and the step. */
static hn_status train_step(hn_trainer *tr, const size_t *order, size_t batches, hn_error *err)
{
    hn_train_position *p = &tr->pos;
    size_t n = tr->train.n, bs = (size_t)tr->args->per_device_train_batch_size,
           accum = (size_t)tr->args->gradient_accumulation_steps;
    size_t b = (size_t)p->next_batch;
    size_t first = b * bs, last = MIN(n, (b + accum) * bs);
    bool grouped = hn_sft_data_group(tr->train.data) > 1;
    int64_t targets = grouped ? 0 : hn_trainer_count_targets(tr->train.data, order, first,
                                                             last - first);
    double step_loss = 0;
    hn_status s = grouped ? pref_micro_batches(tr, order, first, last, &step_loss, err) : HN_OK;
    for (size_t mb = first; !grouped && mb < last && s == HN_OK; mb += bs) {
        hn_batch batch;
        hn_trainer_make_batch(tr->train.data, order, mb, MIN(bs, last - mb), tr->pad_id,
                              &tr->batch_buffers, &batch);
        double sum = 0;
        s = hn_model_forward(tr->model, &batch, &sum, NULL, err);
        if (s == HN_OK && targets > 0)
            s = hn_model_backward(tr->model, 1.0f / (float)targets, err);
        step_loss += targets > 0 ? sum / (double)targets : 0;
        p->tokens += (int64_t)batch.B * batch.T;
        hn_train_history_add_flos(tr->history, hn_train_flos((int64_t)batch.B * batch.T,
                                                             tr->non_embedding_params));
    }
    HN_TRY(s);
    if (!isfinite(step_loss))
        return hn_fail(err, HN_ERR_ARGUMENT, "step %" G_GINT64_FORMAT ": the loss is %f; "
                       "stopping without saving (the last checkpoint, if any, is kept; lower "
                       "the learning rate)", p->step + 1, step_loss);
    hn_step_report report = {0};
    HN_TRY(hn_optimizer_step(tr->opt, &report, err));
    p->step++;
    p->next_batch = (int64_t)MIN(b + accum, batches);
    p->loss_since_log += step_loss;
    tr->session_loss_sum += step_loss;
    p->steps_since_log++;
    p->dropout_position = hn_model_dropout_position(tr->model);
    tr->last_report = report;
    return HN_OK;
}

static double elapsed(const hn_trainer *tr)
{
    return tr->pos.elapsed_s + (hn_trainer_now() - tr->session_start);
}

void hn_trainer_log_init(const hn_trainer *tr, hn_train_log *log)
{
    const hn_train_position *p = &tr->pos;
    size_t bs = (size_t)tr->args->per_device_train_batch_size;
    size_t batches = (tr->train.n + bs - 1) / bs;
    double seconds = elapsed(tr);
    *log = (hn_train_log){
        .step = p->step, .total_steps = tr->total_steps,
        .epoch = (double)p->epoch + (double)p->next_batch / (double)batches,
        .elapsed_s = seconds,
        .remaining_s = seconds / (double)MAX(p->step, 1) * (double)(tr->total_steps - p->step),
        .tokens_per_s = (double)p->tokens / fmax(seconds, 1e-9),
        .total_tokens = p->tokens,
        .eval_loss = NAN,
    };
    for (int m = 0; m < HN_METRIC_COUNT; m++)
        log->metrics[m] = NAN;
}

static hn_status log_step(hn_trainer *tr, hn_error *err)
{
    hn_train_position *p = &tr->pos;
    hn_train_log log;
    hn_trainer_log_init(tr, &log);
    log.loss = p->loss_since_log / (double)p->steps_since_log;
    log.learning_rate = tr->last_report.learning_rate;
    log.grad_norm = tr->last_report.grad_norm;
    log.has_metrics = hn_sft_data_group(tr->train.data) > 1;
    hn_trainer_metrics_average(p->metric_sums, p->metric_weights, log.metrics);
    p->loss_since_log = 0;
    p->steps_since_log = 0;
    memset(p->metric_sums, 0, sizeof p->metric_sums);
    memset(p->metric_weights, 0, sizeof p->metric_weights);
    return hn_trainer_log(tr, &log, err);
}

static bool stop_requested(const hn_trainer *tr)
{
    const hn_train_callbacks *c = tr->callbacks;
    return c != NULL && c->should_stop != NULL && c->should_stop(c->user);
}

/* Logging, evaluation, checkpoints and stopping after a step. */
static hn_status after_step(hn_trainer *tr, size_t batches, hn_error *err)
{
    const hn_train_args *args = tr->args;
    hn_train_position *p = &tr->pos;
    bool last = p->step == tr->total_steps;
    bool epoch_end = (size_t)p->next_batch >= batches;
    const hn_train_callbacks *c = tr->callbacks;
    if (c != NULL && c->on_step != NULL)
        c->on_step(c->user, p->step);
    if (p->step % args->logging_steps == 0 || last)
        HN_TRY(log_step(tr, err));
    bool evaluate = tr->eval.n > 0 &&
                    ((strcmp(args->eval_strategy, "steps") == 0 && p->step % tr->eval_steps == 0) ||
                     (strcmp(args->eval_strategy, "epoch") == 0 && epoch_end));
    if (evaluate)
        HN_TRY(hn_trainer_evaluate(tr, err));
    bool stop = !last && stop_requested(tr);
    if ((args->save_steps > 0 && p->step % args->save_steps == 0) || last || stop) {
        p->elapsed_s = elapsed(tr);
        tr->session_start = hn_trainer_now();
        HN_TRY(hn_trainer_save_checkpoint(tr, err));
    }
    if (stop)
        return hn_fail(err, HN_ERR_STOPPED, "stopped at step %" G_GINT64_FORMAT " of %"
                       G_GINT64_FORMAT "; saved checkpoint-%" G_GINT64_FORMAT " in %s - run the "
                       "same command again to resume", p->step, tr->total_steps, p->step,
                       args->output_dir);
    return HN_OK;
}

hn_status hn_trainer_run_steps(hn_trainer *tr, hn_error *err)
{
    hn_train_position *p = &tr->pos;
    size_t n = tr->train.n, bs = (size_t)tr->args->per_device_train_batch_size;
    size_t batches = (n + bs - 1) / bs;
    size_t *order = g_new(size_t, n);
    bool have_order = false;
    uint64_t next_epoch_shuffle = 0;
    hn_model_set_dropout_position(tr->model, p->dropout_position);
    tr->session_start = hn_trainer_now();
    hn_status s = HN_OK;
    while (s == HN_OK && p->step < tr->total_steps) {
        if (!have_order) {
            memcpy(order, tr->train.index, n * sizeof *order);
            next_epoch_shuffle = p->epoch_shuffle;
            if (!tr->args->disable_shuffling) /* upstream: a SequentialSampler */
                shuffle(order, n, &next_epoch_shuffle);
            have_order = true;
        }
        if ((size_t)p->next_batch >= batches) {
            p->epoch++;
            p->next_batch = 0;
            p->epoch_shuffle = next_epoch_shuffle;
            have_order = false;
            continue;
        }
        s = train_step(tr, order, batches, err);
        if (s == HN_OK)
            s = after_step(tr, batches, err);
    }
    g_free(order);
    return s;
}
