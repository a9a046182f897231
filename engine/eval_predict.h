/* What LLaMA-Factory's predict (do_predict with predict_with_generate) generates from and
 * scores against: its UnsupervisedDatasetProcessor's examples (llamafactory/data/processor/
 * unsupervised.py), a conversation's prompt up to its last answer (Template.encode_oneturn:
 * every earlier turn, then the generation prompt) and that answer's ids (+ eos with
 * efficient_eos templates) as the label, both cut to cutoff_len as infer_seqlen shares it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sft_data.h"

typedef struct {
    int32_t *prompt; /* [n_prompt] */
    size_t n_prompt;
    int32_t *label;  /* [n_label] */
    size_t n_label;
} hn_predict_example;

typedef struct {
    hn_predict_example *examples;
    size_t n;
} hn_predict_data;

/* A cutoff_len for encoding the examples hn_predict_data_from_sft splits: no truncation. */
#define HN_PREDICT_ENCODE_CUTOFF (1 << 30)

/* From supervised examples encoded with mask_history (only the last answer labeled), without
 * train_on_prompt, unpacked and with HN_PREDICT_ENCODE_CUTOFF: the prompt is every id before
 * the first labeled one, the label the ids from there on (which must all be labeled). Rows
 * without an answer are not among them (the supervised processor drops them; upstream's
 * unsupervised one generates for them against an empty label). */
hn_status hn_predict_data_from_sft(const hn_sft_data *masked, int cutoff_len,
                                   hn_predict_data *out, hn_error *err);
void hn_predict_data_clear(hn_predict_data *data);
