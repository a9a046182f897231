/* `hone score` on the real SmolLM2-135M-Instruct GGUF against transformers on the same
 * weights, and with PEFT LoRA and DoRA adapters against PeftModel (tests/reference/
 * score_ref.py): the same token ids, each log-probability within 2e-3 (absolute, nats) and the
 * mean loss within 1e-4 relative; plus windows and usage errors. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "test_util.h"

/* Runs `hone score` with extra_args on each text of DIR/expected_name and compares. */
static void check_cases(const char *dir, const char *expected_name, const char *extra_args)
{
    char *path = g_build_filename(dir, expected_name, NULL);
    cJSON *cases = test_load_json(path);
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *text_path = g_build_filename(dir, "text.txt", NULL);
    const cJSON *c;
    double worst = 0;
    cJSON_ArrayForEach(c, cases)
    {
        test_write_text(text_path, cJSON_GetObjectItem(c, "text")->valuestring);
        char *command = g_strdup_printf("'%s' score --model '%s' %s < '%s'", g_getenv("HONE_BIN"),
                                        model, extra_args, text_path);
        char *argv[] = {"sh", "-c", command, NULL};
        char *out = NULL, *err = NULL;
        if (test_run(argv, &out, &err) != 0)
            g_error("%s failed: %s", command, err);
        cJSON *got = cJSON_Parse(out);
        g_assert_nonnull(got);
        const cJSON *want_ids = cJSON_GetObjectItem(c, "ids");
        const cJSON *got_ids = cJSON_GetObjectItem(got, "ids");
        int n = cJSON_GetArraySize(want_ids);
        g_assert_cmpint(cJSON_GetArraySize(got_ids), ==, n);
        const cJSON *want_lp = cJSON_GetObjectItem(c, "logprobs");
        const cJSON *got_lp = cJSON_GetObjectItem(got, "logprobs");
        for (int i = 0; i < n; i++) {
            g_assert_cmpint(cJSON_GetArrayItem(got_ids, i)->valueint, ==,
                            cJSON_GetArrayItem(want_ids, i)->valueint);
            const cJSON *w = cJSON_GetArrayItem(want_lp, i), *g = cJSON_GetArrayItem(got_lp, i);
            if (cJSON_IsNull(w)) {
                g_assert_true(cJSON_IsNull(g));
                continue;
            }
            double diff = fabs(g->valuedouble - w->valuedouble);
            worst = fmax(worst, diff);
            if (!(diff <= 2e-3))
                g_error("%s token %d of \"%s\": log-probability %.6f, reference %.6f",
                        expected_name, i, cJSON_GetObjectItem(c, "text")->valuestring,
                        g->valuedouble, w->valuedouble);
        }
        double loss = cJSON_GetObjectItem(got, "loss")->valuedouble;
        double want_loss = cJSON_GetObjectItem(c, "loss")->valuedouble;
        g_assert_cmpfloat(fabs(loss - want_loss), <=, 1e-4 * want_loss);
        g_assert_cmpfloat(fabs(cJSON_GetObjectItem(got, "perplexity")->valuedouble - exp(loss)),
                          <=, 1e-9 * exp(loss));
        g_test_message("%s: loss %.6f (reference %.6f) over %d tokens", expected_name, loss,
                       want_loss, n);
        cJSON_Delete(got);
        g_free(out);
        g_free(err);
        g_free(command);
    }
    g_test_message("%s: worst log-probability difference %.2g nats", expected_name, worst);
    g_free(text_path);
    g_free(model);
    cJSON_Delete(cases);
    g_free(path);
}

/* Without an adapter against transformers, with a PEFT adapter (LoRA, DoRA) against
 * PeftModel. */
static void test_against_transformers(void)
{
    char *dir = test_write_reference("score_ref.py");
    check_cases(dir, "expected.json", "");
    char *adapter = g_strdup_printf("--adapter '%s/adapter'", dir);
    check_cases(dir, "expected_adapter.json", adapter);
    g_free(adapter);
    adapter = g_strdup_printf("--adapter '%s/adapter_dora'", dir);
    check_cases(dir, "expected_adapter_dora.json", adapter);
    g_free(adapter);
    test_remove_tree(dir);
    g_free(dir);
}

/* Windows: a text longer than --max-length is scored in pieces, each first token unscored. */
static void test_windows_and_errors(void)
{
    char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *dir = test_make_tmpdir();
    char *text_path = g_build_filename(dir, "text.txt", NULL);
    test_write_text(text_path, "one two three four five six seven eight nine ten");
    char *command = g_strdup_printf("'%s' score -m '%s' --max-length 4 < '%s'",
                                    g_getenv("HONE_BIN"), model, text_path);
    char *argv[] = {"sh", "-c", command, NULL};
    char *out = NULL, *err = NULL;
    g_assert_cmpint(test_run(argv, &out, &err), ==, 0);
    cJSON *got = cJSON_Parse(out);
    int n = cJSON_GetObjectItem(got, "tokens")->valueint;
    g_assert_cmpint(n, ==, 10);
    g_assert_cmpint(cJSON_GetObjectItem(got, "scored")->valueint, ==, n - 3); /* 3 windows */
    const cJSON *lp = cJSON_GetObjectItem(got, "logprobs");
    for (int i = 0; i < n; i++)
        g_assert_true(cJSON_IsNull(cJSON_GetArrayItem(lp, i)) == (i % 4 == 0));
    cJSON_Delete(got);
    g_free(out);
    g_free(err);
    g_free(command);

    char *with_model = g_strdup_printf("-m '%s'", model);
    const struct {
        const char *args, *expect;
    } bad[] = {
        {"", "--model PATH is required"},
        {"-m /nonexistent", "/nonexistent"},
        {"--reward", "has no value_head.safetensors: a reward model is what a stage rm run"},
        {"--template chatml", "--template is for --reward"},
        {"--adapter /nonexistent", "adapter_config.json"},
        {"", "no text to score"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        bool model_given = i >= 2; /* the first two name no model or a missing one */
        command = g_strdup_printf("'%s' score %s %s < /dev/null", g_getenv("HONE_BIN"),
                                  model_given ? with_model : "", bad[i].args);
        char *args[] = {"sh", "-c", command, NULL};
        g_assert_cmpint(test_run(args, &out, &err), !=, 0);
        test_assert_contains(err, bad[i].expect);
        g_assert_cmpstr(out, ==, "");
        g_free(out);
        g_free(err);
        g_free(command);
    }
    g_free(with_model);
    test_remove_tree(dir);
    g_free(dir);
    g_free(text_path);
    g_free(model);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/app/score/windows-and-errors", test_windows_and_errors);
    g_test_add_func("/reference/score/transformers", test_against_transformers);
    return g_test_run();
}
