/* The Jinja interpreter's memory: a bump allocator whose blocks are freed all at once, used
 * for a compiled template's tree and for the values of one render. */
#include <stdarg.h>
#include <string.h>

#include "jinja_internal.h"

enum { BLOCK_SIZE = 64 * 1024, ALIGN = 16 };

void jn_arena_init(jn_arena *a)
{
    a->blocks = g_ptr_array_new_with_free_func(g_free);
    a->cursor = NULL;
    a->left = 0;
    a->total = 0;
}

void jn_arena_clear(jn_arena *a)
{
    if (a->blocks != NULL)
        g_ptr_array_free(a->blocks, TRUE);
    a->blocks = NULL;
    a->cursor = NULL;
    a->left = 0;
    a->total = 0;
}

void *jn_arena_alloc(jn_arena *a, size_t size)
{
    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (size == 0)
        size = ALIGN;
    a->total += size;
    if (size > BLOCK_SIZE / 4) {
        /* Large: a block of its own, so the current block keeps its room. */
        void *own = g_malloc0(size);
        g_ptr_array_add(a->blocks, own);
        return own;
    }
    if (size > a->left) {
        a->cursor = g_malloc0(BLOCK_SIZE);
        a->left = BLOCK_SIZE;
        g_ptr_array_add(a->blocks, a->cursor);
    }
    void *p = a->cursor;
    a->cursor += size;
    a->left -= size;
    return p;
}

char *jn_arena_strndup(jn_arena *a, const char *s, size_t n)
{
    char *copy = jn_arena_alloc(a, n + 1);
    if (n > 0)
        memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *jn_arena_printf(jn_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *copy = jn_arena_strndup(a, msg, strlen(msg));
    g_free(msg);
    return copy;
}
