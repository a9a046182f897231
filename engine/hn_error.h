/* Errors for the engine: every fallible hn_ function returns an hn_status and, on failure,
 * fills an hn_error with one message that names the file, the place and what was expected. */
#pragma once

#include <glib.h>

typedef enum {
    HN_OK = 0,
    HN_ERR_IO,          /* a file could not be opened, read, written or renamed */
    HN_ERR_FORMAT,      /* a file's content breaks its format */
    HN_ERR_UNSUPPORTED, /* well-formed, but something Hone does not handle (yet) */
    HN_ERR_ARGUMENT,    /* a caller passed something invalid */
    HN_ERR_NOMEM,       /* an allocation or mapping failed */
    HN_ERR_STOPPED,     /* the user asked to stop (Ctrl-C, a cancel flag); work was saved */
} hn_status;

typedef struct {
    hn_status status;
    char message[2048];
} hn_error;

/* Sets err (when non-NULL) and returns status, so callers can `return hn_fail (...)`. */
hn_status hn_fail(hn_error *err, hn_status status, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Prepends "prefix: " to an error already set, to add outer context (a shard, an index). */
void hn_error_prefix(hn_error *err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Propagates a failed status to the caller. */
#define HN_TRY(expr)                          \
    do {                                      \
        hn_status hn_try_status_ = (expr);    \
        if (hn_try_status_ != HN_OK)          \
            return hn_try_status_;            \
    } while (0)
