/* Writing a file so that readers see either the old file or the complete new one, never a
 * torn one: write to a temporary name in the same folder, fsync, rename, fsync the folder. */
#pragma once

#include <stddef.h>

#include "hn_error.h"

typedef struct {
    int fd;
    char *path;      /* the final name */
    char *temp_path; /* where the bytes go until commit */
} hn_atomic_file;

hn_status hn_atomic_open(hn_atomic_file *file, const char *path, hn_error *err);
hn_status hn_atomic_write(hn_atomic_file *file, const void *data, size_t size, hn_error *err);
/* fsync + rename into place; the handle is closed whatever happens. */
hn_status hn_atomic_commit(hn_atomic_file *file, hn_error *err);
/* Removes the temporary file; safe to call on a committed or never-opened handle. */
void hn_atomic_abort(hn_atomic_file *file);

/* Writes a whole small file (JSON, text) atomically. */
hn_status hn_atomic_write_all(const char *path, const void *data, size_t size, hn_error *err);
/* Copies a whole (small) file to `to` atomically. */
hn_status hn_atomic_copy_file(const char *from, const char *to, hn_error *err);
