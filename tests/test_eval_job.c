/* The Evaluate page's job (ui/eval_job.c) with the real SmolLM2-135M-Instruct GGUF: the eval
 * loss and the predictions run on a worker thread while a GMainLoop runs; progress reaches the
 * main loop; the files the job writes equal those `hone eval` (a separate process, same keys)
 * writes into another folder (eval_loss, perplexity, BLEU-4, ROUGE and every prediction), and
 * the results the job reports equal the files' numbers. A missing dataset ends the job with
 * the engine's own message. */
#include <string.h>

#include "eval_job.h"
#include "eval_run.h"
#include "test_util.h"

typedef struct {
  GMainLoop *loop;
  int n_notes, n_eval_progress, n_predict_progress;
  gsize eval_total, predict_done, predict_total;
  double last_tokens_per_s;
  gboolean finished, ok;
  char *message;
  HoneEvalResults results;
} events;

static void on_note(const char *line, gpointer data)
{
  events *e = data;
  g_assert_nonnull(line);
  e->n_notes++;
}

static void on_progress(const char *phase, gsize done, gsize total, double tokens_per_s,
                        gpointer data)
{
  events *e = data;
  g_assert_cmpuint(done, <=, total);
  g_assert_cmpfloat(tokens_per_s, >=, 0);
  if (strcmp(phase, "eval") == 0) {
    e->n_eval_progress++;
    e->eval_total = total;
  } else {
    g_assert_cmpstr(phase, ==, "predict");
    e->n_predict_progress++;
    e->predict_done = done;
    e->predict_total = total;
  }
  e->last_tokens_per_s = tokens_per_s;
}

static void on_finished(gboolean ok, const char *message, const HoneEvalResults *results,
                        gpointer data)
{
  events *e = data;
  e->finished = TRUE;
  e->ok = ok;
  e->message = g_strdup(message);
  if (ok) {
    e->results = *results;
    e->results.output_dir = g_strdup(results->output_dir);
    e->results.files = g_strdupv(results->files);
  }
  g_main_loop_quit(e->loop);
}

static const HoneEvalJobCallbacks callbacks = {on_note, on_progress, on_finished};

static gboolean count_tick(gpointer data)
{
  (*(int *)data)++;
  return G_SOURCE_CONTINUE;
}

/* The keys both runs get (key, value pairs, NULL-terminated). */
static const char *const *eval_keys(const char *model, const char *data_dir, const char *dataset,
                                    const char *out_dir)
{
  static const char *keys[32];
  const char *const list[] = {
      "model_name_or_path", model, "template", "chatml", "stage", "sft", "dataset_dir",
      data_dir, "eval_dataset", dataset, "max_samples", "4", "cutoff_len", "128", "do_eval",
      "true", "do_predict", "true", "predict_with_generate", "true", "max_new_tokens", "8",
      "temperature", "0", "output_dir", out_dir, NULL};
  memcpy(keys, list, sizeof list);
  return keys;
}

static void args_from_keys(hn_train_args *args, const char *const *keys)
{
  hn_train_args_init(args);
  for (size_t i = 0; keys[i] != NULL; i += 2) {
    hn_error err = {0};
    if (hn_train_args_set(args, keys[i], keys[i + 1], "test", &err) != HN_OK)
      g_error("%s", err.message);
  }
}

static void run_job(events *e, const char *const *keys)
{
  HoneEvalJob *job = hone_eval_job_new(&callbacks, e);
  hn_train_args args;
  args_from_keys(&args, keys);
  g_assert_true(hone_eval_job_start(job, &args));
  g_assert_null(args.model_name_or_path); /* taken by the job */
  g_assert_true(hone_eval_job_busy(job));
  hn_train_args again;
  args_from_keys(&again, keys);
  g_assert_false(hone_eval_job_start(job, &again)); /* one run at a time */
  g_assert_nonnull(again.model_name_or_path);       /* left to the caller */
  hn_train_args_clear(&again);
  int ticks = 0;
  guint id = g_timeout_add(5, count_tick, &ticks);
  g_main_loop_run(e->loop);
  g_source_remove(id);
  g_assert_true(e->finished);
  g_assert_false(hone_eval_job_busy(job));
  g_test_message("%d main-loop ticks of 5 ms during the run", ticks);
  g_assert_cmpint(ticks, >, 0); /* the main loop ran while the worker evaluated */
  hone_eval_job_free(job);
  hn_train_args_clear(&args);
}

