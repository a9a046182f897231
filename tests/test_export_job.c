/* The Export page's job (ui/export_job.c) with the real SmolLM2-135M-Instruct GGUF: the export
 * runs on a worker thread while a GMainLoop runs; its progress arrives in order (one step per
 * tensor, index 0, 1, ... up to total, then model.safetensors at index == total, the tensor
 * names those of the written model.safetensors); the folder it writes is the one `hone export`
 * writes with the same arguments, run as a separate process (same files, sizes and bytes); a
 * second start while one runs and bad arguments are refused; a non-empty folder without
 * overwrite fails with the engine's message (the one `hone export` prints) and leaves the
 * folder as it was. Cancelling: the engine's flag set from the progress callback stops the export
 * right there (no later step) in the safetensors and in the GGUF phase; the job's Cancel while
 * the GGUF is written (the shards already done in the staging folder) and `hone export` stopped
 * by SIGINT end with "export cancelled", and the folder is as it was: gone when the export made
 * it, else holding only what it held before, no shard, no staging folder. */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include <gio/gio.h>

#include "export_job.h"
#include "safetensors.h"
#include "test_util.h"

typedef struct {
  GMainLoop *loop;
  HoneExportJob *job;
  const char *cancel_at; /* a progress step whose name ends so: the job's Cancel is pressed */
  GPtrArray *whats; /* char*: the progress steps' names */
  GArray *indexes, *totals;
  gboolean finished, ok, cancelled;
  char *message;
  GPtrArray *files; /* a copy: HoneExportFile* */
} events;

static void on_progress(const char *what, gsize index, gsize total, gpointer data)
{
  events *e = data;
  g_assert_false(e->finished);
  g_ptr_array_add(e->whats, g_strdup(what));
  g_array_append_val(e->indexes, index);
  g_array_append_val(e->totals, total);
  if (e->cancel_at != NULL && g_str_has_suffix(what, e->cancel_at))
    hone_export_job_cancel(e->job);
}

static void file_free(gpointer data)
{
  HoneExportFile *f = data;
  g_free(f->name);
  g_free(f);
}

static void on_finished(gboolean ok, gboolean cancelled, const char *message, GPtrArray *files,
                        gpointer data)
{
  events *e = data;
  e->finished = TRUE;
  e->ok = ok;
  e->cancelled = cancelled;
  g_assert_false(ok && cancelled);
  e->message = g_strdup(message);
  g_assert_true(ok == (files != NULL));
  g_assert_true(ok == (message == NULL));
  if (files != NULL) {
    e->files = g_ptr_array_new_with_free_func(file_free);
    for (guint i = 0; i < files->len; i++) {
      const HoneExportFile *f = g_ptr_array_index(files, i);
      HoneExportFile *copy = g_new0(HoneExportFile, 1);
      copy->name = g_strdup(f->name);
      copy->size = f->size;
      g_ptr_array_add(e->files, copy);
    }
  }
  g_main_loop_quit(e->loop);
}

static const HoneExportJobCallbacks callbacks = {on_progress, on_finished};

static void events_reset(events *e)
{
  g_ptr_array_set_size(e->whats, 0);
  g_array_set_size(e->indexes, 0);
  g_array_set_size(e->totals, 0);
  e->finished = e->ok = e->cancelled = FALSE;
  g_clear_pointer(&e->message, g_free);
  g_clear_pointer(&e->files, g_ptr_array_unref);
}

static events *events_new(void)
{
  events *e = g_new0(events, 1);
  e->loop = g_main_loop_new(NULL, FALSE);
  e->whats = g_ptr_array_new_with_free_func(g_free);
  e->indexes = g_array_new(FALSE, FALSE, sizeof(gsize));
  e->totals = g_array_new(FALSE, FALSE, sizeof(gsize));
  return e;
}

static void events_free(events *e)
{
  events_reset(e);
  g_ptr_array_unref(e->whats);
  g_array_unref(e->indexes);
  g_array_unref(e->totals);
  g_main_loop_unref(e->loop);
  g_free(e);
}

