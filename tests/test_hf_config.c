/* config.json parsing: the four families, defaults, rope scaling layouts and bad configs. */
#include <string.h>

#include "hf_config.h"
#include "test_util.h"

/* SmolLM2-135M-Instruct's config.json (field values as published). */
static const char *smollm2 =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false, "
    "\"attention_dropout\": 0.0, \"bos_token_id\": 1, \"eos_token_id\": 2, \"head_dim\": 64, "
    "\"hidden_act\": \"silu\", \"hidden_size\": 576, \"initializer_range\": 0.041666666666666664, "
    "\"intermediate_size\": 1536, \"is_llama_config\": true, \"max_position_embeddings\": 8192, "
    "\"mlp_bias\": false, \"model_type\": \"llama\", \"num_attention_heads\": 9, "
    "\"num_hidden_layers\": 30, \"num_key_value_heads\": 3, \"pad_token_id\": 2, "
    "\"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05, \"rope_interleaved\": false, "
    "\"rope_scaling\": null, \"rope_theta\": 100000, \"tie_word_embeddings\": true, "
    "\"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.42.3\", \"use_cache\": true, "
    "\"vocab_size\": 49152}";

static hn_status parse(const char *json, hn_model_config *c, hn_error *err)
{
    return hn_model_config_parse(json, strlen(json), "config.json", c, err);
}

static void test_smollm2(void)
{
    hn_model_config c;
    hn_error err = {0};
    g_assert_cmpint(parse(smollm2, &c, &err), ==, HN_OK);
    g_assert_cmpint(c.arch, ==, HN_ARCH_LLAMA);
    g_assert_cmpint(c.hidden_size, ==, 576);
    g_assert_cmpint(c.num_key_value_heads, ==, 3);
    g_assert_cmpint(c.head_dim, ==, 64);
    g_assert_cmpfloat(c.rope.theta, ==, 100000.0);
    g_assert_cmpint(c.rope.type, ==, HN_ROPE_DEFAULT);
    g_assert_true(c.tie_word_embeddings);
    g_assert_cmpint(c.torch_dtype, ==, HN_DTYPE_BF16);
    g_assert_cmpint(c.n_eos, ==, 1);
    g_assert_cmpint(c.eos_token_ids[0], ==, 2);
    g_assert_cmpint(c.pad_token_id, ==, 2);
    /* 134,515,008 is SmolLM2-135M's published parameter count. */
    g_assert_cmpint(hn_model_config_param_count(&c), ==, 134515008);
}

#define MINIMAL_FMT                                                                  \
    "{\"architectures\": [\"%s\"], \"vocab_size\": 1000, \"hidden_size\": 256, "          \
    "\"intermediate_size\": 512, \"num_hidden_layers\": 2, \"num_attention_heads\": 8 %s}"

static void parse_minimal(const char *arch, const char *extra, hn_model_config *c)
{
    char *json = g_strdup_printf(MINIMAL_FMT, arch, extra);
    hn_error err = {0};
    if (parse(json, c, &err) != HN_OK)
        g_error("%s", err.message);
    g_free(json);
}

/* Absent fields take the defaults of the transformers config class. */
static void test_family_defaults(void)
{
    hn_model_config c;
    parse_minimal("LlamaForCausalLM", "", &c);
    g_assert_cmpint(c.num_key_value_heads, ==, 8);
    g_assert_cmpint(c.head_dim, ==, 32);
    g_assert_cmpint(c.max_position_embeddings, ==, 2048);
    g_assert_false(c.attention_bias);
    g_assert_false(c.tie_word_embeddings);
    g_assert_cmpint(c.bos_token_id, ==, 1);
    g_assert_cmpint(c.torch_dtype, ==, HN_DTYPE_F32);

    parse_minimal("Qwen2ForCausalLM", ", \"attention_bias\": false, \"num_key_value_heads\": 4", &c);
    g_assert_true(c.attention_bias); /* Qwen2 always has q/k/v biases */
    g_assert_false(c.o_proj_bias);
    g_assert_false(c.use_sliding_window);
    g_assert_cmpint(c.bos_token_id, ==, -1);

    parse_minimal("Qwen3ForCausalLM", ", \"num_key_value_heads\": 4", &c);
    g_assert_true(c.qk_norm);
    g_assert_cmpint(c.head_dim, ==, 128);
    g_assert_false(c.attention_bias);

    parse_minimal("MistralForCausalLM", ", \"num_key_value_heads\": 2, \"sliding_window\": null", &c);
    g_assert_cmpint(c.arch, ==, HN_ARCH_MISTRAL);
    g_assert_false(c.use_sliding_window);
    g_assert_cmpint(c.max_position_embeddings, ==, 131072);
}

