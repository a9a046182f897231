/* The output folder of a training run, laid out as LLaMA-Factory's: training_args.yaml,
 * trainer_log.jsonl (one line per logging step, its keys), and at the end the PEFT adapter
 * (LoRA) or model.safetensors + config.json (full, freeze), plus the tokenizer files of a
 * model folder. Every file is written to a temporary name and renamed (atomic_file). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <time.h>

#include "atomic_file.h"
#include "gguf_model.h"
#include "safetensors.h"
#include "trainer_internal.h"

double hn_trainer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool folder_is_empty(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir == NULL)
        return true;
    bool empty = g_dir_read_name(dir) == NULL;
    g_dir_close(dir);
    return empty;
}

hn_status hn_trainer_prepare_output(hn_trainer *tr, hn_error *err)
{
    const char *out = tr->args->output_dir;
    if (!folder_is_empty(out) && !tr->args->overwrite_output_dir)
        return hn_fail(err, HN_ERR_ARGUMENT, "output_dir %s is not empty; set "
                       "overwrite_output_dir: true to train into it (resuming from its "
                       "checkpoints is not built yet)", out);
    if (g_mkdir_with_parents(out, 0755) != 0)
        return hn_fail(err, HN_ERR_IO, "%s: cannot create the output folder: %s", out,
                       g_strerror(errno));
    char *yaml = hn_train_args_to_yaml(tr->args);
    char *path = g_build_filename(out, "training_args.yaml", NULL);
    hn_status s = hn_atomic_write_all(path, yaml, strlen(yaml), err);
    g_free(path);
    g_free(yaml);
    HN_TRY(s);
    path = g_build_filename(out, "trainer_log.jsonl", NULL);
    tr->log_file = fopen(path, "w");
    s = tr->log_file != NULL ? HN_OK
                             : hn_fail(err, HN_ERR_IO, "%s: %s", path, g_strerror(errno));
    g_free(path);
    return s;
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
    cJSON_AddNumberToObject(line, "current_steps", (double)log->step);
    cJSON_AddNumberToObject(line, "total_steps", (double)log->total_steps);
    cJSON_AddNumberToObject(line, "loss", log->loss);
    cJSON_AddNumberToObject(line, "lr", log->learning_rate);
    cJSON_AddNumberToObject(line, "grad_norm", log->grad_norm);
    cJSON_AddNumberToObject(line, "epoch", log->epoch);
    cJSON_AddNumberToObject(line, "percentage",
                            100.0 * (double)log->step / (double)log->total_steps);
    cJSON_AddStringToObject(line, "elapsed_time", elapsed);
    cJSON_AddStringToObject(line, "remaining_time", remaining);
    cJSON_AddNumberToObject(line, "throughput", log->tokens_per_s);
    cJSON_AddNumberToObject(line, "total_tokens", (double)log->total_tokens);
    char *text = cJSON_PrintUnformatted(line);
    bool ok = fprintf(tr->log_file, "%s\n", text) > 0 && fflush(tr->log_file) == 0;
    cJSON_free(text);
    cJSON_Delete(line);
    g_free(elapsed);
    g_free(remaining);
    if (!ok)
        return hn_fail(err, HN_ERR_IO, "%s/trainer_log.jsonl: %s", tr->args->output_dir,
                       g_strerror(errno));
    if (tr->callbacks != NULL && tr->callbacks->on_log != NULL)
        tr->callbacks->on_log(tr->callbacks->user, log);
    return HN_OK;
}

static hn_status copy_file(const char *from, const char *to, hn_error *err)
{
    char *data = NULL;
    gsize length = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(from, &data, &length, &gerr)) {
        hn_status s = hn_fail(err, HN_ERR_IO, "%s", gerr->message);
        g_error_free(gerr);
        return s;
    }
    hn_status s = hn_atomic_write_all(to, data, length, err);
    g_free(data);
    return s;
}

/* config.json of the trained model: the folder's own, or the one a GGUF file implies. */
static hn_status write_config(hn_trainer *tr, hn_error *err)
{
    char *to = g_build_filename(tr->args->output_dir, "config.json", NULL);
    hn_status s;
    if (tr->dir->gguf == NULL) {
        char *from = g_build_filename(tr->dir->path, "config.json", NULL);
        s = copy_file(from, to, err);
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
static hn_status write_model(hn_trainer *tr, hn_error *err)
{
    size_t n = hn_model_param_count(tr->model);
    hn_st_tensor *tensors = g_new0(hn_st_tensor, n);
    hn_status s = HN_OK;
    for (size_t i = 0; i < n && s == HN_OK; i++) {
        hn_param_info info;
        hn_model_param_info(tr->model, i, &info);
        float *data = g_try_new(float, info.numel);
        if (data == NULL) {
            s = hn_fail(err, HN_ERR_NOMEM, "out of memory writing %s", info.name);
            break;
        }
        s = hn_model_param_read(tr->model, i, data, err);
        tensors[i] = (hn_st_tensor){.name = info.name, .dtype = HN_DTYPE_F32,
                                    .ndim = info.ndim, .shape = {info.shape[0], info.shape[1]},
                                    .data = data};
    }
    char *path = g_build_filename(tr->args->output_dir, "model.safetensors", NULL);
    if (s == HN_OK)
        s = hn_st_write(path, tensors, n, NULL, 0, err);
    for (size_t i = 0; i < n; i++)
        g_free((void *)tensors[i].data);
    g_free(tensors);
    g_free(path);
    if (s == HN_OK)
        s = write_config(tr, err);
    return s;
}

static hn_status copy_tokenizer_files(hn_trainer *tr, hn_error *err)
{
    GPtrArray *files = tr->dir->tokenizer_files;
    for (guint i = 0; files != NULL && i < files->len; i++) {
        const char *name = g_ptr_array_index(files, i);
        char *from = g_build_filename(tr->dir->path, name, NULL);
        char *to = g_build_filename(tr->args->output_dir, name, NULL);
        hn_status s = copy_file(from, to, err);
        g_free(from);
        g_free(to);
        HN_TRY(s);
    }
    return HN_OK;
}

hn_status hn_trainer_save(hn_trainer *tr, hn_error *err)
{
    hn_status s;
    if (strcmp(tr->args->finetuning_type, "lora") == 0) {
        hn_peft_adapter adapter;
        s = hn_model_to_adapter(tr->model, tr->args->model_name_or_path, &adapter, err);
        if (s == HN_OK) {
            s = hn_peft_write(tr->args->output_dir, &adapter, HN_DTYPE_F32, err);
            hn_peft_adapter_free(&adapter);
        }
    } else {
        s = write_model(tr, err);
    }
    if (s == HN_OK)
        s = copy_tokenizer_files(tr, err);
    return s;
}

void hn_trainer_clear(hn_trainer *tr)
{
    if (tr->log_file != NULL)
        fclose(tr->log_file);
    hn_optimizer_free(tr->opt);
    hn_model_free(tr->model);
    hn_sft_data_clear(&tr->data);
    hn_dataset_clear(&tr->dataset);
    hn_chat_jinja_free(tr->jinja);
    hn_tokenizer_free(tr->tok);
    hn_model_dir_close(tr->dir);
    *tr = (hn_trainer){0};
}
