/* Evaluation during training: the held-out set (eval_dataset, or val_size of the training
 * examples) and its loss, transformers' Trainer.evaluate (eval_loss.h). */
#include <math.h>
#include <string.h>

#include "eval_loss.h"
#include "splitmix.h"
#include "trainer_internal.h"

static void set_all(hn_example_set *set, const hn_sft_data *data)
{
    set->data = data;
    set->n = hn_sft_data_items(data);
    set->index = g_new(size_t, MAX(set->n, 1));
    for (size_t i = 0; i < set->n; i++)
        set->index[i] = i;
}

/* LLaMA-Factory's split_dataset: val_size > 1 is a count, otherwise a share rounded up as
 * datasets' train_test_split rounds test_size. The examples are drawn with Hone's generator
 * (datasets draws with numpy's PCG64: the same share, not the same examples). The training set
 * keeps the rest in their order. */
static hn_status hold_out(hn_trainer *tr, hn_error *err)
{
    size_t n = hn_sft_data_items(&tr->data);
    double v = tr->args->val_size;
    size_t n_eval = v > 1 ? (size_t)v : (size_t)ceil(v * (double)n);
    if (n_eval == 0 || n_eval >= n)
        return hn_fail(err, HN_ERR_ARGUMENT, "val_size %g of %zu examples leaves %zu for "
                       "evaluation and %zu for training; expected at least one of each", v, n,
                       n_eval, n - MIN(n_eval, n));
    size_t *perm = g_new(size_t, n);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t state = (uint64_t)tr->args->seed ^ 0x5EED0F5A11D5E7ull;
    for (size_t i = 0; i < n_eval; i++) { /* a partial Fisher-Yates from the front */
        size_t j = i + (size_t)(hn_splitmix_next(&state) % (n - i));
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    bool *held = g_new0(bool, n);
    tr->eval = (hn_example_set){&tr->data, g_new(size_t, n_eval), n_eval};
    for (size_t i = 0; i < n_eval; i++) {
        tr->eval.index[i] = perm[i];
        held[perm[i]] = true;
    }
    tr->train = (hn_example_set){&tr->data, g_new(size_t, n - n_eval), 0};
    for (size_t i = 0; i < n; i++)
        if (!held[i])
            tr->train.index[tr->train.n++] = i;
    g_free(held);
    g_free(perm);
    return HN_OK;
}

hn_status hn_trainer_split(hn_trainer *tr, hn_error *err)
{
    const hn_train_args *args = tr->args;
    if (args->val_size > 1e-6)
        HN_TRY(hold_out(tr, err));
    else
        set_all(&tr->train, &tr->data);
    if (args->eval_dataset != NULL) {
        if (tr->eval_data.n_examples == 0)
            return hn_fail(err, HN_ERR_ARGUMENT, "eval_dataset %s: no usable examples",
                           args->eval_dataset);
        set_all(&tr->eval, &tr->eval_data);
    }
    bool wants_eval = strcmp(args->eval_strategy, "no") != 0;
    if (wants_eval && tr->eval.n == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "eval_strategy %s needs examples to evaluate: set "
                       "val_size or eval_dataset", args->eval_strategy);
    tr->eval_steps = args->eval_steps > 0 ? args->eval_steps : args->logging_steps;
    return HN_OK;
}

/* A preference stage's evaluation: the loss of every batch weighted by its size (transformers'
 * evaluation_loop), the metrics as in training. */
static hn_status evaluate_pref(hn_trainer *tr, double *loss, double *metrics, hn_error *err)
{
    size_t n = tr->eval.n, bs = (size_t)tr->args->per_device_eval_batch_size;
    double sums[HN_METRIC_COUNT] = {0}, weights[HN_METRIC_COUNT] = {0};
    *loss = 0;
    for (size_t first = 0; first < n; first += bs) {
        size_t count = MIN(bs, n - first);
        hn_pref_batch out = {0};
        HN_TRY(hn_trainer_pref_batch(tr, tr->eval.data, tr->eval.index, first, count, false,
                                     (double)count / (double)n, &out, err));
        *loss += out.loss;
        for (int m = 0; m < HN_METRIC_COUNT; m++) {
            sums[m] += out.metric_sums[m];
            weights[m] += out.metric_weights[m];
        }
    }
    hn_trainer_metrics_average(sums, weights, metrics);
    return HN_OK;
}

hn_status hn_trainer_evaluate(hn_trainer *tr, hn_error *err)
{
    double loss = NAN, start = hn_trainer_now();
    hn_train_log log;
    hn_trainer_log_init(tr, &log);
    log.has_metrics = hn_sft_data_group(tr->eval.data) > 1;
    if (log.has_metrics)
        HN_TRY(evaluate_pref(tr, &loss, log.metrics, err));
    else
        HN_TRY(hn_eval_loss(tr->model, tr->eval.data, tr->eval.index, tr->eval.n,
                            tr->args->per_device_eval_batch_size, tr->pad_id, NULL, NULL, &loss,
                            err));
    log.tokens_per_s = 0;
    log.eval_loss = loss;
    hn_train_eval eval = {
        .step = log.step, .epoch = log.epoch, .loss = loss,
        .runtime_s = hn_trainer_now() - start, .samples = (int64_t)tr->eval.n,
        .batch_size = tr->args->per_device_eval_batch_size,
    };
    eval.has_metrics = log.has_metrics;
    memcpy(eval.metrics, log.metrics, sizeof eval.metrics);
    hn_train_history_add_eval(tr->history, &eval);
    return hn_trainer_log(tr, &log, err);
}
