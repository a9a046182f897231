/* LLaMA-Factory's ComputeSimilarity (llamafactory/train/sft/metric.py) for one prediction and
 * its label, decoded texts: ROUGE-1/2/L F-scores on the texts' words (metric_segment.h, joined
 * by spaces; all 0 when either text is only whitespace) and BLEU-4 on their characters, each
 * x 100 and rounded to 4 decimals as upstream appends them; the reported metric is the mean
 * over the predictions. */
#pragma once

#include <stddef.h>

#include "hn_error.h"

typedef struct {
    double rouge1, rouge2, rougel, bleu4;
} hn_similarity;

hn_status hn_similarity_score(const char *predict, const char *label, hn_similarity *out,
                              hn_error *err);

/* The mean of each score over scores [n] (float(np.mean(v))); n == 0 gives NaN, as np.mean of
 * an empty list. */
hn_similarity hn_similarity_mean(const hn_similarity *scores, size_t n);
