/* `hone train` end to end on the real SmolLM2-135M-Instruct GGUF with the identity dataset
 * Hone ships: a short LoRA sft run writes LLaMA-Factory's output files, its log has a line per
 * step with finite losses, and PEFT loads the adapter it wrote onto transformers' model with
 * log-probabilities equal to `hone score --adapter` within 2e-3 nats
 * (tests/reference/adapter_logits_ref.py). Also its usage errors. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "test_util.h"

static int run_shell(const char *command, char **out, char **err)
{
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    return test_run(argv, out, err);
}

static void test_lora_run(void)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *dir = test_make_tmpdir();
    char *output = g_build_filename(dir, "run", NULL);
    char *command = g_strdup_printf(
        "'%s' train --model_name_or_path '%s' --do_train true --stage sft "
        "--finetuning_type lora --lora_rank 4 --dataset identity --dataset_dir '%s/data' "
        "--template chatml --cutoff_len 64 --max_samples 8 --output_dir '%s' "
        "--per_device_train_batch_size 2 --gradient_accumulation_steps 2 --learning_rate 1e-3 "
        "--num_train_epochs 1 --logging_steps 1 --plot_loss true",
        g_getenv("HONE_BIN"), model, g_getenv("HONE_SOURCE_DIR"), output);
    char *out = NULL, *err = NULL;
    if (run_shell(command, &out, &err) != 0)
        g_error("%s\n%s%s", command, out, err);
    test_assert_contains(out, "hone train: 8 examples, 2 optimizer steps; training ");
    test_assert_contains(out, "step 2/2  loss ");
    const char *files[] = {"adapter_config.json", "adapter_model.safetensors",
                           "trainer_log.jsonl", "training_args.yaml", "trainer_state.json",
                           "train_results.json", "all_results.json", "training_loss.png"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = g_build_filename(output, files[i], NULL);
        g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
        g_free(path);
    }
    char *log_path = g_build_filename(output, "trainer_log.jsonl", NULL);
    GBytes *log = test_read_file(log_path);
    char **lines = g_strsplit(g_bytes_get_data(log, NULL), "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 3); /* two lines and the empty end */
    for (int i = 0; i < 2; i++) {
        cJSON *line = cJSON_Parse(lines[i]);
        g_assert_cmpint(cJSON_GetObjectItem(line, "current_steps")->valueint, ==, i + 1);
        g_assert_true(isfinite(cJSON_GetObjectItem(line, "loss")->valuedouble));
        g_assert_cmpfloat(cJSON_GetObjectItem(line, "loss")->valuedouble, >, 0);
        cJSON_Delete(line);
    }
    g_strfreev(lines);
    g_bytes_unref(log);

    /* the same command again resumes from the final checkpoint: nothing left to train */
    char *last = g_build_filename(output, "checkpoint-2", "hone_state.json", NULL);
    g_assert_true(g_file_test(last, G_FILE_TEST_IS_REGULAR));
    g_free(last);
    g_free(out);
    g_free(err);
    if (run_shell(command, &out, &err) != 0)
        g_error("%s\n%s%s", command, out, err);
    test_assert_contains(out, "resuming from ");

    /* PEFT reads Hone's adapter and agrees with hone score --adapter */
    const char *text = "Who are you? I am an assistant.";
    const char *args[] = {"write", g_getenv("HONE_MODELS"), dir, output, text, NULL};
    test_run_reference_args("adapter_logits_ref.py", args);
    char *expected_path = g_build_filename(dir, "expected.json", NULL);
    cJSON *expected = test_load_json(expected_path);
    char *text_path = g_build_filename(dir, "text.txt", NULL);
    test_write_text(text_path, text);
    char *score = g_strdup_printf("'%s' score -m '%s' --adapter '%s' < '%s'", g_getenv("HONE_BIN"),
                                  model, output, text_path);
    g_free(out);
    g_free(err);
    g_assert_cmpint(run_shell(score, &out, &err), ==, 0);
    cJSON *got = cJSON_Parse(out);
    const cJSON *want_lp = cJSON_GetObjectItem(expected, "logprobs");
    const cJSON *got_lp = cJSON_GetObjectItem(got, "logprobs");
    g_assert_cmpint(cJSON_GetArraySize(got_lp), ==, cJSON_GetArraySize(want_lp));
    double worst = 0;
    for (int i = 1; i < cJSON_GetArraySize(want_lp); i++)
        worst = fmax(worst, fabs(cJSON_GetArrayItem(got_lp, i)->valuedouble -
                                 cJSON_GetArrayItem(want_lp, i)->valuedouble));
    g_test_message("trained adapter in PEFT vs Hone: worst log-probability difference %.2g", worst);
    g_assert_cmpfloat(worst, <=, 2e-3);
    cJSON_Delete(got);
    cJSON_Delete(expected);
    g_free(score);
    g_free(text_path);
    g_free(expected_path);
    g_free(log_path);
    g_free(out);
    g_free(err);
    g_free(command);
    test_remove_tree(dir);
    g_free(dir);
    g_free(output);
    g_free(model);
}

