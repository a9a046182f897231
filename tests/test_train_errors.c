/* `hone train` end to end on bad input (issue 5's list): a dataset row missing its column, a
 * non-UTF-8 line, an empty dataset, a dataset name missing from dataset_info.json, a cutoff_len
 * that leaves nothing to train on, a YAML syntax error, an output folder that cannot be
 * created (under /proc, whose folders refuse new entries even to root; a file where the folder
 * should be) and a full disk (a file-size limit, `ulimit -f`, with SIGXFSZ ignored so writes
 * fail with EFBIG, as they fail with ENOSPC on a full disk). Each must exit with status 1 and a
 * message naming the file, the place and what was expected, and leave what an earlier run
 * wrote in the output folder as it was. tests/test_dataset_errors.c checks the dataset
 * messages in more variants at the library level; here they travel through the command. The
 * model is SmolLM2-135M-Instruct.Q4_1.gguf (only the full-disk case trains a step). */
#include <string.h>

#include "test_util.h"

typedef struct {
    char *dir;    /* scratch */
    char *data;   /* dataset_dir */
    char *output; /* output_dir, holding an earlier run's files */
    char *model;
} fixture;

/* Files an earlier run left in the output folder (with overwrite_output_dir the new run may
 * replace them only when it has something better). */
static const char *const previous[] = {"adapter_model.safetensors", "adapter_config.json",
                                       "trainer_log.jsonl", "training_args.yaml"};

