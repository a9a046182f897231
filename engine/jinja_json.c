/* tojson: Python's json.dumps as transformers' tojson filter calls it (ensure_ascii=False by
 * default, indent, separators, sort_keys): the same escapes, float forms, key conversions
 * and layout, so tool schemas render byte for byte. */
#include <math.h>
#include <string.h>

#include "jinja_internal.h"

static void append_json_string(GString *g, const char *s, size_t n, bool ensure_ascii)
{
    g_string_append_c(g, '"');
    for (size_t i = 0; i < n;) {
        size_t len;
        gunichar c = jn_utf8_get(s + i, &len);
        switch (c) {
        case '"': g_string_append(g, "\\\""); break;
        case '\\': g_string_append(g, "\\\\"); break;
        case '\n': g_string_append(g, "\\n"); break;
        case '\r': g_string_append(g, "\\r"); break;
        case '\t': g_string_append(g, "\\t"); break;
        case '\b': g_string_append(g, "\\b"); break;
        case '\f': g_string_append(g, "\\f"); break;
        default:
            if (c < 0x20) {
                g_string_append_printf(g, "\\u%04x", c);
            } else if (c < 0x80 || !ensure_ascii) {
                g_string_append_len(g, s + i, (gssize)len);
            } else if (c <= 0xFFFF) {
                g_string_append_printf(g, "\\u%04x", c);
            } else {
                gunichar v = c - 0x10000;
                g_string_append_printf(g, "\\u%04x\\u%04x", 0xD800 + (v >> 10),
                                       0xDC00 + (v & 0x3FF));
            }
        }
        i += len;
    }
    g_string_append_c(g, '"');
}

static void append_float(GString *g, double f)
{
    if (isnan(f)) {
        g_string_append(g, "NaN");
    } else if (isinf(f)) {
        g_string_append(g, f < 0 ? "-Infinity" : "Infinity");
    } else {
        char buf[40];
        jn_format_float(f, buf, sizeof buf);
        g_string_append(g, buf);
    }
}

static void newline_indent(GString *g, const jn_json_style *st, int level)
{
    g_string_append_c(g, '\n');
    for (int i = 0; i < level; i++)
        g_string_append_len(g, st->indent, (gssize)st->indent_len);
}

/* json.dumps turns non-string keys into strings: true, false, null, numbers. */
static hn_status key_text(jn_render *r, jn_pos pos, jn_value key, GString *g, bool ensure_ascii)
{
    char buf[40];
    switch ((jn_kind)key.kind) {
    case JV_STRING: append_json_string(g, key.u.str.s, key.u.str.n, ensure_ascii); return HN_OK;
    case JV_BOOL: g_string_append(g, key.u.b ? "\"true\"" : "\"false\""); return HN_OK;
    case JV_NONE: g_string_append(g, "\"null\""); return HN_OK;
    case JV_INT: g_string_append_printf(g, "\"%" G_GINT64_FORMAT "\"", key.u.i); return HN_OK;
    case JV_FLOAT:
        if (isnan(key.u.f))
            g_strlcpy(buf, "NaN", sizeof buf);
        else if (isinf(key.u.f))
            g_strlcpy(buf, key.u.f < 0 ? "-Infinity" : "Infinity", sizeof buf);
        else
            jn_format_float(key.u.f, buf, sizeof buf);
        g_string_append_printf(g, "\"%s\"", buf);
        return HN_OK;
    default:
        return jn_fail(r, pos, HN_ERR_FORMAT,
                       "tojson: keys must be str, int, float, bool or None, not %s",
                       jn_type_name(key));
    }
}

/* Key order for sort_keys: Python sorts the original keys, which must be comparable. */
static hn_status sorted_order(jn_render *r, jn_pos pos, const jn_dict *d, size_t *order)
{
    for (size_t i = 0; i < d->n; i++)
        order[i] = i;
    /* Insertion sort: stable, like Python's sort, and dicts in templates are small. */
    for (size_t i = 1; i < d->n; i++) {
        size_t k = order[i], j = i;
        while (j > 0) {
            int cmp = 0;
            HN_TRY(jn_compare(r, pos, d->keys[k], d->keys[order[j - 1]], &cmp));
            if (cmp >= 0)
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    return HN_OK;
}

hn_status jn_append_json(jn_render *r, jn_pos pos, GString *g, jn_value v,
                         const jn_json_style *st, int depth)
{
    if (depth > 200)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "tojson: value nested too deeply");
    if (g->len > r->limits.max_output_bytes)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "tojson: text exceeds the limit of %zu bytes",
                       r->limits.max_output_bytes);
    switch ((jn_kind)v.kind) {
    case JV_NONE: g_string_append(g, "null"); return HN_OK;
    case JV_BOOL: g_string_append(g, v.u.b ? "true" : "false"); return HN_OK;
    case JV_INT: g_string_append_printf(g, "%" G_GINT64_FORMAT, v.u.i); return HN_OK;
    case JV_FLOAT: append_float(g, v.u.f); return HN_OK;
    case JV_STRING: append_json_string(g, v.u.str.s, v.u.str.n, st->ensure_ascii); return HN_OK;
    case JV_LIST:
        if (v.flags & JV_GENERATOR)
            return jn_fail(r, pos, HN_ERR_FORMAT,
                           "tojson: object of type generator is not JSON serializable");
        if (v.u.list->n == 0) {
            g_string_append(g, "[]");
            return HN_OK;
        }
        g_string_append_c(g, '[');
        for (size_t i = 0; i < v.u.list->n; i++) {
            if (i > 0)
                g_string_append_len(g, st->item_sep, (gssize)st->item_sep_len);
            if (st->has_indent)
                newline_indent(g, st, depth + 1);
            HN_TRY(jn_append_json(r, pos, g, v.u.list->items[i], st, depth + 1));
        }
        if (st->has_indent)
            newline_indent(g, st, depth);
        g_string_append_c(g, ']');
        return HN_OK;
    case JV_DICT: {
        const jn_dict *d = v.u.dict;
        if (d->n == 0) {
            g_string_append(g, "{}");
            return HN_OK;
        }
        size_t *order = jn_alloc(r, sizeof(size_t) * d->n);
        for (size_t i = 0; i < d->n; i++)
            order[i] = i;
        if (st->sort_keys)
            HN_TRY(sorted_order(r, pos, d, order));
        g_string_append_c(g, '{');
        for (size_t i = 0; i < d->n; i++) {
            if (i > 0)
                g_string_append_len(g, st->item_sep, (gssize)st->item_sep_len);
            if (st->has_indent)
                newline_indent(g, st, depth + 1);
            HN_TRY(key_text(r, pos, d->keys[order[i]], g, st->ensure_ascii));
            g_string_append_len(g, st->key_sep, (gssize)st->key_sep_len);
            HN_TRY(jn_append_json(r, pos, g, d->values[order[i]], st, depth + 1));
        }
        if (st->has_indent)
            newline_indent(g, st, depth);
        g_string_append_c(g, '}');
        return HN_OK;
    }
    default:
        return jn_fail(r, pos, HN_ERR_FORMAT, "tojson: object of type %s is not JSON serializable",
                       jn_type_name(v));
    }
}
