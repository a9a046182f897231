/* Which weights of a decoder train under freeze and LoRA fine-tuning, chosen by their Hugging
 * Face names exactly as LLaMA-Factory does it (llamafactory/model/adapter.py,
 * _setup_freeze_tuning and _setup_lora_tuning) with PEFT's matching of target_modules and
 * modules_to_save (peft/tuners/tuners_utils.py check_target_module_exists,
 * peft/utils/other.py _set_trainable). Full fine-tuning trains everything. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hn_error.h"

typedef enum {
    HN_TRAIN_FROZEN = 0,
    HN_TRAIN_FULL, /* the weight itself is trained (freeze's layers, LoRA's modules_to_save) */
    HN_TRAIN_LORA, /* a LoRA adapter is put on this linear weight; the weight stays frozen */
} hn_train_kind;

typedef struct {
    int freeze_trainable_layers;          /* +N: the last N layers, -N: the first N; default 2 */
    const char *freeze_trainable_modules; /* comma list of layer parts, or "all" (default) */
    const char *freeze_extra_modules;     /* comma list of non-layer modules, or NULL */
} hn_freeze_options;

/* LLaMA-Factory's defaults. */
void hn_freeze_options_init(hn_freeze_options *options);

/* Sets kinds[i] for each of the n parameter names (the model's parameters, a tied lm_head not
 * among them) of a model with num_layers decoder layers. A module that is not in the model is
 * an error listing the ones that are. */
hn_status hn_select_freeze(const char *const *names, size_t n, int num_layers,
                           const hn_freeze_options *options, hn_train_kind *kinds,
                           hn_error *err);

typedef struct {
    const char *lora_target;       /* comma list of module names, or "all" (default) */
    const char *additional_target; /* comma list: modules trained in full beside LoRA, or NULL */
} hn_lora_target_options;

void hn_lora_target_options_init(hn_lora_target_options *options);

/* Sets kinds[i] for each parameter name. With tied_lm_head, the model also has an lm_head
 * module that shares the embedding's weight (as transformers builds it); its kind goes to
 * *lm_head_kind (may be NULL otherwise). Targets that match nothing at all, a target that
 * names a module LoRA cannot wrap, and a module both LoRA-wrapped and trained in full are
 * errors. */
hn_status hn_select_lora(const char *const *names, size_t n, bool tied_lm_head,
                         const hn_lora_target_options *options, hn_train_kind *kinds,
                         hn_train_kind *lm_head_kind, hn_error *err);
