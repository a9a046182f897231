/* Training arguments: the defaults equal LLaMA-Factory's and transformers' argument classes
 * (tests/reference/train_args_ref.py); an upstream-style YAML file loads, with unknown keys
 * listed; JSON the same; the YAML Hone writes reads back the same; bad values, bad YAML and
 * impossible combinations give errors naming the place and what is valid. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "train_args.h"

/* "key: value" lines of hn_train_args_to_yaml as a key -> value table. */
static GHashTable *yaml_lines(const hn_train_args *args)
{
    GHashTable *table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    char *yaml = hn_train_args_to_yaml(args);
    char **lines = g_strsplit(yaml, "\n", -1);
    for (char **line = lines; *line != NULL && **line != '\0'; line++) {
        char *colon = strstr(*line, ": ");
        g_assert_nonnull(colon);
        g_hash_table_insert(table, g_strndup(*line, (size_t)(colon - *line)), g_strdup(colon + 2));
    }
    g_strfreev(lines);
    g_free(yaml);
    return table;
}

static void test_defaults_against_upstream(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("train_args_ref.py", "write", dir);
    char *path = g_build_filename(dir, "defaults.json", NULL);
    cJSON *defaults = test_load_json(path);
    hn_train_args args;
    hn_train_args_init(&args);
    GHashTable *ours = yaml_lines(&args);
    GHashTableIter iter;
    gpointer key, value;
    int compared = 0;
    g_hash_table_iter_init(&iter, ours);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(defaults, key);
        if (want == NULL) /* Hone's own keys (backend) and keys upstream dropped */
            continue;
        const char *got = value;
        if (cJSON_IsNumber(want))
            g_assert_cmpfloat(fabs(strtod(got, NULL) - want->valuedouble), <=,
                              1e-12 * fabs(want->valuedouble));
        else if (cJSON_IsBool(want))
            g_assert_cmpstr(got, ==, cJSON_IsTrue(want) ? "true" : "false");
        else if (cJSON_IsString(want)) {
            char *quoted = g_strdup_printf("\"%s\"", want->valuestring);
            if (strcmp(got, quoted) != 0)
                g_error("%s: Hone's default %s, upstream's %s", (char *)key, got, quoted);
            g_free(quoted);
        } else {
            g_error("%s: Hone has the default %s, upstream none", (char *)key, got);
        }
        compared++;
    }
    /* keys upstream leaves unset must be unset in Hone too */
    const char *unset[] = {"template", "max_samples", "lora_alpha", "loraplus_lr_ratio",
                           "save_total_limit", "eval_steps", "packing", "rope_scaling",
                           "tf32"};
    for (size_t i = 0; i < G_N_ELEMENTS(unset); i++) {
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(defaults, unset[i]);
        g_assert_true(want != NULL && cJSON_IsNull(want));
        const char *got = g_hash_table_lookup(ours, unset[i]);
        g_assert_true(got == NULL || strcmp(got, "0") == 0);
    }
    g_test_message("%d defaults equal upstream's", compared);
    g_assert_cmpint(compared, >=, 40);
    g_hash_table_destroy(ours);
    hn_train_args_clear(&args);
    cJSON_Delete(defaults);
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}


