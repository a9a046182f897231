/* hone eval end to end on SmolLM2-135M-Instruct (GGUF) against LLaMA-Factory's own evaluation
 * and prediction (tests/reference/eval_ref.py: get_dataset, CustomSeq2SeqTrainer.evaluate /
 * predict / save_predictions, ComputeSimilarity): eval_alpaca_en_demo, 3 examples, template
 * chatml, eval batches of 2 (a partial last batch), greedy generation of at most 16 tokens.
 * Checked: eval_loss within 1e-4 of Trainer.evaluate's (float32 there) and eval_perplexity its
 * exp; generated_predictions.jsonl equal line for line (prompt, predict, label); the
 * prediction metrics within 1e-9 (the texts are the same, and the test checks that Hone
 * splits every one of them into the words jieba.cut gives); the metric files hold upstream's
 * keys (eval adds eval_perplexity). Then bad input: the messages and that nothing is written. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "metric_segment.h"
#include "test_util.h"

static char *reference_dir, *model_path;

static int run_eval(const char *args, char **out, char **err)
{
    char *command = g_strdup_printf("XDG_CACHE_HOME='%s/cache' '%s' eval %s", reference_dir,
                                    g_getenv("HONE_BIN"), args);
    char *argv[] = {"sh", "-c", command, NULL};
    int status = test_run(argv, out, err);
    g_free(command);
    return status;
}

static cJSON *load(const char *dir, const char *name)
{
    char *path = g_build_filename(dir, name, NULL);
    cJSON *json = test_load_json(path);
    g_free(path);
    return json;
}

/* The keys of object, sorted, joined by spaces. */
static int compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *keys_of(const cJSON *object)
{
    GPtrArray *keys = g_ptr_array_new();
    for (const cJSON *c = object->child; c != NULL; c = c->next)
        g_ptr_array_add(keys, c->string);
    g_ptr_array_sort(keys, compare_strings);
    g_ptr_array_add(keys, NULL);
    char *joined = g_strjoinv(" ", (char **)keys->pdata);
    g_ptr_array_free(keys, TRUE);
    return joined;
}

static double number(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    if (!cJSON_IsNumber(item))
        g_error("no number %s", key);
    return item->valuedouble;
}

static void check_segments(void)
{
    char *dir = g_build_filename(reference_dir, "predict", NULL);
    cJSON *segments = load(dir, "segments.json");
    int n = 0;
    for (const cJSON *s = segments->child; s != NULL; s = s->next, n++) {
        GPtrArray *got = hn_segment_words(cJSON_GetObjectItem(s, "text")->valuestring);
        const cJSON *want = cJSON_GetObjectItem(s, "words");
        g_assert_cmpint(got->len, ==, cJSON_GetArraySize(want));
        guint i = 0;
        for (const cJSON *w = want->child; w != NULL; w = w->next, i++)
            g_assert_cmpstr(g_ptr_array_index(got, i), ==, w->valuestring);
        g_ptr_array_unref(got);
    }
    g_assert_cmpint(n, ==, 6);
    cJSON_Delete(segments);
    g_free(dir);
}

