/* The training history (engine/train_history.c) and the loss plots (engine/loss_plot.c)
 * against transformers and LLaMA-Factory (tests/reference/train_history_ref.py): a run of
 * random logs, evaluations, flos and its end gives trainer_state.json, train_results.json,
 * eval_results.json and all_results.json byte for byte as transformers' own TrainerState and
 * save_metrics write them from the same events; TrainerState.load_from_json reads Hone's state
 * and saves it back unchanged; Hone's load -> save is byte-identical and a resumed history
 * continues as transformers' does; plot_loss runs on Hone's state; hn_loss_smooth equals
 * llamafactory's smooth() within 1e-12 on random losses. The PNGs are read back with cairo:
 * their size, and the line's colour at every plotted point, for 1, 2, 3 (flat) and 500
 * points. Bad trainer_state.json files give errors naming the file and field. */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "loss_plot.h"
#include "py_json.h"
#include "test_util.h"
#include "train_history.h"

static const hn_train_history_run run = {.max_steps = 12, .num_train_epochs = 3,
                                         .logging_steps = 2, .eval_steps = 4, .save_steps = 6,
                                         .train_batch_size = 2};

static cJSON *number_array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static hn_train_log random_log(GRand *rng, int64_t step)
{
    return (hn_train_log){.step = step, .total_steps = run.max_steps,
                          .loss = g_rand_double_range(rng, 0.3, 3.0),
                          .learning_rate = g_rand_double_range(rng, 1e-6, 1e-3),
                          .grad_norm = g_rand_double_range(rng, 0.05, 8.0),
                          .epoch = (double)step / 4.0 - g_rand_double_range(rng, 0, 0.2)};
}

static cJSON *log_json(const hn_train_log *log)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "step", (double)log->step);
    cJSON_AddNumberToObject(o, "loss", log->loss);
    cJSON_AddNumberToObject(o, "learning_rate", log->learning_rate);
    cJSON_AddNumberToObject(o, "grad_norm", log->grad_norm);
    cJSON_AddNumberToObject(o, "epoch", log->epoch);
    return o;
}

static void add_event(cJSON *events, const char *kind, cJSON *value)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToObject(e, kind, value);
    cJSON_AddItemToArray(events, e);
}

/* A run of 12 steps: logs every 2, evaluations every 4, flos every step, a checkpoint's
 * control at 6, the end; the same events go to inputs for the reference. */
