/* BLEU-4 of one hypothesis against one reference, as nltk's sentence_bleu computes it with
 * uniform weights (0.25 each) and SmoothingFunction().method3 (nltk/translate/bleu_score.py):
 * the metric LLaMA-Factory's ComputeSimilarity reports as bleu-4 (on characters). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* sentence_bleu([ref], hyp, smoothing_function=SmoothingFunction().method3) over token
 * sequences (equal ids are equal tokens). */
double hn_bleu4(const int32_t *hyp, size_t n_hyp, const int32_t *ref, size_t n_ref);

/* The same over the Unicode characters of two UTF-8 texts (Python's list(text)), as
 * ComputeSimilarity calls it. Invalid UTF-8 bytes count as one character each. */
double hn_bleu4_chars(const char *hyp, const char *ref);