static void test_rope_layouts(void)
{
    hn_model_config c;
    parse_minimal("LlamaForCausalLM",
                  ", \"rope_theta\": 500000.0, \"rope_scaling\": {\"rope_type\": \"llama3\", "
                  "\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
                  "\"original_max_position_embeddings\": 8192}",
                  &c);
    g_assert_cmpint(c.rope.type, ==, HN_ROPE_LLAMA3);
    g_assert_cmpfloat(c.rope.theta, ==, 500000.0);
    g_assert_cmpfloat(c.rope.high_freq_factor, ==, 4.0);
    g_assert_cmpint(c.rope.original_max_position_embeddings, ==, 8192);

    parse_minimal("LlamaForCausalLM", ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}", &c);
    g_assert_cmpint(c.rope.type, ==, HN_ROPE_LINEAR);
    g_assert_cmpfloat(c.rope.factor, ==, 2.0);

    parse_minimal("Qwen2ForCausalLM",
                  ", \"num_key_value_heads\": 2, \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0, "
                  "\"original_max_position_embeddings\": 32768}",
                  &c);
    g_assert_cmpint(c.rope.type, ==, HN_ROPE_YARN);
    g_assert_cmpfloat(c.rope.beta_fast, ==, 32.0);
    g_assert_cmpfloat(c.rope.beta_slow, ==, 1.0);

    /* transformers 5 keeps theta and scaling together in rope_parameters. */
    parse_minimal("Qwen3ForCausalLM",
                  ", \"num_key_value_heads\": 2, \"rope_parameters\": {\"rope_type\": \"dynamic\", \"factor\": 2.0, "
                  "\"rope_theta\": 1000000.0}",
                  &c);
    g_assert_cmpint(c.rope.type, ==, HN_ROPE_DYNAMIC);
    g_assert_cmpfloat(c.rope.theta, ==, 1000000.0);

    parse_minimal("LlamaForCausalLM", ", \"rope_parameters\": {\"rope_type\": \"default\", "
                                      "\"rope_theta\": 10000.0}", &c);
    g_assert_cmpint(c.rope.type, ==, HN_ROPE_DEFAULT);
}

static void expect_failure(const char *json, hn_status status, const char *expect)
{
    hn_model_config c;
    hn_error err = {0};
    g_assert_cmpint(parse(json, &c, &err), ==, status);
    test_assert_contains(err.message, "config.json");
    test_assert_contains(err.message, expect);
}

