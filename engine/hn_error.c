/* The engine's error message buffer: formatting and adding context. */
#include "hn_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

hn_status hn_fail(hn_error *err, hn_status status, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void hn_error_prefix(hn_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *joined = g_strdup_printf("%s: %s", prefix, err->message);
    g_strlcpy(err->message, joined, sizeof err->message);
    g_free(joined);
    g_free(prefix);
}
