/* Opening model folders: a sharded tiny Llama, and folders that are not models. */
#include <glib/gstdio.h>
#include <string.h>

#include "model_dir.h"
#include "test_util.h"

static void test_tiny_llama(void)
{
    char *dir = test_make_tmpdir();
    gint64 written = test_make_tiny_llama(dir, 2048);
    hn_model_dir *model = NULL;
    hn_error err = {0};
    if (hn_model_dir_open(dir, &model, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpint(hn_model_dir_param_count(model), ==, written);
    g_assert_cmpint(hn_model_config_param_count(&model->config), ==, written);
    g_assert_cmpint(hn_tensor_store_shard_count(model->weights), >, 1);
    g_assert_nonnull(hn_tensor_store_index_path(model->weights));
    g_assert_true(model->has_generation_config);
    g_assert_cmpfloat(model->generation.temperature, ==, 0.7);
    g_assert_cmpuint(model->tokenizer_files->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(model->tokenizer_files, 0), ==, "tokenizer_config.json");
    const hn_st_tensor *q = hn_tensor_store_find(model->weights, "model.layers.1.self_attn.q_proj.weight");
    g_assert_nonnull(q);
    g_assert_cmpint(q->dtype, ==, HN_DTYPE_BF16);
    hn_model_dir_close(model);
    test_remove_tree(dir);
    g_free(dir);
}

static void expect_failure(const char *path, hn_status status, const char *expect)
{
    hn_model_dir *model = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_model_dir_open(path, &model, &err), ==, status);
    g_assert_null(model);
    test_assert_contains(err.message, expect);
}

static void test_not_models(void)
{
    char *dir = test_make_tmpdir();
    char *missing = g_build_filename(dir, "absent", NULL);
    expect_failure(missing, HN_ERR_IO, "no such file or folder");

    char *gguf = g_build_filename(dir, "model.gguf", NULL);
    test_write_text(gguf, "GGUF");
    expect_failure(gguf, HN_ERR_UNSUPPORTED, "GGUF model files are not supported yet");

    expect_failure(dir, HN_ERR_IO, "no config.json");

    char *config = g_build_filename(dir, "config.json", NULL);
    test_write_text(config, "{\"architectures\": [\"BertModel\"]}");
    expect_failure(dir, HN_ERR_UNSUPPORTED, "architecture \"BertModel\" is not supported");

    /* A good config without weights. */
    test_make_tiny_llama(dir, 1 << 20);
    char *weights = g_build_filename(dir, "model.safetensors", NULL);
    g_unlink(weights);
    expect_failure(dir, HN_ERR_IO, "no model.safetensors or model.safetensors.index.json");

    /* A bad generation_config.json names itself. */
    test_make_tiny_llama(dir, 1 << 20);
    char *generation = g_build_filename(dir, "generation_config.json", NULL);
    test_write_text(generation, "{\"temperature\": \"hot\"}");
    expect_failure(dir, HN_ERR_FORMAT, "generation_config.json: field \"temperature\": expected a number");

    g_free(generation);
    g_free(weights);
    g_free(config);
    g_free(gguf);
    g_free(missing);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/model-dir/tiny-llama", test_tiny_llama);
    g_test_add_func("/engine/model-dir/not-models", test_not_models);
    return g_test_run();
}