static void test_end_to_end(void)
{
    char *out_dir = g_build_filename(reference_dir, "hone", NULL);
    char *config = g_build_filename(reference_dir, "eval.yaml", NULL);
    char *yaml = g_strdup_printf(
        "model_name_or_path: %s\ntemplate: chatml\neval_dataset: alpaca_en_demo\n"
        "dataset_dir: %s/data\nmax_samples: 3\ndo_eval: true\ndo_predict: true\n"
        "predict_with_generate: true\ndo_sample: false\nmax_new_tokens: 16\n"
        "per_device_eval_batch_size: 2\noutput_dir: %s\nreport_to: none\n", model_path,
        g_getenv("HONE_SOURCE_DIR"), out_dir);
    test_write_text(config, yaml);
    char *out = NULL, *err = NULL;
    int status = run_eval(config, &out, &err);
    if (status != 0)
        g_error("hone eval: exit %d\n%s\n%s", status, out, err);
    test_assert_contains(out, "ignoring keys Hone does not use: report_to");
    test_assert_contains(err, "predict 3/3 examples");
    test_assert_contains(err, "tokens/s");

    char *ref_eval = g_build_filename(reference_dir, "eval", NULL),
         *ref_predict = g_build_filename(reference_dir, "predict", NULL);
    /* eval */
    cJSON *want = load(ref_eval, "eval_results.json"), *got = load(out_dir, "eval_results.json");
    double loss = number(got, "eval_loss"), want_loss = number(want, "eval_loss");
    g_test_message("eval_loss: Hone %.8f, Trainer.evaluate %.8f", loss, want_loss);
    g_assert_cmpfloat(fabs(loss - want_loss), <=, 1e-4);
    g_assert_cmpfloat(fabs(number(got, "eval_perplexity") - exp(loss)), <=, 1e-12 * exp(loss));
    cJSON_AddNumberToObject(want, "eval_perplexity", 0);
    char *want_keys = keys_of(want), *got_keys = keys_of(got);
    g_assert_cmpstr(got_keys, ==, want_keys);
    g_free(want_keys);
    g_free(got_keys);
    cJSON_Delete(want);
    cJSON_Delete(got);
    /* predict: the metrics and their keys */
    want = load(ref_predict, "predict_results.json");
    got = load(out_dir, "predict_results.json");
    want_keys = keys_of(want);
    got_keys = keys_of(got);
    g_assert_cmpstr(got_keys, ==, want_keys);
    const char *metrics[] = {"predict_bleu-4", "predict_rouge-1", "predict_rouge-2",
                             "predict_rouge-l"};
    for (size_t i = 0; i < G_N_ELEMENTS(metrics); i++) {
        g_test_message("%s: Hone %.6f, upstream %.6f", metrics[i], number(got, metrics[i]),
                       number(want, metrics[i]));
        g_assert_cmpfloat(fabs(number(got, metrics[i]) - number(want, metrics[i])), <=, 1e-9);
    }
    g_assert_cmpfloat(number(got, "predict_bleu-4"), >, 1);
    g_free(want_keys);
    g_free(got_keys);
    cJSON_Delete(want);
    cJSON_Delete(got);
    /* all_results.json holds both phases */
    got = load(out_dir, "all_results.json");
    g_assert_nonnull(cJSON_GetObjectItem(got, "eval_loss"));
    g_assert_nonnull(cJSON_GetObjectItem(got, "predict_rouge-l"));
    cJSON_Delete(got);
    /* the predictions, byte for byte */
    char *want_path = g_build_filename(ref_predict, "generated_predictions.jsonl", NULL),
         *got_path = g_build_filename(out_dir, "generated_predictions.jsonl", NULL);
    GBytes *want_bytes = test_read_file(want_path), *got_bytes = test_read_file(got_path);
    if (!g_bytes_equal(want_bytes, got_bytes))
        g_error("generated_predictions.jsonl differs:\nHone:\n%.*s\nupstream:\n%.*s",
                (int)g_bytes_get_size(got_bytes), (const char *)g_bytes_get_data(got_bytes, NULL),
                (int)g_bytes_get_size(want_bytes),
                (const char *)g_bytes_get_data(want_bytes, NULL));
    g_test_message("generated_predictions.jsonl equals upstream's (%zu bytes)",
                   g_bytes_get_size(got_bytes));
    g_bytes_unref(want_bytes);
    g_bytes_unref(got_bytes);
    g_free(want_path);
    g_free(got_path);
    check_segments();
    g_free(ref_eval);
    g_free(ref_predict);
    g_free(out);
    g_free(err);
    g_free(yaml);
    g_free(config);
    g_free(out_dir);
}

static void expect_error(const char *args, const char *message)
{
    char *out_dir = g_build_filename(reference_dir, "bad", NULL);
    char *full = g_strdup_printf("--model_name_or_path '%s' --template chatml --dataset_dir "
                                 "'%s/data' --output_dir '%s' %s", model_path,
                                 g_getenv("HONE_SOURCE_DIR"), out_dir, args);
    char *out = NULL, *err = NULL;
    int status = run_eval(full, &out, &err);
    if (status == 0)
        g_error("hone eval %s: succeeded, expected \"%s\"", full, message);
    test_assert_contains(err, message);
    g_assert_false(g_file_test(out_dir, G_FILE_TEST_EXISTS));
    g_free(out);
    g_free(err);
    g_free(full);
    g_free(out_dir);
}

static void test_errors(void)
{
    expect_error("--eval_dataset alpaca_en_demo", "neither do_eval nor do_predict is true");
    expect_error("--eval_dataset alpaca_en_demo --do_predict true",
                 "do_predict needs predict_with_generate: true");
    expect_error("--do_eval true", "eval_dataset (or dataset) is required");
    expect_error("--eval_dataset no_such_set --do_eval true", "no_such_set");
    expect_error("--eval_dataset alpaca_en_demo --do_eval true --val_size 0.1",
                 "hone eval does not split a training dataset");
    expect_error("--eval_dataset c4_demo --stage pt --do_predict true "
                 "--predict_with_generate true", "predict_with_generate is for stage sft");
    expect_error("--eval_dataset alpaca_en_demo --do_predict true --predict_with_generate true "
                 "--num_beams 4", "beam search is not built yet");
    expect_error("--eval_dataset alpaca_en_demo --do_eval true --temperature -1",
                 "temperature must be between");
    expect_error("--eval_dataset alpaca_en_demo --do_eval true --no_such_key 1",
                 "--no_such_key: not a key hone eval reads");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    reference_dir = test_make_tmpdir();
    model_path = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *data_dir = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
    const char *args[] = {"write", model_path, data_dir, reference_dir, NULL};
    test_run_reference_args("eval_ref.py", args);
    g_free(data_dir);
    g_test_add_func("/reference/eval/end_to_end", test_end_to_end);
    g_test_add_func("/reference/eval/errors", test_errors);
    int rc = g_test_run();
    test_remove_tree(reference_dir);
    g_free(reference_dir);
    g_free(model_path);
    return rc;
}