/* The keys both the job and `hone export` get (key, value, ..., NULL). */
static const char *const KEYS[] = {"infer_dtype", "float32", "template", "chatml", NULL};
/* A GGUF file beside 0.2 GB shards (SmolLM2's 538 MB in fp32: three shards and the index). */
static const char *const GGUF_KEYS[] = {"infer_dtype", "float32", "export_size", "0.2",
                                        "export_gguf", "q8_0", NULL};

static void set_args(hn_export_args *args, const char *model, const char *dir,
                     const char *const *keys)
{
  hn_export_args_init(args);
  hn_error err = {0};
  g_assert_cmpint(hn_export_args_set(args, "model_name_or_path", model, "test", &err), ==,
                  HN_OK);
  g_assert_cmpint(hn_export_args_set(args, "export_dir", dir, "test", &err), ==, HN_OK);
  for (size_t i = 0; keys[i] != NULL; i += 2)
    g_assert_cmpint(hn_export_args_set(args, keys[i], keys[i + 1], "test", &err), ==, HN_OK);
}

static gboolean count_tick(gpointer data)
{
  (*(int *)data)++;
  return G_SOURCE_CONTINUE;
}

/* Starts the job on dir and runs the main loop until it finishes. */
static void run_job(HoneExportJob *job, events *e, const char *model, const char *dir,
                    const char *const *keys, int *ticks)
{
  hn_export_args args;
  set_args(&args, model, dir, keys);
  hn_error err = {0};
  g_assert_true(hone_export_job_start(job, &args, &err));
  g_assert_null(args.model_name_or_path); /* taken over */
  g_assert_true(hone_export_job_busy(job));
  /* one export at a time: refused without a message, args untouched */
  hn_export_args again;
  set_args(&again, model, dir, keys);
  hn_error busy_err = {0};
  g_assert_false(hone_export_job_start(job, &again, &busy_err));
  g_assert_cmpstr(busy_err.message, ==, "");
  g_assert_cmpstr(again.model_name_or_path, ==, model);
  hn_export_args_clear(&again);
  *ticks = 0;
  guint id = g_timeout_add(5, count_tick, ticks);
  g_main_loop_run(e->loop);
  g_source_remove(id);
  g_assert_true(e->finished);
  g_assert_false(hone_export_job_busy(job));
}

/* `hone export` with the same keys into dir; returns its stderr. */
static char *run_cli(const char *model, const char *dir, const char *const *keys,
                     int want_status)
{
  char *argv[16] = {(char *)g_getenv("HONE_BIN"), "export", "--model_name_or_path",
                    (char *)model, "--export_dir", (char *)dir};
  int n = 6;
  for (size_t i = 0; keys[i] != NULL; i += 2) {
    argv[n++] = g_strdup_printf("--%s", keys[i]);
    argv[n++] = (char *)keys[i + 1];
  }
  argv[n] = NULL;
  char *out = NULL, *err = NULL;
  int status = test_run(argv, &out, &err);
  if (status != want_status)
    g_error("hone export exited with %d, expected %d: %s%s", status, want_status, out, err);
  for (int i = 6; i < n; i += 2)
    g_free(argv[i]);
  g_free(out);
  return err;
}

static void assert_same_bytes(const char *a, const char *b)
{
  GError *error = NULL;
  GMappedFile *fa = g_mapped_file_new(a, FALSE, &error);
  g_assert_no_error(error);
  GMappedFile *fb = g_mapped_file_new(b, FALSE, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_mapped_file_get_length(fa), ==, g_mapped_file_get_length(fb));
  gsize n = g_mapped_file_get_length(fa);
  if (n > 0 && memcmp(g_mapped_file_get_contents(fa), g_mapped_file_get_contents(fb), n) != 0)
    g_error("%s and %s differ", a, b);
  g_mapped_file_unref(fa);
  g_mapped_file_unref(fb);
}

/* The job's files (listed in job_dir) are those `hone export` wrote in cli_dir: names, sizes,
 * bytes. */
