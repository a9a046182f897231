/* `hone eval`: what LLaMA-Factory's sft (or pt) workflow does without do_train
 * (llamafactory/train/sft/workflow.py): with do_eval the evaluation loss (and its exp, the
 * perplexity) over eval_dataset (or dataset) into eval_results.json; with do_predict and
 * predict_with_generate a generated answer per example, written to
 * generated_predictions.jsonl ({"prompt", "predict", "label"} as CustomSeq2SeqTrainer's
 * save_predictions) and scored with ComputeSimilarity's BLEU-4 and ROUGE-1/2/L into
 * predict_results.json; both merged into all_results.json (Trainer.save_metrics).
 *
 * Where Hone differs: eval_results.json also holds eval_perplexity (upstream's pt workflow
 * writes it, sft's does not); eval_dataset falls back to dataset (upstream needs eval_dataset
 * or val_size; Hone refuses val_size); generation runs one example at a time (upstream pads
 * batches on the left) and stops at the template's stop ids (chat_prompt.h; upstream: eos and
 * the tokenizer's additional special tokens, which the template's stop words join); sampled
 * draws use seed + the example's index, not torch's generator; with skip_special_tokens false
 * the predict and label texts keep their special tokens but not the padding upstream's batches
 * append; all_results.json, read back and rewritten, has "epoch": 0.0 where upstream keeps 0. */
#pragma once

#include <stdatomic.h>
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
    /* NULL, or a flag another thread may set: the run then stops after the batch or the token
     * it is on and returns HN_ERR_STOPPED (files of a phase that finished stay written). */
    const atomic_bool *cancel;
} hn_eval_callbacks;

/* Runs it; args are checked with hn_train_args_check_eval first. callbacks may be NULL. */
hn_status hn_eval_run(const hn_train_args *args, const hn_eval_callbacks *callbacks,
                      hn_error *err);
