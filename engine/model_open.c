/* A model built for inference with optional LoRA adapters (model_open.h): one adapter's layout
 * from hn_model_options_for_adapter and its weights from hn_model_load_adapter; several
 * adapters stacked into one LoRA (model_adapter_stack.c); dropout off as in PEFT's eval mode. */
#include <string.h>

#include "model_open.h"

/* Builds the model with the adapters read from paths[0..n) (n >= 1). */
static hn_status open_with_adapters(const hn_model_dir *dir, hn_model_options *options,
                                    const char *const *paths, size_t n, hn_model **out,
                                    hn_error *err)
{
    hn_peft_adapter *adapters = g_new0(hn_peft_adapter, n);
    size_t read = 0;
    hn_status s = HN_OK;
    for (; read < n && s == HN_OK; read++) {
        s = hn_peft_read(paths[read], &adapters[read], err);
        if (s != HN_OK)
            hn_error_prefix(err, "adapter %s", paths[read]);
    }
    char *targets = NULL, *saved = NULL;
    if (s == HN_OK)
        s = n == 1 ? hn_model_options_for_adapter(options, &adapters[0], &targets, &saved, err)
                   : hn_model_options_for_adapters(options, adapters, paths, n, &targets, &saved,
                                                   err);
    options->lora_dropout = 0; /* inference: PEFT's eval mode drops nothing */
    if (s == HN_OK)
        s = hn_model_new(dir, options, out, err);
    if (s == HN_OK)
        s = n == 1 ? hn_model_load_adapter(*out, &adapters[0], err)
                   : hn_model_load_adapters(*out, adapters, paths, n, err);
    if (s != HN_OK && n == 1 && read == n)
        hn_error_prefix(err, "adapter %s", paths[0]);
    if (s != HN_OK) {
        hn_model_free(*out);
        *out = NULL;
    }
    g_free(targets);
    g_free(saved);
    for (size_t k = 0; k < read; k++)
        hn_peft_adapter_free(&adapters[k]);
    g_free(adapters);
    return s;
}

static hn_status open_model(const hn_model_dir *dir, const char *adapter_path,
                            const hn_backend *backend, bool value_head, hn_model **out,
                            hn_error *err)
{
    *out = NULL;
    hn_model_options options;
    hn_model_options_init(&options);
    options.backend = backend;
    options.keep_gguf_blocks = true; /* decoding reads the Q8_0 / Q4_1 blocks in place */
    options.value_head = value_head;
    if (adapter_path == NULL || adapter_path[0] == '\0')
        return hn_model_new(dir, &options, out, err);
    char **parts = g_strsplit(adapter_path, ",", -1);
    GPtrArray *paths = g_ptr_array_new(); /* the non-empty parts, not owned */
    for (size_t i = 0; parts[i] != NULL; i++)
        if (g_strstrip(parts[i])[0] != '\0')
            g_ptr_array_add(paths, parts[i]);
    hn_status s = paths->len == 0
                      ? hn_model_new(dir, &options, out, err)
                      : open_with_adapters(dir, &options, (const char *const *)paths->pdata,
                                           paths->len, out, err);
    g_ptr_array_free(paths, TRUE);
    g_strfreev(parts);
    return s;
}

hn_status hn_model_open_inference(const hn_model_dir *dir, const char *adapter_path,
                                  const hn_backend *backend, hn_model **out, hn_error *err)
{
    return open_model(dir, adapter_path, backend, false, out, err);
}

/* The folder whose value_head.safetensors a reward model uses: the last adapter's, else the
 * model folder (LLaMA-Factory's load_valuehead_params). g_free the result. */
static char *value_head_folder(const hn_model_dir *dir, const char *adapter_path)
{
    char *folder = NULL;
    if (adapter_path != NULL) {
        char **parts = g_strsplit(adapter_path, ",", -1);
        for (size_t i = 0; parts[i] != NULL; i++)
            if (g_strstrip(parts[i])[0] != '\0') {
                g_free(folder);
                folder = g_strdup(parts[i]);
            }
        g_strfreev(parts);
    }
    return folder != NULL ? folder : g_strdup(dir->path);
}

hn_status hn_model_open_reward(const hn_model_dir *dir, const char *adapter_path,
                               const hn_backend *backend, hn_model **out, hn_error *err)
{
    HN_TRY(open_model(dir, adapter_path, backend, true, out, err));
    char *folder = value_head_folder(dir, adapter_path);
    bool found = false;
    hn_status s = g_file_test(folder, G_FILE_TEST_IS_DIR)
                      ? hn_model_load_value_head(*out, folder, &found, err)
                      : HN_OK;
    if (s == HN_OK && !found)
        s = hn_fail(err, HN_ERR_ARGUMENT, "%s has no %s: a reward model is what a stage rm run "
                    "writes (its output folder as the adapter, or the model folder of a full "
                    "run)", folder, HN_VALUE_HEAD_FILE);
    if (s != HN_OK) {
        hn_model_free(*out);
        *out = NULL;
    }
    g_free(folder);
    return s;
}
