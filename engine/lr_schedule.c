/* Learning-rate schedules: transformers' lr lambdas (transformers/optimization.py,
 * _get_*_lr_lambda), evaluated in double precision as Python evaluates them. */
#include "lr_schedule.h"

#include <glib.h>
#include <math.h>
#include <string.h>

static const char *const NAMES[] = {
    [HN_LR_LINEAR] = "linear",
    [HN_LR_COSINE] = "cosine",
    [HN_LR_COSINE_WITH_RESTARTS] = "cosine_with_restarts",
    [HN_LR_POLYNOMIAL] = "polynomial",
    [HN_LR_CONSTANT] = "constant",
    [HN_LR_CONSTANT_WITH_WARMUP] = "constant_with_warmup",
    [HN_LR_INVERSE_SQRT] = "inverse_sqrt",
};

bool hn_lr_scheduler_parse(const char *name, hn_lr_scheduler_type *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(NAMES); i++) {
        if (strcmp(name, NAMES[i]) == 0) {
            *out = (hn_lr_scheduler_type)i;
            return true;
        }
    }
    return false;
}

const char *hn_lr_scheduler_name(hn_lr_scheduler_type type)
{
    return NAMES[type];
}

const char *hn_lr_scheduler_choices(void)
{
    return "linear, cosine, cosine_with_restarts, polynomial, constant, constant_with_warmup, "
           "inverse_sqrt";
}

int64_t hn_lr_warmup_steps(double warmup_steps, double warmup_ratio, int64_t total_steps)
{
    /* TrainingArguments.get_warmup_steps (transformers 5; 4.x read warmup_ratio the same way) */
    if (warmup_steps >= 1)
        return (int64_t)warmup_steps;
    double share = warmup_steps > 0 ? warmup_steps : warmup_ratio;
    return (int64_t)ceil((double)total_steps * share);
}

void hn_lr_schedule_init(hn_lr_schedule *s, hn_lr_scheduler_type type, double learning_rate,
                         int64_t warmup_steps, int64_t total_steps)
{
    *s = (hn_lr_schedule){
        .type = type,
        .learning_rate = learning_rate,
        .warmup_steps = warmup_steps,
        .total_steps = total_steps,
        .num_cycles = type == HN_LR_COSINE_WITH_RESTARTS ? 1.0 : 0.5,
        .lr_end = 1e-7,
        .power = 1.0,
        .timescale = warmup_steps > 0 ? warmup_steps : 10000,
    };
}

hn_status hn_lr_schedule_check(const hn_lr_schedule *s, hn_error *err)
{
    if (s->warmup_steps < 0 || s->total_steps < 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "lr schedule: warmup steps (%" G_GINT64_FORMAT
                       ") and total steps (%" G_GINT64_FORMAT ") cannot be negative",
                       s->warmup_steps, s->total_steps);
    if (s->type == HN_LR_POLYNOMIAL && s->total_steps <= s->warmup_steps)
        return hn_fail(err, HN_ERR_ARGUMENT, "lr_scheduler_type polynomial: the warmup (%"
                       G_GINT64_FORMAT " steps) must be shorter than the training (%"
                       G_GINT64_FORMAT " steps)", s->warmup_steps, s->total_steps);
    if (s->type == HN_LR_POLYNOMIAL && !(s->learning_rate > s->lr_end))
        return hn_fail(err, HN_ERR_ARGUMENT, "lr_scheduler_type polynomial: lr_end (%g) must be "
                       "smaller than the learning rate (%g)", s->lr_end, s->learning_rate);
    if (s->type == HN_LR_INVERSE_SQRT && s->timescale <= 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "lr_scheduler_type inverse_sqrt: timescale must be "
                       "positive");
    return HN_OK;
}

static double max1(int64_t v)
{
    return (double)(v > 1 ? v : 1);
}

/* The multiplier of the peak learning rate, lr_lambda(step). */
static double multiplier(const hn_lr_schedule *s, int64_t step)
{
    int64_t warmup = s->warmup_steps, total = s->total_steps;
    if (s->type == HN_LR_CONSTANT)
        return 1.0;
    if (step < warmup)
        return (double)step / max1(warmup);
    double progress = (double)(step - warmup) / max1(total - warmup);
    switch (s->type) {
    case HN_LR_CONSTANT_WITH_WARMUP:
        return 1.0;
    case HN_LR_LINEAR:
        return fmax(0.0, (double)(total - step) / max1(total - warmup));
    case HN_LR_COSINE:
        return fmax(0.0, 0.5 * (1.0 + cos(M_PI * s->num_cycles * 2.0 * progress)));
    case HN_LR_COSINE_WITH_RESTARTS:
        if (progress >= 1.0)
            return 0.0;
        /* Python's % on floats: the result has the sign of the divisor (here positive) */
        return fmax(0.0, 0.5 * (1.0 + cos(M_PI * fmod(floor(s->num_cycles) * progress, 1.0))));
    case HN_LR_POLYNOMIAL: {
        double lr_init = s->learning_rate;
        if (step > total)
            return s->lr_end / lr_init;
        double remaining = 1.0 - (double)(step - warmup) / (double)(total - warmup);
        return ((lr_init - s->lr_end) * pow(remaining, s->power) + s->lr_end) / lr_init;
    }
    case HN_LR_INVERSE_SQRT: {
        double shift = (double)(s->timescale - warmup);
        return 1.0 / sqrt(((double)step + shift) / (double)s->timescale);
    }
    case HN_LR_CONSTANT:
        break;
    }
    return 1.0;
}

double hn_lr_at(const hn_lr_schedule *s, int64_t step)
{
    return s->learning_rate * multiplier(s, step);
}