static hn_train_history *random_run(GRand *rng, cJSON *inputs)
{
    hn_train_history *h = hn_train_history_new(&run);
    cJSON *r = cJSON_AddObjectToObject(inputs, "run");
    cJSON_AddNumberToObject(r, "max_steps", (double)run.max_steps);
    cJSON_AddNumberToObject(r, "num_train_epochs", (double)run.num_train_epochs);
    cJSON_AddNumberToObject(r, "logging_steps", (double)run.logging_steps);
    cJSON_AddNumberToObject(r, "eval_steps", (double)run.eval_steps);
    cJSON_AddNumberToObject(r, "save_steps", (double)run.save_steps);
    cJSON_AddNumberToObject(r, "train_batch_size", (double)run.train_batch_size);
    cJSON *events = cJSON_AddArrayToObject(inputs, "events");
    double loss_sum = 0;
    for (int64_t step = 1; step <= run.max_steps; step++) {
        double flos = hn_train_flos(g_rand_int_range(rng, 100, 2000), 134515008);
        hn_train_history_add_flos(h, flos);
        add_event(events, "flos", cJSON_CreateNumber(flos));
        if (step % run.logging_steps == 0) {
            hn_train_log log = random_log(rng, step);
            loss_sum += log.loss * (double)run.logging_steps;
            hn_train_history_add_log(h, &log);
            add_event(events, "log", log_json(&log));
        }
        if (step % run.eval_steps == 0) {
            hn_train_eval eval = {.step = step, .epoch = hn_train_history_epoch(h),
                                  .loss = g_rand_double_range(rng, 0.5, 3.0),
                                  .runtime_s = g_rand_double_range(rng, 0.2, 9.0),
                                  .samples = g_rand_int_range(rng, 3, 40),
                                  .batch_size = g_rand_int_range(rng, 1, 5)};
            hn_train_history_add_eval(h, &eval);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "step", (double)eval.step);
            cJSON_AddNumberToObject(e, "epoch", eval.epoch);
            cJSON_AddNumberToObject(e, "loss", eval.loss);
            cJSON_AddNumberToObject(e, "runtime", eval.runtime_s);
            cJSON_AddNumberToObject(e, "samples", (double)eval.samples);
            cJSON_AddNumberToObject(e, "batch_size", (double)eval.batch_size);
            add_event(events, "eval", e);
        }
        if (step == 6) {
            hn_train_control control = {.should_save = true, .should_log = true,
                                        .should_evaluate = false};
            hn_train_history_set_control(h, &control);
            cJSON *c = cJSON_CreateObject();
            cJSON_AddBoolToObject(c, "should_save", true);
            cJSON_AddBoolToObject(c, "should_log", true);
            add_event(events, "control", c);
        }
    }
    hn_train_end end = {.runtime_s = g_rand_double_range(rng, 5, 500),
                        .num_train_samples = 8.0 * 3, .steps_trained = run.max_steps,
                        .train_loss = loss_sum / (double)run.max_steps};
    hn_train_history_add_train_end(h, &end);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "runtime", end.runtime_s);
    cJSON_AddNumberToObject(e, "num_train_samples", end.num_train_samples);
    cJSON_AddNumberToObject(e, "steps_trained", (double)end.steps_trained);
    cJSON_AddNumberToObject(e, "train_loss", end.train_loss);
    add_event(events, "train_end", e);
    return h;
}

static void assert_same_file(const char *dir_a, const char *name_a, const char *dir_b,
                             const char *name_b)
{
    char *a = g_build_filename(dir_a, name_a, NULL), *b = g_build_filename(dir_b, name_b, NULL);
    GBytes *got = test_read_file(a), *want = test_read_file(b);
    if (!g_bytes_equal(got, want))
        g_error("%s differs from %s:\n--- Hone\n%s\n--- reference\n%s", a, b,
                (const char *)g_bytes_get_data(got, NULL),
                (const char *)g_bytes_get_data(want, NULL));
    g_bytes_unref(got);
    g_bytes_unref(want);
    g_free(a);
    g_free(b);
}

static bool is_line_colour(const unsigned char *row, int x)
{
    uint32_t px = ((const uint32_t *)row)[x];
    int r = (px >> 16) & 0xff, b = px & 0xff;
    return b > r + 40; /* #1f77b4 alone or at alpha 0.4 on white; text, axes, white are grey */
}

/* Some pixel within 2 of (x, y) has the line's colour. */
static bool line_near(cairo_surface_t *s, double x, double y)
{
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    const unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            int px = (int)floor(x) + dx, py = (int)floor(y) + dy;
            if (px >= 0 && py >= 0 && px < w && py < h && is_line_colour(data + py * stride, px))
                return true;
        }
    return false;
}

/* The PNG at path: 1000 x 600, the line's colour at each raw and smoothed point (but under
 * the legend), white in the corner, nothing blue outside the plot area. */
