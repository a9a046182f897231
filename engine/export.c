/* hn_export_run: the whole of `hone export` (export.h). Order as LLaMA-Factory's export_model:
 * the adapters read and checked, the merged weights in the chosen dtype (save_pretrained:
 * shards of at most export_size GB, model.safetensors.index.json), config.json with that
 * dtype, generation_config.json, the tokenizer files, the Modelfile; then Hone's GGUF file
 * when asked. Memory: every tensor of the folder in the export dtype at once (the sharded
 * writer takes them together), plus one fp32 tensor being merged. Everything is written into a
 * staging folder (export_staging.c) and moved into export_dir at the end; a cancel flag is read
 * before each tensor and each file. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "atomic_file.h"
#include "export.h"
#include "export_gguf.h"
#include "export_staging.h"
#include "export_tokenizer.h"
#include "gguf_model.h"
#include "model_layout.h"
#include "py_json.h"

/* infer_dtype auto: upstream keeps the model's torch_dtype, and a float32 model becomes
 * infer_optim_dtype(bfloat16), which is float32 on a machine without a GPU (hparams/
 * extras/misc.py: bf16/fp16 "available" only on CUDA/NPU). Hone exports on the CPU, so auto
 * keeps float32, bfloat16 and float16 models as they are; a GGUF source (loaded by
 * transformers in float32) stays float32. */
static hn_dtype export_dtype(const hn_export_args *args, const hn_model_dir *dir)
{
    if (args->dtype != HN_DTYPE_INVALID)
        return args->dtype;
    hn_dtype stored = dir->config.torch_dtype;
    if (dir->gguf == NULL && (stored == HN_DTYPE_BF16 || stored == HN_DTYPE_F16))
        return stored;
    return HN_DTYPE_F32;
}

/* transformers' names of the dtypes in config.json. */
static const char *torch_dtype_name(hn_dtype dtype)
{
    return dtype == HN_DTYPE_BF16 ? "bfloat16" : dtype == HN_DTYPE_F16 ? "float16" : "float32";
}

hn_status hn_export_check_cancel(const atomic_bool *cancel, hn_error *err)
{
    if (cancel != NULL && atomic_load(cancel))
        return hn_fail(err, HN_ERR_STOPPED, "export cancelled");
    return HN_OK;
}

/* Refuses a non-empty export_dir unless overwrite_output_dir; creates it (*made: the highest
 * folder this made, hn_export_first_missing; NULL when it existed). */
static hn_status prepare_folder(const hn_export_args *args, char **made, hn_error *err)
{
    *made = NULL;
    const char *folder = args->export_dir;
    GDir *d = g_dir_open(folder, 0, NULL);
    if (d != NULL) {
        const char *first = g_dir_read_name(d);
        char *name = first != NULL ? g_strdup(first) : NULL;
        g_dir_close(d);
        if (name != NULL && !args->overwrite_output_dir) {
            hn_status s = hn_fail(err, HN_ERR_ARGUMENT,
                                  "export_dir %s is not empty (it holds %s, ...); name an empty "
                                  "or new folder, or set overwrite_output_dir: true to write "
                                  "over it",
                                  folder, name);
            g_free(name);
            return s;
        }
        g_free(name);
    } else if (g_file_test(folder, G_FILE_TEST_EXISTS)) {
        return hn_fail(err, HN_ERR_ARGUMENT, "export_dir %s exists and is not a folder", folder);
    } else {
        *made = hn_export_first_missing(folder);
    }
    if (g_mkdir_with_parents(folder, 0755) != 0)
        return hn_fail(err, HN_ERR_IO, "export_dir %s: cannot create it: %s", folder,
                       g_strerror(errno));
    return HN_OK;
}

/* fp32 values to the export dtype, into a new buffer. */
static void *convert(const float *src, size_t n, hn_dtype dtype)
{
    if (dtype == HN_DTYPE_F32)
        return g_memdup2(src, n * sizeof(float));
    uint16_t *out = g_new(uint16_t, n);
    for (size_t i = 0; i < n; i++)
        out[i] = dtype == HN_DTYPE_BF16 ? hn_f32_to_bf16(src[i]) : hn_f32_to_f16(src[i]);
    return out;
}