/* Two optimizer steps of a run given as extra arguments, run twice (the second time its data
 * comes from the cache); its trainer_state.json has `entries` log_history entries. */
static void run_two_steps(const char *extra, int entries)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *dir = test_make_tmpdir();
    char *command = g_strdup_printf(  /* a cache of its own (XDG_CACHE_HOME), empty at first */
        "XDG_CACHE_HOME='%s/cache' '%s' train --model_name_or_path '%s' --do_train true "
        "--finetuning_type lora --lora_rank 4 --dataset_dir '%s/data' --template chatml "
        "--cutoff_len 64 --output_dir '%s/run' --per_device_train_batch_size 2 --max_steps 2 "
        "--learning_rate 1e-3 --logging_steps 1 %s",
        dir, g_getenv("HONE_BIN"), model, g_getenv("HONE_SOURCE_DIR"), dir, extra);
    char *out = NULL, *err = NULL;
    if (run_shell(command, &out, &err) != 0)
        g_error("%s\n%s%s", command, out, err);
    test_assert_contains(out, "step 2/2  loss ");
    test_assert_contains(out, "tokenized now");
    g_free(out);
    g_free(err);
    /* the same data again comes from the tokenized-data cache */
    char *again = g_strdup_printf("%s --overwrite_output_dir true", command);
    if (run_shell(again, &out, &err) != 0)
        g_error("%s\n%s%s", again, out, err);
    test_assert_contains(out, "tokenized earlier, from the cache");
    char *state_path = g_strdup_printf("%s/run/trainer_state.json", dir);
    cJSON *state = test_load_json(state_path);
    const cJSON *history = cJSON_GetObjectItem(state, "log_history");
    g_assert_cmpint(cJSON_GetArraySize(history), ==, entries);
    for (int i = 0; i < entries - 1; i++) { /* logs (and evaluations), then the end */
        const cJSON *entry = cJSON_GetArrayItem(history, i);
        const cJSON *loss = cJSON_GetObjectItem(entry, "loss");
        if (loss == NULL)
            loss = cJSON_GetObjectItem(entry, "eval_loss");
        g_assert_true(isfinite(loss->valuedouble) && loss->valuedouble > 0);
    }
    cJSON_Delete(state);
    g_free(state_path);
    g_free(again);
    g_free(out);
    g_free(err);
    g_free(command);
    test_remove_tree(dir);
    g_free(dir);
    g_free(model);
}

/* Stage pt on plain text, packed into blocks (upstream's default for pt). */
static void test_pt_run(void)
{
    run_two_steps("--stage pt --dataset c4_demo", 3); /* two logs and the end */
}

/* sft with neat_packing (several examples per row, attention kept inside each), evaluated on
 * another dataset after step 2. */
static void test_neat_packing_run(void)
{
    run_two_steps("--stage sft --dataset identity --neat_packing true --eval_dataset "
                  "alpaca_en_demo --max_samples 8 --eval_strategy steps --eval_steps 2 "
                  "--per_device_eval_batch_size 4", 4); /* two logs, the evaluation, the end */
}