static void check_png(const char *path, const double *steps, const double *values, size_t n)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
    g_assert_cmpint(cairo_image_surface_get_width(s), ==, HN_LOSS_PLOT_WIDTH);
    g_assert_cmpint(cairo_image_surface_get_height(s), ==, HN_LOSS_PLOT_HEIGHT);
    cairo_format_t format = cairo_image_surface_get_format(s);
    g_assert_true(format == CAIRO_FORMAT_RGB24 || format == CAIRO_FORMAT_ARGB32);
    cairo_surface_flush(s);
    hn_loss_plot_frame f;
    hn_loss_plot_layout(steps, values, n, HN_LOSS_PLOT_WIDTH, HN_LOSS_PLOT_HEIGHT, &f);
    g_assert_cmpfloat(f.x_max, >, f.x_min);
    g_assert_cmpfloat(f.y_max, >, f.y_min);
    double *smoothed = g_new(double, n);
    hn_loss_smooth(values, n, smoothed);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++)
        for (int line = 0; line < 2; line++) {
            double v = line == 0 ? values[i] : smoothed[i];
            double x = f.plot_x + (steps[i] - f.x_min) / (f.x_max - f.x_min) * f.plot_width;
            double y = f.plot_y + (f.y_max - v) / (f.y_max - f.y_min) * f.plot_height;
            g_assert_cmpfloat(x, >, f.plot_x);
            g_assert_cmpfloat(x, <, f.plot_x + f.plot_width);
            g_assert_cmpfloat(y, >, f.plot_y);
            g_assert_cmpfloat(y, <, f.plot_y + f.plot_height);
            if (x > f.legend_x - 3 && x < f.legend_x + f.legend_width + 3 &&
                y > f.legend_y - 3 && y < f.legend_y + f.legend_height + 3)
                continue;
            if (!line_near(s, x, y))
                g_error("%s: no line at point %zu (%s: step %g, value %g -> pixel %.1f, %.1f)",
                        path, i, line == 0 ? "original" : "smoothed", steps[i], v, x, y);
            checked++;
        }
    g_assert_cmpuint(checked, >=, n); /* the legend hides at most half of them */
    const unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    g_assert_cmphex(((const uint32_t *)data)[1] & 0xffffff, ==, 0xffffff);
    for (int y = 0; y < HN_LOSS_PLOT_HEIGHT; y++)
        for (int x = 0; x < HN_LOSS_PLOT_WIDTH; x++)
            if (x < f.plot_x - 1 || x > f.plot_x + f.plot_width + 1 || y < f.plot_y - 1 ||
                y > f.plot_y + f.plot_height + 1)
                g_assert_false(is_line_colour(data + y * stride, x));
    g_free(smoothed);
    cairo_surface_destroy(s);
}