/* The merged weights, in the order transformers' state_dict lists them, written into folder as
 * model.safetensors or shards + index. */
static hn_status write_weights(const hn_export_args *args, const char *folder,
                               const hn_model_dir *dir, const hn_peft_adapter *adapters,
                               size_t n_adapters, hn_dtype dtype, hn_export_progress progress,
                               void *user, const atomic_bool *cancel, hn_error *err)
{
    size_t n = 0;
    hn_weight_spec *specs = hn_model_weight_specs(&dir->config, &n);
    hn_st_tensor *tensors = g_new0(hn_st_tensor, n);
    hn_status s = HN_OK;
    for (size_t i = 0; i < n && s == HN_OK; i++) {
        s = hn_export_check_cancel(cancel, err);
        if (s != HN_OK)
            break;
        const hn_model_weight *w = hn_model_dir_find_weight(dir, specs[i].name);
        if (w == NULL) {
            s = hn_fail(err, HN_ERR_FORMAT, "%s: no weight %s", dir->path, specs[i].name);
            break;
        }
        if (progress != NULL)
            progress(user, w->name, i, n);
        float *merged = g_try_new(float, (size_t)w->numel);
        if (merged == NULL) {
            s = hn_fail(err, HN_ERR_NOMEM, "out of memory merging %s", w->name);
            break;
        }
        s = hn_export_merged_weight(dir, adapters, n_adapters, w, merged, err);
        if (s == HN_OK) {
            tensors[i] = (hn_st_tensor){.name = w->name, .dtype = dtype, .ndim = w->ndim,
                                        .data = convert(merged, (size_t)w->numel, dtype)};
            memcpy(tensors[i].shape, w->shape, sizeof w->shape);
        }
        g_free(merged);
    }
    if (s == HN_OK)
        s = hn_export_check_cancel(cancel, err);
    if (s == HN_OK) {
        hn_st_meta meta = {"format", "pt"}; /* what save_pretrained writes */
        uint64_t max_bytes = (uint64_t)(args->export_size * 1e9); /* "5GB": 10^9 bytes */
        if (progress != NULL)
            progress(user, "model.safetensors", n, n);
        s = hn_st_write_sharded(folder, "model", tensors, n, &meta, 1,
                                max_bytes > 0 ? max_bytes : 1, NULL, err);
    }
    for (size_t i = 0; i < n; i++)
        g_free((void *)tensors[i].data);
    g_free(tensors);
    g_free(specs);
    return s;
}

static hn_status write_json(const char *folder, const char *name, const cJSON *json,
                            hn_error *err)
{
    char *text = hn_py_json_dumps_indent(json, 2); /* transformers: indent=2, then "\n" */
    char *with_newline = g_strconcat(text, "\n", NULL);
    char *path = g_build_filename(folder, name, NULL);
    hn_status s = hn_atomic_write_all(path, with_newline, strlen(with_newline), err);
    g_free(path);
    g_free(with_newline);
    g_free(text);
    return s;
}

/* config.json: the source's (or the one a GGUF implies) with the export dtype, under "dtype"
 * as transformers 5 writes it. */
