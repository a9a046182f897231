/* worker.c: one background job's thread and its messages to the main loop (see worker.h). The
 * frame is reference counted: the owner's reference until hone_worker_close, and one per queued
 * message, so a message never outlives the frame it checks. */
#include "worker.h"

struct _HoneWorker {
  gint ref_count;
  GMainContext *context;
  gpointer owner;
  HoneWorkerDeliver deliver;
  GDestroyNotify free_message;
  gboolean closed; /* hone_worker_close ran: messages are dropped */
  GThread *thread; /* the running worker, NULL when idle */
  atomic_bool cancel;
};

typedef struct {
  HoneWorker *worker;
  gpointer message;
} Envelope;

static HoneWorker *
worker_ref (HoneWorker *w)
{
  g_atomic_int_inc (&w->ref_count);
  return w;
}

static void
worker_unref (HoneWorker *w)
{
  if (!g_atomic_int_dec_and_test (&w->ref_count))
    return;
  g_main_context_unref (w->context);
  g_free (w);
}

HoneWorker *
hone_worker_new (gpointer owner, HoneWorkerDeliver deliver, GDestroyNotify free_message)
{
  HoneWorker *w = g_new0 (HoneWorker, 1);
  w->ref_count = 1;
  w->context = g_main_context_ref_thread_default ();
  w->owner = owner;
  w->deliver = deliver;
  w->free_message = free_message;
  atomic_init (&w->cancel, false);
  return w;
}

void
hone_worker_close (HoneWorker *w)
{
  if (w == NULL)
    return;
  w->closed = TRUE;
  atomic_store (&w->cancel, true);
  hone_worker_join (w);
  worker_unref (w); /* messages still queued hold the rest */
}

gboolean
hone_worker_start (HoneWorker *w, const char *name, GThreadFunc run)
{
  if (w->thread != NULL)
    return FALSE;
  atomic_store (&w->cancel, false);
  w->thread = g_thread_new (name, run, w->owner);
  return TRUE;
}

gboolean
hone_worker_busy (HoneWorker *w)
{
  return w->thread != NULL;
}

void
hone_worker_join (HoneWorker *w)
{
  if (w->thread != NULL)
    g_thread_join (w->thread);
  w->thread = NULL;
}

static gboolean
deliver_envelope (gpointer data)
{
  Envelope *e = data;
  if (!e->worker->closed)
    e->worker->deliver (e->message, e->worker->owner);
  return G_SOURCE_REMOVE;
}

static void
free_envelope (gpointer data)
{
  Envelope *e = data;
  e->worker->free_message (e->message);
  worker_unref (e->worker);
  g_free (e);
}

void
hone_worker_post (HoneWorker *w, gpointer message)
{
  Envelope *e = g_new (Envelope, 1);
  e->worker = worker_ref (w);
  e->message = message;
  /* always queued, never run here on the worker (g_main_context_invoke could, when the main
   * loop is between iterations); idle sources of one priority run in the order they came */
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, deliver_envelope, e, free_envelope);
  g_source_attach (source, w->context);
  g_source_unref (source);
}

atomic_bool *
hone_worker_cancel_flag (HoneWorker *w)
{
  return &w->cancel;
}

void
hone_worker_cancel (HoneWorker *w)
{
  atomic_store (&w->cancel, true);
}
