/* A training run (see trainer.h): setup (the output folder, the model, the tokenizer and
 * template, the datasets, the optimizer, a checkpoint to resume from), then the loop
 * (trainer_loop.c) and the final outputs (trainer_output.c). The step count follows
 * transformers' Trainer: ceil(epochs x steps per epoch) unless max_steps is set. */
#include "trainer.h"

#include <math.h>
#include <string.h>

#include "backend_choice.h"
#include "gguf_tokenizer.h"
#include "model.h"
#include "optimizer.h"
#include "sft_data.h"
#include "train_data.h"
#include "trainer_internal.h"

static void model_options_from(const hn_trainer *tr, hn_model_options *o)
{
    const hn_train_args *args = tr->args;
    hn_model_options_init(o);
    o->backend = tr->backend;
    o->method = strcmp(args->finetuning_type, "full") == 0     ? HN_METHOD_FULL
                : strcmp(args->finetuning_type, "freeze") == 0 ? HN_METHOD_FREEZE
                                                               : HN_METHOD_LORA;
    o->recompute = !args->disable_gradient_checkpointing;
    o->freeze.freeze_trainable_layers = args->freeze_trainable_layers;
    o->freeze.freeze_trainable_modules = args->freeze_trainable_modules;
    o->freeze.freeze_extra_modules = args->freeze_extra_modules;
    o->targets.lora_target = args->lora_target;
    o->targets.additional_target = args->additional_target;
    o->lora_rank = args->lora_rank;
    o->lora_alpha = args->lora_alpha;
    o->lora_dropout = (float)args->lora_dropout;
    o->use_rslora = args->use_rslora;
    o->use_dora = args->use_dora;
    o->pissa_init = args->pissa_init;
    o->pissa_iter = args->pissa_iter;
    o->seed = (uint64_t)args->seed;
    o->value_head = strcmp(args->stage, "rm") == 0;
}

static hn_status optimizer_from(const hn_train_args *args, hn_model *model, int64_t total_steps,
                                hn_optimizer **opt, hn_error *err)
{
    hn_optimizer_options o;
    hn_optimizer_options_init(&o);
    o.beta1 = args->adam_beta1;
    o.beta2 = args->adam_beta2;
    o.eps = args->adam_epsilon;
    o.weight_decay = args->weight_decay;
    o.max_grad_norm = args->max_grad_norm;
    o.loraplus_lr_ratio = args->loraplus_lr_ratio;
    hn_lr_scheduler_type type = HN_LR_LINEAR;
    (void)hn_lr_scheduler_parse(args->lr_scheduler_type, &type); /* checked by train_args */
    int64_t warmup = hn_lr_warmup_steps(args->warmup_steps, args->warmup_ratio, total_steps);
    hn_lr_schedule_init(&o.schedule, type, args->learning_rate, warmup, total_steps);
    return hn_optimizer_new(model, &o, opt, err);
}

static int64_t total_steps_of(const hn_train_args *args, size_t n_examples)
{
    if (args->max_steps > 0)
        return args->max_steps;
    size_t bs = (size_t)args->per_device_train_batch_size,
           accum = (size_t)args->gradient_accumulation_steps;
    size_t len_dataloader = (n_examples + bs - 1) / bs;
    size_t per_epoch = MAX(len_dataloader / accum + (len_dataloader % accum > 0 ? 1 : 0), 1);
    return (int64_t)ceil(args->num_train_epochs * (double)per_epoch);
}

static void note(const hn_trainer *tr, const char *line)
{
    const hn_train_callbacks *c = tr->callbacks;
    if (c != NULL && c->on_note != NULL)
        c->on_note(c->user, line);
}

/* The run's examples of datasets (a comma list): from the tokenized-data cache, or encoded
 * with the template (pt: text blocks; sft: conversations; packed when asked). */
static hn_status load_examples(hn_trainer *tr, const char *datasets, hn_sft_data *data,
                               hn_error *err)
{
    const hn_train_args *args = tr->args;
    hn_train_data_options o;
    hn_train_data_options_from_args(&o, args, datasets);
    hn_train_data_info info = {0};
    hn_status s = hn_train_data_load(&o, tr->tok, &tr->which, data, &info, err);
    if (s == HN_OK) {
        if (info.warning != NULL)
            note(tr, info.warning);
        char *line = g_strdup_printf("dataset %s: %zu examples, %" G_GINT64_FORMAT " tokens (%s)",
                                     datasets, data->n_examples, data->n_tokens,
                                     info.cache_hit ? "tokenized earlier, from the cache"
                                                    : "tokenized now");
        note(tr, line);
        g_free(line);
    }
    hn_train_data_info_clear(&info);
    HN_TRY(s);
    bool grouped = strcmp(args->stage, "rm") == 0 || strcmp(args->stage, "dpo") == 0 ||
                   strcmp(args->stage, "kto") == 0;
    if (grouped != (hn_sft_data_group(data) == 2))
        return hn_fail(err, HN_ERR_UNSUPPORTED, "dataset %s: stage %s: the examples are not in "
                       "the shape the stage trains on (%s)", datasets, args->stage,
                       grouped ? "pairs or KTO examples" : "one example per row");
    if (data->n_examples == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "dataset %s: no usable examples (%zu rows dropped%s%s)",
                       datasets, data->n_dropped, data->first_dropped ? ": " : "",
                       data->first_dropped ? data->first_dropped : "");
    return HN_OK;
}