static void fixture_init(fixture *f)
{
    f->dir = test_make_tmpdir();
    f->data = g_build_filename(f->dir, "data", NULL);
    f->output = g_build_filename(f->dir, "run", NULL);
    f->model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    g_assert_cmpint(g_mkdir_with_parents(f->data, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(f->output, 0755), ==, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(previous); i++) {
        char *path = g_build_filename(f->output, previous[i], NULL);
        char *text = g_strdup_printf("earlier run: %s\n", previous[i]);
        test_write_text(path, text);
        g_free(text);
        g_free(path);
    }
}

static void fixture_clear(fixture *f)
{
    test_remove_tree(f->dir);
    g_free(f->dir);
    g_free(f->data);
    g_free(f->output);
    g_free(f->model);
}

static void write_data(const fixture *f, const char *name, const char *text)
{
    char *path = g_build_filename(f->data, name, NULL);
    test_write_text(path, text);
    g_free(path);
}

/* The earlier run's files are all there, unchanged, and nothing else is (no temporary file
 * left behind), but for the n_replaced files named in replaced, which the failing run may
 * legitimately have started afresh. */
static void assert_output_kept(const fixture *f, const char *const *replaced, size_t n_replaced)
{
    GDir *dir = g_dir_open(f->output, 0, NULL);
    g_assert_nonnull(dir);
    const char *name;
    size_t count = 0;
    while ((name = g_dir_read_name(dir)) != NULL) {
        bool known = false;
        for (size_t i = 0; i < G_N_ELEMENTS(previous); i++)
            known |= strcmp(name, previous[i]) == 0;
        if (!known)
            g_error("%s: the failed run left %s behind", f->output, name);
        count++;
    }
    g_dir_close(dir);
    g_assert_cmpuint(count, ==, G_N_ELEMENTS(previous));
    for (size_t i = 0; i < G_N_ELEMENTS(previous); i++) {
        bool may_change = false;
        for (size_t k = 0; k < n_replaced; k++)
            may_change |= strcmp(previous[i], replaced[k]) == 0;
        if (may_change)
            continue;
        char *path = g_build_filename(f->output, previous[i], NULL);
        GBytes *bytes = test_read_file(path);
        char *want = g_strdup_printf("earlier run: %s\n", previous[i]);
        gsize size = 0;
        const char *got = g_bytes_get_data(bytes, &size);
        if (size != strlen(want) || memcmp(got, want, size) != 0)
            g_error("%s was changed by the failed run", path);
        g_free(want);
        g_bytes_unref(bytes);
        g_free(path);
    }
}

/* Runs `[prefix] hone train [CONFIG] --key value ... ARGS` through sh; returns the exit
 * status. */
static int run_train(const fixture *f, const char *prefix, const char *config, const char *args,
                     char **out, char **err)
{
    char *command = g_strdup_printf(
        "%s '%s' train %s --model_name_or_path '%s' --do_train true --stage sft "
        "--dataset_dir '%s' --template chatml --max_samples 4 --max_steps 1 "
        "--per_device_train_batch_size 1 --overwrite_output_dir true %s",
        prefix, g_getenv("HONE_BIN"), config, f->model, f->data, args);
    char *argv[] = {"sh", "-c", command, NULL};
    int code = test_run(argv, out, err);
    g_test_message("%s\n-> %d: %s", command, code, *err);
    g_free(command);
    return code;
}

/* Expects exit status 1, every needle in the error output, the output folder kept. */
static void expect_failure(const fixture *f, const char *config, const char *args,
                           const char *const *needles)
{
    char *out = NULL, *err = NULL;
    g_assert_cmpint(run_train(f, "", config, args, &out, &err), ==, 1);
    for (const char *const *n = needles; *n != NULL; n++)
        test_assert_contains(err, *n);
    assert_output_kept(f, NULL, 0);
    g_free(out);
    g_free(err);
}

static const char *alpaca_info = "{\"demo\": {\"file_name\": \"demo.json\"}, "
                                 "\"lines\": {\"file_name\": \"demo.jsonl\"}}";

static void test_missing_column(void)
{
    fixture f;
    fixture_init(&f);
    write_data(&f, "dataset_info.json", alpaca_info);
    write_data(&f, "demo.json", "[{\"instruction\": \"a\", \"input\": \"\", \"output\": \"b\"},\n"
                                " {\"instruction\": \"c\", \"input\": \"\"}]");
    char *args = g_strdup_printf("--dataset demo --output_dir '%s'", f.output);
    char *file = g_build_filename(f.data, "demo.json", NULL);
    const char *needles[] = {file, "row 2", "missing \"output\" (the response column)", NULL};
    expect_failure(&f, "", args, needles);
    g_free(file);
    g_free(args);
    fixture_clear(&f);
}

static void test_non_utf8_line(void)
{
    fixture f;
    fixture_init(&f);
    write_data(&f, "dataset_info.json", alpaca_info);
    write_data(&f, "demo.jsonl", "{\"instruction\": \"a\", \"input\": \"\", \"output\": \"b\"}\n"
                                 "{\"instruction\": \"caf\xe9\", \"input\": \"\", \"output\": "
                                 "\"b\"}\n");
    char *args = g_strdup_printf("--dataset lines --output_dir '%s'", f.output);
    char *file = g_build_filename(f.data, "demo.jsonl", NULL);
    const char *needles[] = {file, "line 2", "not valid UTF-8", NULL};
    expect_failure(&f, "", args, needles);
    g_free(file);
    g_free(args);
    fixture_clear(&f);
}

static void test_empty_dataset(void)
{
    fixture f;
    fixture_init(&f);
    write_data(&f, "dataset_info.json", alpaca_info);
    write_data(&f, "demo.json", "[]\n");
    char *args = g_strdup_printf("--dataset demo --output_dir '%s'", f.output);
    char *file = g_build_filename(f.data, "demo.json", NULL);
    const char *needles[] = {file, "no rows (an empty dataset)", NULL};
    expect_failure(&f, "", args, needles);
    g_free(file);
    g_free(args);
    fixture_clear(&f);
}

static void test_unknown_dataset(void)
{
    fixture f;
    fixture_init(&f);
    write_data(&f, "dataset_info.json", alpaca_info);
    char *args = g_strdup_printf("--dataset demo,nothere --output_dir '%s'", f.output);
    char *file = g_build_filename(f.data, "dataset_info.json", NULL);
    const char *needles[] = {"dataset \"nothere\" is not defined in", file,
                             "(it defines: demo, lines)", NULL};
    expect_failure(&f, "", args, needles);
    g_free(file);
    g_free(args);
    fixture_clear(&f);
}

/* LLaMA-Factory shares cutoff_len between prompt and response in proportion to their lengths,
 * so a cutoff_len below every prompt still leaves response tokens until it is tiny: at 1 no
 * example has a target (upstream would log a NaN loss). */
static void test_cutoff_leaves_nothing(void)
{
    fixture f;
    fixture_init(&f);
    char *args = g_strdup_printf("--dataset identity --dataset_dir '%s/data' --cutoff_len 1 "
                                 "--output_dir '%s'", g_getenv("HONE_SOURCE_DIR"), f.output);
    const char *needles[] = {"cutoff_len 1 leaves none of the 4 examples a token to train on",
                             "raise cutoff_len", NULL};
    expect_failure(&f, "", args, needles);
    g_free(args);
    fixture_clear(&f);
}

static void test_yaml_syntax_error(void)
{
    fixture f;
    fixture_init(&f);
    char *config = g_build_filename(f.dir, "run.yaml", NULL);
    char *text = g_strdup_printf("stage: sft\noutput_dir: %s\ndataset: \"identity\n", f.output);
    test_write_text(config, text);
    char *quoted = g_strdup_printf("'%s'", config);
    char *place = g_strdup_printf("%s:4:1: YAML syntax error", config);
    const char *needles[] = {place, NULL};
    expect_failure(&f, quoted, "", needles);
    g_free(place);
    g_free(quoted);
    g_free(text);
    g_free(config);
    fixture_clear(&f);
}

static void test_unwritable_output(void)
{
    fixture f;
    fixture_init(&f);
    /* /proc refuses new folders to everyone, root included (chmod would not stop root) */
    char *args = g_strdup_printf("--dataset identity --dataset_dir '%s/data' --output_dir "
                                 "/proc/hone-test-run/out", g_getenv("HONE_SOURCE_DIR"));
    const char *needles[] = {"/proc/hone-test-run/out: cannot create the output folder", NULL};
    expect_failure(&f, "", args, needles);
    g_free(args);
    /* a file where the output folder should be: the file is kept as it was */
    char *blocker = g_build_filename(f.output, "adapter_config.json", "run", NULL);
    args = g_strdup_printf("--dataset identity --dataset_dir '%s/data' --output_dir '%s'",
                           g_getenv("HONE_SOURCE_DIR"), blocker);
    char *place = g_strdup_printf("%s: cannot create the output folder: Not a directory", blocker);
    const char *needles2[] = {place, NULL};
    expect_failure(&f, "", args, needles2);
    g_free(place);
    g_free(args);
    g_free(blocker);
    fixture_clear(&f);
}

/* A 64 KiB file-size limit: training_args.yaml and the log fit, the adapter does not (first
 * met in the final checkpoint, which is staged in a hidden folder). The earlier run's adapter
 * must survive (written to a temporary name, renamed only when whole), and no temporary file
 * or staging folder may stay. training_args.yaml and trainer_log.jsonl belong to the new
 * run (overwrite_output_dir: true starts them afresh, as LLaMA-Factory's LogCallback). */
static void test_full_disk(void)
{
    fixture f;
    fixture_init(&f);
    char *args = g_strdup_printf("--dataset identity --dataset_dir '%s/data' --cutoff_len 24 "
                                 "--lora_target q_proj --lora_rank 2 --output_dir '%s'",
                                 g_getenv("HONE_SOURCE_DIR"), f.output);
    char *out = NULL, *err = NULL;
    g_assert_cmpint(run_train(&f, "ulimit -f 64; trap '' XFSZ; exec", "", args, &out, &err), ==, 1);
    char *file = g_build_filename(f.output, ".checkpoint-", NULL);
    char *place = g_strdup_printf(".partial/adapter_model.safetensors: write failed: File too "
                                  "large (the disk is full or a file-size limit is reached; "
                                  "whatever was at that path before is unchanged)");
    test_assert_contains(err, file);
    test_assert_contains(err, place);
    test_assert_contains(err, "(earlier checkpoints are untouched)");
    const char *replaced[] = {"training_args.yaml", "trainer_log.jsonl"};
    assert_output_kept(&f, replaced, G_N_ELEMENTS(replaced));
    g_free(place);
    g_free(file);
    g_free(out);
    g_free(err);
    g_free(args);
    fixture_clear(&f);
}

/* adapter_name_or_path that cannot be continued: several (merging is not built), another
 * finetuning_type, a folder without an adapter. */
static void test_adapter_errors(void)
{
    fixture f;
    fixture_init(&f);
    const char *source = g_getenv("HONE_SOURCE_DIR");
    char *missing = g_build_filename(f.dir, "no-adapter", NULL);
    struct {
        char *args;
        const char *needle;
    } cases[] = {
        {g_strdup_printf("--adapter_name_or_path a,b"), "adapter_name_or_path a,b: several "
         "adapters (merging all but the last into the base) are not built yet; give one"},
        {g_strdup_printf("--adapter_name_or_path '%s' --finetuning_type freeze", missing),
         "an adapter is only valid with finetuning_type lora, not freeze"},
        {g_strdup_printf("--adapter_name_or_path '%s'", missing), missing},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *args = g_strdup_printf("--dataset identity --dataset_dir '%s/data' --output_dir "
                                     "'%s' %s", source, f.output, cases[i].args);
        const char *needles[] = {cases[i].needle, NULL};
        expect_failure(&f, "", args, needles);
        g_free(args);
        g_free(cases[i].args);
    }
    g_free(missing);
    fixture_clear(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/train/errors/missing-column", test_missing_column);
    g_test_add_func("/train/errors/non-utf8-line", test_non_utf8_line);
    g_test_add_func("/train/errors/empty-dataset", test_empty_dataset);
    g_test_add_func("/train/errors/unknown-dataset", test_unknown_dataset);
    g_test_add_func("/train/errors/cutoff-leaves-nothing", test_cutoff_leaves_nothing);
    g_test_add_func("/train/errors/yaml-syntax", test_yaml_syntax_error);
    g_test_add_func("/train/errors/unwritable-output", test_unwritable_output);
    g_test_add_func("/train/errors/full-disk", test_full_disk);
    g_test_add_func("/train/errors/adapter", test_adapter_errors);
    return g_test_run();
}
