/* The frame the desktop app's background jobs share (chat_session.c, eval_job.c,
 * export_job.c): one worker thread at a time, a cancel flag the engine reads, and messages the
 * worker posts to the main loop of the thread that made the frame. Messages arrive in the
 * order they were posted, as idle sources (after input and redrawing, so a fast stream never
 * starves the window); once the frame is closed they are freed unread, so a job can go away
 * while its worker's last messages are still queued. */
#pragma once

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct _HoneWorker HoneWorker;

/* On the main thread, for each message posted, unless the frame was closed first; owner is
 * what hone_worker_new was given. */
typedef void (*HoneWorkerDeliver) (gpointer message, gpointer owner);

/* A frame for owner's jobs; free_message frees a message, delivered or not. */
HoneWorker *hone_worker_new (gpointer owner, HoneWorkerDeliver deliver,
                             GDestroyNotify free_message);
/* Sets the cancel flag, waits for a running worker, and drops whatever it posted that has not
 * been delivered: no delivery comes after this. The frame itself goes when its last queued
 * message does. */
void hone_worker_close (HoneWorker *worker);

/* Runs run(owner) on a new thread called name, with the cancel flag cleared. FALSE (nothing
 * started) while a worker runs. */
gboolean hone_worker_start (HoneWorker *worker, const char *name, GThreadFunc run);
gboolean hone_worker_busy (HoneWorker *worker);
/* On the main thread, when the worker's last message arrives: waits for its thread to end
 * (it returns right after posting that message). No-op when no worker runs. */
void hone_worker_join (HoneWorker *worker);

/* From the worker: queues message for the main loop (taken). */
void hone_worker_post (HoneWorker *worker, gpointer message);

/* The flag the engine reads between batches or tokens; set by hone_worker_cancel. */
atomic_bool *hone_worker_cancel_flag (HoneWorker *worker);
void hone_worker_cancel (HoneWorker *worker);
