/* The sft training loop (see trainer.h): setup, epochs of shuffled batches, accumulation,
 * optimizer steps, logs; the outputs are written by trainer_output.c. Step counts follow
 * transformers' Trainer: len(dataloader) = ceil(examples / batch size), steps per epoch =
 * ceil(len(dataloader) / gradient_accumulation_steps), total = ceil(epochs x steps per
 * epoch) unless max_steps is set; the last step of an epoch takes the batches left over. */
#include "trainer.h"

#include <math.h>
#include <string.h>

#include "gguf_tokenizer.h"
#include "model.h"
#include "optimizer.h"
#include "sft_data.h"
#include "trainer_internal.h"

static hn_status open_template(const hn_train_args *args, const hn_tokenizer *tok,
                               hn_chat_template *named, hn_chat_jinja **jinja,
                               hn_sft_template *which, hn_error *err)
{
    if (args->template_name != NULL && strcmp(args->template_name, "auto") != 0) {
        HN_TRY(hn_chat_template_get(args->template_name, named, err));
        *which = (hn_sft_template){named, NULL};
        return HN_OK;
    }
    HN_TRY(hn_chat_jinja_new(tok, jinja, err));
    *which = (hn_sft_template){NULL, *jinja};
    return HN_OK;
}

static void model_options_from(const hn_train_args *args, hn_model_options *o)
{
    hn_model_options_init(o);
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

/* SplitMix64 for the per-epoch shuffle (torch's RandomSampler draws differently: the same
 * kind of order, not the same order). */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void shuffle(size_t *order, size_t n, uint64_t *state)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next_random(state) % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

/* One micro-batch: examples order[first .. first + count) padded to the longest. */
static void make_batch(const hn_sft_data *data, const size_t *order, size_t first, size_t count,
                       int32_t pad_id, hn_batch *batch, int32_t **ids, int32_t **labels)
{
    size_t T = 1;
    for (size_t i = 0; i < count; i++)
        T = MAX(T, data->examples[order[first + i]].n);
    *ids = g_new(int32_t, count * T);
    *labels = g_new(int32_t, count * T);
    for (size_t i = 0; i < count; i++) {
        const hn_sft_example *e = &data->examples[order[first + i]];
        for (size_t t = 0; t < T; t++) {
            (*ids)[i * T + t] = t < e->n ? e->input_ids[t] : pad_id;
            (*labels)[i * T + t] = t < e->n ? e->labels[t] : HN_IGNORE_INDEX;
        }
    }
    *batch = (hn_batch){*ids, *labels, NULL, NULL, (int)count, (int)T};
}

/* Targets (shifted labels that train) of micro-batches order[first .. first + count). */
static int64_t count_targets(const hn_sft_data *data, const size_t *order, size_t first,
                             size_t count)
{
    int64_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const hn_sft_example *e = &data->examples[order[first + i]];
        for (size_t t = 1; t < e->n; t++)
            n += e->labels[t] != HN_IGNORE_INDEX;
    }
    return n;
}