static void test_against_transformers(void)
{
    GRand *rng = g_rand_new_with_seed(20261129);
    cJSON *inputs = cJSON_CreateObject();
    /* losses for smooth() */
    const size_t counts[] = {1, 2, 3, 10, 77, 500};
    double *smooth_in[G_N_ELEMENTS(counts)];
    cJSON *lists = cJSON_AddArrayToObject(inputs, "smooth");
    for (size_t k = 0; k < G_N_ELEMENTS(counts); k++) {
        smooth_in[k] = g_new(double, counts[k]);
        for (size_t i = 0; i < counts[k]; i++)
            smooth_in[k][i] = g_rand_double_range(rng, 0.01, 5.0) * (k == 5 ? 100 : 1);
        cJSON_AddItemToArray(lists, number_array(smooth_in[k], counts[k]));
    }
    hn_train_history *h = random_run(rng, inputs);
    hn_train_log resume[2];
    cJSON *resume_json = cJSON_AddArrayToObject(inputs, "resume");
    for (int i = 0; i < 2; i++) {
        resume[i] = random_log(rng, run.max_steps + 2 * (i + 1));
        cJSON_AddItemToArray(resume_json, log_json(&resume[i]));
    }

    char *dir = test_make_tmpdir();
    char *hone_dir = g_build_filename(dir, "hone", NULL), *ref_dir = g_build_filename(dir, "ref", NULL);
    g_mkdir(hone_dir, 0755);
    g_mkdir(ref_dir, 0755);
    hn_error err = {0};
    if (hn_train_history_write_state(h, hone_dir, &err) != HN_OK ||
        hn_train_history_write_train_results(h, hone_dir, &err) != HN_OK ||
        hn_train_history_write_eval_results(h, hone_dir, true, &err) != HN_OK)
        g_error("%s", err.message);
    char *inputs_path = g_build_filename(dir, "inputs.json", NULL);
    char *text = hn_py_json_dumps(inputs); /* exact doubles (cJSON_Print rounds some) */
    test_write_text(inputs_path, text);
    g_free(text);
    const char *args[] = {"write", inputs_path, hone_dir, ref_dir, NULL};
    test_run_reference_args("train_history_ref.py", args);

    /* the files transformers writes from the same events */
    const char *names[] = {"trainer_state.json", "train_results.json", "eval_results.json",
                           "all_results.json"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        assert_same_file(hone_dir, names[i], ref_dir, names[i]);
    /* TrainerState.load_from_json + save_to_json keeps Hone's file as it is */
    assert_same_file(hone_dir, "trainer_state.json", ref_dir, "reloaded_state.json");

    /* Hone's load -> save round trip, and a resumed history */
    char *state_path = g_build_filename(hone_dir, "trainer_state.json", NULL);
    hn_train_history *loaded = NULL;
    if (hn_train_history_load(state_path, &loaded, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpint(hn_train_history_global_step(loaded), ==, run.max_steps);
    char *again = g_build_filename(dir, "again", NULL);
    g_mkdir(again, 0755);
    if (hn_train_history_write_state(loaded, again, &err) != HN_OK)
        g_error("%s", err.message);
    assert_same_file(again, "trainer_state.json", hone_dir, "trainer_state.json");
    for (int i = 0; i < 2; i++)
        hn_train_history_add_log(loaded, &resume[i]);
    if (hn_train_history_write_state(loaded, again, &err) != HN_OK)
        g_error("%s", err.message);
    assert_same_file(again, "trainer_state.json", ref_dir, "resumed_state.json");

    /* LLaMA-Factory's plot_loss ran on Hone's state */
    const char *plots[] = {"plot/training_loss.png", "plot/training_eval_loss.png"};
    for (size_t i = 0; i < G_N_ELEMENTS(plots); i++) {
        char *path = g_build_filename(ref_dir, plots[i], NULL);
        g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
        g_free(path);
    }

    /* smooth() */
    char *smooth_path = g_build_filename(ref_dir, "smooth.json", NULL);
    cJSON *want = test_load_json(smooth_path);
    double worst = 0;
    for (size_t k = 0; k < G_N_ELEMENTS(counts); k++) {
        double *got = g_new(double, counts[k]);
        hn_loss_smooth(smooth_in[k], counts[k], got);
        const cJSON *list = cJSON_GetArrayItem(want, (int)k);
        g_assert_cmpint(cJSON_GetArraySize(list), ==, (int)counts[k]);
        for (size_t i = 0; i < counts[k]; i++) {
            double w = cJSON_GetArrayItem(list, (int)i)->valuedouble;
            worst = fmax(worst, fabs(got[i] - w) / fmax(fabs(w), 1));
        }
        g_free(got);
    }
    g_test_message("smooth(): largest difference from llamafactory's %.3g", worst);
    g_assert_cmpfloat(worst, <=, 1e-12);

    /* Hone's own plots of this history */
    const char *keys[] = {"loss", "eval_loss"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        bool written = false;
        if (hn_loss_plot_write(h, hone_dir, keys[i], &written, &err) != HN_OK)
            g_error("%s", err.message);
        g_assert_true(written);
        double *steps = NULL, *values = NULL;
        size_t n = hn_train_history_series(h, keys[i], &steps, &values);
        g_assert_cmpuint(n, ==, i == 0 ? 6 : 3);
        char *name = g_strdup_printf("training_%s.png", keys[i]);
        char *path = g_build_filename(hone_dir, name, NULL);
        check_png(path, steps, values, n);
        g_free(path);
        g_free(name);
        g_free(steps);
        g_free(values);
    }
    bool written = true;
    g_assert_cmpint(hn_loss_plot_write(h, hone_dir, "eval_accuracy", &written, &err), ==, HN_OK);
    g_assert_false(written);
    /* what run_sft plots: the two keys the history holds */
    char *plots_dir = g_build_filename(dir, "plots", NULL);
    g_mkdir(plots_dir, 0755);
    g_assert_cmpint(hn_loss_plot_write_run(h, plots_dir, "sft", &err), ==, HN_OK);
    const char *files[] = {"training_loss.png", "training_eval_loss.png"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = g_build_filename(plots_dir, files[i], NULL);
        g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
        g_free(path);
    }
    char *accuracy = g_build_filename(plots_dir, "training_eval_accuracy.png", NULL);
    g_assert_false(g_file_test(accuracy, G_FILE_TEST_EXISTS));
    g_free(accuracy);
    g_free(plots_dir);

    for (size_t k = 0; k < G_N_ELEMENTS(counts); k++)
        g_free(smooth_in[k]);
    cJSON_Delete(want);
    cJSON_Delete(inputs);
    hn_train_history_free(loaded);
    hn_train_history_free(h);
    test_remove_tree(dir);
    g_free(smooth_path);
    g_free(again);
    g_free(state_path);
    g_free(inputs_path);
    g_free(hone_dir);
    g_free(ref_dir);
    g_free(dir);
    g_rand_free(rng);
}

/* Plots of 1, 2, 3 equal and 500 points. */
static void test_plot_sizes(void)
{
    GRand *rng = g_rand_new_with_seed(7);
    char *dir = test_make_tmpdir();
    const size_t counts[] = {1, 2, 3, 500};
    for (size_t k = 0; k < G_N_ELEMENTS(counts); k++) {
        size_t n = counts[k];
        double *steps = g_new(double, n), *values = g_new(double, n);
        for (size_t i = 0; i < n; i++) {
            steps[i] = (double)(5 * (i + 1));
            values[i] = n == 3 ? 1.25 : g_rand_double_range(rng, 0.5, 4.0) / sqrt((double)i + 1);
        }
        char *path = g_strdup_printf("%s/plot_%zu.png", dir, n);
        hn_error err = {0};
        if (hn_loss_plot_write_png(path, "training loss of some/output/folder", "loss", steps,
                                   values, n, HN_LOSS_PLOT_WIDTH, HN_LOSS_PLOT_HEIGHT, &err) !=
            HN_OK)
            g_error("%s", err.message);
        check_png(path, steps, values, n);
        g_free(path);
        g_free(steps);
        g_free(values);
    }
    test_remove_tree(dir);
    g_free(dir);
    g_rand_free(rng);
}

static void expect_load_error(const char *dir, const char *text, const char *message)
{
    char *path = g_build_filename(dir, "trainer_state.json", NULL);
    test_write_text(path, text);
    hn_train_history *h = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_train_history_load(path, &h, &err), ==, HN_ERR_FORMAT);
    g_assert_null(h);
    test_assert_contains(err.message, path);
    test_assert_contains(err.message, message);
    g_free(path);
}

static void test_bad_state(void)
{
    char *dir = test_make_tmpdir();
    expect_load_error(dir, "{\"global_step\": \"7\", \"max_steps\": 9, \"epoch\": 1.0, "
                      "\"log_history\": []}", "\"global_step\" should be an integer, found a string");
    expect_load_error(dir, "{\"global_step\": 7.5, \"max_steps\": 9, \"epoch\": 1.0, "
                      "\"log_history\": []}", "\"global_step\" should be an integer, found a fraction");
    expect_load_error(dir, "{\"global_step\": 7, \"max_steps\": 9, \"epoch\": 1.0}",
                      "\"log_history\" should be an array, found nothing");
    expect_load_error(dir, "{\"global_step\": 7, \"max_steps\": 9, \"epoch\": 1.0, "
                      "\"log_history\": [{\"loss\": 1.0}]}",
                      "log_history[0] should have an integer \"step\"");
    expect_load_error(dir, "{\"global_step\": 7, \"max_steps\": 9, \"log_history\": []}",
                      "TrainerState field \"epoch\" is missing");
    expect_load_error(dir, "{\"global_step\": 7,\n \"max_steps\": }", "line 2");
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/train_history/against_transformers", test_against_transformers);
    g_test_add_func("/train_history/plot_sizes", test_plot_sizes);
    g_test_add_func("/train_history/bad_state", test_bad_state);
    int status = g_test_run();
    /* cairo's and fontconfig's font caches, so that the leak checker sees only ours */
    cairo_debug_reset_static_data();
    FcFini();
    return status;
}
