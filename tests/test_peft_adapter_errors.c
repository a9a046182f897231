/* PEFT adapters without Python: write/read round trips in fp32 and bf16, the config text as
 * peft formats it, the scaling, and bad input (a truncated safetensors file, a missing config,
 * rank mismatches, rank_pattern, another peft_type, a pickle only, stray tensors, wrong field
 * types), each a clear error naming the file and what was expected. */
#include <glib/gstdio.h>
#include <string.h>

#include "peft_adapter.h"
#include "test_util.h"

#define IN 8
#define OUT 6

/* Two modules of rank 4 with random data; DoRA magnitudes and an lm_head when asked. */
static void make_adapter(hn_peft_adapter *a, bool dora, bool lm_head)
{
    hn_peft_adapter_init(a);
    a->config.r = 4;
    a->config.lora_alpha = 8;
    a->config.use_dora = dora;
    const char *targets[] = {"q_proj", "v_proj"};
    hn_peft_set_targets(&a->config, targets, 2);
    const char *names[] = {"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"};
    for (guint32 i = 0; i < 2; i++) {
        hn_lora_module *m = hn_peft_add_module(a, names[i], IN, OUT);
        GRand *rand = g_rand_new_with_seed(i + 1);
        for (int k = 0; k < 4 * IN; k++)
            m->lora_a[k] = (float)g_rand_double_range(rand, -1, 1);
        for (int k = 0; k < OUT * 4; k++)
            m->lora_b[k] = (float)g_rand_double_range(rand, -1, 1);
        for (int k = 0; dora && k < OUT; k++)
            m->magnitude[k] = (float)g_rand_double_range(rand, 0.5, 1.5);
        g_rand_free(rand);
    }
    if (lm_head) {
        const char *to_save[] = {"lm_head"};
        hn_peft_set_modules_to_save(&a->config, to_save, 1);
        const int64_t shape[2] = {10, IN};
        hn_saved_tensor *t = hn_peft_add_saved(a, "lm_head.weight", 2, shape);
        for (int64_t k = 0; k < t->numel; k++)
            t->data[k] = (float)k * 0.37f - 3.0f;
    }
}

/* A scratch folder holding make_adapter's adapter in fp32. */
static char *write_adapter(bool dora, bool lm_head)
{
    char *dir = test_make_tmpdir();
    hn_peft_adapter a;
    make_adapter(&a, dora, lm_head);
    hn_error err = {0};
    if (hn_peft_write(dir, &a, HN_DTYPE_F32, &err) != HN_OK)
        g_error("%s", err.message);
    hn_peft_adapter_free(&a);
    return dir;
}

static float bf16_rounded(float x)
{
    return hn_bf16_to_f32(hn_f32_to_bf16(x));
}

static void assert_floats(const float *got, const float *want, int64_t n, bool bf16)
{
    for (int64_t i = 0; i < n; i++) {
        float w = bf16 ? bf16_rounded(want[i]) : want[i];
        g_assert_true(memcmp(&got[i], &w, sizeof w) == 0);
    }
}

