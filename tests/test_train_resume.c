/* Checkpoints and resuming in `hone train`, end to end on the real SmolLM2-135M-Instruct with
 * LoRA dropout on (so the dropout sequence must be restored too), a held-out eval set and
 * save_total_limit: a run killed with SIGKILL at a random step and started again with the same
 * command ends with an adapter bit-identical to an uninterrupted run's, and the same log
 * (losses, eval losses, rates, norms); Ctrl-C saves a checkpoint, exits with 130, and the
 * same command finishes the run identically too. The same for a DPO run whose log interval
 * (2 steps) straddles its checkpoints (every 3): the metrics' running sums come back too. */
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

static char *train_command(const char *output)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *command = g_strdup_printf(
        "'%s' train --model_name_or_path '%s' --do_train true --stage sft "
        "--finetuning_type lora --lora_rank 4 --lora_dropout 0.1 --dataset identity "
        "--dataset_dir '%s/data' --template chatml --cutoff_len 32 --max_samples 10 "
        "--val_size 0.2 --eval_strategy steps --eval_steps 4 --per_device_eval_batch_size 2 "
        "--output_dir '%s' --per_device_train_batch_size 2 --gradient_accumulation_steps 1 "
        "--learning_rate 1e-3 --num_train_epochs 2 --lr_scheduler_type cosine "
        "--warmup_steps 2 --logging_steps 1 --save_steps 3 --save_total_limit 2",
        g_getenv("HONE_BIN"), model, g_getenv("HONE_SOURCE_DIR"), output);
    g_free(model);
    return command;
}

/* A LoRA DPO run on dpo_en_demo: 10 pairs (2 held out), batch 2, 8 steps. */
static char *dpo_command(const char *output)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *command = g_strdup_printf(
        "'%s' train --model_name_or_path '%s' --do_train true --stage dpo "
        "--finetuning_type lora --lora_rank 4 --lora_dropout 0.1 --dataset dpo_en_demo "
        "--dataset_dir '%s/data' --template chatml --cutoff_len 48 --max_samples 10 "
        "--val_size 2 --eval_strategy steps --eval_steps 4 --per_device_eval_batch_size 2 "
        "--output_dir '%s' --per_device_train_batch_size 2 --learning_rate 1e-3 "
        "--num_train_epochs 2 --logging_steps 2 --save_steps 3",
        g_getenv("HONE_BIN"), model, g_getenv("HONE_SOURCE_DIR"), output);
    g_free(model);
    return command;
}

static void run_to_end(const char *command, const char *expect)
{
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    char *out = NULL, *err = NULL;
    if (test_run(argv, &out, &err) != 0)
        g_error("%s\n%s%s", command, out, err);
    if (expect != NULL)
        test_assert_contains(out, expect);
    g_free(out);
    g_free(err);
}

/* The highest current_steps in output/trainer_log.jsonl so far. */
static int logged_step(const char *output)
{
    char *path = g_build_filename(output, "trainer_log.jsonl", NULL), *text = NULL;
    int step = 0;
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        char **lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l != NULL; l++) {
            cJSON *o = cJSON_Parse(*l);
            const cJSON *at = cJSON_GetObjectItem(o, "current_steps");
            if (cJSON_IsNumber(at))
                step = MAX(step, at->valueint);
            cJSON_Delete(o);
        }
        g_strfreev(lines);
    }
    g_free(text);
    g_free(path);
    return step;
}

/* Starts the command, waits until step `at` is logged, sends sig; returns the wait status. */
static int interrupt_at(const char *command, int at, int sig, const char *output)
{
    char *argv[] = {"sh", "-c", g_strdup_printf("exec %s", command), NULL};
    GPid pid = 0;
    GError *error = NULL;
    if (!g_spawn_async(NULL, argv, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                           G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, &pid, &error))
        g_error("spawn: %s", error->message);
    int status = 0;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            g_error("the run ended before step %d was logged (status %d)", at, status);
        if (logged_step(output) >= at)
            break;
        g_usleep(20000);
    }
    kill(pid, sig);
    waitpid(pid, &status, 0);
    g_free(argv[2]);
    return status;
}

static GBytes *read_output(const char *output, const char *name)
{
    char *path = g_build_filename(output, name, NULL);
    GBytes *bytes = test_read_file(path);
    g_free(path);
    return bytes;
}

/* The log without its wall-clock fields. */
static char *log_values(const char *output)
{
    GBytes *bytes = read_output(output, "trainer_log.jsonl");
    char **lines = g_strsplit(g_bytes_get_data(bytes, NULL), "\n", -1);
    GString *kept = g_string_new(NULL);
    const char *keys[] = {"current_steps", "total_steps", "loss", "eval_loss", "lr", "grad_norm",
                          "epoch", "total_tokens", "accuracy", "eval_accuracy"};
    for (char **l = lines; *l != NULL && **l != '\0'; l++) {
        cJSON *o = cJSON_Parse(*l);
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
            const cJSON *v = cJSON_GetObjectItem(o, keys[k]);
            if (v != NULL)
                g_string_append_printf(kept, "%s=%.17g ", keys[k], v->valuedouble);
        }
        g_string_append_c(kept, '\n');
        cJSON_Delete(o);
    }
    g_strfreev(lines);
    g_bytes_unref(bytes);
    /* the preference stages' metrics, from trainer_state.json's log_history */
    char *path = g_build_filename(output, "trainer_state.json", NULL);
    cJSON *state = test_load_json(path);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItem(state, "log_history"))
    {
        const cJSON *item;
        cJSON_ArrayForEach(item, entry)
        {
            if (strchr(item->string, '/') != NULL) /* rewards/..., logps/... */
                g_string_append_printf(kept, "%s=%.17g ", item->string, item->valuedouble);
        }
    }
    cJSON_Delete(state);
    g_free(path);
    return g_string_free(kept, FALSE);
}