static char *read_text(const char *dir, const char *name)
{
  char *path = g_build_filename(dir, name, NULL);
  char *text = NULL;
  GError *error = NULL;
  if (!g_file_get_contents(path, &text, NULL, &error))
    g_error("%s", error->message);
  g_free(path);
  return text;
}

static double json_number(const char *dir, const char *name, const char *key)
{
  char *path = g_build_filename(dir, name, NULL);
  cJSON *root = test_load_json(path);
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);
  if (!cJSON_IsNumber(item))
    g_error("%s: no number %s", path, key);
  double value = item->valuedouble;
  cJSON_Delete(root);
  g_free(path);
  return value;
}

static void test_matches_hone_eval(void)
{
  char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
  char *data_dir = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
  char *tmp = test_make_tmpdir();
  char *job_dir = g_build_filename(tmp, "job", NULL);
  char *cli_dir = g_build_filename(tmp, "cli", NULL);

  /* `hone eval --key value ...` into cli_dir */
  const char *const *keys = eval_keys(model, data_dir, "identity", cli_dir);
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(argv, g_strdup(g_getenv("HONE_BIN")));
  g_ptr_array_add(argv, g_strdup("eval"));
  for (size_t i = 0; keys[i] != NULL; i += 2) {
    g_ptr_array_add(argv, g_strdup_printf("--%s", keys[i]));
    g_ptr_array_add(argv, g_strdup(keys[i + 1]));
  }
  g_ptr_array_add(argv, NULL);
  char *out = NULL, *err = NULL;
  int status = test_run((char **)argv->pdata, &out, &err);
  if (status != 0)
    g_error("hone eval exited with %d: %s", status, err);
  g_free(out);
  g_free(err);
  g_ptr_array_free(argv, TRUE);

  events e = {.loop = g_main_loop_new(NULL, FALSE)};
  run_job(&e, eval_keys(model, data_dir, "identity", job_dir));
  if (!e.ok)
    g_error("the job failed: %s", e.message);
  g_test_message("%d notes, %d eval and %d predict progress reports, %.1f tokens/s last",
                 e.n_notes, e.n_eval_progress, e.n_predict_progress, e.last_tokens_per_s);
  g_assert_cmpint(e.n_notes, >, 0);
  g_assert_cmpint(e.n_eval_progress, >, 0);
  g_assert_cmpuint(e.eval_total, ==, 4);
  g_assert_cmpint(e.n_predict_progress, ==, 4); /* one per example */
  g_assert_cmpuint(e.predict_done, ==, 4);
  g_assert_cmpuint(e.predict_total, ==, 4);
  g_assert_cmpfloat(e.last_tokens_per_s, >, 0);

  /* the job's files equal hone eval's: the metrics, and every prediction */
  static const char *const numbers[][2] = {
      {"eval_results.json", "eval_loss"},        {"eval_results.json", "eval_perplexity"},
      {"predict_results.json", "predict_bleu-4"}, {"predict_results.json", "predict_rouge-1"},
      {"predict_results.json", "predict_rouge-2"}, {"predict_results.json", "predict_rouge-l"},
  };
  double job_values[G_N_ELEMENTS(numbers)];
  for (size_t i = 0; i < G_N_ELEMENTS(numbers); i++) {
    job_values[i] = json_number(job_dir, numbers[i][0], numbers[i][1]);
    double want = json_number(cli_dir, numbers[i][0], numbers[i][1]);
    g_test_message("%s: job %.17g, hone eval %.17g", numbers[i][1], job_values[i], want);
    g_assert_cmpfloat(job_values[i], ==, want);
  }
  g_assert_cmpfloat(job_values[0], >, 0.1); /* a real loss, not a zero */
  char *job_predictions = read_text(job_dir, "generated_predictions.jsonl");
  char *cli_predictions = read_text(cli_dir, "generated_predictions.jsonl");
  g_assert_cmpuint(strlen(job_predictions), >, 0);
  g_assert_cmpstr(job_predictions, ==, cli_predictions);

  /* the reported results are the files' numbers */
  g_assert_cmpstr(e.results.output_dir, ==, job_dir);
  g_assert_true(e.results.has_eval);
  g_assert_true(e.results.has_predict);
  double reported[] = {e.results.eval_loss, e.results.eval_perplexity, e.results.bleu4,
                       e.results.rouge1,    e.results.rouge2,          e.results.rougel};
  for (size_t i = 0; i < G_N_ELEMENTS(numbers); i++)
    g_assert_cmpfloat(reported[i], ==, job_values[i]);
  g_assert_nonnull(e.results.files);
  for (char **f = e.results.files; *f != NULL; f++) {
    char *path = g_build_filename(job_dir, *f, NULL);
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    g_free(path);
  }
  g_assert_cmpuint(g_strv_length(e.results.files), ==, 4);

  g_free(job_predictions);
  g_free(cli_predictions);
  hone_eval_results_clear(&e.results);
  g_free(e.message);
  g_main_loop_unref(e.loop);
  test_remove_tree(tmp);
  g_free(tmp);
  g_free(job_dir);
  g_free(cli_dir);
  g_free(data_dir);
  g_free(model);
}

