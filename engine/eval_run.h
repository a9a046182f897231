/* `hone eval`: what LLaMA-Factory's sft (or pt) workflow does without do_train
 * (llamafactory/train/sft/workflow.py): with do_eval the evaluation loss (and its exp, the
 * perplexity) over eval_dataset (or dataset) into eval_results.json; with do_predict and
 * predict_with_generate a generated answer per example, written to
 * generated_predictions.jsonl ({"prompt", "predict", "label"} as CustomSeq2SeqTrainer's
 * save_predictions) and scored with ComputeSimilarity's BLEU-4 and ROUGE-1/2/L into
 * predict_results.json; both merged into all_results.json (Trainer.save_metrics). */
#pragma once

#include <stddef.h>

#include "hn_error.h"
#include "train_args.h"

typedef struct {
    /* A line worth showing (what was loaded, where files went). */
    void (*on_note)(void *user, const char *line);
    /* During a phase ("eval" or "predict"): examples done of total, and the phase's tokens per
     * second so far (eval: tokens run through the model; predict: tokens generated). */
    void (*on_progress)(void *user, const char *phase, size_t done, size_t total,
                        double tokens_per_s);
    void *user;
} hn_eval_callbacks;

/* Runs it; args are checked with hn_train_args_check_eval first. callbacks may be NULL. */
hn_status hn_eval_run(const hn_train_args *args, const hn_eval_callbacks *callbacks,
                      hn_error *err);