static void round_trip(hn_dtype dtype)
{
    hn_peft_adapter a, b;
    make_adapter(&a, true, true);
    a.config.lora_dropout = 0.05;
    a.config.use_rslora = true;
    char *dir = test_make_tmpdir();
    hn_error err = {0};
    if (hn_peft_write(dir, &a, dtype, &err) != HN_OK || hn_peft_read(dir, &b, &err) != HN_OK)
        g_error("%s", err.message);
    bool bf16 = dtype == HN_DTYPE_BF16;
    g_assert_cmpint(b.config.r, ==, 4);
    g_assert_cmpfloat(b.config.lora_alpha, ==, 8);
    g_assert_cmpfloat(b.config.lora_dropout, ==, 0.05);
    g_assert_true(b.config.use_dora && b.config.use_rslora);
    g_assert_cmpint(b.config.n_target_modules, ==, 2);
    g_assert_cmpstr(b.config.target_modules[1], ==, "v_proj");
    g_assert_cmpint(b.config.n_modules_to_save, ==, 1);
    g_assert_cmpstr(b.config.init_lora_weights, ==, "true");
    g_assert_cmpint(b.n_modules, ==, 2);
    for (size_t i = 0; i < a.n_modules; i++) {
        const hn_lora_module *want = &a.modules[i];
        const hn_lora_module *got = hn_peft_find_module(&b, want->name);
        g_assert_nonnull(got);
        g_assert_cmpint(got->in_features, ==, IN);
        g_assert_cmpint(got->out_features, ==, OUT);
        assert_floats(got->lora_a, want->lora_a, 4 * IN, bf16);
        assert_floats(got->lora_b, want->lora_b, OUT * 4, bf16);
        assert_floats(got->magnitude, want->magnitude, OUT, bf16);
    }
    const hn_saved_tensor *t = hn_peft_find_saved(&b, "lm_head.weight");
    g_assert_nonnull(t);
    g_assert_cmpint(t->ndim, ==, 2);
    g_assert_cmpint(t->shape[0], ==, 10);
    assert_floats(t->data, a.saved[0].data, t->numel, bf16);
    hn_peft_adapter_free(&a);
    hn_peft_adapter_free(&b);
    test_remove_tree(dir);
    g_free(dir);
}

static void test_round_trip_f32(void)
{
    round_trip(HN_DTYPE_F32);
}

static void test_round_trip_bf16(void)
{
    round_trip(HN_DTYPE_BF16);
}

static char *read_text(const char *dir, const char *file)
{
    char *path = g_build_filename(dir, file, NULL);
    GBytes *bytes = test_read_file(path);
    char *text = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
    g_bytes_unref(bytes);
    g_free(path);
    return text;
}

/* Python's json.dumps(indent=2, sort_keys=True) of peft's LoraConfig: integers for int fields,
 * repr() for floats, non-ASCII escaped. */
static void test_config_text(void)
{
    hn_peft_adapter a;
    make_adapter(&a, false, false);
    a.config.lora_alpha = 5.5;
    a.config.lora_dropout = 1e-5;
    g_free(a.config.base_model_name_or_path);
    a.config.base_model_name_or_path = g_strdup("/models/\xe6\xa8\xa1\xe5\x9e\x8b \"q\"");
    char *dir = test_make_tmpdir();
    hn_error err = {0};
    g_assert_cmpint(hn_peft_write(dir, &a, HN_DTYPE_F32, &err), ==, HN_OK);
    char *text = read_text(dir, "adapter_config.json");
    g_assert_true(g_str_has_prefix(text, "{\n  \"alora_invocation_tokens\": null,\n"
                                         "  \"alpha_pattern\": {},\n"));
    test_assert_contains(text,
                         "\"base_model_name_or_path\": \"/models/\\u6a21\\u578b \\\"q\\\"\",");
    test_assert_contains(text, "\"lora_alpha\": 5.5,");
    test_assert_contains(text, "\"lora_dropout\": 1e-05,");
    test_assert_contains(text, "\"modules_to_save\": null,");
    test_assert_contains(text, "\"r\": 4,");
    test_assert_contains(text, "\"target_modules\": [\n    \"q_proj\",\n    \"v_proj\"\n  ],");
    test_assert_contains(text, "\"init_lora_weights\": true,");
    g_assert_true(g_str_has_suffix(text, "\"use_rslora\": false\n}"));
    g_free(text);

    a.config.lora_alpha = 16;
    a.config.lora_dropout = 0;
    g_assert_cmpint(hn_peft_write(dir, &a, HN_DTYPE_F32, &err), ==, HN_OK);
    text = read_text(dir, "adapter_config.json");
    test_assert_contains(text, "\"lora_alpha\": 16,");
    test_assert_contains(text, "\"lora_dropout\": 0.0,");
    g_free(text);
    hn_peft_adapter_free(&a);
    test_remove_tree(dir);
    g_free(dir);
}

