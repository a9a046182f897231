/* AdamW over a model's trained parameters, as transformers' Trainer runs it: the global
 * gradient norm and clipping (torch.nn.utils.clip_grad_norm_), torch.optim.AdamW with
 * weight decay on every parameter but biases and norms (Trainer.get_decay_parameter_names),
 * the learning rate of lr_schedule.h per optimizer step, LoRA+'s larger rate for the B
 * matrices and every 1-D parameter (LLaMA-Factory's loraplus_lr_ratio), then gradients back
 * to zero. */
#pragma once

#include "lr_schedule.h"
#include "model.h"

typedef struct {
    double beta1, beta2, eps, weight_decay; /* adam_beta1 0.9, adam_beta2 0.999,
                                               adam_epsilon 1e-8, weight_decay 0 */
    double max_grad_norm;                   /* 1.0; <= 0 turns clipping off */
    double loraplus_lr_ratio;               /* 0: off; else lr x ratio for lora_B and every
                                               1-D parameter (DoRA's magnitudes) */
    hn_lr_schedule schedule;                /* the peak learning rate is its learning_rate */
} hn_optimizer_options;

/* transformers' defaults, a constant schedule at learning_rate 5e-5 (the caller sets the
 * schedule of the run). */
void hn_optimizer_options_init(hn_optimizer_options *options);

typedef struct hn_optimizer hn_optimizer;

/* Moments for every trained parameter of model, on its backend. */
hn_status hn_optimizer_new(hn_model *model, const hn_optimizer_options *options,
                           hn_optimizer **out, hn_error *err);
void hn_optimizer_free(hn_optimizer *opt);

typedef struct {
    double grad_norm;     /* before clipping, as the Trainer logs it */
    double learning_rate; /* the rate this step used */
    int64_t step;         /* optimizer steps done, this one included */
} hn_step_report;

/* One optimizer step with the gradients the model holds; they are zero afterwards. A
 * non-finite gradient norm is an error (the parameters are left as they were). */
hn_status hn_optimizer_step(hn_optimizer *opt, hn_step_report *report, hn_error *err);
int64_t hn_optimizer_steps(const hn_optimizer *opt);

/* The optimizer's state for a checkpoint (optimizer.safetensors): every trained parameter's
 * moments as "<name>.exp_avg" and "<name>.exp_avg_sq" (fp32, the names torch's AdamW state
 * uses) and the step count in the metadata ("step"). Loading checks that the file holds
 * exactly the moments of this model's trained parameters, with their shapes. */
hn_status hn_optimizer_save(const hn_optimizer *opt, const char *path, hn_error *err);
hn_status hn_optimizer_load(hn_optimizer *opt, const char *path, hn_error *err);
