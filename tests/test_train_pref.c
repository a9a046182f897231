/* The preference stages end to end on the real SmolLM2-135M-Instruct GGUF with the demo sets
 * Hone ships: a DPO LoRA run on dpo_en_demo raises rewards/accuracies above 0.5 and its
 * chosen-rejected margin grows; a reward model (stage rm) writes value_head.safetensors and
 * `hone score --reward` scores a conversation with it, better for a good answer than for a
 * rude one after training; a KTO run logs its KL and rewards. Also the stages' bad input. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "test_util.h"

static char *run_ok(const char *command)
{
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    char *out = NULL, *err = NULL;
    if (test_run(argv, &out, &err) != 0)
        g_error("%s\n%s%s", command, out, err);
    g_free(err);
    return out;
}

/* `hone train` on the GGUF with the demo data folder and extra keys. */
static char *train(const char *output, const char *keys)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *command = g_strdup_printf(
        "'%s' train --model_name_or_path '%s' --do_train true --finetuning_type lora "
        "--dataset_dir '%s/data' --template chatml --output_dir '%s' --logging_steps 1 %s",
        g_getenv("HONE_BIN"), model, g_getenv("HONE_SOURCE_DIR"), output, keys);
    char *out = run_ok(command);
    g_free(command);
    g_free(model);
    return out;
}

/* trainer_log.jsonl's lines that have `key`, as an array of their values. */
static GArray *log_values(const char *output, const char *key)
{
    char *path = g_build_filename(output, "trainer_log.jsonl", NULL);
    GBytes *log = test_read_file(path);
    char **lines = g_strsplit(g_bytes_get_data(log, NULL), "\n", -1);
    GArray *values = g_array_new(FALSE, FALSE, sizeof(double));
    for (char **line = lines; *line != NULL && **line != '\0'; line++) {
        cJSON *entry = cJSON_Parse(*line);
        const cJSON *item = cJSON_GetObjectItem(entry, key);
        if (cJSON_IsNumber(item)) {
            double v = item->valuedouble;
            g_assert_true(isfinite(v));
            g_array_append_val(values, v);
        }
        cJSON_Delete(entry);
    }
    g_strfreev(lines);
    g_bytes_unref(log);
    g_free(path);
    return values;
}

/* The values of `key` in trainer_state.json's log_history. */
static GArray *state_values(const char *output, const char *key)
{
    char *path = g_build_filename(output, "trainer_state.json", NULL);
    cJSON *state = test_load_json(path);
    GArray *values = g_array_new(FALSE, FALSE, sizeof(double));
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItem(state, "log_history"))
    {
        const cJSON *item = cJSON_GetObjectItem(entry, key);
        if (cJSON_IsNumber(item))
            g_array_append_val(values, item->valuedouble);
    }
    cJSON_Delete(state);
    g_free(path);
    return values;
}