static void test_upstream_example(void)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "tests", "data",
                                  "llamafactory_lora_sft.yaml", NULL);
    hn_train_args args;
    hn_train_args_init(&args);
    char **ignored = NULL;
    hn_error err = {0};
    if (hn_train_args_load(&args, path, &ignored, &err) != HN_OK ||
        hn_train_args_check(&args, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpstr(args.dataset, ==, "identity,alpaca_en_demo");
    g_assert_cmpstr(args.template_name, ==, "chatml");
    g_assert_cmpfloat(args.learning_rate, ==, 1e-4);
    g_assert_cmpint(args.gradient_accumulation_steps, ==, 8);
    g_assert_cmpstr(args.lr_scheduler_type, ==, "cosine");
    g_assert_cmpfloat(args.warmup_ratio, ==, 0.1);
    g_assert_true(args.bf16 && args.plot_loss && args.overwrite_output_dir && args.do_train);
    g_assert_cmpint(args.max_samples, ==, 1000);
    g_assert_cmpint(args.eval_steps, ==, 500);
    g_assert_false(args.packing_set);
    const char *want_ignored[] = {"trust_remote_code", "ddp_timeout"};
    g_assert_cmpuint(g_strv_length(ignored), ==, G_N_ELEMENTS(want_ignored));
    for (size_t i = 0; i < G_N_ELEMENTS(want_ignored); i++)
        g_assert_true(g_strv_contains((const char *const *)ignored, want_ignored[i]));

    /* What Hone writes (training_args.yaml) reads back to the same text; JSON too. */
    char *yaml = hn_train_args_to_yaml(&args);
    char *again_path = g_build_filename(dir, "training_args.yaml", NULL);
    test_write_text(again_path, yaml);
    hn_train_args again;
    hn_train_args_init(&again);
    g_assert_cmpint(hn_train_args_load(&again, again_path, NULL, &err), ==, HN_OK);
    char *yaml_again = hn_train_args_to_yaml(&again);
    g_assert_cmpstr(yaml, ==, yaml_again);
    hn_train_args_clear(&again);
    char *json_path = g_build_filename(dir, "args.json", NULL);
    test_write_text(json_path, "{\"model_name_or_path\": \"m\", \"dataset\": [\"a\", \"b\"], "
                               "\"learning_rate\": 2e-5, \"do_train\": true, \"seed\": 7, "
                               "\"template\": null, \"unknown_key\": 1}");
    hn_train_args_init(&again);
    char **json_ignored = NULL;
    g_assert_cmpint(hn_train_args_load(&again, json_path, &json_ignored, &err), ==, HN_OK);
    g_assert_cmpstr(again.dataset, ==, "a,b");
    g_assert_cmpfloat(again.learning_rate, ==, 2e-5);
    g_assert_cmpint(again.seed, ==, 7);
    g_assert_null(again.template_name);
    g_assert_cmpstr(json_ignored[0], ==, "unknown_key");
    g_strfreev(json_ignored);
    hn_train_args_clear(&again);

    g_free(json_path);
    g_free(yaml);
    g_free(yaml_again);
    g_free(again_path);
    g_strfreev(ignored);
    hn_train_args_clear(&args);
    test_remove_tree(dir);
    g_free(dir);
    g_free(path);
}

static void expect_set_error(const char *key, const char *value, const char *needle)
{
    hn_train_args args;
    hn_train_args_init(&args);
    hn_error err = {0};
    g_assert_cmpint(hn_train_args_set(&args, key, value, "--test", &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, needle);
    hn_train_args_clear(&args);
}

static void expect_file_error(const char *text, const char *needle)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "bad.yaml", NULL);
    test_write_text(path, text);
    hn_train_args args;
    hn_train_args_init(&args);
    hn_error err = {0};
    g_assert_cmpint(hn_train_args_load(&args, path, NULL, &err), !=, HN_OK);
    test_assert_contains(err.message, "bad.yaml");
    test_assert_contains(err.message, needle);
    hn_train_args_clear(&args);
    test_remove_tree(dir);
    g_free(dir);
    g_free(path);
}

static void expect_check_error(const char *yaml, const char *needle)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "run.yaml", NULL);
    test_write_text(path, yaml);
    hn_train_args args;
    hn_train_args_init(&args);
    hn_error err = {0};
    g_assert_cmpint(hn_train_args_load(&args, path, NULL, &err), ==, HN_OK);
    g_assert_cmpint(hn_train_args_check(&args, &err), !=, HN_OK);
    test_assert_contains(err.message, needle);
    hn_train_args_clear(&args);
    test_remove_tree(dir);
    g_free(dir);
    g_free(path);
}

