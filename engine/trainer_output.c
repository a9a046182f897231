/* The output folder of a training run, laid out as LLaMA-Factory's: training_args.yaml,
 * trainer_log.jsonl (one line per logging step and per evaluation, its keys), and at the end
 * (and in each checkpoint) the PEFT adapter (LoRA) or model.safetensors + config.json (full,
 * freeze), plus the tokenizer files of a model folder. Also which checkpoint a run resumes
 * from. Every file is written to a temporary name and renamed (atomic_file). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <glib/gstdio.h>
#include <string.h>
#include <time.h>

#include "atomic_file.h"
#include "checkpoint.h"
#include "gguf_model.h"
#include "loss_plot.h"
#include "safetensors.h"
#include "trainer_internal.h"

double hn_trainer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Whether the folder holds anything but the two files a run writes before its first step
 * (a run stopped that early left nothing worth keeping, and starts again). */
static bool folder_is_empty(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir == NULL)
        return true;
    const char *name;
    bool empty = true;
    while (empty && (name = g_dir_read_name(dir)) != NULL)
        empty = strcmp(name, "training_args.yaml") == 0 || strcmp(name, "trainer_log.jsonl") == 0;
    g_dir_close(dir);
    return empty;
}

/* Which checkpoint the run continues from: resume_from_checkpoint, else the last one in a
 * non-empty output folder (as LLaMA-Factory finds it with get_last_checkpoint), unless
 * overwrite_output_dir. A non-empty folder without checkpoints is refused. */
hn_status hn_trainer_choose_resume(hn_trainer *tr, hn_error *err)
{
    const hn_train_args *args = tr->args;
    if (args->resume_from_checkpoint != NULL) {
        char *state = g_build_filename(args->resume_from_checkpoint, HN_CHECKPOINT_STATE_FILE,
                                       NULL);
        bool ok = g_file_test(state, G_FILE_TEST_IS_REGULAR);
        g_free(state);
        if (!ok)
            return hn_fail(err, HN_ERR_ARGUMENT, "resume_from_checkpoint %s: not a checkpoint "
                           "Hone wrote (expected a folder with %s)",
                           args->resume_from_checkpoint, HN_CHECKPOINT_STATE_FILE);
        tr->resume_from = g_strdup(args->resume_from_checkpoint);
        return HN_OK;
    }
    if (args->overwrite_output_dir || folder_is_empty(args->output_dir))
        return HN_OK;
    HN_TRY(hn_checkpoint_find_last(args->output_dir, &tr->resume_from, err));
    if (tr->resume_from == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "output_dir %s is not empty and holds no "
                       "checkpoint to resume from; set overwrite_output_dir: true to train into "
                       "it, or choose another folder", args->output_dir);
    return HN_OK;
}

hn_status hn_trainer_prepare_output(hn_trainer *tr, hn_error *err)
{
    const char *out = tr->args->output_dir;
    /* the tokenizer files every save writes: a folder's copied, a GGUF's written from its
     * metadata as hone export writes them; one that cannot be (a tokenizer kind the writer lacks)
     * leaves the saved folders without them, said now rather than after training */
    hn_error tok_err = {0};
    tr->have_tokenizer_files =
        hn_export_tokenizer_prepare(tr->dir, &tr->tokenizer_files, &tok_err) == HN_OK;
    if (!tr->have_tokenizer_files && tr->callbacks != NULL && tr->callbacks->on_note != NULL) {
        char *line = g_strdup_printf("warning: the saved model and checkpoints will have no "
                                     "tokenizer files: %s", tok_err.message);
        tr->callbacks->on_note(tr->callbacks->user, line);
        g_free(line);
    }
    if (g_mkdir_with_parents(out, 0755) != 0)
        return hn_fail(err, HN_ERR_IO, "%s: cannot create the output folder: %s", out,
                       g_strerror(errno));
    char *yaml = hn_train_args_to_yaml(tr->args);
    char *path = g_build_filename(out, "training_args.yaml", NULL);
    hn_status s = hn_atomic_write_all(path, yaml, strlen(yaml), err);
    g_free(path);
    g_free(yaml);
    return s;
}

/* The log lines of steps up to `step` (a resumed run continues the log from there). */
static char *log_up_to(const char *path, int64_t step)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    GString *kept = g_string_new(NULL);
    char **lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line != NULL; line++) {
        cJSON *o = cJSON_Parse(*line);
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "current_steps");
        if (cJSON_IsNumber(at) && at->valuedouble <= (double)step)
            g_string_append_printf(kept, "%s\n", *line);
        cJSON_Delete(o);
    }
    g_strfreev(lines);
    g_free(text);
    return g_string_free(kept, FALSE);
}

hn_status hn_trainer_open_log(hn_trainer *tr, hn_error *err)
{
    char *path = g_build_filename(tr->args->output_dir, "trainer_log.jsonl", NULL);
    hn_status s = HN_OK;
    if (tr->resume_from != NULL) {
        char *kept = log_up_to(path, tr->pos.step);
        s = hn_atomic_write_all(path, kept, strlen(kept), err);
        g_free(kept);
    }
    if (s == HN_OK) {
        tr->log_file = fopen(path, tr->resume_from != NULL ? "a" : "w");
        if (tr->log_file == NULL)
            s = hn_fail(err, HN_ERR_IO, "%s: %s", path, g_strerror(errno));
    }
    g_free(path);
    return s;
}

