/* Opening a model: a Hugging Face folder (config, generation config, safetensors weights,
 * tokenizer files) or a GGUF file (config from metadata, weights from the file), and its
 * weights by transformers name. */
#include "model_dir.h"

#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "gguf_model.h"

static const char *const tokenizer_file_names[] = {
    "tokenizer.json",         "tokenizer_config.json", "tokenizer.model",
    "special_tokens_map.json", "vocab.json",           "merges.txt",
    "added_tokens.json",       "chat_template.jinja",  "chat_template.json",
};

void hn_model_dir_close(hn_model_dir *model)
{
    if (model == NULL)
        return;
    if (model->gguf != NULL)
        for (size_t i = 0; i < model->n_weights; i++)
            g_free((char *)model->weight_list[i].name);
    g_free(model->weight_list);
    if (model->weight_by_name != NULL)
        g_hash_table_destroy(model->weight_by_name);
    hn_tensor_store_close(model->weights);
    hn_gguf_close(model->gguf);
    if (model->tokenizer_files != NULL)
        g_ptr_array_free(model->tokenizer_files, TRUE);
    g_free(model->path);
    g_free(model);
}

/* A .gguf name, or a regular file that starts with the GGUF magic. */
bool hn_model_dir_is_gguf(const char *path)
{
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return false;
    if (g_str_has_suffix(path, ".gguf"))
        return true;
    char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t n = f != NULL ? fread(magic, 1, sizeof magic, f) : 0;
    if (f != NULL)
        fclose(f);
    return n == 4 && memcmp(magic, "GGUF", 4) == 0;
}

static void add_weight(hn_model_dir *model, const hn_model_weight *weight)
{
    model->weight_list[model->n_weights] = *weight;
    hn_model_weight *stored = &model->weight_list[model->n_weights++];
    g_hash_table_insert(model->weight_by_name, (char *)stored->name, stored);
}

static void list_safetensors_weights(hn_model_dir *model)
{
    size_t n = hn_tensor_store_count(model->weights);
    model->weight_list = g_new0(hn_model_weight, n + 1);
    for (size_t i = 0; i < n; i++) {
        const hn_st_tensor *t = hn_tensor_store_get(model->weights, i, NULL);
        hn_model_weight w = {.name = t->name, .ndim = t->ndim, .numel = t->numel, .st = t};
        memcpy(w.shape, t->shape, sizeof w.shape);
        add_weight(model, &w);
    }
}

/* Config from the metadata, every tensor under its transformers name. */
static hn_status open_gguf(hn_model_dir *model, hn_error *err)
{
    HN_TRY(hn_gguf_open(model->path, &model->gguf, err));
    HN_TRY(hn_gguf_hf_config(model->gguf, &model->config, err));
    /* No generation_config.json: transformers' defaults with the model's special tokens, as
     * GenerationConfig.from_model_config gives. */
    const hn_model_config *c = &model->config;
    model->generation.bos_token_id = c->bos_token_id;
    model->generation.n_eos = c->n_eos;
    memcpy(model->generation.eos_token_ids, c->eos_token_ids, sizeof c->eos_token_ids);
    model->generation.pad_token_id = c->pad_token_id;
    size_t n = hn_gguf_tensor_count(model->gguf);
    model->weight_list = g_new0(hn_model_weight, n + 1);
    for (size_t i = 0; i < n; i++) {
        const hn_gguf_tensor *t = hn_gguf_tensor_get(model->gguf, i);
        hn_model_weight w = {.name = hn_gguf_hf_name(t->name), .numel = t->numel, .gguf = t};
        if (w.name == NULL) /* hn_gguf_hf_config checked every name */
            return hn_fail(err, HN_ERR_FORMAT, "%s: tensor \"%s\" has no transformers name",
                           model->path, t->name);
        hn_gguf_hf_shape(t, &w.ndim, w.shape);
        add_weight(model, &w);
    }
    return HN_OK;
}

hn_status hn_model_dir_open(const char *path, hn_model_dir **out, hn_error *err)
{
    if (hn_model_dir_is_gguf(path)) {
        hn_model_dir *model = g_new0(hn_model_dir, 1);
        model->path = g_strdup(path);
        model->tokenizer_files = g_ptr_array_new_with_free_func(g_free);
        model->weight_by_name = g_hash_table_new(g_str_hash, g_str_equal);
        hn_generation_config_defaults(&model->generation);
        hn_status status = open_gguf(model, err);
        if (status != HN_OK) {
            hn_model_dir_close(model);
            return status;
        }
        *out = model;
        return HN_OK;
    }
    if (!g_file_test(path, G_FILE_TEST_IS_DIR))
        return hn_fail(err, HN_ERR_IO, "%s: %s", path,
                       g_file_test(path, G_FILE_TEST_EXISTS)
                           ? "not a folder (expected a Hugging Face model folder)"
                           : "no such file or folder");
    hn_model_dir *model = g_new0(hn_model_dir, 1);
    model->path = g_strdup(path);
    model->tokenizer_files = g_ptr_array_new_with_free_func(g_free);
    model->weight_by_name = g_hash_table_new(g_str_hash, g_str_equal);

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
    if (status == HN_OK)
        list_safetensors_weights(model);
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
    for (size_t i = 0; i < model->n_weights; i++)
        total += model->weight_list[i].numel;
    return total;
}

size_t hn_model_dir_weight_count(const hn_model_dir *model) { return model->n_weights; }

const hn_model_weight *hn_model_dir_weight(const hn_model_dir *model, size_t index)
{
    return index < model->n_weights ? &model->weight_list[index] : NULL;
}

const hn_model_weight *hn_model_dir_find_weight(const hn_model_dir *model, const char *name)
{
    return g_hash_table_lookup(model->weight_by_name, name);
}

hn_status hn_model_dir_weight_f32(const hn_model_dir *model, const hn_model_weight *weight,
                                  float *dst, hn_error *err)
{
    if (weight->gguf != NULL)
        return hn_gguf_hf_tensor_f32(model->gguf, weight->gguf, &model->config, dst, err);
    hn_convert_to_f32(dst, weight->st->data, weight->st->dtype, (size_t)weight->numel);
    return HN_OK;
}

hn_status hn_model_dir_copy_tokenizer_files(const hn_model_dir *model, const char *folder,
                                            hn_error *err)
{
    GPtrArray *names = model->tokenizer_files;
    for (guint i = 0; names != NULL && i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        char *from = g_build_filename(model->path, name, NULL);
        char *to = g_build_filename(folder, name, NULL);
        hn_status s = hn_atomic_copy_file(from, to, err);
        g_free(from);
        g_free(to);
        HN_TRY(s);
    }
    return HN_OK;
}
