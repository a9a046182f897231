/* Choosing the next token from logits as transformers' generate does (generation/utils.py,
 * generation/logits_process.py): the repetition penalty always, then with sampling the
 * warpers in generate's order (temperature, top-k, top-p), softmax and a draw; without
 * sampling the largest logit. Filtered logits become -inf. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RepetitionPenaltyLogitsProcessor: for every distinct id in seen (prompt and generated),
 * logits[id] is multiplied by penalty when negative, divided by it otherwise. */
void hn_logits_repetition_penalty(float *logits, int V, const int32_t *seen, size_t n_seen,
                                  double penalty);
/* TemperatureLogitsWarper: logits / temperature (temperature > 0). */
void hn_logits_temperature(float *logits, int V, double temperature);
/* TopKLogitsWarper: everything below the k-th largest value becomes -inf (ties with it stay). */
void hn_logits_top_k(float *logits, int V, int k);
/* TopPLogitsWarper: sorted ascending, the tokens whose cumulative probability is <= 1 - top_p
 * become -inf; the most probable token always stays. */
void hn_logits_top_p(float *logits, int V, double top_p);

typedef struct {
    bool do_sample;            /* false: greedy (the warpers are skipped) */
    double temperature;        /* > 0; 1 = off */
    int top_k;                 /* 0 = off */
    double top_p;              /* [0, 1]; 1 = off (0 keeps only the most probable) */
    double repetition_penalty; /* > 0; 1 = off */
} hn_sampling;

/* Applies what `sampling` turns on to logits (in place) and picks a token: the argmax when
 * not sampling, else a draw from softmax(logits) with rng. */
int32_t hn_sample_token(float *logits, int V, const hn_sampling *sampling, const int32_t *seen,
                        size_t n_seen, GRand *rng);
