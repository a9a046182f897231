/* Text forms of Jinja values as Python writes them: str() for {{ output }} and `~`, repr()
 * inside lists and dicts, and repr(float), the shortest text that reads back to the same
 * double (1.0, 0.1, 1e+16, 1e-05). Independent of the C locale. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_internal.h"

void jn_format_float(double f, char *buf, size_t size)
{
    if (isnan(f)) {
        g_strlcpy(buf, "nan", size);
        return;
    }
    if (isinf(f)) {
        g_strlcpy(buf, f < 0 ? "-inf" : "inf", size);
        return;
    }
    if (f == 0.0) {
        g_strlcpy(buf, signbit(f) ? "-0.0" : "0.0", size);
        return;
    }
    /* Shortest %e precision that round-trips. */
    char sci[40];
    for (int prec = 0; prec < 17; prec++) {
        char fmt[8];
        g_snprintf(fmt, sizeof fmt, "%%.%de", prec);
        g_ascii_formatd(sci, sizeof sci, fmt, f);
        if (g_ascii_strtod(sci, NULL) == f)
            break;
    }
    /* sci is [-]d[.ddd]e[+-]xx: collect the digits and the decimal exponent. */
    const char *s = sci;
    bool negative = *s == '-';
    if (negative)
        s++;
    char digits[24];
    int nd = 0;
    for (; *s != 'e'; s++)
        if (*s != '.' && nd < 20)
            digits[nd++] = *s;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int exp10 = atoi(s + 1);
    int decpt = exp10 + 1; /* digits d1 d2 ... are 0.d1d2... * 10^decpt */
    GString *g = g_string_new(negative ? "-" : "");
    if (decpt > 16 || decpt <= -4) {
        g_string_append_c(g, digits[0]);
        if (nd > 1) {
            g_string_append_c(g, '.');
            g_string_append_len(g, digits + 1, nd - 1);
        }
        g_string_append_printf(g, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (decpt <= 0) {
        g_string_append(g, "0.");
        for (int i = 0; i < -decpt; i++)
            g_string_append_c(g, '0');
        g_string_append_len(g, digits, nd);
    } else if (decpt >= nd) {
        g_string_append_len(g, digits, nd);
        for (int i = nd; i < decpt; i++)
            g_string_append_c(g, '0');
        g_string_append(g, ".0");
    } else {
        g_string_append_len(g, digits, decpt);
        g_string_append_c(g, '.');
        g_string_append_len(g, digits + decpt, nd - decpt);
    }
    g_strlcpy(buf, g->str, size);
    g_string_free(g, TRUE);
}

/* Python repr(str): single quotes unless the text has ' and no ". */
static void append_str_repr(GString *g, const char *s, size_t n)
{
    bool has_single = memchr(s, '\'', n) != NULL, has_double = memchr(s, '"', n) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    g_string_append_c(g, quote);
    for (size_t i = 0; i < n;) {
        size_t len;
        gunichar c = jn_utf8_get(s + i, &len);
        if (c == (gunichar)quote || c == '\\') {
            g_string_append_c(g, '\\');
            g_string_append_c(g, (char)c);
        } else if (c == '\t') {
            g_string_append(g, "\\t");
        } else if (c == '\n') {
            g_string_append(g, "\\n");
        } else if (c == '\r') {
            g_string_append(g, "\\r");
        } else if (c < 0x20 || c == 0x7F) {
            g_string_append_printf(g, "\\x%02x", c);
        } else if (c < 0x7F || jn_py_isprintable(c)) {
            g_string_append_len(g, s + i, (gssize)len);
        } else if (c <= 0xFF) {
            g_string_append_printf(g, "\\x%02x", c);
        } else if (c <= 0xFFFF) {
            g_string_append_printf(g, "\\u%04x", c);
        } else {
            g_string_append_printf(g, "\\U%08x", c);
        }
        i += len;
    }
    g_string_append_c(g, quote);
}

static hn_status check_size(jn_render *r, jn_pos pos, const GString *g)
{
    /* Texts built here count against the output limit: they only grow when printed. */
    if (g->len > r->limits.max_output_bytes)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "text of a value exceeds the limit of %zu bytes",
                       r->limits.max_output_bytes);
    return HN_OK;
}