/* TrainerState's schedule fields for this run. */
static hn_train_history_run history_run(const hn_trainer *tr)
{
    const hn_train_args *args = tr->args;
    size_t bs = (size_t)args->per_device_train_batch_size,
           accum = (size_t)args->gradient_accumulation_steps;
    size_t batches = (tr->train.n + bs - 1) / bs;
    int64_t per_epoch = (int64_t)MAX((batches + accum - 1) / accum, 1);
    int64_t epochs = args->max_steps > 0 ? (tr->total_steps + per_epoch - 1) / per_epoch
                                         : (int64_t)ceil(args->num_train_epochs);
    return (hn_train_history_run){
        .max_steps = tr->total_steps, .num_train_epochs = epochs,
        .logging_steps = args->logging_steps,
        .eval_steps = tr->eval.n > 0 ? tr->eval_steps : 500,
        .save_steps = args->save_steps, .train_batch_size = args->per_device_train_batch_size,
    };
}

hn_status hn_trainer_open_history(hn_trainer *tr, hn_error *err)
{
    hn_train_history_run run = history_run(tr);
    for (size_t i = 0; i < hn_model_param_count(tr->model); i++) {
        hn_param_info info;
        hn_model_param_info(tr->model, i, &info);
        if (strstr(info.name, "embed_tokens") == NULL)
            tr->non_embedding_params += (int64_t)info.numel;
    }
    tr->session_first_step = tr->pos.step;
    if (tr->resume_from == NULL) {
        tr->history = hn_train_history_new(&run);
        return HN_OK;
    }
    char *path = g_build_filename(tr->resume_from, "trainer_state.json", NULL);
    hn_status s = hn_train_history_load(path, &tr->history, err);
    g_free(path);
    HN_TRY(s);
    hn_train_history_set_run(tr->history, &run);
    return HN_OK;
}

hn_status hn_trainer_write_results(hn_trainer *tr, hn_error *err)
{
    const hn_train_args *args = tr->args;
    int64_t steps = tr->pos.step - tr->session_first_step;
    double samples = args->max_steps > 0
                         ? (double)(args->max_steps * args->per_device_train_batch_size *
                                    args->gradient_accumulation_steps)
                         : (double)tr->train.n * args->num_train_epochs;
    hn_train_end end = {
        .runtime_s = hn_trainer_now() - tr->session_start, .num_train_samples = samples,
        .steps_trained = steps,
        .train_loss = steps > 0 ? tr->session_loss_sum / (double)steps : 0,
    };
    hn_train_history_add_train_end(tr->history, &end);
    HN_TRY(hn_train_history_write_state(tr->history, args->output_dir, err));
    HN_TRY(hn_train_history_write_train_results(tr->history, args->output_dir, err));
    if (args->plot_loss)
        HN_TRY(hn_loss_plot_write_run(tr->history, args->output_dir, args->stage, err));
    return HN_OK;
}