static void assert_file(const char *dir, const char *name)
{
    char *path = g_build_filename(dir, name, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        g_error("%s is missing", path);
    g_free(path);
}

static double mean_of_last(const GArray *values, guint n)
{
    double sum = 0;
    for (guint i = values->len - n; i < values->len; i++)
        sum += g_array_index(values, double, i);
    return sum / n;
}

static void test_dpo_lora(void)
{
    char *dir = test_make_tmpdir();
    char *output = g_build_filename(dir, "dpo", NULL);
    char *out = train(output, "--stage dpo --dataset dpo_en_demo --cutoff_len 128 "
                              "--per_device_train_batch_size 2 --max_steps 8 "
                              "--learning_rate 1e-3 --lora_rank 8 --plot_loss true");
    test_assert_contains(out, "rewards/accuracies");
    const char *files[] = {"adapter_config.json", "adapter_model.safetensors",
                           "trainer_state.json", "training_loss.png",
                           "training_rewards_accuracies.png"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
        assert_file(output, files[i]);
    GArray *loss = log_values(output, "loss"), *accuracy = log_values(output, "accuracy");
    GArray *margins = state_values(output, "rewards/margins");
    GArray *chosen = state_values(output, "rewards/chosen");
    g_assert_cmpuint(loss->len, ==, 8);
    g_assert_cmpuint(accuracy->len, ==, 8);
    g_assert_cmpuint(margins->len, ==, 8);
    g_assert_cmpuint(chosen->len, ==, 8);
    /* step 1: the policy is the reference: loss log 2, every reward 0 */
    g_assert_cmpfloat(fabs(g_array_index(loss, double, 0) - log(2.0)), <, 1e-6);
    g_assert_cmpfloat(fabs(g_array_index(margins, double, 0)), <, 1e-9);
    double late_accuracy = mean_of_last(accuracy, 4), late_margin = mean_of_last(margins, 4);
    g_test_message("dpo: accuracy over the last 4 steps %.3f, margin %.4f, last loss %.4f",
                   late_accuracy, late_margin, g_array_index(loss, double, 7));
    g_assert_cmpfloat(late_accuracy, >, 0.5);
    g_assert_cmpfloat(late_margin, >, 0.01);
    g_assert_cmpfloat(mean_of_last(loss, 4), <, log(2.0));
    g_array_unref(loss);
    g_array_unref(accuracy);
    g_array_unref(margins);
    g_array_unref(chosen);
    g_free(out);
    test_remove_tree(dir);
    g_free(output);
    g_free(dir);
}

/* `hone score --reward` on one conversation, with the reward model adapter (NULL: model is the
 * reward model folder itself). */
static double reward_from(const char *model, const char *adapter, const char *answer)
{
    char *conversation = g_strdup_printf(
        "[{\"role\": \"user\", \"content\": \"Can you tell me what the capital of France "
        "is?\"}, {\"role\": \"assistant\", \"content\": \"%s\"}]", answer);
    char *adapter_arg = adapter != NULL ? g_strdup_printf("--adapter '%s'", adapter) : g_strdup("");
    char *command = g_strdup_printf("printf '%%s' '%s' | '%s' score --reward --model '%s' %s "
                                    "--template chatml", conversation, g_getenv("HONE_BIN"),
                                    model, adapter_arg);
    g_free(adapter_arg);
    char *out = run_ok(command);
    cJSON *result = cJSON_Parse(out);
    g_assert_nonnull(result);
    double reward = cJSON_GetObjectItem(result, "reward")->valuedouble;
    g_assert_true(isfinite(reward));
    cJSON_Delete(result);
    g_free(out);
    g_free(command);
    g_free(conversation);
    return reward;
}

static double reward_of(const char *adapter, const char *answer)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    double reward = reward_from(model, adapter, answer);
    g_free(model);
    return reward;
}

/* A full rm run from the GGUF: model.safetensors without the head, value_head.safetensors
 * beside it, and the tokenizer files written from the GGUF, so the folder scores on its own. */
static void test_rm_full_folder(void)
{
    char *dir = test_make_tmpdir();
    char *output = g_build_filename(dir, "rm-full", NULL);
    char *out = train(output, "--stage rm --finetuning_type full --dataset dpo_en_demo "
                              "--cutoff_len 48 --max_samples 2 --per_device_train_batch_size 2 "
                              "--max_steps 1 --learning_rate 1e-5");
    const char *files[] = {"model.safetensors", "config.json", "value_head.safetensors",
                           "tokenizer.json", "tokenizer_config.json"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
        assert_file(output, files[i]);
    char *weights = g_build_filename(output, "model.safetensors", NULL);
    GBytes *bytes = test_read_file(weights);
    g_assert_null(g_strstr_len(g_bytes_get_data(bytes, NULL), 4096, "v_head"));
    double reward = reward_from(output, NULL, "The capital of France is Paris.");
    g_test_message("rm full: the output folder scores %.4f", reward);
    g_bytes_unref(bytes);
    g_free(weights);
    g_free(out);
    test_remove_tree(dir);
    g_free(output);
    g_free(dir);
}

static void test_rm_lora_and_score(void)
{
    char *dir = test_make_tmpdir();
    char *output = g_build_filename(dir, "rm", NULL);
    char *out = train(output, "--stage rm --dataset dpo_en_demo --cutoff_len 128 "
                              "--per_device_train_batch_size 4 --max_steps 6 "
                              "--learning_rate 1e-3 --val_size 6 --eval_strategy steps "
                              "--eval_steps 6 --plot_loss true");
    test_assert_contains(out, "eval_accuracy");
    assert_file(output, "value_head.safetensors");
    assert_file(output, "adapter_model.safetensors");
    assert_file(output, "training_eval_accuracy.png");
    char *head_path = g_build_filename(output, "value_head.safetensors", NULL);
    char *checkpoint_head = g_build_filename(output, "checkpoint-6", "value_head.safetensors",
                                             NULL);
    g_assert_true(g_file_test(checkpoint_head, G_FILE_TEST_IS_REGULAR));
    GArray *eval_accuracy = state_values(output, "eval_accuracy");
    g_assert_cmpuint(eval_accuracy->len, ==, 1);
    GArray *loss = log_values(output, "loss");
    g_test_message("rm: losses %.4f -> %.4f, eval accuracy %.3f", g_array_index(loss, double, 0),
                   g_array_index(loss, double, loss->len - 1),
                   g_array_index(eval_accuracy, double, 0));
    g_assert_cmpfloat(mean_of_last(loss, 3), <, g_array_index(loss, double, 0));
    double good = reward_of(output, "The capital of France is Paris.");
    double rude = reward_of(output, "Look it up yourself, I am not your search engine.");
    g_test_message("rm: reward of a good answer %.4f, of a rude one %.4f", good, rude);
    g_assert_cmpfloat(good, >, rude);
    g_assert_cmpfloat(reward_of(output, "The capital of France is Paris."), ==, good);
    g_array_unref(loss);
    g_array_unref(eval_accuracy);
    g_free(checkpoint_head);
    g_free(head_path);
    g_free(out);
    test_remove_tree(dir);
    g_free(output);
    g_free(dir);
}

static void test_kto_lora(void)
{
    char *dir = test_make_tmpdir();
    char *output = g_build_filename(dir, "kto", NULL);
    char *out = train(output, "--stage kto --dataset kto_en_demo --cutoff_len 128 "
                              "--per_device_train_batch_size 4 --max_steps 3 "
                              "--learning_rate 5e-4 --plot_loss true");
    test_assert_contains(out, "kl ");
    assert_file(output, "training_rewards_chosen.png");
    GArray *loss = log_values(output, "loss"), *kl = state_values(output, "kl");
    GArray *chosen = state_values(output, "rewards/chosen");
    g_assert_cmpuint(loss->len, ==, 3);
    g_assert_cmpuint(kl->len, ==, 3);
    g_assert_cmpuint(chosen->len, ==, 3);
    /* step 1: policy = reference, KL estimate 0, every example's loss 1 - sigmoid(0) */
    g_assert_cmpfloat(fabs(g_array_index(loss, double, 0) - 0.5), <, 1e-6);
    g_assert_cmpfloat(g_array_index(kl, double, 0), ==, 0);
    for (guint i = 0; i < kl->len; i++)
        g_assert_cmpfloat(g_array_index(kl, double, i), >=, 0);
    g_array_unref(loss);
    g_array_unref(kl);
    g_array_unref(chosen);
    g_free(out);
    test_remove_tree(dir);
    g_free(output);
    g_free(dir);
}

/* orpo reads no reference: a ref_model given is ignored, and the run says so. */
static void test_orpo_ignores_ref_model(void)
{
    char *dir = test_make_tmpdir();
    char *output = g_build_filename(dir, "orpo", NULL);
    char *out = train(output, "--stage dpo --pref_loss orpo --ref_model /nonexistent/model "
                              "--dataset dpo_en_demo --cutoff_len 48 --max_samples 2 "
                              "--per_device_train_batch_size 2 --max_steps 1");
    test_assert_contains(out, "ref_model is ignored: pref_loss orpo and simpo use no reference");
    assert_file(output, "adapter_model.safetensors");
    g_free(out);
    test_remove_tree(dir);
    g_free(output);
    g_free(dir);
}

/* Bad input: the messages name what is wrong. */
static void test_errors(void)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    const struct {
        const char *keys, *expect;
    } cases[] = {
        {"--stage dpo --dataset identity", "not applicable"},
        {"--stage sft --dataset dpo_en_demo", "dpo_en_demo"},
        {"--stage dpo --dataset dpo_en_demo --pref_beta 0", "pref_beta 0: expected a number "
                                                            "above 0"},
        {"--stage dpo --dataset dpo_en_demo --packing true", "packing: stages rm, dpo and kto"},
        {"--stage kto --dataset dpo_en_demo", "dpo_en_demo"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *command = g_strdup_printf(
            "'%s' train --model_name_or_path '%s' --do_train true --output_dir /nonexistent/x "
            "--dataset_dir '%s/data' --template chatml %s", g_getenv("HONE_BIN"), model,
            g_getenv("HONE_SOURCE_DIR"), cases[i].keys);
        char *argv[] = {"sh", "-c", command, NULL};
        char *out = NULL, *err = NULL;
        g_assert_cmpint(test_run(argv, &out, &err), !=, 0);
        if (strstr(err, cases[i].expect) == NULL)
            g_error("%s: expected \"%s\" in:\n%s", cases[i].keys, cases[i].expect, err);
        g_free(out);
        g_free(err);
        g_free(command);
    }
    /* a reward without a reward model */
    char *command = g_strdup_printf("echo '[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":"
                                    "\"assistant\",\"content\":\"hello\"}]' | '%s' score "
                                    "--reward --model '%s'", g_getenv("HONE_BIN"), model);
    char *argv[] = {"sh", "-c", command, NULL};
    char *out = NULL, *err = NULL;
    g_assert_cmpint(test_run(argv, &out, &err), !=, 0);
    test_assert_contains(err, "has no value_head.safetensors");
    g_free(out);
    g_free(err);
    g_free(command);
    g_free(model);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reference/train_pref/errors", test_errors);
    g_test_add_func("/reference/train_pref/orpo_ignores_ref_model", test_orpo_ignores_ref_model);
    g_test_add_func("/reference/train_pref/dpo_lora", test_dpo_lora);
    g_test_add_func("/reference/train_pref/rm_lora_and_score", test_rm_lora_and_score);
    g_test_add_func("/reference/train_pref/rm_full_folder", test_rm_full_folder);
    g_test_add_func("/reference/train_pref/kto_lora", test_kto_lora);
    return g_test_run();
}
