/* The Train page's run (ui/train_run.c) with a real child process: a shell script named
 * `train` stands in for `hone train` (run as `sh train CONFIG`), printing lines and appending
 * trainer_log.jsonl lines in the format the engine writes (engine/trainer_output.c), so the
 * pipeline - output lines, log lines as the file grows, the end, Abort - is checked without
 * training a model. The format of one engine line is parsed as written. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "test_util.h"
#include "train_run.h"

typedef struct {
    GMainLoop *loop;
    GPtrArray *output;
    GArray *steps, *losses, *evals;
    char *progress;
    gboolean finished, success;
    char *message;
} run_events;

static void on_output(const char *line, gpointer data)
{
    run_events *e = data;
    g_ptr_array_add(e->output, g_strdup(line));
}

static void on_log(const HoneTrainLogLine *line, gpointer data)
{
    run_events *e = data;
    double step = (double)line->step;
    g_array_append_val(e->steps, step);
    g_array_append_val(e->losses, line->loss);
    g_array_append_val(e->evals, line->eval_loss);
    g_free(e->progress);
    e->progress = hone_train_progress_text(line);
}

static void on_finished(gboolean success, const char *message, gpointer data)
{
    run_events *e = data;
    e->finished = TRUE;
    e->success = success;
    e->message = g_strdup(message);
    g_main_loop_quit(e->loop);
}

static void events_init(run_events *e)
{
    *e = (run_events){g_main_loop_new(NULL, FALSE), g_ptr_array_new_with_free_func(g_free),
                      g_array_new(FALSE, FALSE, sizeof(double)),
                      g_array_new(FALSE, FALSE, sizeof(double)),
                      g_array_new(FALSE, FALSE, sizeof(double)), NULL, FALSE, FALSE, NULL};
}

static void events_clear(run_events *e)
{
    g_main_loop_unref(e->loop);
    g_ptr_array_unref(e->output);
    g_array_unref(e->steps);
    g_array_unref(e->losses);
    g_array_unref(e->evals);
    g_free(e->progress);
    g_free(e->message);
}

static gboolean give_up(gpointer data)
{
    g_error("the run did not finish within 60 s");
    return G_SOURCE_REMOVE;
}

static const HoneTrainRunCallbacks callbacks = {on_output, on_log, on_finished};

/* A run that logs three training steps and an evaluation, slowly enough that the log is read
 * while it grows, then exits 0. */
static void test_run_follows_output_and_log(void)
{
    char *tmp = test_make_tmpdir();
    char *out = g_build_filename(tmp, "out", NULL);
    g_mkdir(out, 0755);
    char *script = g_build_filename(tmp, "train", NULL);
    test_write_text(script,
                    "out=$(dirname \"$1\")\n"
                    "echo \"config $1\"\n"
                    "for s in 1 2 3; do\n"
                    "  echo \"step $s/3\"\n"
                    "  echo '{\"current_steps\": '$s', \"total_steps\": 3, \"loss\": 2.'$s'5, "
                    "\"lr\": 1e-05, \"epoch\": 0.5, \"percentage\": 33.33, \"elapsed_time\": "
                    "\"0:00:0'$s'\", \"remaining_time\": \"0:00:0'$((3 - s))'\"}' >> "
                    "\"$out/trainer_log.jsonl\"\n"
                    "  sleep 0.6\n"
                    "done\n"
                    "echo '{\"current_steps\": 3, \"total_steps\": 3, \"eval_loss\": 1.75, "
                    "\"epoch\": 1.0, \"percentage\": 100.0, \"elapsed_time\": \"0:00:04\", "
                    "\"remaining_time\": \"0:00:00\"}' >> \"$out/trainer_log.jsonl\"\n"
                    "echo done >&2\n");
    char *config = g_build_filename(out, "training_args.yaml", NULL);
    test_write_text(config, "stage: sft\n");
    char *cwd = g_get_current_dir();
    g_assert_cmpint(g_chdir(tmp), ==, 0);
    run_events e;
    events_init(&e);
    GError *error = NULL;
    HoneTrainRun *run = hone_train_run_start("/bin/sh", config, out, &callbacks, &e, &error);
    g_assert_no_error(error);
    guint timeout = g_timeout_add_seconds(60, give_up, NULL);
    g_main_loop_run(e.loop);
    g_source_remove(timeout);
    g_assert_true(e.success);
    g_assert_cmpstr(e.message, ==, "Training finished.");
    /* stdout and stderr lines in order */
    g_assert_cmpuint(e.output->len, ==, 5);
    char *first = g_strdup_printf("config %s", config);
    g_assert_cmpstr(g_ptr_array_index(e.output, 0), ==, first);
    g_free(first);
    g_assert_cmpstr(g_ptr_array_index(e.output, 3), ==, "step 3/3");
    g_assert_cmpstr(g_ptr_array_index(e.output, 4), ==, "done");
    /* the log lines, each once */
    g_assert_cmpuint(e.steps->len, ==, 4);
    for (guint i = 0; i < 3; i++) {
        g_assert_cmpfloat(g_array_index(e.steps, double, i), ==, i + 1);
        g_assert_cmpfloat_with_epsilon(g_array_index(e.losses, double, i), 2.05 + 0.1 * (i + 1),
                                       1e-12);
        g_assert_true(isnan(g_array_index(e.evals, double, i)));
    }
    g_assert_true(isnan(g_array_index(e.losses, double, 3)));
    g_assert_cmpfloat(g_array_index(e.evals, double, 3), ==, 1.75);
    g_assert_cmpstr(e.progress, ==, "Running 3/3: 0:00:04 < 0:00:00");
    hone_train_run_free(run);
    events_clear(&e);
    g_assert_cmpint(g_chdir(cwd), ==, 0);
    g_free(cwd);
    g_free(config);
    g_free(script);
    g_free(out);
    test_remove_tree(tmp);
    g_free(tmp);
}