static void assert_same_folders(GPtrArray *files, const char *job_dir, const char *cli_dir)
{
  hn_error err = {0};
  GPtrArray *cli_files = hone_export_list_files(cli_dir, &err);
  g_assert_nonnull(cli_files);
  g_assert_cmpuint(cli_files->len, ==, files->len);
  for (guint i = 0; i < cli_files->len; i++) {
    const HoneExportFile *got = g_ptr_array_index(files, i);
    const HoneExportFile *want = g_ptr_array_index(cli_files, i);
    g_assert_cmpstr(got->name, ==, want->name);
    g_assert_cmpuint(got->size, ==, want->size);
    char *a = g_build_filename(job_dir, got->name, NULL);
    char *b = g_build_filename(cli_dir, want->name, NULL);
    assert_same_bytes(a, b);
    g_test_message("%s: %" G_GUINT64_FORMAT " bytes, identical", got->name, got->size);
    g_free(a);
    g_free(b);
  }
  g_ptr_array_unref(cli_files);
}

static const HoneExportFile *find_file(GPtrArray *files, const char *name)
{
  for (guint i = 0; i < files->len; i++) {
    const HoneExportFile *f = g_ptr_array_index(files, i);
    if (strcmp(f->name, name) == 0)
      return f;
  }
  return NULL;
}

/* Progress: tensors 0 .. total-1 then model.safetensors at total, one count; the tensor names
 * are exactly those of the written file, in the order written. */
static void check_progress(events *e, const char *dir)
{
  guint n = e->whats->len;
  g_assert_cmpuint(n, >, 2);
  gsize total = g_array_index(e->totals, gsize, 0);
  g_assert_cmpuint(n, ==, total + 1);
  for (guint i = 0; i < n; i++) {
    g_assert_cmpuint(g_array_index(e->indexes, gsize, i), ==, i);
    g_assert_cmpuint(g_array_index(e->totals, gsize, i), ==, total);
  }
  g_assert_cmpstr(g_ptr_array_index(e->whats, n - 1), ==, "model.safetensors");
  char *path = g_build_filename(dir, "model.safetensors", NULL);
  hn_st_file *st = NULL;
  hn_error err = {0};
  if (hn_st_open(path, &st, &err) != HN_OK)
    g_error("%s", err.message);
  g_assert_cmpuint(hn_st_count(st), ==, total);
  for (guint i = 0; i < total; i++)
    if (hn_st_find(st, g_ptr_array_index(e->whats, i)) == NULL)
      g_error("progress step %u names %s, not a tensor of %s", i,
              (char *)g_ptr_array_index(e->whats, i), path);
  g_test_message("progress: %zu tensors, then model.safetensors", total);
  hn_st_close(st);
  g_free(path);
}

static void test_export_matches_cli(void)
{
  char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
  char *tmp = test_make_tmpdir();
  char *job_dir = g_build_filename(tmp, "job", NULL);
  char *cli_dir = g_build_filename(tmp, "cli", NULL);
  events *e = events_new();
  HoneExportJob *job = hone_export_job_new(&callbacks, e);

  int ticks = 0;
  run_job(job, e, model, job_dir, KEYS, &ticks);
  if (!e->ok)
    g_error("the export failed: %s", e->message);
  g_assert_cmpint(ticks, >, 0); /* the main loop ran while the worker exported */
  g_test_message("export: %d main-loop ticks of 5 ms while exporting", ticks);
  check_progress(e, job_dir);

  const char *const wanted[] = {"config.json", "generation_config.json", "model.safetensors",
                                "tokenizer.json", "tokenizer_config.json", "Modelfile"};
  for (size_t i = 0; i < G_N_ELEMENTS(wanted); i++) {
    const HoneExportFile *f = find_file(e->files, wanted[i]);
    if (f == NULL)
      g_error("the job's file list lacks %s", wanted[i]);
    g_assert_cmpuint(f->size, >, 0);
  }
  for (guint i = 1; i < e->files->len; i++) /* sorted by name */
    g_assert_cmpint(strcmp(((HoneExportFile *)g_ptr_array_index(e->files, i - 1))->name,
                           ((HoneExportFile *)g_ptr_array_index(e->files, i))->name),
                    <, 0);

  /* `hone export`, same keys, another folder: the same files, sizes and bytes */
  g_free(run_cli(model, cli_dir, KEYS, 0));
  assert_same_folders(e->files, job_dir, cli_dir);
  hn_error err = {0};

  /* the folder is not empty now: without overwrite the engine refuses it, as hone export */
  GPtrArray *before = hone_export_list_files(job_dir, &err);
  events_reset(e);
  run_job(job, e, model, job_dir, KEYS, &ticks);
  g_assert_false(e->ok);
  g_assert_nonnull(e->message);
  g_assert_cmpuint(e->whats->len, ==, 0);
  char *cli_err = run_cli(model, job_dir, KEYS, 1); /* the same folder: the same message */
  char *line = g_strdup_printf("hone export: error: %s\n", e->message);
  g_assert_cmpstr(cli_err, ==, line);
  g_assert_nonnull(strstr(e->message, job_dir));
  g_test_message("refused: %s", e->message);
  GPtrArray *after = hone_export_list_files(job_dir, &err);
  g_assert_cmpuint(after->len, ==, before->len);
  for (guint i = 0; i < after->len; i++)
    g_assert_cmpuint(((HoneExportFile *)g_ptr_array_index(after, i))->size, ==,
                     ((HoneExportFile *)g_ptr_array_index(before, i))->size);
  g_ptr_array_unref(before);
  g_ptr_array_unref(after);
  g_free(line);
  g_free(cli_err);

  hone_export_job_free(job);
  events_free(e);
  test_remove_tree(tmp);
  g_free(job_dir);
  g_free(cli_dir);
  g_free(tmp);
  g_free(model);
}

