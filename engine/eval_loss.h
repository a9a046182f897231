/* The evaluation loss as transformers' Trainer.evaluate computes it (trainer.py
 * evaluation_loop, transformers 5): the examples in order, in batches of batch_size padded to
 * their longest; each batch's mean token loss is repeated args.eval_batch_size times - the
 * full batch size, a last partial batch too - and eval_loss is the mean of those, so every
 * batch weighs the same. A batch with no target token (a NaN loss there) is left out, as
 * logging_nan_inf_filter drops non-finite losses. Shared by the trainer's evaluations and
 * `hone eval`; tests/test_eval.c checks it against Trainer.evaluate with a partial batch. */
#pragma once

#include <stdbool.h>

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "sft_data.h"

/* After each batch: the examples done so far of total, and the tokens (padding included) run
 * so far. Returning false stops the evaluation: hn_eval_loss then returns HN_ERR_STOPPED. */
typedef bool (*hn_eval_loss_progress)(void *user, size_t done, size_t total, int64_t tokens);

/* The loss over examples index [n] of data (index NULL: the first n in order); NaN when no
 * batch has a target. The model evaluates (dropout off) during the call and is left training
 * (hn_model_set_evaluating false) after it. progress may be NULL. */
hn_status hn_eval_loss(hn_model *model, const hn_sft_data *data, const size_t *index, size_t n,
                       int batch_size, int32_t pad_id, hn_eval_loss_progress progress,
                       void *user, double *loss, hn_error *err);
