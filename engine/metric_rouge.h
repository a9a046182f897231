/* ROUGE-1, ROUGE-2 and ROUGE-L of one hypothesis against one reference text as rouge_chinese
 * 1.0.3's Rouge().get_scores(hyp, ref)[0] computes them (rouge_chinese/rouge.py and
 * rouge_score.py): the metric LLaMA-Factory's ComputeSimilarity reports, on texts of words
 * joined by spaces (metric_segment.h). */
#pragma once

#include "hn_error.h"

typedef struct {
    double f, p, r; /* F-score, precision, recall */
} hn_rouge_score;

typedef struct {
    hn_rouge_score rouge1, rouge2, rougel;
} hn_rouge_scores;

/* Fails (HN_ERR_ARGUMENT) where rouge_chinese raises: a text with no sentence (empty or only
 * whitespace). */
hn_status hn_rouge_get_scores(const char *hyp, const char *ref, hn_rouge_scores *out,
                              hn_error *err);