/* Shards and a Q8_0 GGUF: progress counts the safetensors' tensors (0 .. n-1, then the index
 * file at n), then starts again for the GGUF's (0 .. m-1 of m, llama.cpp's names marked
 * "(GGUF)", as many tensors); the folder is `hone export`'s, byte for byte. */
static void test_gguf_and_shards(void)
{
  char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
  char *tmp = test_make_tmpdir();
  /* one folder name: the GGUF is named after it (NAME-q8_0.gguf) */
  char *job_dir = g_build_filename(tmp, "job", "out", NULL);
  char *cli_dir = g_build_filename(tmp, "cli", "out", NULL);
  events *e = events_new();
  HoneExportJob *job = hone_export_job_new(&callbacks, e);
  int ticks = 0;
  run_job(job, e, model, job_dir, GGUF_KEYS, &ticks);
  if (!e->ok)
    g_error("the export failed: %s", e->message);
  gsize n = g_array_index(e->totals, gsize, 0);
  g_assert_cmpuint(n, >, 2);
  g_assert_cmpuint(e->whats->len, ==, n + 1 + n);
  for (gsize i = 0; i <= n; i++) {
    g_assert_cmpuint(g_array_index(e->indexes, gsize, i), ==, i);
    g_assert_cmpuint(g_array_index(e->totals, gsize, i), ==, n);
  }
  g_assert_cmpstr(g_ptr_array_index(e->whats, n), ==, "model.safetensors");
  for (gsize i = 0; i < n; i++) {
    g_assert_cmpuint(g_array_index(e->indexes, gsize, n + 1 + i), ==, i);
    g_assert_cmpuint(g_array_index(e->totals, gsize, n + 1 + i), ==, n);
  }
  g_assert_cmpstr(g_ptr_array_index(e->whats, n + 1), ==, "token_embd.weight (GGUF)");
  g_assert_nonnull(find_file(e->files, "model.safetensors.index.json"));
  g_assert_nonnull(find_file(e->files, "model-00003-of-00003.safetensors"));
  g_assert_null(find_file(e->files, "model-00001-of-00004.safetensors"));
  g_assert_nonnull(find_file(e->files, "out-q8_0.gguf"));
  g_free(run_cli(model, cli_dir, GGUF_KEYS, 0));
  assert_same_folders(e->files, job_dir, cli_dir);
  hone_export_job_free(job);
  events_free(e);
  test_remove_tree(tmp);
  g_free(job_dir);
  g_free(cli_dir);
  g_free(tmp);
  g_free(model);
}