static void assert_same_run(const char *want, const char *got)
{
    GBytes *a = read_output(want, "adapter_model.safetensors");
    GBytes *b = read_output(got, "adapter_model.safetensors");
    g_assert_true(g_bytes_equal(a, b));
    g_bytes_unref(a);
    g_bytes_unref(b);
    char *la = log_values(want), *lb = log_values(got);
    g_assert_cmpstr(la, ==, lb);
    g_free(la);
    g_free(lb);
}

static char *reference_dir;

/* The uninterrupted run: 8 training examples (2 held out), 4 steps an epoch, 8 steps. */
static void test_uninterrupted(void)
{
    char *output = g_build_filename(reference_dir, "whole", NULL);
    char *command = train_command(output);
    run_to_end(command, "hone train: 8 examples, 8 optimizer steps");
    char *log = log_values(output);
    g_test_message("%s", log);
    /* 8 training lines and evaluations at steps 4 and 8 */
    char **lines = g_strsplit(log, "\n", -1);
    g_assert_cmpint((int)g_strv_length(lines), ==, 11);
    g_strfreev(lines);
    const char *evals[] = {"current_steps=4 total_steps=8 eval_loss=",
                           "current_steps=8 total_steps=8 eval_loss="};
    for (size_t i = 0; i < G_N_ELEMENTS(evals); i++)
        test_assert_contains(log, evals[i]);
    g_assert_null(strstr(log, "eval_loss=nan"));
    /* save_total_limit 2 of checkpoints 3, 6, 8 */
    const char *kept[] = {"checkpoint-6", "checkpoint-8"}, *gone[] = {"checkpoint-3"};
    for (size_t i = 0; i < G_N_ELEMENTS(gone); i++) {
        char *g = g_build_filename(output, gone[i], NULL);
        g_assert_false(g_file_test(g, G_FILE_TEST_EXISTS));
        g_free(g);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(kept); i++) {
        char *k = g_build_filename(output, kept[i], "optimizer.safetensors", NULL);
        g_assert_true(g_file_test(k, G_FILE_TEST_IS_REGULAR));
        g_free(k);
    }
    /* the final checkpoint's adapter is the output's */
    char *final = g_build_filename(output, "checkpoint-8", NULL);
    GBytes *a = read_output(output, "adapter_model.safetensors");
    GBytes *b = read_output(final, "adapter_model.safetensors");
    g_assert_true(g_bytes_equal(a, b));
    g_bytes_unref(a);
    g_bytes_unref(b);
    g_free(final);
    g_free(log);
    g_free(command);
    g_free(output);
}

static void test_kill_and_resume(void)
{
    char *whole = g_build_filename(reference_dir, "whole", NULL);
    char *output = g_build_filename(reference_dir, "killed", NULL);
    char *command = train_command(output);
    int at = g_test_rand_int_range(4, 8); /* after checkpoint-3 at least, before the end */
    g_test_message("SIGKILL after step %d", at);
    int status = interrupt_at(command, at, SIGKILL, output);
    g_assert_true(WIFSIGNALED(status));
    run_to_end(command, "hone train: resuming from ");
    assert_same_run(whole, output);
    g_free(command);
    g_free(output);
    g_free(whole);
}

static void test_ctrl_c_and_resume(void)
{
    char *whole = g_build_filename(reference_dir, "whole", NULL);
    char *output = g_build_filename(reference_dir, "stopped", NULL);
    char *command = train_command(output);
    int status = interrupt_at(command, 2, SIGINT, output);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 130);
    int step = logged_step(output); /* the step it stopped after has its checkpoint */
    char *name = g_strdup_printf("checkpoint-%d", step);
    char *state = g_build_filename(output, name, "hone_state.json", NULL);
    g_assert_true(g_file_test(state, G_FILE_TEST_IS_REGULAR));
    run_to_end(command, "hone train: resuming from ");
    assert_same_run(whole, output);
    g_free(state);
    g_free(name);
    g_free(command);
    g_free(output);
    g_free(whole);
}

/* DPO: stopped with Ctrl-C after step 3 (a checkpoint whose log sums hold step 3's metrics),
 * then resumed, equals the uninterrupted run. */
static void test_dpo_ctrl_c_and_resume(void)
{
    char *whole = g_build_filename(reference_dir, "dpo-whole", NULL);
    char *output = g_build_filename(reference_dir, "dpo-stopped", NULL);
    char *command = dpo_command(whole);
    run_to_end(command, "hone train: 8 examples, 8 optimizer steps");
    char *log = log_values(whole);
    test_assert_contains(log, "rewards/margins=");
    test_assert_contains(log, "eval_rewards/accuracies=");
    g_free(log);
    g_free(command);
    command = dpo_command(output);
    int status = interrupt_at(command, 2, SIGINT, output);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 130);
    run_to_end(command, "hone train: resuming from ");
    assert_same_run(whole, output);
    g_free(command);
    g_free(output);
    g_free(whole);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    reference_dir = test_make_tmpdir();
    g_test_add_func("/train/resume/uninterrupted", test_uninterrupted);
    g_test_add_func("/train/resume/kill-9", test_kill_and_resume);
    g_test_add_func("/train/resume/ctrl-c", test_ctrl_c_and_resume);
    g_test_add_func("/train/resume/dpo-ctrl-c", test_dpo_ctrl_c_and_resume);
    int rc = g_test_run();
    test_remove_tree(reference_dir);
    g_free(reference_dir);
    return rc;
}
