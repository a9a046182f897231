/* The state of a training run, shared by its files: trainer.c (setup, the run), trainer_loop.c
 * (epochs, batches, optimizer steps, logs), trainer_eval.c (the held-out set and its loss),
 * trainer_checkpoint.c (checkpoint-N folders and resuming) and trainer_output.c (the output
 * folder: arguments, logs, the adapter or model). */
#pragma once

#include <stdio.h>

#include "chat_jinja.h"
#include "chat_template.h"
#include "dataset_read.h"
#include "export_tokenizer.h"
#include "model.h"
#include "optimizer.h"
#include "sft_data.h"
#include "train_history.h"
#include "train_position.h"
#include "trainer.h"

/* Examples of a hn_sft_data that form a set (the training set, the evaluation set). */
typedef struct {
    const hn_sft_data *data;
    size_t *index; /* [n] indices into data->examples */
    size_t n;
} hn_example_set;

/* Host memory a batch is assembled in, reused from batch to batch. */
typedef struct {
    int32_t *ids, *labels, *positions, *doc_start;
} hn_batch_buffers;

/* What one micro-batch of a preference stage adds to its step (trainer_pref.c). */
typedef struct {
    double loss;   /* its loss times the scale it was given */
    double metric_sums[HN_METRIC_COUNT], metric_weights[HN_METRIC_COUNT];
    int64_t tokens; /* tokens through the model (padding included) */
} hn_pref_batch;

typedef struct {
    const hn_train_args *args;
    const hn_train_callbacks *callbacks;
    hn_model_dir *dir;
    hn_tokenizer *tok;
    hn_chat_template named;
    hn_chat_jinja *jinja;
    hn_sft_template which;
    hn_sft_data data, eval_data;   /* eval_data: from eval_dataset */
    hn_example_set train, eval;    /* eval.n == 0: no evaluation */
    const hn_backend *backend;     /* where the models live (backend_choice.h) */
    hn_model *model;
    hn_model *ref_model;           /* dpo/kto reference when not the model with adapters off */
    hn_model_dir *ref_dir;         /* ref_model's folder when it is not the model's */
    hn_optimizer *opt;
    hn_export_tokenizer tokenizer_files; /* what a saved model or adapter gets (export_tokenizer.h) */
    bool have_tokenizer_files;           /* false: a GGUF whose tokenizer cannot be written */
    int64_t total_steps;
    int64_t eval_steps;            /* eval_strategy steps: every this many steps */
    int32_t pad_id;
    char *resume_from;             /* the checkpoint folder the run continues from, or NULL */
    hn_train_position pos;
    hn_step_report last_report;    /* the last optimizer step's norm and rate, for the log */
    int64_t saved_step;            /* the step of the newest checkpoint, -1: none */
    double session_start;          /* hn_trainer_now() when this session's training began */
    FILE *log_file;                /* trainer_log.jsonl */
    hn_train_history *history;     /* trainer_state.json: every log and evaluation */
    int64_t non_embedding_params;  /* for transformers' flos estimate */
    int64_t session_first_step;    /* the step this session started from */
    double session_loss_sum;       /* sum of this session's step losses (train_loss) */
    hn_batch_buffers batch_buffers;
} hn_trainer;

double hn_trainer_now(void);

/* ---- trainer_output.c ---- */
/* Chooses the checkpoint to resume from (tr->resume_from: resume_from_checkpoint, or the last
 * one in a non-empty output folder unless overwrite_output_dir; a non-empty folder without one
 * is refused). Writes nothing. */
hn_status hn_trainer_choose_resume(hn_trainer *tr, hn_error *err);
/* Makes the output folder and writes training_args.yaml (once everything has loaded). */
hn_status hn_trainer_prepare_output(hn_trainer *tr, hn_error *err);
/* Opens trainer_log.jsonl: new, or when resuming, keeping only the lines up to tr->pos.step. */
hn_status hn_trainer_open_log(hn_trainer *tr, hn_error *err);
/* The run's history (trainer_state.json): the resumed checkpoint's, or new. */
hn_status hn_trainer_open_history(hn_trainer *tr, hn_error *err);
/* At the end: trainer_state.json, train_results.json and all_results.json, and with plot_loss
 * training_loss.png (and training_eval_loss.png) in the output folder. */
hn_status hn_trainer_write_results(hn_trainer *tr, hn_error *err);
/* Appends a trainer_log.jsonl line and tells the callbacks. */
hn_status hn_trainer_log(hn_trainer *tr, const hn_train_log *log, hn_error *err);
/* Writes the adapter (LoRA) or the model (full, freeze) and the tokenizer files into folder. */
hn_status hn_trainer_save(hn_trainer *tr, const char *folder, hn_error *err);
void hn_trainer_clear(hn_trainer *tr);

/* ---- trainer_loop.c ---- */
/* Trains from tr->pos to total_steps (or until stopped). */
hn_status hn_trainer_run_steps(hn_trainer *tr, hn_error *err);
/* A log record of the current position (step, epoch, times, tokens); loss fields zero,
 * eval_loss NaN. */
void hn_trainer_log_init(const hn_trainer *tr, hn_train_log *log);
/* A micro-batch of examples order[first .. first + count) in buf, padded to the longest;
 * packed rows bring their positions and document starts. */
void hn_trainer_make_batch(const hn_sft_data *data, const size_t *order, size_t first,
                           size_t count, int32_t pad_id, hn_batch_buffers *buf, hn_batch *batch);
void hn_batch_buffers_clear(hn_batch_buffers *buf);
/* Targets (shifted labels that train) of examples order[first .. first + count). */
int64_t hn_trainer_count_targets(const hn_sft_data *data, const size_t *order, size_t first,
                                 size_t count);

/* ---- trainer_pref.c ---- */
/* Metric averages (NaN where a weight is 0) from weighted sums (hn_train_metric order). */
void hn_trainer_metrics_average(const double *sums, const double *weights, double *out);
/* Whether the run's loss reads a reference model (dpo but orpo and simpo; kto). */
bool hn_trainer_uses_reference(const hn_train_args *args);
/* One micro-batch of items order[first .. first + count) of a grouped data set (rm, dpo,
 * kto): the forwards, the loss times scale and its metrics into *out (added), and with train
 * the backward of scale x the loss. */
hn_status hn_trainer_pref_batch(hn_trainer *tr, const hn_sft_data *data, const size_t *order,
                                size_t first, size_t count, bool train, double scale,
                                hn_pref_batch *out, hn_error *err);

/* ---- trainer_eval.c ---- */
/* The evaluation set: eval_dataset's examples, or val_size of the training examples held out
 * (tr->train gets the rest); no evaluation when neither is set. */
hn_status hn_trainer_split(hn_trainer *tr, hn_error *err);
/* Evaluates and logs eval_loss at the current step. */
hn_status hn_trainer_evaluate(hn_trainer *tr, hn_error *err);

/* ---- trainer_checkpoint.c ---- */
/* checkpoint-<step>: the adapter or model, optimizer.safetensors, hone_state.json and the
 * tokenizer files, committed atomically; then save_total_limit is applied. */
hn_status hn_trainer_save_checkpoint(hn_trainer *tr, hn_error *err);
/* Loads tr->resume_from into the model, the optimizer and tr->pos, after checking that the
 * run has the same geometry. */
hn_status hn_trainer_resume(hn_trainer *tr, hn_error *err);