static void test_scaling(void)
{
    hn_lora_config c = {.r = 4, .lora_alpha = 8};
    g_assert_cmpfloat(hn_peft_scaling(&c), ==, 2.0);
    c.use_rslora = true;
    g_assert_cmpfloat(hn_peft_scaling(&c), ==, 4.0);
}

/* PEFT's matching of target_modules and modules_to_save. */
static void test_matching(void)
{
    hn_peft_adapter a;
    hn_peft_adapter_init(&a);
    const char *targets[] = {"q_proj", "mlp.up_proj"};
    hn_peft_set_targets(&a.config, targets, 2);
    g_assert_true(hn_peft_targets_module(&a.config, "model.layers.0.self_attn.q_proj"));
    g_assert_true(hn_peft_targets_module(&a.config, "q_proj"));
    g_assert_true(hn_peft_targets_module(&a.config, "model.layers.1.mlp.up_proj"));
    g_assert_false(hn_peft_targets_module(&a.config, "model.layers.0.self_attn.xq_proj"));
    g_assert_false(hn_peft_targets_module(&a.config, "model.layers.0.self_attn.q_proj.x"));
    a.config.target_modules_regex = g_strdup(".*\\.(q|v)_proj"); /* re.fullmatch */
    g_assert_true(hn_peft_targets_module(&a.config, "model.layers.0.self_attn.v_proj"));
    g_assert_false(hn_peft_targets_module(&a.config, "model.layers.0.self_attn.v_proj_x"));
    g_assert_false(hn_peft_targets_module(&a.config, "model.layers.0.self_attn.k_proj"));
    g_free(a.config.target_modules_regex);
    a.config.target_modules_regex = g_strdup("q_proj|.*k_proj");
    g_assert_false(hn_peft_targets_module(&a.config, "model.layers.0.self_attn.q_proj"));
    g_assert_true(hn_peft_targets_module(&a.config, "model.layers.0.self_attn.k_proj"));

    g_assert_false(hn_peft_saves_param(&a.config, "lm_head.weight")); /* modules_to_save null */
    const char *to_save[] = {"lm_head"};
    hn_peft_set_modules_to_save(&a.config, to_save, 1);
    g_assert_true(hn_peft_saves_param(&a.config, "lm_head.weight"));
    g_assert_true(hn_peft_saves_param(&a.config, "lm_head.bias"));
    g_assert_true(hn_peft_saves_param(&a.config, "model.xlm_head.weight")); /* a plain suffix */
    g_assert_false(hn_peft_saves_param(&a.config, "lm_head2.weight"));
    g_assert_false(hn_peft_saves_param(&a.config, "lm_head"));
    /* the tied partner only with ensure_weight_tying */
    g_assert_false(hn_peft_saves_param(&a.config, "model.embed_tokens.weight"));
    a.config.ensure_weight_tying = true;
    g_assert_true(hn_peft_saves_param(&a.config, "model.embed_tokens.weight"));
    g_assert_false(hn_peft_saves_param(&a.config, "model.norm.weight"));
    hn_peft_adapter_free(&a);
}

/* ---- bad input ---- */

static void expect_read_error(const char *dir, hn_status status, const char *needle1,
                              const char *needle2)
{
    hn_peft_adapter a;
    hn_error err = {0};
    g_assert_cmpint(hn_peft_read(dir, &a, &err), ==, status);
    test_assert_contains(err.message, needle1);
    if (needle2 != NULL)
        test_assert_contains(err.message, needle2);
    g_test_message("%s", err.message);
}

/* Replaces `from` (which must occur) by `to` in dir/adapter_config.json. */
static void edit_config(const char *dir, const char *from, const char *to)
{
    char *text = read_text(dir, "adapter_config.json");
    char *at = strstr(text, from);
    g_assert_nonnull(at);
    *at = '\0';
    char *edited = g_strconcat(text, to, at + strlen(from), NULL);
    char *path = g_build_filename(dir, "adapter_config.json", NULL);
    test_write_text(path, edited);
    g_free(path);
    g_free(edited);
    g_free(text);
}

static void done(char *dir)
{
    test_remove_tree(dir);
    g_free(dir);
}

