/* A supervised fine-tuning run as LLaMA-Factory's `llamafactory-cli train` runs one with
 * transformers' Trainer: the model and its trainable parts from the arguments, the dataset
 * encoded with the template, batches padded to their longest example, gradient
 * accumulation with the loss over the step's target count, AdamW with the schedule, a log
 * line every logging_steps (trainer_log.jsonl in the output folder), and at the end the
 * adapter (LoRA: adapter_config.json + adapter_model.safetensors) or the model
 * (full/freeze: model.safetensors + config.json), the tokenizer files and
 * training_args.yaml. Not built yet, each a clear error from hn_train_args_check or here:
 * stages other than sft, evaluation, packing, checkpoints and resuming. */
#pragma once

#include "train_args.h"

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
} hn_train_log;

typedef struct {
    /* Called once the run is set up: what will happen. */
    void (*on_start)(void *user, int64_t examples, int64_t total_steps, int64_t trained_params,
                     int64_t total_params);
    void (*on_log)(void *user, const hn_train_log *log);
    /* Returns true to stop (Ctrl-C); checked between optimizer steps. */
    bool (*should_stop)(void *user);
    void *user;
} hn_train_callbacks;

/* Runs the training that args describe (checked with hn_train_args_check first). */
hn_status hn_train_run(const hn_train_args *args, const hn_train_callbacks *callbacks,
                       hn_error *err);