/* The model to train, continuing adapter_name_or_path when given, as LLaMA-Factory's
 * _setup_lora_tuning (llamafactory/model/adapter.py) does with is_trainable and no
 * create_new_adapter: PeftModel.from_pretrained(is_trainable=True), so the adapter's own
 * adapter_config.json (r, lora_alpha, lora_dropout, rsLoRA, DoRA, target_modules,
 * modules_to_save) wins over lora_rank, lora_alpha, lora_target and the rest. Several adapters
 * (upstream merges all but the last into the base first) are refused as not built. */
static hn_status open_model(hn_trainer *tr, hn_error *err)
{
    const hn_train_args *args = tr->args;
    hn_model_options mo;
    model_options_from(tr, &mo);
    const char *path = args->adapter_name_or_path;
    if (path == NULL)
        return hn_model_new(tr->dir, &mo, &tr->model, err);
    if (strcmp(args->finetuning_type, "lora") != 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "adapter_name_or_path %s: an adapter is only valid "
                       "with finetuning_type lora, not %s", path, args->finetuning_type);
    if (strchr(path, ',') != NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "adapter_name_or_path %s: several adapters "
                       "(merging all but the last into the base) are not built yet; give one",
                       path);
    if (args->create_new_adapter)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "create_new_adapter (merging %s into the base "
                       "and training a new adapter) is not built yet", path);
    hn_peft_adapter adapter;
    HN_TRY(hn_peft_read(path, &adapter, err));
    char *targets = NULL, *saved = NULL;
    mo.pissa_init = false; /* upstream initialises only a new adapter */
    mo.targets.additional_target = NULL; /* the adapter's modules_to_save, if any, instead */
    hn_status s = hn_model_options_for_adapter(&mo, &adapter, &targets, &saved, err);
    if (s == HN_OK)
        s = hn_model_new(tr->dir, &mo, &tr->model, err);
    if (s == HN_OK)
        s = hn_model_load_adapter(tr->model, &adapter, err);
    if (s != HN_OK)
        hn_error_prefix(err, "adapter_name_or_path %s", path);
    g_free(targets);
    g_free(saved);
    hn_peft_adapter_free(&adapter);
    return s;
}

/* Stage rm continues a value head from the adapter or model folder when it holds
 * value_head.safetensors (LLaMA-Factory's load_valuehead_params); otherwise the head starts
 * as torch.nn.Linear's init. */
static hn_status open_value_head(hn_trainer *tr, hn_error *err)
{
    const hn_train_args *args = tr->args;
    const char *from = args->adapter_name_or_path != NULL ? args->adapter_name_or_path
                                                          : args->model_name_or_path;
    if (!g_file_test(from, G_FILE_TEST_IS_DIR))
        return HN_OK; /* a GGUF file */
    bool found = false;
    HN_TRY(hn_model_load_value_head(tr->model, from, &found, err));
    if (found) {
        char *line = g_strdup_printf("value head: continued from %s/%s", from,
                                     HN_VALUE_HEAD_FILE);
        note(tr, line);
        g_free(line);
    }
    return HN_OK;
}

/* Whether base weights train beside LoRA (modules_to_save): switching the adapters off then
 * does not give the starting model. */
static bool trains_base_weights(const hn_model *model)
{
    for (size_t i = 0; i < hn_model_param_count(model); i++) {
        hn_param_info info;
        hn_model_param_info(model, i, &info);
        if (info.trained && strstr(info.name, ".lora_") == NULL &&
            !hn_param_is_value_head(info.name))
            return true;
    }
    return false;
}

/* The reference of dpo and kto, as LLaMA-Factory's create_ref_model: ref_model when given;
 * else with LoRA the model itself with its adapters off (nothing to open), otherwise a frozen
 * copy of the starting weights. orpo and simpo read none. */
