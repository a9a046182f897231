/* saved_runs.c: the runs in a saves folder and resuming (see saved_runs.h). */
#include "saved_runs.h"

#include "i18n.h"
#include <string.h>

#include "checkpoint.h"

/* transformers' names, as LLaMA-Factory's extras/constants.py CHECKPOINT_NAMES lists them */
static const char *const WEIGHT_FILES[] = {
  "adapter_model.safetensors", "adapter_model.bin", "model.safetensors.index.json",
  "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin",
};

static gboolean
holds_weights (const char *dir)
{
  for (size_t i = 0; i < G_N_ELEMENTS (WEIGHT_FILES); i++) {
    char *path = g_build_filename (dir, WEIGHT_FILES[i], NULL);
    gboolean found = g_file_test (path, G_FILE_TEST_IS_REGULAR);
    g_free (path);
    if (found)
      return TRUE;
  }
  return FALSE;
}

static int
newest_first (gconstpointer a, gconstpointer b)
{
  return -strcmp (*(const char *const *) a, *(const char *const *) b);
}

char **
hone_saved_runs (const char *saves_dir)
{
  GPtrArray *runs = g_ptr_array_new ();
  GDir *dir = g_dir_open (saves_dir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    char *path = g_build_filename (saves_dir, name, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_DIR) && holds_weights (path))
      g_ptr_array_add (runs, g_strdup (name));
    g_free (path);
  }
  if (dir != NULL)
    g_dir_close (dir);
  g_ptr_array_sort (runs, newest_first);
  g_ptr_array_add (runs, NULL);
  return (char **) g_ptr_array_free (runs, FALSE);
}

gboolean
hone_saved_runs_chosen (const char *list, const char *path)
{
  char **items = g_strsplit (list != NULL ? list : "", ",", -1);
  gboolean found = FALSE;
  for (char **i = items; *i != NULL; i++)
    found |= strcmp (g_strstrip (*i), path) == 0;
  g_strfreev (items);
  return found;
}

char *
hone_saved_runs_choose (const char *list, const char *path, gboolean several)
{
  if (!several)
    return g_strdup (path);
  gboolean had = hone_saved_runs_chosen (list, path);
  char **items = g_strsplit (list != NULL ? list : "", ",", -1);
  GString *out = g_string_new (NULL);
  for (char **i = items; *i != NULL; i++) {
    char *item = g_strstrip (*i);
    if (item[0] == '\0' || strcmp (item, path) == 0)
      continue;
    g_string_append_printf (out, "%s%s", out->len > 0 ? "," : "", item);
  }
  if (!had)
    g_string_append_printf (out, "%s%s", out->len > 0 ? "," : "", path);
  g_strfreev (items);
  return g_string_free (out, FALSE);
}

gint64
hone_saved_run_resume_step (const char *output_dir)
{
  return hn_checkpoint_last_step (output_dir);
}

char *
hone_saved_run_start_label (const char *output_dir)
{
  gint64 step = hone_saved_run_resume_step (output_dir);
  if (step < 0)
    return g_strdup (_("_Start"));
  char number[32];
  g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, step);
  return g_strdup_printf (_("_Resume from checkpoint-%s"), number);
}