static hn_status run_steps(hn_trainer *tr, hn_error *err)
{
    const hn_train_args *args = tr->args;
    size_t n = tr->data.n_examples, bs = (size_t)args->per_device_train_batch_size,
           accum = (size_t)args->gradient_accumulation_steps;
    size_t *order = g_new(size_t, n);
    uint64_t state = (uint64_t)args->seed;
    int64_t step = 0, tokens = 0;
    double loss_since_log = 0, last_norm = 0, last_lr = 0, t0 = hn_trainer_now();
    int64_t steps_since_log = 0;
    hn_status s = HN_OK;
    for (int64_t epoch = 0; step < tr->total_steps && s == HN_OK; epoch++) {
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        shuffle(order, n, &state);
        size_t batches = (n + bs - 1) / bs;
        for (size_t b = 0; b < batches && step < tr->total_steps && s == HN_OK; b += accum) {
            size_t first = b * bs, last = MIN(n, (b + accum) * bs);
            int64_t targets = count_targets(&tr->data, order, first, last - first);
            double step_loss = 0;
            for (size_t mb = first; mb < last && s == HN_OK; mb += bs) {
                hn_batch batch;
                int32_t *ids = NULL, *labels = NULL;
                make_batch(&tr->data, order, mb, MIN(bs, last - mb), tr->pad_id, &batch, &ids,
                           &labels);
                double sum = 0;
                s = hn_model_forward(tr->model, &batch, &sum, NULL, err);
                if (s == HN_OK && targets > 0)
                    s = hn_model_backward(tr->model, 1.0f / (float)targets, err);
                step_loss += targets > 0 ? sum / (double)targets : 0;
                tokens += (int64_t)batch.B * batch.T;
                g_free(ids);
                g_free(labels);
            }
            hn_step_report report = {0};
            if (s == HN_OK)
                s = hn_optimizer_step(tr->opt, &report, err);
            if (s == HN_OK && !isfinite(step_loss))
                s = hn_fail(err, HN_ERR_ARGUMENT, "step %" G_GINT64_FORMAT ": the loss is not "
                            "finite; stopping (lower the learning rate)", step + 1);
            if (s != HN_OK)
                break;
            step++;
            loss_since_log += step_loss;
            steps_since_log++;
            last_norm = report.grad_norm;
            last_lr = report.learning_rate;
            bool log_now = step % args->logging_steps == 0 || step == tr->total_steps;
            if (log_now) {
                double elapsed = hn_trainer_now() - t0;
                hn_train_log log = {
                    .step = step, .total_steps = tr->total_steps,
                    .loss = loss_since_log / (double)steps_since_log,
                    .learning_rate = last_lr, .grad_norm = last_norm,
                    .epoch = (double)epoch + (double)MIN(b + accum, batches) / (double)batches,
                    .elapsed_s = elapsed,
                    .remaining_s = elapsed / (double)step * (double)(tr->total_steps - step),
                    .tokens_per_s = (double)tokens / fmax(elapsed, 1e-9),
                    .total_tokens = tokens,
                };
                s = hn_trainer_log(tr, &log, err);
                loss_since_log = 0;
                steps_since_log = 0;
            }
            if (s == HN_OK && tr->callbacks != NULL && tr->callbacks->should_stop != NULL &&
                tr->callbacks->should_stop(tr->callbacks->user))
                s = hn_fail(err, HN_ERR_ARGUMENT, "stopped at step %" G_GINT64_FORMAT " of %"
                            G_GINT64_FORMAT " (checkpoints are not built yet: nothing was saved)",
                            step, tr->total_steps);
        }
    }
    g_free(order);
    return s;
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
    model_options_from(args, &mo);
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

static hn_status setup(hn_trainer *tr, hn_error *err)
{
    const hn_train_args *args = tr->args;
    if (strcmp(args->stage, "sft") != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "stage %s is not built yet (sft is)", args->stage);
    if (args->packing_set && args->packing)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "packing is not built yet");
    if (strcmp(args->eval_strategy, "no") != 0 || args->val_size > 0 || args->eval_dataset != NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "evaluation during training (val_size, "
                       "eval_dataset, eval_strategy) is not built yet");
    if (args->resume_from_checkpoint != NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "resume_from_checkpoint is not built yet");
    HN_TRY(hn_model_dir_open(args->model_name_or_path, &tr->dir, err));
    HN_TRY(hn_tokenizer_load_model(args->model_name_or_path, &tr->tok, err));
    const hn_tokenizer_config *tc = hn_tokenizer_get_config(tr->tok);
    tr->pad_id = tc->pad_id >= 0 ? tc->pad_id : tc->eos_id >= 0 ? tc->eos_id : 0;
    HN_TRY(open_template(args, tr->tok, &tr->named, &tr->jinja, &tr->which, err));
    hn_dataset_options dopts;
    hn_dataset_options_init(&dopts);
    dopts.max_samples = args->max_samples > 0 ? args->max_samples : -1;
    dopts.seed = (uint32_t)args->seed;
    HN_TRY(hn_dataset_load(args->dataset_dir, args->dataset, &dopts, &tr->dataset, err));
    hn_chat_encode_options eo;
    hn_chat_encode_options_init(&eo);
    eo.cutoff_len = args->cutoff_len;
    eo.train_on_prompt = args->train_on_prompt;
    eo.mask_history = args->mask_history;
    eo.enable_thinking = args->enable_thinking;
    HN_TRY(hn_sft_data_build(&tr->dataset, &tr->which, tr->tok, &eo, &tr->data, err));
    if (tr->data.n_examples == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "dataset %s: no usable examples (%zu rows dropped%s%s)",
                       args->dataset, tr->data.n_dropped, tr->data.first_dropped ? ": " : "",
                       tr->data.first_dropped ? tr->data.first_dropped : "");
    HN_TRY(open_model(tr, err));
    /* Only now the output folder: bad data, a bad adapter or model leave it untouched. */
    HN_TRY(hn_trainer_prepare_output(tr, err));
    tr->total_steps = total_steps_of(args, tr->data.n_examples);
    HN_TRY(optimizer_from(args, tr->model, tr->total_steps, &tr->opt, err));
    return HN_OK;
}

hn_status hn_train_run(const hn_train_args *args, const hn_train_callbacks *callbacks,
                       hn_error *err)
{
    HN_TRY(hn_train_args_check(args, err));
    hn_trainer tr = {.args = args, .callbacks = callbacks}; /* a zero dataset clears fine */
    hn_status s = setup(&tr, err);
    if (s == HN_OK && callbacks != NULL && callbacks->on_start != NULL) {
        int64_t total = 0;
        for (size_t i = 0; i < hn_model_param_count(tr.model); i++) {
            hn_param_info info;
            hn_model_param_info(tr.model, i, &info);
            total += (int64_t)info.numel;
        }
        callbacks->on_start(callbacks->user, (int64_t)tr.data.n_examples, tr.total_steps,
                            hn_model_trained_count(tr.model), total);
    }
    if (s == HN_OK)
        s = run_steps(&tr, err);
    if (s == HN_OK)
        s = hn_trainer_save(&tr, err);
    hn_trainer_clear(&tr);
    return s;
}
