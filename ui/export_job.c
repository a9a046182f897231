/* export_job.c: an export on a worker thread (worker.h), its progress and end posted to the
 * main loop (see export_job.h). The worker only reads the job's copy of the arguments, which
 * the main thread leaves alone while it runs. */
#include "export_job.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "worker.h"

struct _HoneExportJob {
  HoneExportJobCallbacks callbacks;
  gpointer user_data;
  HoneWorker *worker;
  hn_export_args args;
};

static void
export_file_free (gpointer data)
{
  HoneExportFile *file = data;
  g_free (file->name);
  g_free (file);
}

/* ---- the folder's files ---- */

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  const HoneExportFile *x = *(HoneExportFile *const *) a, *y = *(HoneExportFile *const *) b;
  return strcmp (x->name, y->name);
}

static gboolean
list_into (const char *root, const char *relative, GPtrArray *files, hn_error *err)
{
  char *path = relative != NULL ? g_build_filename (root, relative, NULL) : g_strdup (root);
  GError *error = NULL;
  GDir *dir = g_dir_open (path, 0, &error);
  if (dir == NULL) {
    hn_fail (err, HN_ERR_IO, "%s: cannot list the folder: %s", path, error->message);
    g_error_free (error);
    g_free (path);
    return FALSE;
  }
  gboolean ok = TRUE;
  const char *name;
  while (ok && (name = g_dir_read_name (dir)) != NULL) {
    char *child = g_build_filename (path, name, NULL);
    char *child_relative =
        relative != NULL ? g_build_filename (relative, name, NULL) : g_strdup (name);
    struct stat st;
    if (lstat (child, &st) != 0) {
      ok = FALSE;
      hn_fail (err, HN_ERR_IO, "%s: cannot read its size: %s", child, g_strerror (errno));
    } else if (S_ISDIR (st.st_mode)) {
      ok = list_into (root, child_relative, files, err);
    } else if (S_ISREG (st.st_mode)) {
      HoneExportFile *file = g_new0 (HoneExportFile, 1);
      file->name = g_steal_pointer (&child_relative);
      file->size = (guint64) st.st_size;
      g_ptr_array_add (files, file);
    }
    g_free (child_relative);
    g_free (child);
  }
  g_dir_close (dir);
  g_free (path);
  return ok;
}

GPtrArray *
hone_export_list_files (const char *dir, hn_error *err)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (export_file_free);
  if (!list_into (dir, NULL, files, err)) {
    g_ptr_array_unref (files);
    return NULL;
  }
  g_ptr_array_sort (files, compare_names);
  return files;
}

/* ---- messages from the worker to the main loop ---- */

typedef struct {
  gboolean done; /* the end, else a progress step */
  gboolean ok, cancelled;
  char *what; /* progress: the tensor or file; end: the error message */
  gsize index, total;
  GPtrArray *files;
} Message;

static void
message_free (gpointer data)
{
  Message *m = data;
  g_free (m->what);
  if (m->files != NULL)
    g_ptr_array_unref (m->files);
  g_free (m);
}

static void
deliver (gpointer message, gpointer owner)
{
  Message *m = message;
  HoneExportJob *job = owner;
  if (!m->done) {
    if (job->callbacks.progress != NULL)
      job->callbacks.progress (m->what, m->index, m->total, job->user_data);
    return;
  }
  hone_worker_join (job->worker);
  hn_export_args_clear (&job->args);
  if (job->callbacks.finished != NULL)
    job->callbacks.finished (m->ok, m->cancelled, m->ok ? NULL : m->what, m->files,
                             job->user_data);
}

/* ---- the worker ---- */

static void
post_progress (void *user, const char *what, size_t index, size_t total)
{
  HoneExportJob *job = user;
  Message *m = g_new0 (Message, 1);
  m->what = g_strdup (what);
  m->index = index;
  m->total = total;
  hone_worker_post (job->worker, m);
}

static gpointer
export_worker (gpointer data)
{
  HoneExportJob *job = data;
  hn_error err = { 0 };
  Message *m = g_new0 (Message, 1);
  m->done = TRUE;
  hn_status s = hn_export_run (&job->args, post_progress, job,
                               hone_worker_cancel_flag (job->worker), &err);
  m->cancelled = s == HN_ERR_STOPPED;
  m->ok = s == HN_OK && (m->files = hone_export_list_files (job->args.export_dir, &err)) != NULL;
  if (!m->ok)
    m->what = g_strdup (err.message);
  hone_worker_post (job->worker, m);
  return NULL;
}

/* ---- the API ---- */

HoneExportJob *
hone_export_job_new (const HoneExportJobCallbacks *callbacks, gpointer user_data)
{
  HoneExportJob *job = g_new0 (HoneExportJob, 1);
  job->callbacks = *callbacks;
  job->user_data = user_data;
  job->worker = hone_worker_new (job, deliver, message_free);
  hn_export_args_init (&job->args);
  return job;
}

void
hone_export_job_free (HoneExportJob *job)
{
  if (job == NULL)
    return;
  hone_worker_close (job->worker); /* a running export stops before its next tensor */
  hn_export_args_clear (&job->args);
  g_free (job);
}

gboolean
hone_export_job_start (HoneExportJob *job, hn_export_args *args, hn_error *err)
{
  if (hone_worker_busy (job->worker) || hn_export_args_check (args, err) != HN_OK)
    return FALSE;
  hn_export_args_clear (&job->args);
  job->args = *args;
  hn_export_args_init (args);
  return hone_worker_start (job->worker, "hone-export", export_worker);
}

gboolean
hone_export_job_busy (HoneExportJob *job)
{
  return hone_worker_busy (job->worker);
}

void
hone_export_job_cancel (HoneExportJob *job)
{
  if (hone_worker_busy (job->worker))
    hone_worker_cancel (job->worker);
}