/* Bad arguments are the engine's check's errors, and nothing starts. */
static void test_bad_arguments(void)
{
  events *e = events_new();
  HoneExportJob *job = hone_export_job_new(&callbacks, e);
  hn_export_args args;
  hn_export_args_init(&args);
  hn_error err = {0};
  g_assert_false(hone_export_job_start(job, &args, &err));
  g_assert_cmpstr(err.message, ==,
                  "model_name_or_path: expected a model folder or GGUF file, none given");
  g_assert_cmpint(hn_export_args_set(&args, "model_name_or_path", "/nowhere/model.gguf", "test",
                                     &err),
                  ==, HN_OK);
  g_assert_false(hone_export_job_start(job, &args, &err));
  g_assert_nonnull(strstr(err.message, "export_dir: expected the folder"));
  g_assert_false(hone_export_job_busy(job));
  hn_export_args_clear(&args);
  hone_export_job_free(job);
  events_free(e);
}

/* A missing model fails on the worker with the engine's message naming it. */
static void test_missing_model(void)
{
  char *tmp = test_make_tmpdir();
  char *dir = g_build_filename(tmp, "out", NULL);
  char *model = g_build_filename(tmp, "missing.gguf", NULL);
  events *e = events_new();
  HoneExportJob *job = hone_export_job_new(&callbacks, e);
  int ticks = 0;
  run_job(job, e, model, dir, KEYS, &ticks);
  g_assert_false(e->ok);
  g_assert_nonnull(strstr(e->message, model));
  g_test_message("missing model: %s", e->message);
  hone_export_job_free(job);
  events_free(e);
  test_remove_tree(tmp);
  g_free(model);
  g_free(dir);
  g_free(tmp);
}

/* The folder listing: sub-folders walked, sizes, sorted; a missing folder is an error. */
static void test_list_files(void)
{
  char *tmp = test_make_tmpdir();
  char *sub = g_build_filename(tmp, "b", NULL);
  g_mkdir_with_parents(sub, 0755);
  char *p1 = g_build_filename(tmp, "c.txt", NULL), *p2 = g_build_filename(sub, "a.bin", NULL),
       *p3 = g_build_filename(tmp, "a.json", NULL);
  test_write_text(p1, "hello");
  test_write_file(p2, "\0\1\2", 3);
  test_write_text(p3, "");
  hn_error err = {0};
  GPtrArray *files = hone_export_list_files(tmp, &err);
  g_assert_nonnull(files);
  g_assert_cmpuint(files->len, ==, 3);
  const char *names[] = {"a.json", "b/a.bin", "c.txt"};
  const guint64 sizes[] = {0, 3, 5};
  for (guint i = 0; i < 3; i++) {
    const HoneExportFile *f = g_ptr_array_index(files, i);
    g_assert_cmpstr(f->name, ==, names[i]);
    g_assert_cmpuint(f->size, ==, sizes[i]);
  }
  g_ptr_array_unref(files);
  char *missing = g_build_filename(tmp, "none", NULL);
  g_assert_null(hone_export_list_files(missing, &err));
  g_assert_nonnull(strstr(err.message, missing));
  test_remove_tree(tmp);
  g_free(missing);
  g_free(p1);
  g_free(p2);
  g_free(p3);
  g_free(sub);
  g_free(tmp);
}

/* The folder's entries, sorted, as one string "a,b,..." ("" when empty; NULL when missing). */
static char *folder_entries(const char *dir)
{
  GDir *d = g_dir_open(dir, 0, NULL);
  if (d == NULL)
    return NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL)
    g_ptr_array_add(names, g_strdup(name));
  g_dir_close(d);
  g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
  g_ptr_array_add(names, NULL);
  char *joined = g_strjoinv(",", (char **)names->pdata);
  g_ptr_array_unref(names);
  return joined;
}

/* The engine's cancel flag, set by the progress callback itself at one step. */
typedef struct {
  atomic_bool cancel;
  const char *at; /* the step whose name ends so sets it */
  guint steps, steps_after; /* all steps; those after the flag was set */
} engine_cancel;

static void engine_progress(void *user, const char *what, size_t index, size_t total)
{
  engine_cancel *c = user;
  c->steps++;
  if (atomic_load(&c->cancel))
    c->steps_after++;
  else if (g_str_has_suffix(what, c->at))
    atomic_store(&c->cancel, true);
}

/* hn_export_run stops at the first check after the flag: no further progress step, the
 * "export cancelled" status and message, and nothing left: a folder it made is gone, a folder
 * that held a file (overwrite_output_dir) holds just that file, unchanged. */