static void test_truncated_weights(void)
{
    char *dir = write_adapter(false, false);
    char *path = g_build_filename(dir, "adapter_model.safetensors", NULL);
    GBytes *bytes = test_read_file(path);
    test_write_file(path, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes) / 2);
    expect_read_error(dir, HN_ERR_FORMAT, path, NULL);
    g_bytes_unref(bytes);
    g_free(path);
    done(dir);
}

static void test_missing_config(void)
{
    char *dir = write_adapter(false, false);
    char *path = g_build_filename(dir, "adapter_config.json", NULL);
    g_assert_cmpint(g_remove(path), ==, 0);
    expect_read_error(dir, HN_ERR_IO, "no adapter_config.json", dir);
    g_free(path);
    char *missing = g_build_filename(dir, "nothing-here", NULL);
    expect_read_error(missing, HN_ERR_IO, "not a folder", missing);
    g_free(missing);
    done(dir);
}

static void test_rank_mismatch(void)
{
    char *dir = write_adapter(false, false);
    edit_config(dir, "\"r\": 4", "\"r\": 3");
    expect_read_error(dir, HN_ERR_FORMAT, "lora_A.weight\": shape [4, 8]; expected [r, "
                      "in_features] with r = 3", "adapter_model.safetensors");
    done(dir);

    /* B's in-dimension differs from A's out-dimension */
    dir = write_adapter(false, false);
    char *weights = g_build_filename(dir, "adapter_model.safetensors", NULL);
    float a[4 * IN] = {0}, b[OUT * 3] = {0};
    hn_st_tensor tensors[] = {
        {.name = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
         .dtype = HN_DTYPE_F32, .ndim = 2, .shape = {4, IN}, .data = a},
        {.name = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
         .dtype = HN_DTYPE_F32, .ndim = 2, .shape = {OUT, 3}, .data = b},
    };
    hn_error err = {0};
    g_assert_cmpint(hn_st_write(weights, tensors, 2, NULL, 0, &err), ==, HN_OK);
    expect_read_error(dir, HN_ERR_FORMAT, "lora_B.weight\": shape [6, 3]; expected [out_features,"
                      " 4]: lora_B's in-dimension must equal lora_A's out-dimension", weights);
    /* A without B */
    g_assert_cmpint(hn_st_write(weights, tensors, 1, NULL, 0, &err), ==, HN_OK);
    expect_read_error(dir, HN_ERR_FORMAT, "module \"model.layers.0.self_attn.q_proj\" has lora_A "
                      "but no lora_B", weights);
    /* a name that is not PEFT's */
    tensors[1].name = "base_model.model.model.layers.0.self_attn.q_proj.lora_C.weight";
    g_assert_cmpint(hn_st_write(weights, tensors, 2, NULL, 0, &err), ==, HN_OK);
    expect_read_error(dir, HN_ERR_FORMAT, "lora_C.weight\" is not one Hone knows", weights);
    tensors[1].name = "model.layers.0.self_attn.q_proj.lora_B.weight";
    g_assert_cmpint(hn_st_write(weights, tensors, 2, NULL, 0, &err), ==, HN_OK);
    expect_read_error(dir, HN_ERR_FORMAT, "expected a name starting with \"base_model.model.\"",
                      weights);
    /* a module outside target_modules */
    tensors[0].name = "base_model.model.model.layers.0.mlp.up_proj.lora_A.weight";
    tensors[1].name = "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight";
    tensors[1].shape[1] = 4;
    float b4[OUT * 4] = {0};
    tensors[1].data = b4;
    g_assert_cmpint(hn_st_write(weights, tensors, 2, NULL, 0, &err), ==, HN_OK);
    expect_read_error(dir, HN_ERR_FORMAT, "\"model.layers.0.mlp.up_proj\" has LoRA tensors but "
                      "matches no entry of target_modules", weights);
    g_free(weights);
    done(dir);
}

