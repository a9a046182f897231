/* Compiling Jinja templates: checks the text is UTF-8, normalizes newlines as jinja2 does
 * (\r\n and \r become \n, one trailing newline is dropped), lexes and parses into a tree that
 * renders any number of times. */
#include <string.h>

#include "jinja_internal.h"

/* Offset of the first byte that breaks UTF-8 (NUL bytes are allowed), or len. */
static size_t invalid_utf8_at(const char *text, size_t len)
{
    size_t off = 0;
    while (off < len) {
        const char *nul = memchr(text + off, '\0', len - off);
        size_t chunk = (nul != NULL ? (size_t)(nul - text) : len) - off;
        const char *end = NULL;
        if (!g_utf8_validate(text + off, (gssize)chunk, &end))
            return (size_t)(end - text);
        off += chunk + 1;
    }
    return len;
}

static void line_column(const char *text, size_t off, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= off || text[i + 1] != '\n'))) {
            (*line)++;
            *column = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80 && text[i] != '\r') {
            (*column)++;
        }
    }
}

hn_status hn_jinja_compile_len(const char *text, size_t length, const char *label,
                               hn_jinja_template **out, hn_error *err)
{
    hn_error local = {0};
    if (err == NULL)
        err = &local;
    *out = NULL;
    if (label == NULL)
        label = "template";
    size_t bad = invalid_utf8_at(text, length);
    if (bad < length) {
        int line, column;
        line_column(text, bad, &line, &column);
        return hn_fail(err, HN_ERR_FORMAT, "%s: line %d, column %d: the template is not valid "
                       "UTF-8 (byte 0x%02x)", label, line, column, (unsigned char)text[bad]);
    }
    hn_jinja_template *t = g_new0(hn_jinja_template, 1);
    jn_arena_init(&t->arena);
    t->label = g_strdup(label);
    char *src = jn_arena_alloc(&t->arena, length + 1);
    size_t n = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '\r') {
            src[n++] = '\n';
            if (i + 1 < length && text[i + 1] == '\n')
                i++;
        } else {
            src[n++] = text[i];
        }
    }
    if (n > 0 && src[n - 1] == '\n')
        n--; /* keep_trailing_newline=False */
    src[n] = '\0';
    jn_token *tokens = NULL;
    size_t n_tokens = 0;
    hn_status status = jn_lex(&t->arena, t->label, src, n, &tokens, &n_tokens, err);
    if (status == HN_OK)
        status = jn_parse(t, tokens, n_tokens, err);
    if (status != HN_OK) {
        hn_jinja_free(t);
        return status;
    }
    *out = t;
    return HN_OK;
}

hn_status hn_jinja_compile(const char *text, const char *label, hn_jinja_template **out,
                           hn_error *err)
{
    return hn_jinja_compile_len(text, strlen(text), label, out, err);
}

void hn_jinja_free(hn_jinja_template *tmpl)
{
    if (tmpl == NULL)
        return;
    jn_arena_clear(&tmpl->arena);
    g_free(tmpl->label);
    g_free(tmpl);
}
