/* AdamW steps over the model's trained parameters (see optimizer.h). The moments live in one
 * backend buffer; each parameter's decay and learning-rate multiplier are decided once. */
#include "optimizer.h"

#include <math.h>
#include <string.h>

#include "optimizer_internal.h"

void hn_optimizer_options_init(hn_optimizer_options *options)
{
    *options = (hn_optimizer_options){
        .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0, .max_grad_norm = 1.0,
    };
    hn_lr_schedule_init(&options->schedule, HN_LR_CONSTANT, 5e-5, 0, 0);
}


/* Trainer.get_decay_parameter_names: no decay for biases and norms, matched on the
 * lower-cased name by transformers' patterns. DoRA's "lora_magnitude_vector" matches none
 * (PEFT's name ends ".lora_magnitude_vector.default.weight"), so it decays, as there. */
static bool decays(const char *name)
{
    static const char *const patterns[] = {"bias", "layernorm", "rmsnorm",
                                           "(?:^|\\.)norm(?:$|\\.)", "_norm(?:$|\\.)"};
    char *lower = g_ascii_strdown(name, -1);
    bool decay = true;
    for (size_t i = 0; i < G_N_ELEMENTS(patterns) && decay; i++)
        decay = !g_regex_match_simple(patterns[i], lower, 0, 0);
    g_free(lower);
    return decay;
}

hn_status hn_optimizer_new(hn_model *model, const hn_optimizer_options *options,
                           hn_optimizer **out, hn_error *err)
{
    *out = NULL;
    HN_TRY(hn_lr_schedule_check(&options->schedule, err));
    if (!(options->beta1 >= 0 && options->beta1 < 1 && options->beta2 >= 0 &&
          options->beta2 < 1 && options->eps > 0 && options->weight_decay >= 0))
        return hn_fail(err, HN_ERR_ARGUMENT, "AdamW: expected 0 <= adam_beta1, adam_beta2 < 1, "
                       "adam_epsilon > 0 and weight_decay >= 0");
    hn_optimizer *opt = g_new0(hn_optimizer, 1);
    opt->model = model;
    opt->options = *options;
    opt->params = g_new0(trained_param, model->params->len);
    size_t total = 0;
    for (guint i = 0; i < model->params->len; i++) {
        hn_param *p = g_ptr_array_index(model->params, i);
        if (p->grad == NULL)
            continue;
        /* LoRA+'s larger rate: LLaMA-Factory's _create_loraplus_optimizer (as peft's
         * create_loraplus_optimizer) gives it to lora_B and to every 1-D parameter, DoRA's
         * magnitudes among them */
        bool plus = g_str_has_suffix(p->name, ".lora_B.weight") || p->ndim == 1;
        opt->params[opt->n_params++] = (trained_param){
            .param = p,
            .decay = decays(p->name),
            .lr_factor = plus && options->loraplus_lr_ratio > 0 ? options->loraplus_lr_ratio
                                                                 : 1.0,
        };
        total += p->numel;
    }
    const hn_backend *be = model->be;
    opt->moments = total > 0 ? be->alloc(2 * total * sizeof(float)) : NULL;
    opt->norm_squared = be->alloc(sizeof(float));
    if ((total > 0 && opt->moments == NULL) || opt->norm_squared == NULL) {
        hn_optimizer_free(opt);
        return hn_fail(err, HN_ERR_NOMEM, "out of %s memory for AdamW's moments (%zu bytes)",
                       be->name, 2 * total * sizeof(float));
    }
    float *m = opt->moments;
    for (size_t i = 0; i < opt->n_params; i++) {
        opt->params[i].m = m;
        opt->params[i].v = m + opt->params[i].param->numel;
        m += 2 * opt->params[i].param->numel;
    }
    if (total > 0)
        be->zero(opt->moments, 2 * total * sizeof(float));
    *out = opt;
    return HN_OK;
}

void hn_optimizer_free(hn_optimizer *opt)
{
    if (opt == NULL)
        return;
    opt->model->be->free(opt->moments);
    opt->model->be->free(opt->norm_squared);
    g_free(opt->params);
    g_free(opt);
}

int64_t hn_optimizer_steps(const hn_optimizer *opt)
{
    return opt->step;
}

static double global_grad_norm(hn_optimizer *opt)
{
    const hn_backend *be = opt->model->be;
    float *sum = opt->norm_squared;
    be->zero(sum, sizeof(float));
    for (size_t i = 0; i < opt->n_params; i++)
        be->norm_squared_accumulate(sum, opt->params[i].param->grad, opt->params[i].param->numel);
    float host = 0;
    be->copy_to_host(&host, sum, sizeof host);
    return sqrt((double)host);
}

hn_status hn_optimizer_step(hn_optimizer *opt, hn_step_report *report, hn_error *err)
{
    hn_model *model = opt->model;
    const hn_backend *be = model->be;
    const hn_optimizer_options *o = &opt->options;
    double norm = global_grad_norm(opt);
    if (!isfinite(norm))
        return hn_fail(err, HN_ERR_ARGUMENT, "optimizer step %" G_GINT64_FORMAT ": the gradient "
                       "norm is not finite (the loss diverged); the parameters were not changed",
                       opt->step + 1);
    float scale = hn_clip_coefficient(norm, o->max_grad_norm);
    double lr = hn_lr_at(&o->schedule, opt->step);
    opt->step++;
    for (size_t i = 0; i < opt->n_params; i++) {
        trained_param *t = &opt->params[i];
        be->adamw_step((float *)t->param->data, t->m, t->v, t->param->grad, t->param->numel,
                       lr * t->lr_factor, o->beta1, o->beta2, o->eps,
                       t->decay ? o->weight_decay : 0.0, scale, opt->step);
    }
    hn_model_zero_grad(model);
    char message[512];
    if (!be->synchronize(message, sizeof message))
        return hn_fail(err, HN_ERR_IO, "%s backend: %s", be->name, message);
    if (report != NULL)
        *report = (hn_step_report){norm, lr, opt->step};
    return HN_OK;
}
