/* The optimizer's state, shared by optimizer.c (the steps) and optimizer_state.c (saving and
 * loading it in checkpoints). */
#pragma once

#include "model_internal.h"
#include "optimizer.h"

typedef struct {
    hn_param *param;
    float *m, *v;       /* [numel] */
    bool decay;
    double lr_factor;   /* LoRA+ */
} trained_param;

struct hn_optimizer {
    hn_model *model;
    hn_optimizer_options options;
    trained_param *params;
    size_t n_params;
    void *moments;
    float *norm_squared;  /* [1] on the device */
    int64_t step;
};
