/* Checkpoints of a training run and resuming from them. checkpoint-N holds what the output
 * folder will hold (the PEFT adapter, or model.safetensors + config.json, and the tokenizer
 * files), plus optimizer.safetensors (AdamW's moments and step; the schedule is a function of
 * the step), trainer_state.json (transformers' TrainerState: the log history so far) and
 * hone_state.json (train_position.h: the data position, shuffle and dropout
 * states, the log's running sums). Resuming reads the trained parameters back from the same
 * files a user would load, so a checkpoint is also a usable adapter or model. */
#include <string.h>

#include "checkpoint.h"
#include "peft_adapter.h"
#include "safetensors.h"
#include "trainer_internal.h"

hn_status hn_trainer_save_checkpoint(hn_trainer *tr, hn_error *err)
{
    const char *out = tr->args->output_dir;
    int64_t step = tr->pos.step;
    if (tr->saved_step == step)
        return HN_OK;
    char *staging = NULL;
    HN_TRY(hn_checkpoint_begin(out, step, &staging, err));
    hn_status s = hn_trainer_save(tr, staging, err);
    char *path = g_build_filename(staging, "optimizer.safetensors", NULL);
    if (s == HN_OK)
        s = hn_optimizer_save(tr->opt, path, err);
    g_free(path);
    if (s == HN_OK) { /* transformers' TrainerState, as it is at a save */
        hn_train_log at;
        hn_trainer_log_init(tr, &at);
        hn_train_history_set_step(tr->history, step, at.epoch);
        hn_train_history_set_control(tr->history, &(hn_train_control){
            .should_save = true, .should_training_stop = step == tr->total_steps});
        s = hn_train_history_write_state(tr->history, staging, err);
    }
    path = g_build_filename(staging, HN_CHECKPOINT_STATE_FILE, NULL);
    if (s == HN_OK)
        s = hn_train_position_write(&tr->pos, path, err);
    g_free(path);
    if (s == HN_OK)
        s = hn_checkpoint_commit(out, step, staging, err);
    if (s != HN_OK) {
        hn_checkpoint_abort(staging);
        hn_error_prefix(err, "writing checkpoint-%" G_GINT64_FORMAT " (earlier checkpoints are "
                        "untouched)", step);
    }
    g_free(staging);
    if (s == HN_OK) {
        tr->saved_step = step;
        s = hn_checkpoint_rotate(out, tr->args->save_total_limit, err);
    }
    return s;
}

/* The geometry a position is about must be this run's, or the position means nothing. */
static hn_status check_geometry(const hn_trainer *tr, const hn_train_position *saved,
                                const char *path, hn_error *err)
{
    const hn_train_position *now = &tr->pos;
    struct {
        const char *what;
        int64_t then, now;
    } keys[] = {
        {"training examples", saved->examples, now->examples},
        {"total steps", saved->total_steps, now->total_steps},
        {"per_device_train_batch_size", saved->batch_size, now->batch_size},
        {"gradient_accumulation_steps", saved->accumulation, now->accumulation},
        {"seed", saved->seed, now->seed},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        if (keys[i].then != keys[i].now)
            return hn_fail(err, HN_ERR_ARGUMENT, "%s: the checkpoint's run had %s %" G_GINT64_FORMAT
                           ", this one has %" G_GINT64_FORMAT "; resume with the same data and "
                           "batch settings, or set overwrite_output_dir: true to start again",
                           path, keys[i].what, keys[i].then, keys[i].now);
    if (saved->step > saved->total_steps)
        return hn_fail(err, HN_ERR_FORMAT, "%s: global_step %" G_GINT64_FORMAT " is past the run's "
                       "%" G_GINT64_FORMAT " steps", path, saved->step, saved->total_steps);
    return HN_OK;
}

/* Trained parameters of a full or freeze run from the checkpoint's model.safetensors. */
static hn_status load_model_params(hn_trainer *tr, hn_error *err)
{
    char *path = g_build_filename(tr->resume_from, "model.safetensors", NULL);
    hn_st_file *file = NULL;
    hn_status s = hn_st_open(path, &file, err);
    for (size_t i = 0; s == HN_OK && i < hn_model_param_count(tr->model); i++) {
        hn_param_info info;
        hn_model_param_info(tr->model, i, &info);
        if (!info.trained || hn_param_is_value_head(info.name))
            continue;
        const hn_st_tensor *t = hn_st_find(file, info.name);
        if (t == NULL || t->dtype != HN_DTYPE_F32 || t->numel != (int64_t)info.numel) {
            s = hn_fail(err, HN_ERR_FORMAT, "%s: expected %s as F32 with %zu values", path,
                        info.name, info.numel);
            break;
        }
        float *values = g_new(float, info.numel);
        memcpy(values, t->data, info.numel * sizeof(float)); /* the mapping may be unaligned */
        s = hn_model_param_write(tr->model, i, values, err);
        g_free(values);
    }
    hn_st_close(file);
    g_free(path);
    return s;
}

static hn_status load_weights(hn_trainer *tr, hn_error *err)
{
    if (strcmp(tr->args->finetuning_type, "lora") != 0)
        return load_model_params(tr, err);
    hn_peft_adapter adapter; /* hn_peft_read initialises it */
    hn_status s = hn_peft_read(tr->resume_from, &adapter, err);
    if (s == HN_OK)
        s = hn_model_load_adapter(tr->model, &adapter, err);
    hn_peft_adapter_free(&adapter);
    return s;
}

/* The adapter or trained weights, and stage rm's value head. */
static hn_status load_params(hn_trainer *tr, hn_error *err)
{
    HN_TRY(load_weights(tr, err));
    if (strcmp(tr->args->stage, "rm") != 0)
        return HN_OK;
    bool found = false;
    HN_TRY(hn_model_load_value_head(tr->model, tr->resume_from, &found, err));
    if (!found)
        return hn_fail(err, HN_ERR_FORMAT, "%s: %s is missing (a stage rm checkpoint holds the "
                       "value head)", tr->resume_from, HN_VALUE_HEAD_FILE);
    return HN_OK;
}

hn_status hn_trainer_resume(hn_trainer *tr, hn_error *err)
{
    char *path = g_build_filename(tr->resume_from, HN_CHECKPOINT_STATE_FILE, NULL);
    hn_train_position saved;
    hn_status s = hn_train_position_read(&saved, path, err);
    if (s == HN_OK)
        s = check_geometry(tr, &saved, path, err);
    g_free(path);
    HN_TRY(s);
    HN_TRY(load_params(tr, err));
    path = g_build_filename(tr->resume_from, "optimizer.safetensors", NULL);
    s = hn_optimizer_load(tr->opt, path, err);
    if (s == HN_OK && hn_optimizer_steps(tr->opt) != saved.step)
        s = hn_fail(err, HN_ERR_FORMAT, "%s: step %" G_GINT64_FORMAT ", but %s says %"
                    G_GINT64_FORMAT, path, hn_optimizer_steps(tr->opt), HN_CHECKPOINT_STATE_FILE,
                    saved.step);
    g_free(path);
    HN_TRY(s);
    tr->pos = saved;
    tr->saved_step = saved.step;
    return HN_OK;
}