static hn_status write_config(const char *folder, const hn_model_dir *dir, hn_dtype dtype,
                              hn_error *err)
{
    cJSON *config = NULL;
    if (dir->gguf != NULL) {
        HN_TRY(hn_gguf_hf_config_json(dir->gguf, &config, err));
    } else {
        char *path = g_build_filename(dir->path, "config.json", NULL), *text = NULL;
        if (g_file_get_contents(path, &text, NULL, NULL))
            config = cJSON_Parse(text);
        g_free(text);
        if (config == NULL || !cJSON_IsObject(config)) {
            hn_status s = hn_fail(err, HN_ERR_FORMAT, "%s: cannot read it as a JSON object", path);
            g_free(path);
            cJSON_Delete(config);
            return s;
        }
        g_free(path);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(config, "torch_dtype");
    cJSON_DeleteItemFromObjectCaseSensitive(config, "dtype");
    cJSON_AddStringToObject(config, "dtype", torch_dtype_name(dtype));
    hn_status s = write_json(folder, "config.json", config, err);
    cJSON_Delete(config);
    return s;
}

static void add_ids(cJSON *obj, const char *key, const int64_t *ids, int n)
{
    if (n == 1) {
        cJSON_AddNumberToObject(obj, key, (double)ids[0]);
    } else if (n > 1) {
        cJSON *list = cJSON_AddArrayToObject(obj, key);
        for (int i = 0; i < n; i++)
            cJSON_AddItemToArray(list, cJSON_CreateNumber((double)ids[i]));
    }
}

/* generation_config.json: the source's; for a GGUF, its special tokens (what
 * GenerationConfig.from_model_config takes from the config transformers' loader builds). */
static hn_status write_generation_config(const char *folder, const hn_model_dir *dir,
                                         hn_error *err)
{
    if (dir->gguf == NULL) {
        char *from = g_build_filename(dir->path, "generation_config.json", NULL);
        char *to = g_build_filename(folder, "generation_config.json", NULL);
        hn_status s = HN_OK;
        if (g_file_test(from, G_FILE_TEST_EXISTS))
            s = hn_atomic_copy_file(from, to, err);
        g_free(from);
        g_free(to);
        return s;
    }
    const hn_generation_config *g = &dir->generation;
    cJSON *json = cJSON_CreateObject();
    if (g->bos_token_id >= 0)
        cJSON_AddNumberToObject(json, "bos_token_id", (double)g->bos_token_id);
    add_ids(json, "eos_token_id", g->eos_token_ids, g->n_eos);
    if (g->pad_token_id >= 0)
        cJSON_AddNumberToObject(json, "pad_token_id", (double)g->pad_token_id);
    hn_status s = write_json(folder, "generation_config.json", json, err);
    cJSON_Delete(json);
    return s;
}

static hn_status write_modelfile(const hn_export_args *args, const char *folder, hn_error *err)
{
    char *text = NULL;
    HN_TRY(hn_export_modelfile(args->model_name_or_path, args->template_name,
                               args->default_system, &text, err));
    char *path = g_build_filename(folder, "Modelfile", NULL);
    hn_status s = hn_atomic_write_all(path, text, strlen(text), err);
    g_free(path);
    g_free(text);
    return s;
}

/* Writes every file of the export into folder (the staging folder), cancel read between them. */
static hn_status write_files(const hn_export_args *args, const char *folder,
                             const hn_model_dir *dir, const hn_peft_adapter *adapters,
                             size_t n_adapters, const hn_export_tokenizer *tokenizer,
                             hn_export_progress progress, void *user, const atomic_bool *cancel,
                             hn_error *err)
{
    hn_dtype dtype = export_dtype(args, dir);
    HN_TRY(write_weights(args, folder, dir, adapters, n_adapters, dtype, progress, user, cancel,
                         err));
    HN_TRY(hn_export_check_cancel(cancel, err));
    HN_TRY(write_config(folder, dir, dtype, err));
    HN_TRY(write_generation_config(folder, dir, err));
    HN_TRY(hn_export_tokenizer_write(tokenizer, dir, folder, err));
    HN_TRY(hn_export_check_cancel(cancel, err));
    if (args->template_name != NULL)
        HN_TRY(write_modelfile(args, folder, err));
    if (args->gguf != HN_EXPORT_GGUF_NONE) {
        /* named after export_dir, not the staging folder */
        char *base = g_path_get_basename(args->export_dir);
        char *name = g_strdup_printf("%s-%s.gguf", base, hn_export_gguf_name(args->gguf));
        char *path = g_build_filename(folder, name, NULL);
        hn_status s = hn_export_gguf(dir, adapters, n_adapters, args->gguf, path, progress, user,
                                     cancel, err);
        g_free(path);
        g_free(name);
        g_free(base);
        HN_TRY(s);
    }
    return hn_export_check_cancel(cancel, err);
}

static hn_status export_opened(const hn_export_args *args, const hn_model_dir *dir,
                               const hn_peft_adapter *adapters, size_t n_adapters,
                               hn_export_progress progress, void *user,
                               const atomic_bool *cancel, hn_error *err)
{
    /* the Modelfile's template and tokenizer are checked before anything is written */
    char *modelfile = NULL;
    if (args->template_name != NULL)
        HN_TRY(hn_export_modelfile(args->model_name_or_path, args->template_name,
                                   args->default_system, &modelfile, err));
    g_free(modelfile);
    if (args->gguf != HN_EXPORT_GGUF_NONE)
        HN_TRY(hn_export_gguf_check(dir, err));
    hn_export_tokenizer tokenizer;
    HN_TRY(hn_export_tokenizer_prepare(dir, &tokenizer, err));
    char *made = NULL, *staging = NULL;
    hn_status s = prepare_folder(args, &made, err);
    if (s == HN_OK)
        s = hn_export_staging_open(args->export_dir, &staging, err);
    if (s == HN_OK)
        s = write_files(args, staging, dir, adapters, n_adapters, &tokenizer, progress, user,
                        cancel, err);
    if (s == HN_OK)
        s = hn_export_staging_commit(staging, args->export_dir, err);
    hn_export_tokenizer_clear(&tokenizer);
    if (s != HN_OK) /* nothing of this run stays: export_dir as it was (gone if it made it) */
        hn_export_staging_discard(staging, args->export_dir, made);
    if (s == HN_ERR_STOPPED)
        hn_fail(err, HN_ERR_STOPPED, "export cancelled: nothing was written to %s",
                args->export_dir);
    g_free(staging);
    g_free(made);
    return s;
}

/* Reads each adapter of the comma-separated list (into *adapters, *n of them). */
static hn_status read_adapters(const hn_export_args *args, const hn_model_dir *dir,
                               hn_peft_adapter **adapters, size_t *n, hn_error *err)
{
    *adapters = NULL;
    *n = 0;
    if (args->adapter_name_or_path == NULL)
        return HN_OK;
    char **paths = g_strsplit(args->adapter_name_or_path, ",", -1);
    *adapters = g_new0(hn_peft_adapter, g_strv_length(paths));
    hn_status s = HN_OK;
    for (size_t i = 0; paths[i] != NULL && s == HN_OK; i++) {
        const char *path = g_strstrip(paths[i]);
        s = hn_peft_read(path, &(*adapters)[*n], err);
        if (s != HN_OK) {
            hn_error_prefix(err, "adapter_name_or_path %s", path);
            break;
        }
        (*n)++;
        s = hn_export_check_adapter(dir, &(*adapters)[*n - 1], err);
        if (s != HN_OK)
            hn_error_prefix(err, "adapter_name_or_path %s", path);
    }
    g_strfreev(paths);
    return s;
}

hn_status hn_export_run(const hn_export_args *args, hn_export_progress progress, void *user,
                        const atomic_bool *cancel, hn_error *err)
{
    HN_TRY(hn_export_args_check(args, err));
    hn_model_dir *dir = NULL;
    HN_TRY(hn_model_dir_open(args->model_name_or_path, &dir, err));
    hn_peft_adapter *adapters = NULL;
    size_t n = 0;
    hn_status s = read_adapters(args, dir, &adapters, &n, err);
    if (s == HN_OK)
        s = export_opened(args, dir, adapters, n, progress, user, cancel, err);
    for (size_t i = 0; i < n; i++)
        hn_peft_adapter_free(&adapters[i]);
    g_free(adapters);
    hn_model_dir_close(dir);
    return s;
}
