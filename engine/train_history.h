/* The history of a training run as transformers' Trainer keeps it (TrainerState in
 * transformers/trainer_callback.py): the steps done, the schedule's settings and log_history,
 * one entry per logging step ({loss, grad_norm, learning_rate, epoch, step}), per evaluation
 * ({eval_loss, eval_runtime, eval_samples_per_second, eval_steps_per_second, epoch, step}) and
 * the end of training ({train_runtime, train_samples_per_second, train_steps_per_second,
 * total_flos, train_loss, epoch, step}). Saved as trainer_state.json, byte for byte as
 * TrainerState.save_to_json writes it, and loaded back from a checkpoint so that a resumed run
 * continues its history; the train/eval metrics go to train_results.json, eval_results.json
 * and all_results.json as Trainer.save_metrics writes them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "hn_error.h"
#include "trainer.h"

typedef struct hn_train_history hn_train_history;

/* The schedule, as TrainerState.init_training_references and compute_steps store it. */
typedef struct {
    int64_t max_steps;
    int64_t num_train_epochs; /* math.ceil(num_train_epochs), or the epochs max_steps needs */
    int64_t logging_steps;
    int64_t eval_steps;       /* 500 (TrainerState's default) when there is no evaluation */
    int64_t save_steps;
    int64_t train_batch_size; /* per_device_train_batch_size */
} hn_train_history_run;

/* One evaluation over the held-out set. */
typedef struct {
    int64_t step;
    double epoch;
    double loss;        /* mean loss over the evaluation batches (evaluation_loop's eval_loss) */
    double runtime_s;
    int64_t samples;    /* examples evaluated */
    int64_t batch_size; /* per_device_eval_batch_size: eval steps = ceil(samples / batch_size) */
    bool has_metrics;   /* rm, dpo, kto: metrics[] (NaN: absent), logged as eval_<name> */
    double metrics[HN_METRIC_COUNT];
} hn_train_eval;

/* The end of train(): what Trainer._finalize_training reports. */
typedef struct {
    double runtime_s;         /* of this session (a resumed run counts from its restart) */
    double num_train_samples; /* the whole schedule's, as transformers computes it: examples *
                               * num_train_epochs, or max_steps * total batch with max_steps */
    int64_t steps_trained;    /* global_step minus the step this session started from */
    double train_loss;        /* mean of the per-step losses of this session's steps */
} hn_train_end;

/* The flags of transformers' TrainerControl that a checkpoint's trainer_state.json records
 * (stateful_callbacks.TrainerControl); see hn_train_history_set_control. */
typedef struct {
    bool should_epoch_stop, should_evaluate, should_log, should_save, should_training_stop;
} hn_train_control;

hn_train_history *hn_train_history_new(const hn_train_history_run *run);
/* Reads a trainer_state.json (Hone's or transformers'); errors name the file and field. */
hn_status hn_train_history_load(const char *path, hn_train_history **out, hn_error *err);
void hn_train_history_free(hn_train_history *history);

/* Sets the schedule again (a resumed run: transformers re-initialises these on train()). */
void hn_train_history_set_run(hn_train_history *history, const hn_train_history_run *run);
/* global_step and epoch, for a checkpoint written between logging steps. */
void hn_train_history_set_step(hn_train_history *history, int64_t step, double epoch);
int64_t hn_train_history_global_step(const hn_train_history *history);
double hn_train_history_epoch(const hn_train_history *history);

/* Appends a logging step's entry (loss, grad_norm, learning_rate, epoch, step) and moves
 * global_step and epoch to it. */
void hn_train_history_add_log(hn_train_history *history, const hn_train_log *log);
/* Appends an evaluation's entry with speed_metrics' rounding (runtime to 4 decimals, rates to
 * 3) and keeps it for eval_results.json. */
void hn_train_history_add_eval(hn_train_history *history, const hn_train_eval *eval);
/* The floating point operations of a forward + backward pass as transformers estimates them
 * (PreTrainedModel.floating_point_ops): 6 x input tokens (padding included: input_ids.numel())
 * x parameters outside nn.Embedding modules (num_parameters(exclude_embeddings=True); a tied
 * lm_head is the embedding and not counted; LoRA weights are counted). */
double hn_train_flos(int64_t input_tokens, int64_t non_embedding_params);
/* Adds to total_flos (call once per micro-batch with hn_train_flos). */
void hn_train_history_add_flos(hn_train_history *history, double flos);
/* Appends the end-of-training entry and keeps its metrics for train_results.json. */
void hn_train_history_add_train_end(hn_train_history *history, const hn_train_end *end);
/* What a checkpoint records of TrainerControl (transformers sets stateful_callbacks when it
 * saves a checkpoint; until the first, trainer_state.json has "stateful_callbacks": {}). */
void hn_train_history_set_control(hn_train_history *history, const hn_train_control *control);

/* DIR/trainer_state.json as TrainerState.save_to_json writes it (json.dumps(indent=2,
 * sort_keys=True) + "\n"), atomically. */
hn_status hn_train_history_write_state(const hn_train_history *history, const char *dir,
                                       hn_error *err);
/* DIR/train_results.json with the metrics of hn_train_history_add_train_end, and those merged
 * into DIR/all_results.json (Trainer.save_metrics: json.dump(indent=4, sort_keys=True)). */
hn_status hn_train_history_write_train_results(const hn_train_history *history, const char *dir,
                                               hn_error *err);
/* DIR/eval_results.json with the last evaluation's metrics (+ eval_perplexity = exp(eval_loss)
 * when perplexity is set: LLaMA-Factory's pt workflow adds it, sft does not), merged into
 * DIR/all_results.json. */
hn_status hn_train_history_write_eval_results(const hn_train_history *history, const char *dir,
                                              bool perplexity, hn_error *err);

/* transformers' speed_metrics(split, start_time, num_samples, num_steps): {split}_runtime
 * rounded to 4 decimals, {split}_samples_per_second and {split}_steps_per_second to 3 (none
 * when the runtime is 0), added to metrics. */
void hn_train_metrics_add_speed(cJSON *metrics, const char *split, double runtime_s,
                                double samples, double steps);
/* Trainer.save_metrics(split, metrics): DIR/{split}_results.json, and the metrics merged into
 * DIR/all_results.json (json.dump(indent=4, sort_keys=True); the known metrics as floats). */
hn_status hn_train_metrics_save(const cJSON *metrics, const char *dir, const char *split,
                               hn_error *err);

/* The entries holding KEY ("loss", "eval_loss"), as plot_loss gathers them: their "step" and
 * value, in order. Returns the count; *steps and *values are g_new arrays (NULL when 0). */
size_t hn_train_history_series(const hn_train_history *history, const char *key,
                               double **steps, double **values);
