/* Opening models: a sharded tiny Llama folder, a Llama GGUF file, and paths that are not
 * models Hone reads. */
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
    /* The same weights through the name-based view every model kind offers. */
    g_assert_cmpuint(hn_model_dir_weight_count(model), ==, 21);
    const hn_model_weight *w = hn_model_dir_find_weight(model, q->name);
    g_assert_true(w->st == q);
    g_assert_null(w->gguf);
    g_assert_cmpint(w->ndim, ==, 2);
    g_assert_cmpint(w->shape[0], ==, 16);
    float converted[256], expected[256];
    g_assert_cmpint(hn_model_dir_weight_f32(model, w, converted, &err), ==, HN_OK);
    hn_convert_to_f32(expected, q->data, q->dtype, 256);
    g_assert_cmpmem(converted, sizeof converted, expected, sizeof expected);
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

    /* A .gguf file is read as GGUF: a cut-off one is refused by the GGUF reader. */
    char *gguf = g_build_filename(dir, "model.gguf", NULL);
    test_write_text(gguf, "GGUF");
    expect_failure(gguf, HN_ERR_FORMAT, "model.gguf: byte 4, header: expected the GGUF version "
                                        "(4 bytes), found the end of the file");
    /* So is any regular file that starts with the GGUF magic. */
    char *renamed = g_build_filename(dir, "model.bin", NULL);
    test_write_text(renamed, "GGUF\x02");
    expect_failure(renamed, HN_ERR_FORMAT, "model.bin: byte 4, header: expected the GGUF version");
    g_unlink(renamed);
    g_free(renamed);
    /* Any other regular file is not a model. */
    char *text = g_build_filename(dir, "notes.txt", NULL);
    test_write_text(text, "GGML notes");
    expect_failure(text, HN_ERR_IO, "not a folder (expected a Hugging Face model folder)");
    g_unlink(text);
    g_free(text);

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

/* SmolLM2's GGUF (a Llama): config from its metadata, weights under transformers' names
 * (values are checked against transformers in test_gguf's reference tests). */
static void test_gguf_llama(void)
{
    char *path = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    hn_model_dir *model = NULL;
    hn_error err = {0};
    if (hn_model_dir_open(path, &model, &err) != HN_OK)
        g_error("%s", err.message);
    const hn_model_config *c = &model->config;
    g_assert_cmpstr(c->architecture, ==, "LlamaForCausalLM");
    g_assert_cmpint(c->num_hidden_layers, ==, 30);
    g_assert_cmpint(c->vocab_size, ==, 49152);
    g_assert_true(c->tie_word_embeddings);
    g_assert_null(model->weights);
    g_assert_nonnull(model->gguf);
    g_assert_false(model->has_generation_config);
    g_assert_cmpint(model->generation.bos_token_id, ==, c->bos_token_id);
    g_assert_cmpuint(model->tokenizer_files->len, ==, 0);
    g_assert_cmpuint(hn_model_dir_weight_count(model), ==, hn_gguf_tensor_count(model->gguf));
    g_assert_cmpint(hn_model_dir_param_count(model), ==, hn_model_config_param_count(c));
    g_assert_null(hn_model_dir_find_weight(model, "lm_head.weight"));
    const hn_model_weight *embed = hn_model_dir_find_weight(model, "model.embed_tokens.weight");
    g_assert_cmpstr(embed->gguf->name, ==, "token_embd.weight");
    g_assert_cmpint(embed->ndim, ==, 2);
    g_assert_cmpint(embed->shape[0], ==, 49152);
    g_assert_cmpint(embed->shape[1], ==, 576);
    const hn_model_weight *k = hn_model_dir_find_weight(model, "model.layers.29.self_attn.k_proj.weight");
    g_assert_cmpint(k->shape[0], ==, 192);
    g_assert_cmpint(k->shape[1], ==, 576);
    hn_model_dir_close(model);
    g_free(path);

    /* A GGUF model of an architecture Hone does not run. */
    path = test_model_file("gemma-3-270m-q4_k_m.gguf");
    expect_failure(path, HN_ERR_UNSUPPORTED, "metadata key \"general.architecture\": expected "
                                             "one of \"llama\" (Llama, Mistral, SmolLM2), \"qwen2\" "
                                             "(Qwen2, Qwen2.5), \"qwen3\" (Qwen3), found \"gemma3\"");
    g_free(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/model-dir/tiny-llama", test_tiny_llama);
    g_test_add_func("/engine/model-dir/not-models", test_not_models);
    g_test_add_func("/engine/model-dir/gguf-llama", test_gguf_llama);
    return g_test_run();
}