static void test_bad_input(void)
{
    hn_train_args args;
    hn_train_args_init(&args);
    hn_error err = {0};
    g_assert_cmpint(hn_train_args_set(&args, "no_such_key", "1", "--x", &err), ==,
                    HN_ERR_UNSUPPORTED);
    g_assert_cmpint(hn_train_args_set(&args, "output_dir", "~/runs/a", "--x", &err), ==, HN_OK);
    char *home_runs = g_build_filename(g_get_home_dir(), "runs", "a", NULL);
    g_assert_cmpstr(args.output_dir, ==, home_runs); /* ~/ expands in path keys */
    g_free(home_runs);
    hn_train_args_clear(&args);
    expect_set_error("lora_rank", "eight", "--test: lora_rank must be a whole number, found "
                     "\"eight\"");
    expect_set_error("lora_rank", "8.5", "must be a whole number");
    expect_set_error("lora_rank", "0", "lora_rank must be between 1 and 65536, found 0");
    expect_set_error("learning_rate", "fast", "learning_rate must be a number");
    expect_set_error("do_train", "maybe", "do_train must be true or false, found \"maybe\"");
    expect_set_error("finetuning_type", "qlora", "finetuning_type must be one of full, freeze, "
                     "lora, found \"qlora\"");
    expect_set_error("lr_scheduler_type", "cosine_with_min_lr", "one of linear, cosine,");
    expect_set_error("lora_dropout", "1.5", "lora_dropout must be between 0 and 0.999");
    expect_set_error("stage", "", "stage needs a value (its default is sft)"); /* fuzzer find */
    expect_set_error("lora_target", "null", "lora_target needs a value (its default is all)");
    expect_file_error("stage: sft\ndataset: \"unterminated\n", "bad.yaml:3:1: YAML syntax error");
    expect_file_error("- a\n- b\n", "expected key: value lines at the top");
    expect_file_error("", "the file is empty");
    expect_file_error("dataset:\n  name: identity\n", "bad.yaml:2:3: dataset: expected a value "
                      "or a list of values");
    expect_file_error("cutoff_len: long\n", "bad.yaml:1:13: cutoff_len must be a whole number");
    const char *base = "model_name_or_path: m\noutput_dir: o\ndo_train: true\ndataset: d\n";
    char *yaml = g_strconcat(base, "stage: ppo\n", NULL);
    expect_check_error(yaml, "stage ppo is not built yet (pt, sft, rm, dpo and kto are)");
    g_free(yaml);
    yaml = g_strconcat(base, "stage: dpo\npref_beta: 0\n", NULL);
    expect_check_error(yaml, "pref_beta 0: expected a number above 0");
    g_free(yaml);
    yaml = g_strconcat(base, "stage: kto\npref_beta: -0.5\n", NULL);
    expect_check_error(yaml, "pref_beta -0.5: expected a number above 0");
    g_free(yaml);
    yaml = g_strconcat(base, "stage: dpo\npref_loss: hinge\ndpo_label_smoothing: 0.1\n", NULL);
    expect_check_error(yaml, "dpo_label_smoothing 0.1 is only valid with pref_loss sigmoid");
    g_free(yaml);
    yaml = g_strconcat(base, "stage: dpo\npref_loss: kto_pair\n", NULL);
    expect_check_error(yaml, "pref_loss kto_pair: the paired KTO loss is gone from TRL");
    g_free(yaml);
    yaml = g_strconcat(base, "eval_strategy: steps\n", NULL);
    expect_check_error(yaml, "eval_strategy steps needs held-out data");
    g_free(yaml);
    yaml = g_strconcat(base, "finetuning_type: full\nuse_rslora: true\n", NULL);
    expect_check_error(yaml, "apply to finetuning_type lora, not full");
    g_free(yaml);
    yaml = g_strconcat(base, "mask_history: true\ntrain_on_prompt: true\n", NULL);
    expect_check_error(yaml, "mask_history and train_on_prompt cannot both be on");
    g_free(yaml);
    yaml = g_strconcat(base, "quantization_bit: 4\n", NULL);
    expect_check_error(yaml, "quantization_bit 4 (QLoRA) is not built yet");
    g_free(yaml);
    expect_check_error("output_dir: o\n", "model_name_or_path is required");
    expect_check_error("model_name_or_path: m\ndo_train: true\n", "output_dir is required");
    expect_check_error("model_name_or_path: m\noutput_dir: o\ndataset: d\n",
                       "do_train is false");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/train_args/upstream-example", test_upstream_example);
    g_test_add_func("/engine/train_args/bad-input", test_bad_input);
    g_test_add_func("/reference/train_args/defaults", test_defaults_against_upstream);
    return g_test_run();
}
