/* The state of a training run, shared by trainer.c (setup and the loop) and
 * trainer_output.c (the output folder: arguments, logs, the adapter or model). */
#pragma once

#include <stdio.h>

#include "chat_jinja.h"
#include "chat_template.h"
#include "dataset_read.h"
#include "model.h"
#include "optimizer.h"
#include "sft_data.h"
#include "trainer.h"

typedef struct {
    const hn_train_args *args;
    const hn_train_callbacks *callbacks;
    hn_model_dir *dir;
    hn_tokenizer *tok;
    hn_chat_template named;
    hn_chat_jinja *jinja;
    hn_sft_template which;
    hn_dataset dataset;
    hn_sft_data data;
    hn_model *model;
    hn_optimizer *opt;
    int64_t total_steps;
    int32_t pad_id;
    FILE *log_file; /* trainer_log.jsonl */
} hn_trainer;

double hn_trainer_now(void);
/* Makes the output folder (refusing a non-empty one unless overwrite_output_dir), writes
 * training_args.yaml and opens trainer_log.jsonl. */
hn_status hn_trainer_prepare_output(hn_trainer *tr, hn_error *err);
/* Appends a trainer_log.jsonl line and tells the callbacks. */
hn_status hn_trainer_log(hn_trainer *tr, const hn_train_log *log, hn_error *err);
/* Writes the adapter (LoRA) or the model (full, freeze) and the tokenizer files. */
hn_status hn_trainer_save(hn_trainer *tr, hn_error *err);
void hn_trainer_clear(hn_trainer *tr);