/* 83.4 s -> "0:01:23", as Python's str(timedelta) prints whole seconds. */
static char *duration(double seconds)
{
    long s = (long)(seconds + 0.5);
    return g_strdup_printf("%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
}

hn_status hn_trainer_log(hn_trainer *tr, const hn_train_log *log, hn_error *err)
{
    cJSON *line = cJSON_CreateObject();
    char *elapsed = duration(log->elapsed_s), *remaining = duration(log->remaining_s);
    bool eval = !isnan(log->eval_loss);
    cJSON_AddNumberToObject(line, "current_steps", (double)log->step);
    cJSON_AddNumberToObject(line, "total_steps", (double)log->total_steps);
    if (eval) { /* LLaMA-Factory's LogCallback leaves out the keys an eval log lacks */
        cJSON_AddNumberToObject(line, "eval_loss", log->eval_loss);
    } else {
        cJSON_AddNumberToObject(line, "loss", log->loss);
        cJSON_AddNumberToObject(line, "lr", log->learning_rate);
        cJSON_AddNumberToObject(line, "grad_norm", log->grad_norm);
    }
    cJSON_AddNumberToObject(line, "epoch", log->epoch);
    cJSON_AddNumberToObject(line, "percentage",
                            100.0 * (double)log->step / (double)log->total_steps);
    cJSON_AddStringToObject(line, "elapsed_time", elapsed);
    cJSON_AddStringToObject(line, "remaining_time", remaining);
    /* LogCallback's accuracy: rewards/accuracies (dpo); Hone also gives rm's */
    double accuracy = !log->has_metrics ? NAN
                      : !isnan(log->metrics[HN_METRIC_REWARDS_ACCURACIES])
                          ? log->metrics[HN_METRIC_REWARDS_ACCURACIES]
                          : log->metrics[HN_METRIC_ACCURACY];
    if (!isnan(accuracy))
        cJSON_AddNumberToObject(line, eval ? "eval_accuracy" : "accuracy", accuracy);
    if (!eval) {
        cJSON_AddNumberToObject(line, "throughput", log->tokens_per_s);
        cJSON_AddNumberToObject(line, "total_tokens", (double)log->total_tokens);
    }
    char *text = cJSON_PrintUnformatted(line);
    bool ok = fprintf(tr->log_file, "%s\n", text) > 0 && fflush(tr->log_file) == 0;
    cJSON_free(text);
    cJSON_Delete(line);
    g_free(elapsed);
    g_free(remaining);
    if (!ok)
        return hn_fail(err, HN_ERR_IO, "%s/trainer_log.jsonl: %s", tr->args->output_dir,
                       g_strerror(errno));
    if (!eval)
        hn_train_history_add_log(tr->history, log);
    if (tr->callbacks != NULL && tr->callbacks->on_log != NULL)
        tr->callbacks->on_log(tr->callbacks->user, log);
    return HN_OK;
}

/* config.json of the trained model: the folder's own, or the one a GGUF file implies. */
static hn_status write_config(hn_trainer *tr, const char *folder, hn_error *err)
{
    char *to = g_build_filename(folder, "config.json", NULL);
    hn_status s;
    if (tr->dir->gguf == NULL) {
        char *from = g_build_filename(tr->dir->path, "config.json", NULL);
        s = hn_atomic_copy_file(from, to, err);
        g_free(from);
    } else {
        cJSON *config = NULL;
        s = hn_gguf_hf_config_json(tr->dir->gguf, &config, err);
        if (s == HN_OK) {
            char *text = cJSON_Print(config);
            s = hn_atomic_write_all(to, text, strlen(text), err);
            cJSON_free(text);
        }
        cJSON_Delete(config);
    }
    g_free(to);
    return s;
}

/* Every parameter as fp32 (a tied lm_head is the embedding, written once as transformers
 * does). */
static hn_status write_model(hn_trainer *tr, const char *folder, hn_error *err)
{
    size_t n = hn_model_param_count(tr->model);
    hn_st_tensor *tensors = g_new0(hn_st_tensor, n);
    hn_status s = HN_OK;
    size_t written = 0;
    for (size_t i = 0; i < n && s == HN_OK; i++) {
        hn_param_info info;
        hn_model_param_info(tr->model, i, &info);
        if (hn_param_is_value_head(info.name))
            continue; /* value_head.safetensors */
        float *data = g_try_new(float, info.numel);
        if (data == NULL) {
            s = hn_fail(err, HN_ERR_NOMEM, "out of memory writing %s", info.name);
            break;
        }
        s = hn_model_param_read(tr->model, i, data, err);
        tensors[written++] = (hn_st_tensor){.name = info.name, .dtype = HN_DTYPE_F32,
                                            .ndim = info.ndim,
                                            .shape = {info.shape[0], info.shape[1]},
                                            .data = data};
    }
    char *path = g_build_filename(folder, "model.safetensors", NULL);
    if (s == HN_OK)
        s = hn_st_write(path, tensors, written, NULL, 0, err);
    for (size_t i = 0; i < written; i++)
        g_free((void *)tensors[i].data);
    g_free(tensors);
    g_free(path);
    if (s == HN_OK)
        s = write_config(tr, folder, err);
    return s;
}

hn_status hn_trainer_save(hn_trainer *tr, const char *folder, hn_error *err)
{
    hn_status s;
    if (strcmp(tr->args->finetuning_type, "lora") == 0) {
        hn_peft_adapter adapter;
        s = hn_model_to_adapter(tr->model, tr->args->model_name_or_path, &adapter, err);
        if (s == HN_OK) {
            s = hn_peft_write(folder, &adapter, HN_DTYPE_F32, err);
            hn_peft_adapter_free(&adapter);
        }
    } else {
        s = write_model(tr, folder, err);
    }
    if (s == HN_OK && strcmp(tr->args->stage, "rm") == 0)
        s = hn_model_save_value_head(tr->model, folder, err);
    if (s == HN_OK && tr->have_tokenizer_files)
        s = hn_export_tokenizer_write(&tr->tokenizer_files, tr->dir, folder, err);
    return s;
}

void hn_trainer_clear(hn_trainer *tr)
{
    if (tr->log_file != NULL)
        fclose(tr->log_file);
    hn_optimizer_free(tr->opt);
    hn_model_free(tr->model);
    hn_model_free(tr->ref_model);
    hn_export_tokenizer_clear(&tr->tokenizer_files);
    hn_model_dir_close(tr->ref_dir);
    hn_sft_data_clear(&tr->data);
    hn_sft_data_clear(&tr->eval_data);
    g_free(tr->train.index);
    g_free(tr->eval.index);
    g_free(tr->resume_from);
    hn_batch_buffers_clear(&tr->batch_buffers);
    hn_train_history_free(tr->history);
    hn_chat_jinja_free(tr->jinja);
    hn_tokenizer_free(tr->tok);
    hn_model_dir_close(tr->dir);
    *tr = (hn_trainer){0};
}
