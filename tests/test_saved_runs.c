/* The runs of a saves folder (ui/saved_runs.c): which run folders the top bar's checkpoint path
 * offers (those holding an adapter's or a model's weights, newest first), and the checkpoint a
 * run into an output folder resumes from, the same one the engine's hn_checkpoint_find_last
 * chooses, found without touching the folder. */
#include <glib/gstdio.h>
#include <string.h>

#include "checkpoint.h"
#include "saved_runs.h"
#include "test_util.h"

static void touch(const char *dir, const char *name)
{
    g_mkdir_with_parents(dir, 0755);
    char *path = g_build_filename(dir, name, NULL);
    test_write_text(path, "x");
    g_free(path);
}

static void test_listing(void)
{
    char *saves = test_make_tmpdir();
    char *runs[] = {
        g_build_filename(saves, "train_2026-11-29-10-00-00", NULL), /* adapter */
        g_build_filename(saves, "train_2026-11-29-12-30-00", NULL), /* full model */
        g_build_filename(saves, "train_2026-11-28-09-00-00", NULL), /* sharded model */
        g_build_filename(saves, "interrupted", NULL),               /* checkpoints only */
        g_build_filename(saves, "empty", NULL),
    };
    touch(runs[0], "adapter_model.safetensors");
    touch(runs[0], "adapter_config.json");
    touch(runs[1], "model.safetensors");
    touch(runs[2], "model.safetensors.index.json");
    char *ck = g_build_filename(runs[3], "checkpoint-10", NULL);
    touch(ck, "adapter_model.safetensors");
    g_free(ck);
    touch(runs[3], "training_args.yaml");
    g_mkdir_with_parents(runs[4], 0755);
    touch(saves, "adapter_model.safetensors"); /* a file, not a run folder */
    char **list = hone_saved_runs(saves);
    g_assert_cmpuint(g_strv_length(list), ==, 3);
    g_assert_cmpstr(list[0], ==, "train_2026-11-29-12-30-00");
    g_assert_cmpstr(list[1], ==, "train_2026-11-29-10-00-00");
    g_assert_cmpstr(list[2], ==, "train_2026-11-28-09-00-00");
    g_strfreev(list);
    char *missing = g_build_filename(saves, "no", "such", NULL);
    list = hone_saved_runs(missing);
    g_assert_cmpuint(g_strv_length(list), ==, 0);
    g_strfreev(list);
    g_free(missing);
    for (size_t i = 0; i < G_N_ELEMENTS(runs); i++)
        g_free(runs[i]);
    test_remove_tree(saves);
    g_free(saves);
}

/* The step the label offers is the checkpoint the engine resumes from. */
static void assert_engine_agrees(const char *out, gint64 step)
{
    char *path = NULL;
    hn_error err = {0};
    hn_status s = hn_checkpoint_find_last(out, &path, &err);
    if (step < 0) {
        g_assert_true(s != HN_OK || path == NULL);
    } else {
        g_assert_cmpint(s, ==, HN_OK);
        char *want = hn_checkpoint_path(out, step);
        g_assert_cmpstr(path, ==, want);
        g_free(want);
    }
    g_free(path);
}

static void test_resume(void)
{
    char *out = test_make_tmpdir();
    char *label = hone_saved_run_start_label(out);
    g_assert_cmpstr(label, ==, "_Start");
    g_free(label);
    g_assert_cmpint(hone_saved_run_resume_step(out), ==, -1);
    assert_engine_agrees(out, -1);
    /* Hone's checkpoints at random steps, and a run's other files */
    touch(out, "trainer_log.jsonl");
    gint64 last = -1;
    for (int i = 0; i < 4; i++) {
        gint64 step = g_test_rand_int_range(1, 100000);
        char *dir = hn_checkpoint_path(out, step);
        touch(dir, HN_CHECKPOINT_STATE_FILE);
        touch(dir, "adapter_model.safetensors");
        g_free(dir);
        last = MAX(last, step);
    }
    /* a checkpoint being written: looking must leave it alone */
    char *staging = g_build_filename(out, ".checkpoint-100001.partial", NULL);
    touch(staging, "adapter_model.safetensors");
    g_assert_cmpint(hone_saved_run_resume_step(out), ==, last);
    g_assert_true(g_file_test(staging, G_FILE_TEST_IS_DIR));
    label = hone_saved_run_start_label(out);
    char *want = g_strdup_printf("_Resume from checkpoint-%" G_GINT64_FORMAT, last);
    g_assert_cmpstr(label, ==, want);
    g_free(want);
    g_free(label);
    assert_engine_agrees(out, last);
    /* another tool's checkpoint last: the engine refuses to resume, Start stays Start */
    char *other = hn_checkpoint_path(out, 200000);
    touch(other, "model.safetensors");
    g_assert_cmpint(hone_saved_run_resume_step(out), ==, -1);
    assert_engine_agrees(out, -1);
    g_free(other);
    g_free(staging);
    char *missing = g_build_filename(out, "nothing-here", NULL);
    g_assert_cmpint(hone_saved_run_resume_step(missing), ==, -1);
    g_free(missing);
    test_remove_tree(out);
    g_free(out);
}

/* Choosing runs: LoRA adapters stack (a second choice takes one out), full and freeze take one. */
static void test_choose(void)
{
    char *a = hone_saved_runs_choose("", "/s/run1", TRUE);
    g_assert_cmpstr(a, ==, "/s/run1");
    char *b = hone_saved_runs_choose(a, "/s/run2", TRUE);
    g_assert_cmpstr(b, ==, "/s/run1,/s/run2");
    g_assert_true(hone_saved_runs_chosen(b, "/s/run2"));
    g_assert_false(hone_saved_runs_chosen(b, "/s/run"));
    char *c = hone_saved_runs_choose(b, "/s/run1", TRUE);
    g_assert_cmpstr(c, ==, "/s/run2");
    char *d = hone_saved_runs_choose(" /x , /s/run2 ,", "/s/run2", TRUE);
    g_assert_cmpstr(d, ==, "/x");
    char *e = hone_saved_runs_choose("/s/run1,/s/run2", "/s/run3", FALSE);
    g_assert_cmpstr(e, ==, "/s/run3");
    g_free(a);
    g_free(b);
    g_free(c);
    g_free(d);
    g_free(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/saved-runs/listing", test_listing);
    g_test_add_func("/ui/saved-runs/resume", test_resume);
    g_test_add_func("/ui/saved-runs/choose", test_choose);
    return g_test_run();
}