static hn_status open_reference(hn_trainer *tr, hn_error *err)
{
    const hn_train_args *args = tr->args;
    if (!hn_trainer_uses_reference(args)) {
        if (args->ref_model != NULL)
            note(tr, "ref_model is ignored: pref_loss orpo and simpo use no reference model");
        return HN_OK;
    }
    hn_model_options o;
    hn_model_options_init(&o);
    o.backend = tr->backend;
    const hn_model_dir *dir = tr->dir;
    if (args->ref_model != NULL) {
        HN_TRY(hn_model_dir_open(args->ref_model, &tr->ref_dir, err));
        if (tr->ref_dir->config.vocab_size != tr->dir->config.vocab_size)
            return hn_fail(err, HN_ERR_ARGUMENT, "ref_model %s has a vocabulary of %" G_GINT64_FORMAT
                           " tokens, the model %" G_GINT64_FORMAT ": the reference must share "
                           "the model's tokenizer", args->ref_model,
                           (int64_t)tr->ref_dir->config.vocab_size,
                           (int64_t)tr->dir->config.vocab_size);
        dir = tr->ref_dir;
    } else if (strcmp(args->finetuning_type, "lora") == 0 && !trains_base_weights(tr->model)) {
        return HN_OK;
    }
    hn_status s = hn_model_new(dir, &o, &tr->ref_model, err);
    if (s != HN_OK && args->ref_model != NULL)
        hn_error_prefix(err, "ref_model %s", args->ref_model);
    return s;
}

/* The backend first, so that a refused one leaves nothing written. */
static hn_status choose_backend(hn_trainer *tr, hn_error *err)
{
    hn_backend_request request;
    hn_backend_request_from_train_args(&request, tr->args);
    hn_backend_choice choice;
    HN_TRY(hn_backend_choose(&request, &choice, err));
    tr->backend = choice.backend;
    note(tr, choice.line);
    return HN_OK;
}

static hn_status setup(hn_trainer *tr, hn_error *err)
{
    const hn_train_args *args = tr->args;
    HN_TRY(choose_backend(tr, err));
    HN_TRY(hn_trainer_choose_resume(tr, err));
    HN_TRY(hn_model_dir_open(args->model_name_or_path, &tr->dir, err));
    HN_TRY(hn_tokenizer_load_model(args->model_name_or_path, &tr->tok, err));
    const hn_tokenizer_config *tc = hn_tokenizer_get_config(tr->tok);
    tr->pad_id = tc->pad_id >= 0 ? tc->pad_id : tc->eos_id >= 0 ? tc->eos_id : 0;
    HN_TRY(hn_sft_template_open(args->template_name, tr->tok, &tr->named, &tr->jinja, &tr->which,
                                err));
    HN_TRY(load_examples(tr, args->dataset, &tr->data, err));
    if (args->eval_dataset != NULL)
        HN_TRY(load_examples(tr, args->eval_dataset, &tr->eval_data, err));
    HN_TRY(hn_trainer_split(tr, err));
    HN_TRY(open_model(tr, err));
    if (strcmp(args->stage, "rm") == 0)
        HN_TRY(open_value_head(tr, err));
    HN_TRY(open_reference(tr, err));
    tr->total_steps = total_steps_of(args, tr->train.n);
    HN_TRY(optimizer_from(args, tr->model, tr->total_steps, &tr->opt, err));
    tr->pos = (hn_train_position){
        .epoch_shuffle = (uint64_t)args->seed, .examples = (int64_t)tr->train.n,
        .total_steps = tr->total_steps, .batch_size = args->per_device_train_batch_size,
        .accumulation = args->gradient_accumulation_steps, .seed = args->seed,
    };
    tr->saved_step = -1;
    if (tr->resume_from != NULL)
        HN_TRY(hn_trainer_resume(tr, err));
    HN_TRY(hn_trainer_open_history(tr, err));
    /* Only now the output folder: bad data, a bad adapter, model or checkpoint leave it as it
     * was. */
    HN_TRY(hn_trainer_prepare_output(tr, err));
    return hn_trainer_open_log(tr, err);
}

hn_status hn_train_run(const hn_train_args *args, const hn_train_callbacks *callbacks,
                       hn_error *err)
{
    HN_TRY(hn_train_args_check(args, err));
    hn_trainer tr = {.args = args, .callbacks = callbacks}; /* a zero dataset clears fine */
    hn_status s = setup(&tr, err);
    if (s == HN_OK && tr.resume_from != NULL && callbacks != NULL && callbacks->on_resume != NULL)
        callbacks->on_resume(callbacks->user, tr.resume_from, tr.pos.step);
    if (s == HN_OK && callbacks != NULL && callbacks->on_start != NULL) {
        int64_t total = 0;
        for (size_t i = 0; i < hn_model_param_count(tr.model); i++) {
            hn_param_info info;
            hn_model_param_info(tr.model, i, &info);
            total += (int64_t)info.numel;
        }
        callbacks->on_start(callbacks->user, (int64_t)tr.train.n, tr.total_steps,
                            hn_model_trained_count(tr.model), total);
    }
    if (s == HN_OK)
        s = hn_trainer_run_steps(&tr, err);
    if (s == HN_OK)
        s = hn_trainer_save(&tr, args->output_dir, err);
    if (s == HN_OK)
        s = hn_trainer_write_results(&tr, err);
    hn_trainer_clear(&tr);
    return s;
}
