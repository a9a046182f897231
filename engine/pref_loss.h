/* The preference losses of the dpo and kto stages on one pair (or one example), with their
 * gradients with respect to the policy's log-probabilities: what the trainer will run on the
 * log-probs the model gives, kept apart from any model so each can be checked against the
 * published formula (tests/test_pref_loss.c, PyTorch autograd in float64). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    HN_PREF_SIGMOID, /* DPO */
    HN_PREF_HINGE,   /* SLiC's hinge on DPO's log-ratio */
    HN_PREF_IPO,
    HN_PREF_ORPO,    /* no reference model */
    HN_PREF_SIMPO,   /* no reference model */
} hn_pref_loss_type;

typedef struct {
    hn_pref_loss_type type;
    double beta;            /* pref_beta, > 0 */
    double label_smoothing; /* dpo_label_smoothing, sigmoid only, in [0, 0.5] */
    double simpo_gamma;     /* simpo only */
} hn_pref_loss_options;

typedef struct {
    double loss;
    double d_chosen, d_rejected; /* d loss / d the policy's chosen and rejected log-probs */
    double reward_chosen, reward_rejected; /* what the log shows as rewards/chosen and
                                              rewards/rejected: beta * (policy - reference),
                                              beta * policy for orpo and simpo */
} hn_pref_pair;

/* One chosen/rejected pair. chosen / rejected are the policy's log-probs of the two answers
 * and ref_chosen / ref_rejected the reference model's (ignored by orpo and simpo), each as the
 * loss reads them: summed over the answer's tokens for sigmoid and hinge, averaged over them
 * for ipo, orpo and simpo (the callers' job; LLaMA-Factory's trainer does the same). */
void hn_pref_loss_pair(const hn_pref_loss_options *options, double chosen, double rejected,
                       double ref_chosen, double ref_rejected, hn_pref_pair *out);

typedef struct {
    double beta;               /* pref_beta, > 0 */
    double desirable_weight;   /* kto_chosen_weight (1) */
    double undesirable_weight; /* kto_rejected_weight (1) */
} hn_kto_options;

/* KTO's reference point: the mean of policy - reference log-probs over the mismatched
 * prompt/answer pairs of the batch, clamped at 0 (treated as a constant by the gradient). */
double hn_kto_reference_point(const double *policy_kl, const double *ref_kl, size_t n);

/* One KTO example: its loss and d loss / d policy (the summed log-prob of its answer). */
void hn_kto_loss(const hn_kto_options *options, bool desirable, double policy, double ref,
                 double reference_point, double *loss, double *d_policy);