/* Abort sends SIGINT: a child that traps it and exits 130 reports "Aborted"; a failing child
 * reports its status. */
static void test_abort_and_failure(void)
{
    char *tmp = test_make_tmpdir();
    char *script = g_build_filename(tmp, "train", NULL);
    test_write_text(script, "trap 'echo stopping; exit 130' INT\n"
                            "echo started\n"
                            "i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n"
                            "exit 3\n");
    char *cwd = g_get_current_dir();
    g_assert_cmpint(g_chdir(tmp), ==, 0);
    run_events e;
    events_init(&e);
    HoneTrainRun *run = hone_train_run_start("/bin/sh", "cfg.yaml", tmp, &callbacks, &e, NULL);
    g_assert_nonnull(run);
    while (e.output->len == 0) /* wait until it has set its trap */
        g_main_context_iteration(NULL, TRUE);
    hone_train_run_abort(run);
    guint timeout = g_timeout_add_seconds(60, give_up, NULL);
    g_main_loop_run(e.loop);
    g_source_remove(timeout);
    g_assert_false(e.success);
    g_assert_cmpstr(e.message, ==, "Aborted: hone train exited with status 130.");
    g_assert_cmpstr(g_ptr_array_index(e.output, e.output->len - 1), ==, "stopping");
    hone_train_run_free(run);
    events_clear(&e);

    test_write_text(script, "echo broken >&2; exit 3\n");
    events_init(&e);
    run = hone_train_run_start("/bin/sh", "cfg.yaml", tmp, &callbacks, &e, NULL);
    timeout = g_timeout_add_seconds(60, give_up, NULL);
    g_main_loop_run(e.loop);
    g_source_remove(timeout);
    g_assert_false(e.success);
    g_assert_cmpstr(e.message, ==, "Training failed: hone train exited with status 3.");
    g_assert_cmpstr(g_ptr_array_index(e.output, 0), ==, "broken");
    hone_train_run_free(run);
    events_clear(&e);

    /* a program that cannot start is an error at once */
    GError *error = NULL;
    g_assert_null(hone_train_run_start("/nonexistent/hone", "cfg.yaml", tmp, &callbacks, &e,
                                       &error));
    g_assert_nonnull(error);
    g_error_free(error);

    g_assert_cmpint(g_chdir(cwd), ==, 0);
    g_free(cwd);
    g_free(script);
    test_remove_tree(tmp);
    g_free(tmp);
}

/* A line as the engine writes it, and lines that are not log lines. */
static void test_log_line_parse(void)
{
    HoneTrainLogLine line;
    char *elapsed = NULL, *remaining = NULL;
    g_assert_true(hone_train_log_line_parse(
        "{\"current_steps\": 25, \"total_steps\": 100, \"loss\": 1.2345, \"lr\": 0.0001, "
        "\"epoch\": 0.25, \"percentage\": 25.0, \"elapsed_time\": \"0:01:23\", "
        "\"remaining_time\": \"0:04:10\"}",
        &line, &elapsed, &remaining));
    g_assert_cmpint(line.step, ==, 25);
    g_assert_cmpint(line.total_steps, ==, 100);
    g_assert_cmpfloat(line.loss, ==, 1.2345);
    g_assert_true(isnan(line.eval_loss));
    char *text = hone_train_progress_text(&line);
    g_assert_cmpstr(text, ==, "Running 25/100: 0:01:23 < 0:04:10");
    g_free(text);
    g_free(elapsed);
    g_free(remaining);
    g_assert_false(hone_train_log_line_parse("{\"loss\": 1}", &line, &elapsed, &remaining));
    g_assert_false(hone_train_log_line_parse("not json", &line, &elapsed, &remaining));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/train-run/log-line-parse", test_log_line_parse);
    g_test_add_func("/ui/train-run/follows-output-and-log", test_run_follows_output_and_log);
    g_test_add_func("/ui/train-run/abort-and-failure", test_abort_and_failure);
    return g_test_run();
}