static void test_bad_configs(void)
{
    expect_failure("{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 10, "
                   "\"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2}",
                   HN_ERR_FORMAT, "missing field \"hidden_size\" (expected an integer from 1 to");
    expect_failure("{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 10, "
                   "\"hidden_size\": \"2048\", \"intermediate_size\": 8, \"num_hidden_layers\": 1, "
                   "\"num_attention_heads\": 2}",
                   HN_ERR_FORMAT, "field \"hidden_size\": expected an integer from 1 to 1048576, found a string (\"2048\")");
    /* Sizes whose products overflow 64 bits (found by the fuzzer). */
    expect_failure("{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 12256, "
                   "\"hidden_size\": 491524096, \"intermediate_size\": 14336, "
                   "\"num_hidden_layers\": 32, \"num_attention_heads\": 32}",
                   HN_ERR_FORMAT, "field \"hidden_size\": expected an integer from 1 to 1048576, found a number");
    expect_failure("{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 10.5}",
                   HN_ERR_FORMAT, "field \"vocab_size\": expected an integer");
    expect_failure("{\"architectures\": [\"GPT2LMHeadModel\"], \"vocab_size\": 10}",
                   HN_ERR_UNSUPPORTED,
                   "architecture \"GPT2LMHeadModel\" is not supported (Hone supports "
                   "LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM)");
    expect_failure("{\"model_type\": \"gemma3\"}", HN_ERR_UNSUPPORTED,
                   "model_type \"gemma3\" is not supported");
    expect_failure("{\"vocab_size\": 3}", HN_ERR_FORMAT,
                   "neither \"architectures\" nor \"model_type\"");
    expect_failure("{\"architectures\": \"LlamaForCausalLM\"}", HN_ERR_FORMAT,
                   "field \"architectures\": expected an array of class names, found a string");

    char *json = g_strdup_printf(MINIMAL_FMT, "LlamaForCausalLM",
                                 ", \"rope_scaling\": {\"rope_type\": \"longrope\", \"factor\": 2}");
    expect_failure(json, HN_ERR_UNSUPPORTED, "RoPE type \"longrope\" is not supported");
    g_free(json);
    json = g_strdup_printf(MINIMAL_FMT, "LlamaForCausalLM",
                           ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, "
                           "\"original_max_position_embeddings\": 8192, \"high_freq_factor\": 4}");
    expect_failure(json, HN_ERR_FORMAT, "missing field \"rope_scaling.low_freq_factor\"");
    g_free(json);
    json = g_strdup_printf(MINIMAL_FMT, "LlamaForCausalLM", ", \"num_key_value_heads\": 3");
    expect_failure(json, HN_ERR_FORMAT, "num_attention_heads (8) must be a multiple of num_key_value_heads (3)");
    g_free(json);
    json = g_strdup_printf(MINIMAL_FMT, "LlamaForCausalLM", ", \"hidden_act\": \"gelu\"");
    expect_failure(json, HN_ERR_UNSUPPORTED, "field \"hidden_act\": \"gelu\" is not supported");
    g_free(json);
    json = g_strdup_printf(MINIMAL_FMT, "LlamaForCausalLM", ", \"torch_dtype\": \"int4\"");
    expect_failure(json, HN_ERR_FORMAT, "field \"torch_dtype\": expected one of float32, bfloat16");
    g_free(json);
    json = g_strdup_printf(MINIMAL_FMT, "LlamaForCausalLM", ", \"tie_word_embeddings\": 1");
    expect_failure(json, HN_ERR_FORMAT, "field \"tie_word_embeddings\": expected true or false, found a number");
    g_free(json);

    expect_failure("{\"architectures\": [\"LlamaForCausalLM\"],\n \"vocab_size\": }", HN_ERR_FORMAT,
                   "line 2, column 16: not valid JSON");
    expect_failure("[1, 2]", HN_ERR_FORMAT, "expected a JSON object at the top level, found an array");
    expect_failure("", HN_ERR_FORMAT, "not valid JSON");
    expect_failure("{\"model_type\": \"ll\xffma\"}", HN_ERR_FORMAT,
                   "byte 18: not valid UTF-8 (JSON text must be UTF-8)");
}

static void test_generation_config(void)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "generation_config.json", NULL);
    test_write_text(path, "{\"bos_token_id\": 1, \"eos_token_id\": [2, 7], \"do_sample\": true, "
                          "\"temperature\": 0.6, \"top_p\": 0.9, \"transformers_version\": \"4.44\"}");
    hn_generation_config gen;
    hn_generation_config_defaults(&gen);
    hn_error err = {0};
    g_assert_cmpint(hn_generation_config_load(path, &gen, &err), ==, HN_OK);
    g_assert_cmpint(gen.n_eos, ==, 2);
    g_assert_cmpint(gen.eos_token_ids[1], ==, 7);
    g_assert_true(gen.do_sample);
    g_assert_cmpfloat(gen.temperature, ==, 0.6);
    g_assert_cmpint(gen.top_k, ==, 50); /* GenerationConfig's default */

    test_write_text(path, "{\"eos_token_id\": [2, \"x\"]}");
    g_assert_cmpint(hn_generation_config_load(path, &gen, &err), ==, HN_ERR_FORMAT);
    test_assert_contains(err.message, "field \"eos_token_id\": expected a token id or an array");
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/hf-config/smollm2", test_smollm2);
    g_test_add_func("/engine/hf-config/family-defaults", test_family_defaults);
    g_test_add_func("/engine/hf-config/rope-layouts", test_rope_layouts);
    g_test_add_func("/engine/hf-config/bad", test_bad_configs);
    g_test_add_func("/engine/hf-config/generation", test_generation_config);
    return g_test_run();
}
