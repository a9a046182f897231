/* A supervised fine-tuning run as LLaMA-Factory's `llamafactory-cli train` runs one with
 * transformers' Trainer: the model and its trainable parts from the arguments, the dataset
 * encoded with the template (part of it held out with val_size, or eval_dataset), batches
 * padded to their longest example, gradient accumulation with the loss over the step's target
 * count, AdamW with the schedule, a log line every logging_steps and the eval loss every
 * eval_steps (trainer_log.jsonl), checkpoint-N folders every save_steps and at the end (kept
 * to save_total_limit; a run whose output folder has one resumes from it, exactly), and at the
 * end the adapter (LoRA: adapter_config.json + adapter_model.safetensors) or the model
 * (full/freeze: model.safetensors + config.json), the tokenizer files and
 * training_args.yaml. Stages pt (text blocks) and sft (conversations), packed or not, and the
 * preference stages rm, dpo and kto on pairs or KTO examples (trainer_pref.c); the examples
 * come from the tokenized-data cache when an earlier run made them (train_data.h). Stage ppo is
 * not built yet (a clear error from hn_train_args_check). */
#pragma once

#include "train_args.h"
#include "train_position.h"

/* What the preference stages log beside the loss, under TRL's and LLaMA-Factory's names
 * (HN_TRAIN_METRIC_NAMES; an evaluation's get the prefix "eval_"). */
typedef enum {
    HN_METRIC_REWARDS_CHOSEN,
    HN_METRIC_REWARDS_REJECTED,
    HN_METRIC_REWARDS_ACCURACIES,
    HN_METRIC_REWARDS_MARGINS,
    HN_METRIC_LOGPS_CHOSEN,
    HN_METRIC_LOGPS_REJECTED,
    HN_METRIC_KL,       /* kto: the reference point */
    HN_METRIC_ACCURACY, /* rm: chosen scored above rejected */
    HN_METRIC_COUNT
} hn_train_metric;

extern const char *const HN_TRAIN_METRIC_NAMES[HN_METRIC_COUNT];
_Static_assert(HN_METRIC_COUNT == HN_POSITION_METRICS, "train_position.h holds the metrics");

/* One logged step, as a trainer_log.jsonl line holds it. */
typedef struct {
    int64_t step, total_steps;
    double loss;          /* mean token loss over the steps since the last log */
    double learning_rate;
    double grad_norm;
    double epoch;         /* fractional */
    double elapsed_s, remaining_s;
    double tokens_per_s;
    int64_t total_tokens;
    double eval_loss;     /* an evaluation record: the held-out loss (the training fields
                             above other than step, total_steps, epoch and the times are 0);
                             NaN in a training record */
    bool has_metrics;                /* rm, dpo, kto: metrics[] holds their values */
    double metrics[HN_METRIC_COUNT]; /* NaN: not logged */
} hn_train_log;

typedef struct {
    /* Called once the run is set up: what will happen. */
    void (*on_start)(void *user, int64_t examples, int64_t total_steps, int64_t trained_params,
                     int64_t total_params);
    void (*on_log)(void *user, const hn_train_log *log);
    /* Returns true to stop (Ctrl-C); checked after each optimizer step: the run then writes a
     * checkpoint and returns HN_ERR_STOPPED with a message saying how to resume. */
    bool (*should_stop)(void *user);
    void *user;
    /* Called when the run continues from a checkpoint, before training goes on (may be NULL). */
    void (*on_resume)(void *user, const char *checkpoint, int64_t step);
    /* One line worth showing (the data's source, a cache warning); may be NULL. */
    void (*on_note)(void *user, const char *line);
    /* After every optimizer step (the log comes only every logging_steps); may be NULL. */
    void (*on_step)(void *user, int64_t step);
} hn_train_callbacks;

/* Runs the training that args describe (checked with hn_train_args_check first). */
hn_status hn_train_run(const hn_train_args *args, const hn_train_callbacks *callbacks,
                       hn_error *err);
