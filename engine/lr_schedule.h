/* Learning-rate schedules, the same values as transformers' get_scheduler
 * (transformers/optimization.py): a multiplier of the peak learning rate for each optimizer
 * step, counted from 0 as the Trainer counts them (the first update uses step 0, which is 0
 * during a warmup). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hn_error.h"

typedef enum {
    HN_LR_LINEAR,
    HN_LR_COSINE,
    HN_LR_COSINE_WITH_RESTARTS,
    HN_LR_POLYNOMIAL,
    HN_LR_CONSTANT,
    HN_LR_CONSTANT_WITH_WARMUP,
    HN_LR_INVERSE_SQRT,
} hn_lr_scheduler_type;

typedef struct {
    hn_lr_scheduler_type type;
    double learning_rate; /* the peak (the optimizer's initial lr) */
    int64_t warmup_steps;
    int64_t total_steps;
    /* lr_scheduler_kwargs, with transformers' defaults from hn_lr_schedule_init */
    double num_cycles; /* cosine: 0.5 (half a wave); cosine_with_restarts: 1 (whole cycles) */
    double lr_end;     /* polynomial: 1e-7 */
    double power;      /* polynomial: 1.0 */
    int64_t timescale; /* inverse_sqrt: warmup_steps, or 10000 without warmup */
} hn_lr_schedule;

/* lr_scheduler_type names as transformers spells them; false when unknown. */
bool hn_lr_scheduler_parse(const char *name, hn_lr_scheduler_type *out);
const char *hn_lr_scheduler_name(hn_lr_scheduler_type type);
/* "linear, cosine, ..." for error messages. */
const char *hn_lr_scheduler_choices(void);

/* The warmup length: warmup_steps when at least 1; a fraction below 1 (transformers 5) or,
 * with warmup_steps 0, warmup_ratio (transformers 4, LLaMA-Factory's configs) is a share of
 * total_steps, rounded up. */
int64_t hn_lr_warmup_steps(double warmup_steps, double warmup_ratio, int64_t total_steps);

/* Fills s with the type's defaults; the caller may then change the kwargs fields. An invalid
 * combination (negative steps, polynomial lr_end at or above the learning rate) is an error
 * at hn_lr_schedule_check. */
void hn_lr_schedule_init(hn_lr_schedule *s, hn_lr_scheduler_type type, double learning_rate,
                         int64_t warmup_steps, int64_t total_steps);
hn_status hn_lr_schedule_check(const hn_lr_schedule *s, hn_error *err);

/* The learning rate of optimizer step `step` (0-based). */
double hn_lr_at(const hn_lr_schedule *s, int64_t step);