static void test_engine_cancel(void)
{
  char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
  char *tmp = test_make_tmpdir();
  /* a new folder, stopped at the 4th tensor; then one holding keep.txt, stopped in the GGUF phase
   * after the shards and the index were written */
  struct {
    const char *at;
    gboolean existing;
  } cases[] = {{".layers.0.self_attn.v_proj.weight", FALSE}, {"blk.1.attn_q.weight (GGUF)", TRUE}};
  for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
    char *dir = g_build_filename(tmp, k == 0 ? "new" : "existing", "out", NULL);
    char *keep = g_build_filename(dir, "keep.txt", NULL);
    if (cases[k].existing) {
      g_mkdir_with_parents(dir, 0755);
      test_write_text(keep, "mine");
    }
    hn_export_args args;
    set_args(&args, model, dir, GGUF_KEYS);
    hn_error err = {0};
    if (cases[k].existing)
      g_assert_cmpint(hn_export_args_set(&args, "overwrite_output_dir", "true", "test", &err), ==,
                      HN_OK);
    engine_cancel c = {.at = cases[k].at};
    atomic_init(&c.cancel, false);
    g_assert_cmpint(hn_export_run(&args, engine_progress, &c, &c.cancel, &err), ==,
                    HN_ERR_STOPPED);
    g_assert_true(atomic_load(&c.cancel));
    g_assert_cmpuint(c.steps_after, ==, 0); /* stopped before the next tensor */
    g_assert_cmpuint(c.steps, >, 3);
    char *want = g_strdup_printf("export cancelled: nothing was written to %s", dir);
    g_assert_cmpstr(err.message, ==, want);
    char *entries = folder_entries(dir);
    if (cases[k].existing) {
      g_assert_cmpstr(entries, ==, "keep.txt");
      char *text = NULL;
      g_assert_true(g_file_get_contents(keep, &text, NULL, NULL));
      g_assert_cmpstr(text, ==, "mine");
      g_free(text);
    } else {
      g_assert_null(entries); /* the folders it made are removed: out and its parent new */
      char *parent = g_path_get_dirname(dir);
      g_assert_false(g_file_test(parent, G_FILE_TEST_EXISTS));
      g_free(parent);
    }
    g_test_message("cancelled at %s after %u steps: %s holds [%s]", cases[k].at, c.steps, dir,
                   entries != NULL ? entries : "(removed)");
    g_free(entries);
    g_free(want);
    hn_export_args_clear(&args);
    g_free(keep);
    g_free(dir);
  }
  test_remove_tree(tmp);
  g_free(tmp);
  g_free(model);
}

/* The job's Cancel, pressed from the main loop when the GGUF's first tensor shows (the shards and
 * index are written by then, in the staging folder): finished() says cancelled with the engine's
 * message, the GGUF count never reached its end, and the new folder is gone. Cancel when idle
 * does nothing; the job then exports again normally. */
static void test_job_cancel(void)
{
  char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
  char *tmp = test_make_tmpdir();
  char *dir = g_build_filename(tmp, "out", NULL);
  events *e = events_new();
  HoneExportJob *job = hone_export_job_new(&callbacks, e);
  e->job = job;
  hone_export_job_cancel(job); /* idle: nothing */
  g_assert_false(hone_export_job_busy(job));
  e->cancel_at = "token_embd.weight (GGUF)";
  int ticks = 0;
  run_job(job, e, model, dir, GGUF_KEYS, &ticks);
  g_assert_false(e->ok);
  g_assert_true(e->cancelled);
  g_assert_null(e->files);
  char *want = g_strdup_printf("export cancelled: nothing was written to %s", dir);
  g_assert_cmpstr(e->message, ==, want);
  gsize n = g_array_index(e->totals, gsize, 0);
  guint steps = e->whats->len;
  g_assert_cmpuint(steps, >, n + 1); /* the safetensors count and its file ran */
  g_assert_cmpuint(steps, <, n + 1 + n); /* the GGUF count did not finish */
  g_assert_cmpstr(g_ptr_array_index(e->whats, n), ==, "model.safetensors");
  char *entries = folder_entries(dir);
  g_assert_null(entries);
  char *tmp_entries = folder_entries(tmp);
  g_assert_cmpstr(tmp_entries, ==, "");
  g_test_message("cancelled after %u of %zu steps; %s removed", steps, n + 1 + n, dir);
  /* the same job exports again, to the end */
  events_reset(e);
  e->cancel_at = NULL;
  run_job(job, e, model, dir, KEYS, &ticks);
  if (!e->ok)
    g_error("the export after a cancel failed: %s", e->message);
  g_assert_false(e->cancelled);
  g_assert_nonnull(find_file(e->files, "model.safetensors"));
  g_free(tmp_entries);
  g_free(want);
  hone_export_job_free(job);
  events_free(e);
  test_remove_tree(tmp);
  g_free(dir);
  g_free(tmp);
  g_free(model);
}