static void test_unsupported_config(void)
{
    char *dir = write_adapter(false, false);
    edit_config(dir, "\"rank_pattern\": {}", "\"rank_pattern\": {\"q_proj\": 8}");
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "field \"rank_pattern\" is set ({\"q_proj\":8})",
                      "adapter_config.json");
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"alpha_pattern\": {}", "\"alpha_pattern\": {\"v_proj\": 2}");
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "field \"alpha_pattern\" is set", NULL);
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"peft_type\": \"LORA\"", "\"peft_type\": \"IA3\"");
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "field \"peft_type\" is \"IA3\"; Hone reads only "
                      "LoRA adapters", "adapter_config.json");
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"fan_in_fan_out\": false", "\"fan_in_fan_out\": true");
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "field \"fan_in_fan_out\" is true", NULL);
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"init_lora_weights\": true", "\"init_lora_weights\": \"pissa_niter_4\"");
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "field \"init_lora_weights\" is \"pissa_niter_4\": "
                      "peft recomputes the base weights", "convert it to a plain LoRA adapter");
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"arrow_config\": null", "\"arrow_config\": {\"top_k\": 3}");
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "field \"arrow_config\" is set", NULL);
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"task_type\": \"CAUSAL_LM\"", "\"task_type\": \"SEQ_CLS\"");
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "field \"task_type\" is \"SEQ_CLS\"; Hone handles "
                      "only \"CAUSAL_LM\"", NULL);
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"lora_bias\": false", "\"lora_bias\": true");
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "field \"lora_bias\" is true", NULL);
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"bias\": \"none\"", "\"bias\": \"all\"");
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "field \"bias\" is \"all\"", NULL);
    done(dir);
}

static void test_bad_field_types(void)
{
    char *dir = write_adapter(false, false);
    edit_config(dir, "\"r\": 4", "\"r\": \"4\"");
    expect_read_error(dir, HN_ERR_FORMAT, "field \"r\": expected an integer",
                      "adapter_config.json");
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"use_dora\": false", "\"use_dora\": 0");
    expect_read_error(dir, HN_ERR_FORMAT, "field \"use_dora\": expected true or false", NULL);
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"modules_to_save\": null", "\"modules_to_save\": [\"lm_head\", 3]");
    expect_read_error(dir, HN_ERR_FORMAT, "field \"modules_to_save\": expected a list of strings",
                      NULL);
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"lora_dropout\": 0.0", "\"lora_dropout\": 1.5");
    expect_read_error(dir, HN_ERR_FORMAT, "field \"lora_dropout\"", NULL);
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "\"target_modules\": [\n    \"q_proj\",\n    \"v_proj\"\n  ]",
                "\"target_modules\": \".*(q_proj\"");
    expect_read_error(dir, HN_ERR_FORMAT, "field \"target_modules\": \".*(q_proj\" is not a "
                      "regular expression", NULL);
    done(dir);

    dir = write_adapter(false, false);
    edit_config(dir, "{", "[");
    expect_read_error(dir, HN_ERR_FORMAT, "adapter_config.json: line", "not valid JSON");
    done(dir);
}

static void test_dora_mismatch(void)
{
    /* magnitudes in the file, use_dora false in the config */
    char *dir = write_adapter(true, false);
    edit_config(dir, "\"use_dora\": true", "\"use_dora\": false");
    expect_read_error(dir, HN_ERR_FORMAT, "a DoRA magnitude, but adapter_config.json has "
                      "use_dora false", "lora_magnitude_vector");
    done(dir);
    /* use_dora without magnitudes */
    dir = write_adapter(false, false);
    edit_config(dir, "\"use_dora\": false", "\"use_dora\": true");
    expect_read_error(dir, HN_ERR_FORMAT, "lora_magnitude_vector, which use_dora needs", NULL);
    done(dir);
}

static void test_saved_module_not_listed(void)
{
    char *dir = write_adapter(false, true);
    edit_config(dir, "\"modules_to_save\": [\n    \"lm_head\"\n  ]", "\"modules_to_save\": null");
    expect_read_error(dir, HN_ERR_FORMAT, "\"base_model.model.lm_head.weight\" is not one Hone "
                      "knows", NULL);
    done(dir);
}

