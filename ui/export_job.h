/* An export for the Export page, without widgets: the engine's hn_export_run (export.h, as
 * `hone export` calls it) on a worker thread; its progress and its end reach the main loop of
 * the thread that made the job, as idle sources queued on that thread's default main context
 * (in the order they were posted). When the export succeeded the end carries the files now in
 * the export folder with their sizes, read from the folder. One export at a time; cancel asks the
 * running export to stop before its next tensor or file (the engine's cancel flag: it then
 * removes what it wrote, leaving the export folder as it was); freeing the job cancels a running
 * export and waits for it to stop. */
#pragma once

#include <glib.h>

#include "export.h"

typedef struct _HoneExportJob HoneExportJob;

/* A regular file in the export folder after the export. */
typedef struct {
  char *name; /* relative to the export folder ("sub/x" for a file in a sub-folder) */
  guint64 size;
} HoneExportFile;

typedef struct {
  /* Before each tensor (what: its name, index < total) or file (index == total) is written,
   * as export.h's hn_export_progress; a GGUF export starts a second count for its tensors. */
  void (*progress) (const char *what, gsize index, gsize total, gpointer user_data);
  /* The export ended: ok with files (HoneExportFile*, sorted by name), or not with message
   * saying why (files NULL); cancelled: it stopped because hone_export_job_cancel asked (not ok,
   * the engine's "export cancelled: ..." as message). Both are owned by the job and valid
   * during the call. */
  void (*finished) (gboolean ok, gboolean cancelled, const char *message, GPtrArray *files,
                    gpointer user_data);
} HoneExportJobCallbacks;

/* Callbacks run on the calling thread's default main context. */
HoneExportJob *hone_export_job_new (const HoneExportJobCallbacks *callbacks, gpointer user_data);
/* Cancels a running export and waits for it to stop, then frees the job; no callback comes
 * after this. */
void hone_export_job_free (HoneExportJob *job);

/* Checks args (hn_export_args_check) and starts the export with them. TRUE: started, and the
 * job has taken args' contents (args is left cleared and initialised). FALSE: nothing started
 * and args is untouched; err says why (a bad argument), or is left unset while an export runs
 * already. */
gboolean hone_export_job_start (HoneExportJob *job, hn_export_args *args, hn_error *err);
gboolean hone_export_job_busy (HoneExportJob *job);
/* Asks the running export to stop (nothing when none runs); finished() follows, cancelled unless
 * the export had already ended. */
void hone_export_job_cancel (HoneExportJob *job);

/* The regular files under dir (sub-folders walked) as HoneExportFile*, sorted by name; NULL
 * with err set when dir cannot be read. */
GPtrArray *hone_export_list_files (const char *dir, hn_error *err);
