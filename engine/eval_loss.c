/* hn_eval_loss (see eval_loss.h): batches made as the trainer makes them
 * (hn_trainer_make_batch), run forward with the loss only. */
#include "eval_loss.h"

#include <math.h>

#include "trainer_internal.h"

hn_status hn_eval_loss(hn_model *model, const hn_sft_data *data, const size_t *index, size_t n,
                       int batch_size, int32_t pad_id, hn_eval_loss_progress progress,
                       void *user, double *loss, hn_error *err)
{
    size_t bs = (size_t)MAX(batch_size, 1);
    size_t *order = NULL;
    if (index == NULL) {
        order = g_new(size_t, MAX(n, 1));
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        index = order;
    }
    hn_batch_buffers buffers = {0};
    double sum_losses = 0;
    size_t counted = 0; /* batches with a target */
    int64_t tokens = 0;
    hn_status s = HN_OK;
    hn_model_set_evaluating(model, true);
    for (size_t first = 0; first < n && s == HN_OK; first += bs) {
        size_t count = MIN(bs, n - first);
        hn_batch batch;
        hn_trainer_make_batch(data, index, first, count, pad_id, &buffers, &batch);
        double sum = 0;
        int64_t targets = 0;
        s = hn_model_forward(model, &batch, &sum, &targets, err);
        if (s == HN_OK && targets > 0) {
            sum_losses += sum / (double)targets;
            counted++;
        }
        tokens += (int64_t)batch.B * batch.T;
        if (s == HN_OK && progress != NULL && !progress(user, first + count, n, tokens))
            s = hn_fail(err, HN_ERR_STOPPED, "evaluation stopped after %zu of %zu examples",
                        first + count, n);
    }
    hn_model_set_evaluating(model, false);
    hn_batch_buffers_clear(&buffers);
    g_free(order);
    *loss = counted > 0 ? sum_losses / (double)counted : NAN;
    return s;
}