static void test_pickle_only(void)
{
    char *dir = write_adapter(false, false);
    char *weights = g_build_filename(dir, "adapter_model.safetensors", NULL);
    char *pickle = g_build_filename(dir, "adapter_model.bin", NULL);
    g_assert_cmpint(g_rename(weights, pickle), ==, 0);
    expect_read_error(dir, HN_ERR_UNSUPPORTED, "adapter_model.bin: a PyTorch pickle, which Hone "
                      "does not read", "convert it to adapter_model.safetensors");
    g_assert_cmpint(g_remove(pickle), ==, 0);
    expect_read_error(dir, HN_ERR_IO, "no adapter_model.safetensors", dir);
    g_free(weights);
    g_free(pickle);
    done(dir);
}

static void test_bad_writes(void)
{
    char *dir = test_make_tmpdir();
    hn_peft_adapter a;
    make_adapter(&a, false, false);
    hn_error err = {0};
    g_assert_cmpint(hn_peft_write(dir, &a, HN_DTYPE_F16, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "written as F32 or BF16, not F16");
    a.config.use_dora = true; /* the modules have no magnitudes */
    g_assert_cmpint(hn_peft_write(dir, &a, HN_DTYPE_F32, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "lacks a DoRA magnitude but use_dora is true");
    a.config.use_dora = false;
    const char *other[] = {"k_proj"};
    hn_peft_set_targets(&a.config, other, 1);
    g_assert_cmpint(hn_peft_write(dir, &a, HN_DTYPE_F32, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "module \"model.layers.0.self_attn.q_proj\" matches no "
                         "entry of target_modules");
    const char *qv[] = {"q_proj", "v_proj"};
    hn_peft_set_targets(&a.config, qv, 2);
    const int64_t shape[1] = {3};
    hn_peft_add_saved(&a, "model.norm.weight", 1, shape);
    g_assert_cmpint(hn_peft_write(dir, &a, HN_DTYPE_F32, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "\"model.norm.weight\" belongs to no module in "
                         "modules_to_save");
    g_free(a.config.init_lora_weights);
    a.config.init_lora_weights = g_strdup("olora");
    g_assert_cmpint(hn_peft_write(dir, &a, HN_DTYPE_F32, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "init_lora_weights \"olora\" would make peft recompute");
    g_free(a.config.init_lora_weights);
    a.config.init_lora_weights = g_strdup("gaussian");
    a.config.r = 0;
    g_assert_cmpint(hn_peft_write(dir, &a, HN_DTYPE_F32, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "r must be positive");
    hn_peft_adapter_free(&a);
    /* nothing was written */
    char *config = g_build_filename(dir, "adapter_config.json", NULL);
    g_assert_false(g_file_test(config, G_FILE_TEST_EXISTS));
    g_free(config);
    done(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/peft_adapter/round-trip-f32", test_round_trip_f32);
    g_test_add_func("/engine/peft_adapter/round-trip-bf16", test_round_trip_bf16);
    g_test_add_func("/engine/peft_adapter/config-text", test_config_text);
    g_test_add_func("/engine/peft_adapter/scaling", test_scaling);
    g_test_add_func("/engine/peft_adapter/matching", test_matching);
    g_test_add_func("/engine/peft_adapter/truncated-weights", test_truncated_weights);
    g_test_add_func("/engine/peft_adapter/missing-config", test_missing_config);
    g_test_add_func("/engine/peft_adapter/rank-mismatch", test_rank_mismatch);
    g_test_add_func("/engine/peft_adapter/unsupported-config", test_unsupported_config);
    g_test_add_func("/engine/peft_adapter/bad-field-types", test_bad_field_types);
    g_test_add_func("/engine/peft_adapter/dora-mismatch", test_dora_mismatch);
    g_test_add_func("/engine/peft_adapter/saved-module-not-listed", test_saved_module_not_listed);
    g_test_add_func("/engine/peft_adapter/pickle-only", test_pickle_only);
    g_test_add_func("/engine/peft_adapter/bad-writes", test_bad_writes);
    return g_test_run();
}