static void test_missing_dataset(void)
{
  char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
  char *data_dir = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
  char *tmp = test_make_tmpdir();
  const char *const *keys = eval_keys(model, data_dir, "no_such_dataset", tmp);
  /* the engine's own message for these keys */
  hn_train_args args;
  args_from_keys(&args, keys);
  hn_error err = {0};
  g_assert_cmpint(hn_eval_run(&args, NULL, &err), !=, HN_OK);
  hn_train_args_clear(&args);

  events e = {.loop = g_main_loop_new(NULL, FALSE)};
  run_job(&e, keys);
  g_assert_false(e.ok);
  g_test_message("message: %s", e.message);
  test_assert_contains(e.message, "no_such_dataset");
  g_assert_cmpstr(e.message, ==, err.message);
  g_assert_cmpint(e.n_predict_progress, ==, 0);
  g_free(e.message);
  g_main_loop_unref(e.loop);
  test_remove_tree(tmp);
  g_free(tmp);
  g_free(data_dir);
  g_free(model);
}

/* Abort: asked to stop right after it starts (while the model loads), the run ends after its
 * first batch of one example with the engine's message, before the prediction phase and
 * before any result file. */
static void test_stop(void)
{
  char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
  char *data_dir = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
  char *tmp = test_make_tmpdir();
  char *out = g_build_filename(tmp, "eval", NULL);
  events e = {.loop = g_main_loop_new(NULL, FALSE)};
  HoneEvalJob *job = hone_eval_job_new(&callbacks, &e);
  hn_train_args args;
  args_from_keys(&args, eval_keys(model, data_dir, "identity", out));
  hn_error err = {0};
  g_assert_cmpint(hn_train_args_set(&args, "per_device_eval_batch_size", "1", "test", &err), ==,
                  HN_OK);
  g_assert_true(hone_eval_job_start(job, &args));
  hone_eval_job_stop(job);
  g_main_loop_run(e.loop);
  g_assert_true(e.finished);
  g_assert_false(e.ok);
  g_test_message("message: %s", e.message);
  test_assert_contains(e.message, "evaluation stopped after 1 of 4 examples");
  g_assert_cmpint(e.n_eval_progress, ==, 1);
  g_assert_cmpint(e.n_predict_progress, ==, 0);
  char *results = g_build_filename(out, "eval_results.json", NULL);
  g_assert_false(g_file_test(results, G_FILE_TEST_EXISTS));
  hone_eval_job_free(job);
  hn_train_args_clear(&args);
  g_free(results);
  g_free(e.message);
  g_main_loop_unref(e.loop);
  test_remove_tree(tmp);
  g_free(out);
  g_free(tmp);
  g_free(data_dir);
  g_free(model);
}

/* "eval_" and the local time as LLaMA-Factory's get_time() writes it. */
static void test_output_name(void)
{
  GDateTime *t = g_date_time_new_local(2026, 11, 29, 9, 5, 7);
  char *name = hone_eval_output_name(t);
  g_assert_cmpstr(name, ==, "eval_2026-11-29-09-05-07");
  g_free(name);
  g_date_time_unref(t);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/eval_job/output_name", test_output_name);
  g_test_add_func("/eval_job/matches_hone_eval", test_matches_hone_eval);
  g_test_add_func("/eval_job/missing_dataset", test_missing_dataset);
  g_test_add_func("/eval_job/stop", test_stop);
  return g_test_run();
}