/* A config in LLaMA-Factory's example style, unchanged (tests/data/llamafactory_lora_sft.yaml:
 * identity + alpaca_en_demo, val_size, eval_strategy steps, bf16, plot_loss, keys Hone
 * ignores), run from the source folder as upstream's examples are; the command line only
 * points it at the local model and a scratch folder and shortens it (2 steps, an evaluation
 * at each, 20 rows of each dataset). */
static void test_upstream_yaml_run(void)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *dir = test_make_tmpdir();
    char *command = g_strdup_printf(
        "cd '%s' && '%s' train tests/data/llamafactory_lora_sft.yaml --model_name_or_path '%s' "
        "--output_dir '%s/run' --max_steps 2 --eval_steps 1 --logging_steps 1 --max_samples 20",
        g_getenv("HONE_SOURCE_DIR"), g_getenv("HONE_BIN"), model, dir);
    char *out = NULL, *err = NULL;
    if (run_shell(command, &out, &err) != 0)
        g_error("%s\n%s%s", command, out, err);
    test_assert_contains(out, "ignoring keys Hone does not use: trust_remote_code, ddp_timeout");
    test_assert_contains(out, "step 2/2  loss ");
    const char *files[] = {"training_loss.png", "training_eval_loss.png", "all_results.json",
                           "checkpoint-2/adapter_model.safetensors"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = g_build_filename(dir, "run", files[i], NULL);
        g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
        g_free(path);
    }
    char *state_path = g_build_filename(dir, "run", "trainer_state.json", NULL);
    cJSON *state = test_load_json(state_path);
    const cJSON *history = cJSON_GetObjectItem(state, "log_history");
    int evals = 0;
    for (int i = 0; i < cJSON_GetArraySize(history); i++) {
        const cJSON *loss = cJSON_GetObjectItem(cJSON_GetArrayItem(history, i), "eval_loss");
        if (loss != NULL) {
            g_assert_true(isfinite(loss->valuedouble) && loss->valuedouble > 0);
            evals++;
        }
    }
    g_assert_cmpint(evals, ==, 2);
    cJSON_Delete(state);
    g_free(state_path);
    g_free(out);
    g_free(err);
    g_free(command);
    test_remove_tree(dir);
    g_free(dir);
    g_free(model);
}

static void test_usage_errors(void)
{
    const struct {
        const char *args, *expect;
        int code;
    } cases[] = {
        {"--lora_rank eight", "lora_rank must be a whole number", 2},
        {"--no_such_key 1", "--no_such_key: not a key hone train reads", 2},
        {"--lora_rank", "--lora_rank needs a value", 2},
        {"/nonexistent.yaml", "/nonexistent.yaml", 1},
        {"--model_name_or_path m --do_train true --dataset identity --output_dir o --stage ppo",
         "stage ppo is not built yet", 1},
        {"--model_name_or_path m --do_train true --dataset identity --output_dir o "
         "--val_size 0.1 --eval_dataset alpaca_en_demo", "val_size and eval_dataset cannot both", 1},
        {"--output_dir o", "model_name_or_path is required", 1},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *command = g_strdup_printf("'%s' train %s", g_getenv("HONE_BIN"), cases[i].args);
        char *out = NULL, *err = NULL;
        g_assert_cmpint(run_shell(command, &out, &err), ==, cases[i].code);
        test_assert_contains(err, cases[i].expect);
        g_free(out);
        g_free(err);
        g_free(command);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/app/train/usage-errors", test_usage_errors);
    g_test_add_func("/reference/train/lora-run", test_lora_run);
    g_test_add_func("/reference/train/pt-run", test_pt_run);
    g_test_add_func("/reference/train/upstream-yaml", test_upstream_yaml_run);
    g_test_add_func("/reference/train/neat-packing-run", test_neat_packing_run);
    return g_test_run();
}