typedef struct {
  GMainLoop *loop;
  GString *text;
  GSubprocess *process;
  gboolean interrupted;
} cli_run;

static void read_line(GObject *source, GAsyncResult *result, gpointer data);

static void next_line(GDataInputStream *in, cli_run *r)
{
  g_data_input_stream_read_line_async(in, G_PRIORITY_DEFAULT, NULL, read_line, r);
}

/* Each stderr line of hone export; SIGINT once the GGUF phase shows. */
static void read_line(GObject *source, GAsyncResult *result, gpointer data)
{
  cli_run *r = data;
  char *line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), result, NULL,
                                                    NULL);
  if (line == NULL) {
    g_main_loop_quit(r->loop);
    return;
  }
  g_string_append_printf(r->text, "%s\n", line);
  if (!r->interrupted && strstr(line, "(GGUF)") != NULL) {
    r->interrupted = TRUE;
    g_subprocess_send_signal(r->process, SIGINT);
  }
  g_free(line);
  next_line(G_DATA_INPUT_STREAM(source), r);
}

/* `hone export` and Ctrl-C in the GGUF phase: exit 130, its last line the engine's "export
 * cancelled: nothing was written to DIR", and DIR (which it made) is gone. */
static void test_cli_interrupt(void)
{
  char *model = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
  char *tmp = test_make_tmpdir();
  char *dir = g_build_filename(tmp, "out", NULL);
  GError *error = NULL;
  cli_run r = {.loop = g_main_loop_new(NULL, FALSE), .text = g_string_new(NULL)};
  const char *argv[] = {g_getenv("HONE_BIN"), "export", "--model_name_or_path", model,
                        "--export_dir", dir, "--export_gguf", "q8_0", NULL};
  r.process = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                          G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error(error);
  GDataInputStream *in = g_data_input_stream_new(g_subprocess_get_stderr_pipe(r.process));
  next_line(in, &r);
  g_main_loop_run(r.loop);
  g_assert_true(g_subprocess_wait(r.process, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(r.interrupted);
  g_assert_true(g_subprocess_get_if_exited(r.process));
  g_assert_cmpint(g_subprocess_get_exit_status(r.process), ==, 130);
  char *last = g_strdup_printf("hone export: export cancelled: nothing was written to %s\n", dir);
  if (!g_str_has_suffix(r.text->str, last))
    g_error("hone export's stderr does not end with %s: %s", last, r.text->str);
  g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
  char *entries = folder_entries(tmp);
  g_assert_cmpstr(entries, ==, "");
  g_free(entries);
  g_free(last);
  g_object_unref(in);
  g_object_unref(r.process);
  g_string_free(r.text, TRUE);
  g_main_loop_unref(r.loop);
  test_remove_tree(tmp);
  g_free(dir);
  g_free(tmp);
  g_free(model);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/export_job/list_files", test_list_files);
  g_test_add_func("/export_job/bad_arguments", test_bad_arguments);
  g_test_add_func("/export_job/missing_model", test_missing_model);
  g_test_add_func("/export_job/matches_cli", test_export_matches_cli);
  g_test_add_func("/export_job/gguf_and_shards", test_gguf_and_shards);
  g_test_add_func("/export_job/engine_cancel", test_engine_cancel);
  g_test_add_func("/export_job/job_cancel", test_job_cancel);
  g_test_add_func("/export_job/cli_interrupt", test_cli_interrupt);
  return g_test_run();
}