static hn_status append_form(jn_render *r, jn_pos pos, GString *g, jn_value v, bool repr, int depth)
{
    if (depth > 200)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "value nested too deeply to print");
    char buf[40];
    switch ((jn_kind)v.kind) {
    case JV_MISSING:
    case JV_UNDEFINED:
        /* str(Undefined) is ""; repr of one never happens in a list from JSON, but keep it
         * printable. */
        if (repr)
            g_string_append(g, "Undefined");
        break;
    case JV_NONE: g_string_append(g, "None"); break;
    case JV_BOOL: g_string_append(g, v.u.b ? "True" : "False"); break;
    case JV_INT: g_string_append_printf(g, "%" G_GINT64_FORMAT, v.u.i); break;
    case JV_FLOAT:
        jn_format_float(v.u.f, buf, sizeof buf);
        g_string_append(g, buf);
        break;
    case JV_STRING:
        if (repr)
            append_str_repr(g, v.u.str.s, v.u.str.n);
        else
            g_string_append_len(g, v.u.str.s, (gssize)v.u.str.n);
        break;
    case JV_LIST: {
        if (v.flags & JV_GENERATOR)
            return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "printing a generator (the result of map, "
                           "select, reject, unique, items or reverse) is not supported: jinja2 "
                           "prints its memory address; add |list");
        bool tuple = v.flags & JV_TUPLE;
        g_string_append_c(g, tuple ? '(' : '[');
        for (size_t i = 0; i < v.u.list->n; i++) {
            if (i > 0)
                g_string_append(g, ", ");
            HN_TRY(append_form(r, pos, g, v.u.list->items[i], true, depth + 1));
            HN_TRY(check_size(r, pos, g));
        }
        if (tuple && v.u.list->n == 1)
            g_string_append_c(g, ',');
        g_string_append_c(g, tuple ? ')' : ']');
        break;
    }
    case JV_NAMESPACE:
        g_string_append(g, "<Namespace ");
        G_GNUC_FALLTHROUGH; /* its attributes print as a dict */
    case JV_DICT:
        g_string_append_c(g, '{');
        for (size_t i = 0; i < v.u.dict->n; i++) {
            if (i > 0)
                g_string_append(g, ", ");
            HN_TRY(append_form(r, pos, g, v.u.dict->keys[i], true, depth + 1));
            g_string_append(g, ": ");
            HN_TRY(append_form(r, pos, g, v.u.dict->values[i], true, depth + 1));
            HN_TRY(check_size(r, pos, g));
        }
        g_string_append_c(g, '}');
        if (v.kind == JV_NAMESPACE)
            g_string_append_c(g, '>');
        break;
    case JV_CALLABLE:
        g_string_append_printf(g, "<%s %s>", v.u.fn->macro != NULL ? "Macro" : "function",
                               v.u.fn->name);
        break;
    case JV_LOOP:
        g_string_append_printf(g, "<LoopContext %zu/%zu>", v.u.loop->index0 + 1,
                               v.u.loop->length);
        break;
    }
    return check_size(r, pos, g);
}

hn_status jn_append_str(jn_render *r, jn_pos pos, GString *g, jn_value v)
{
    return append_form(r, pos, g, v, false, 0);
}

hn_status jn_append_repr(jn_render *r, jn_pos pos, GString *g, jn_value v)
{
    return append_form(r, pos, g, v, true, 0);
}

hn_status jn_to_str(jn_render *r, jn_pos pos, jn_value v, jn_value *out)
{
    if (v.kind == JV_STRING) {
        *out = v;
        return HN_OK;
    }
    if (v.kind == JV_UNDEFINED || v.kind == JV_MISSING) {
        *out = jn_str_ref("", 0);
        return HN_OK;
    }
    GString *g = g_string_new(NULL);
    hn_status status = jn_append_str(r, pos, g, v);
    if (status == HN_OK)
        status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}
