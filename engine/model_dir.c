/* Opening a model folder: config, generation config, weights, tokenizer files. */
#include "model_dir.h"

#include <string.h>

static const char *const tokenizer_file_names[] = {
    "tokenizer.json",         "tokenizer_config.json", "tokenizer.model",
    "special_tokens_map.json", "vocab.json",           "merges.txt",
    "added_tokens.json",       "chat_template.jinja",  "chat_template.json",
};

void hn_model_dir_close(hn_model_dir *model)
{
    if (model == NULL)
        return;
    hn_tensor_store_close(model->weights);
    if (model->tokenizer_files != NULL)
        g_ptr_array_free(model->tokenizer_files, TRUE);
    g_free(model->path);
    g_free(model);
}

hn_status hn_model_dir_open(const char *path, hn_model_dir **out, hn_error *err)
{
    if (g_str_has_suffix(path, ".gguf") && g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: GGUF model files are not supported yet; give a Hugging Face model "
                       "folder (config.json + *.safetensors)",
                       path);
    if (!g_file_test(path, G_FILE_TEST_IS_DIR))
        return hn_fail(err, HN_ERR_IO, "%s: %s", path,
                       g_file_test(path, G_FILE_TEST_EXISTS)
                           ? "not a folder (expected a Hugging Face model folder)"
                           : "no such file or folder");
    hn_model_dir *model = g_new0(hn_model_dir, 1);
    model->path = g_strdup(path);
    model->tokenizer_files = g_ptr_array_new_with_free_func(g_free);

    char *config_path = g_build_filename(path, "config.json", NULL);
    char *generation_path = g_build_filename(path, "generation_config.json", NULL);
    hn_status status;
    if (!g_file_test(config_path, G_FILE_TEST_EXISTS))
        status = hn_fail(err, HN_ERR_IO,
                         "%s: no config.json (expected a Hugging Face model folder)", path);
    else
        status = hn_model_config_load(config_path, &model->config, err);
    hn_generation_config_defaults(&model->generation);
    if (status == HN_OK && g_file_test(generation_path, G_FILE_TEST_EXISTS)) {
        model->has_generation_config = true;
        status = hn_generation_config_load(generation_path, &model->generation, err);
    }
    if (status == HN_OK)
        status = hn_tensor_store_open(path, &model->weights, err);
    for (size_t i = 0; i < G_N_ELEMENTS(tokenizer_file_names); i++) {
        char *file = g_build_filename(path, tokenizer_file_names[i], NULL);
        if (g_file_test(file, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(model->tokenizer_files, g_strdup(tokenizer_file_names[i]));
        g_free(file);
    }
    g_free(config_path);
    g_free(generation_path);
    if (status != HN_OK) {
        hn_model_dir_close(model);
        return status;
    }
    *out = model;
    return HN_OK;
}

int64_t hn_model_dir_param_count(const hn_model_dir *model)
{
    int64_t total = 0;
    for (size_t i = 0; i < hn_tensor_store_count(model->weights); i++)
        total += hn_tensor_store_get(model->weights, i, NULL)->numel;
    return total;
}
