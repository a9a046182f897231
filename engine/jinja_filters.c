/* Jinja filters on single values (length, trim, tojson, items, default, string, list, upper,
 * lower, capitalize, title, replace, first, last, int, float, abs, round, reverse, indent,
 * escape, safe, attr) as jinja2 defines them, and the table of all filters. Sequence
 * filters (join, map, select..., sort, unique, min, max, sum) are in jinja_filters_seq.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jinja_internal.h"

static hn_status f_length(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "length", a));
    switch ((jn_kind)v.kind) {
    case JV_UNDEFINED: *out = jn_int(0); return HN_OK;
    case JV_STRING: *out = jn_int((int64_t)jn_utf8_count(v.u.str.s, v.u.str.n)); return HN_OK;
    case JV_LIST:
        if (v.flags & JV_GENERATOR)
            break;
        *out = jn_int((int64_t)v.u.list->n);
        return HN_OK;
    case JV_DICT: *out = jn_int((int64_t)v.u.dict->n); return HN_OK;
    case JV_LOOP: *out = jn_int((int64_t)v.u.loop->length); return HN_OK;
    default:
        break;
    }
    return jn_fail(r, pos, HN_ERR_FORMAT, "length: object of type '%s' has no len()",
                   jn_type_name(v));
}

static hn_status f_trim(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    JN_BIND("trim", "chars");
    jn_value s;
    HN_TRY(jn_to_str(r, pos, v, &s));
    return jn_str_strip(r, pos, s, arg[0], JN_STRIP_BOTH, out);
}

static hn_status f_tojson(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    JN_BIND("tojson", "ensure_ascii", "indent", "separators", "sort_keys");
    jn_json_style st = {.ensure_ascii = jn_arg_bool(arg[0], false),
                        .sort_keys = jn_arg_bool(arg[3], false)};
    char spaces[256];
    jn_value indent = arg[1];
    if (indent.kind == JV_INT || indent.kind == JV_BOOL) {
        int64_t n = indent.kind == JV_BOOL ? indent.u.b : indent.u.i;
        if (n > (int64_t)sizeof spaces)
            return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "tojson: indent %" G_GINT64_FORMAT
                           " is too wide", n);
        n = n < 0 ? 0 : n;
        memset(spaces, ' ', (size_t)n);
        st.has_indent = true;
        st.indent = spaces;
        st.indent_len = (size_t)n;
    } else if (indent.kind == JV_STRING) {
        st.has_indent = true;
        st.indent = indent.u.str.s;
        st.indent_len = indent.u.str.n;
    } else if (indent.kind != JV_MISSING && indent.kind != JV_NONE) {
        return jn_fail(r, pos, HN_ERR_FORMAT, "tojson: indent must be an int or a str, not '%s'",
                       jn_type_name(indent));
    }
    st.item_sep = st.has_indent ? "," : ", ";
    st.key_sep = ": ";
    jn_value seps = arg[2];
    if (seps.kind == JV_LIST && seps.u.list->n == 2 && seps.u.list->items[0].kind == JV_STRING &&
        seps.u.list->items[1].kind == JV_STRING) {
        st.item_sep = seps.u.list->items[0].u.str.s;
        st.item_sep_len = seps.u.list->items[0].u.str.n;
        st.key_sep = seps.u.list->items[1].u.str.s;
        st.key_sep_len = seps.u.list->items[1].u.str.n;
    } else if (seps.kind != JV_MISSING && seps.kind != JV_NONE) {
        return jn_fail(r, pos, HN_ERR_FORMAT, "tojson: separators must be two strings");
    } else {
        st.item_sep_len = strlen(st.item_sep);
        st.key_sep_len = strlen(st.key_sep);
    }
    GString *g = g_string_new(NULL);
    hn_status status = jn_append_json(r, pos, g, v, &st, 0);
    if (status == HN_OK)
        status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}

static hn_status f_items(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "items", a));
    if (v.kind == JV_UNDEFINED) {
        HN_TRY(jn_list_new(r, pos, 0, false, out));
        out->flags |= JV_GENERATOR;
        return HN_OK;
    }
    if (v.kind != JV_DICT)
        return jn_fail(r, pos, HN_ERR_FORMAT, "items: can only get item pairs from a mapping, not "
                       "'%s'", jn_type_name(v));
    HN_TRY(jn_list_new(r, pos, v.u.dict->n, false, out));
    for (size_t i = 0; i < v.u.dict->n; i++) {
        jn_value pair;
        HN_TRY(jn_list_new(r, pos, 2, true, &pair));
        pair.u.list->items[0] = v.u.dict->keys[i];
        pair.u.list->items[1] = v.u.dict->values[i];
        out->u.list->items[i] = pair;
    }
    out->flags |= JV_GENERATOR;
    return HN_OK;
}

static hn_status f_default(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    JN_BIND("default", "default_value", "boolean");
    bool use = v.kind == JV_UNDEFINED || (jn_arg_bool(arg[1], false) && !jn_truthy(v));
    *out = !use ? v : arg[0].kind == JV_MISSING ? jn_str_ref("", 0) : arg[0];
    return HN_OK;
}

static hn_status f_string(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "string", a));
    return jn_to_str(r, pos, v, out);
}

static hn_status f_list(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "list", a));
    jn_list *items;
    HN_TRY(jn_iterate(r, pos, v, &items));
    HN_TRY(jn_list_new(r, pos, items->n, false, out));
    if (items->n > 0)
        memcpy(out->u.list->items, items->items, sizeof(jn_value) * items->n);
    return HN_OK;
}

static hn_status case_filter(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a,
                             jn_case mode, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "case filter", a));
    jn_value s;
    HN_TRY(jn_to_str(r, pos, v, &s));
    return jn_str_case(r, pos, s, mode, out);
}

static hn_status f_upper(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    return case_filter(r, pos, v, a, JN_UPPER, out);
}

static hn_status f_lower(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    return case_filter(r, pos, v, a, JN_LOWER, out);
}

static hn_status f_capitalize(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a,
                              jn_value *out)
{
    return case_filter(r, pos, v, a, JN_CAPITALIZE, out);
}

/* jinja2's title: each run of characters between -, whitespace, (, {, [ and < gets its first
 * character upper-cased and the rest lower-cased. */
static hn_status f_title(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "title", a));
    jn_value s;
    HN_TRY(jn_to_str(r, pos, v, &s));
    GString *g = g_string_new(NULL);
    bool word_start = true;
    for (size_t i = 0; i < s.u.str.n;) {
        size_t len;
        gunichar c = jn_utf8_get(s.u.str.s + i, &len);
        bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || jn_py_isspace(c);
        char buf[8];
        if (sep) {
            g_string_append_len(g, s.u.str.s + i, (gssize)len);
        } else {
            gunichar m = word_start ? g_unichar_toupper(c) : g_unichar_tolower(c);
            g_string_append_len(g, buf, (gssize)jn_utf8_put(buf, m));
        }
        word_start = sep;
        i += len;
    }
    hn_status status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}

static hn_status f_replace(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    JN_BIND("replace", "old", "new", "count");
    jn_value s, old, repl;
    int64_t count = -1;
    HN_TRY(jn_to_str(r, pos, v, &s));
    HN_TRY(jn_to_str(r, pos, arg[0], &old));
    HN_TRY(jn_to_str(r, pos, arg[1], &repl));
    if (arg[2].kind != JV_NONE)
        HN_TRY(jn_arg_int(r, pos, "replace", "count", arg[2], -1, &count));
    return jn_str_replace(r, pos, s, old, repl, count, out);
}

static hn_status first_or_last(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a,
                               bool last, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, last ? "last" : "first", a));
    if (last && jn_is_generator(v))
        return jn_fail(r, pos, HN_ERR_FORMAT, "last: 'generator' object is not reversible");
    jn_list *items;
    HN_TRY(jn_iterate(r, pos, v, &items));
    if (items->n == 0)
        *out = jn_undefined(last ? "No last item, sequence was empty."
                                 : "No first item, sequence was empty.");
    else
        *out = items->items[last ? items->n - 1 : 0];
    return HN_OK;
}

static hn_status f_first(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    return first_or_last(r, pos, v, a, false, out);
}

static hn_status f_last(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    return first_or_last(r, pos, v, a, true, out);
}

/* Python float(str): optional whitespace, a decimal or inf/nan; false when not a number. */
static bool parse_float(jn_value s, double *out)
{
    jn_value t;
    char buf[128];
    size_t from = 0, to = s.u.str.n, len;
    while (from < to && jn_py_isspace(jn_utf8_get(s.u.str.s + from, &len)))
        from += len;
    while (to > from && (s.u.str.s[to - 1] == ' ' || s.u.str.s[to - 1] == '\t' ||
                         s.u.str.s[to - 1] == '\n' || s.u.str.s[to - 1] == '\r'))
        to--;
    t = jn_str_ref(s.u.str.s + from, to - from);
    if (t.u.str.n == 0 || t.u.str.n >= sizeof buf)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < t.u.str.n; i++) {
        char c = t.u.str.s[i];
        if (c == '_')
            continue; /* Python allows digit separators */
        if (!g_ascii_isalnum(c) && c != '.' && c != '+' && c != '-')
            return false;
        buf[n++] = c;
    }
    buf[n] = '\0';
    char *end = NULL;
    *out = g_ascii_strtod(buf, &end);
    if (end == buf || *end != '\0')
        return false;
    /* strtod takes hex floats and "infinity"; so does Python for the latter only. */
    return strchr(buf, 'x') == NULL && strchr(buf, 'X') == NULL;
}

static hn_status f_int(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    JN_BIND("int", "default", "base");
    int64_t base;
    HN_TRY(jn_arg_int(r, pos, "int", "base", arg[1], 10, &base));
    jn_value fallback = arg[0].kind == JV_MISSING ? jn_int(0) : arg[0];
    double f = 0;
    switch ((jn_kind)v.kind) {
    case JV_INT: *out = v; return HN_OK;
    case JV_BOOL: *out = jn_int(v.u.b); return HN_OK;
    case JV_FLOAT: f = v.u.f; break;
    case JV_STRING: {
        char buf[128];
        if (v.u.str.n < sizeof buf && base >= 2 && base <= 36) {
            size_t n = 0;
            for (size_t i = 0; i < v.u.str.n; i++)
                if (v.u.str.s[i] != '_')
                    buf[n++] = v.u.str.s[i];
            buf[n] = '\0';
            char *p = g_strstrip(buf), *end = NULL;
            if (*p != '\0') {
                gint64 i = g_ascii_strtoll(p, &end, (guint)base);
                if (end != NULL && *end == '\0' && end != p) {
                    *out = jn_int(i);
                    return HN_OK;
                }
            }
        }
        if (!parse_float(v, &f)) {
            *out = fallback;
            return HN_OK;
        }
        break;
    }
    default:
        *out = fallback;
        return HN_OK;
    }
    if (isnan(f)) {
        *out = fallback;
        return HN_OK;
    }
    if (!(fabs(f) < 9.2e18))
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "int: %g does not fit in 64 bits", f);
    *out = jn_int((int64_t)f);
    return HN_OK;
}

static hn_status f_float(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    JN_BIND("float", "default");
    jn_value fallback = arg[0].kind == JV_MISSING ? jn_float(0.0) : arg[0];
    double f;
    if (jn_is_number(v))
        *out = jn_float(v.kind == JV_FLOAT ? v.u.f : v.kind == JV_BOOL ? v.u.b : (double)v.u.i);
    else if (v.kind == JV_STRING && parse_float(v, &f))
        *out = jn_float(f);
    else
        *out = fallback;
    return HN_OK;
}

static hn_status f_abs(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "abs", a));
    if (v.kind == JV_FLOAT) {
        *out = jn_float(fabs(v.u.f));
        return HN_OK;
    }
    if (v.kind == JV_INT || v.kind == JV_BOOL) {
        int64_t i = v.kind == JV_BOOL ? v.u.b : v.u.i;
        if (i == INT64_MIN)
            return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "abs: integer overflow");
        *out = jn_int(i < 0 ? -i : i);
        return HN_OK;
    }
    HN_TRY(jn_require_defined(r, pos, v));
    return jn_fail(r, pos, HN_ERR_FORMAT, "abs: bad operand type '%s'", jn_type_name(v));
}

static hn_status f_round(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    JN_BIND("round", "precision", "method");
    int64_t precision;
    HN_TRY(jn_arg_int(r, pos, "round", "precision", arg[0], 0, &precision));
    const char *method = "common";
    if (arg[1].kind != JV_MISSING) {
        jn_value m;
        HN_TRY(jn_arg_str(r, pos, "round", "method", arg[1], &m));
        method = jn_is_string(m, "ceil") ? "ceil" : jn_is_string(m, "floor") ? "floor"
                 : jn_is_string(m, "common") ? "common" : NULL;
        if (method == NULL)
            return jn_fail(r, pos, HN_ERR_FORMAT, "round: method must be common, ceil or floor");
    }
    if (!jn_is_number(v)) {
        HN_TRY(jn_require_defined(r, pos, v));
        return jn_fail(r, pos, HN_ERR_FORMAT, "round: '%s' is not a number", jn_type_name(v));
    }
    if (precision < -300 || precision > 300)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "round: precision out of range");
    double x = v.kind == JV_FLOAT ? v.u.f : v.kind == JV_BOOL ? v.u.b : (double)v.u.i;
    double scale = pow(10.0, (double)precision);
    if (strcmp(method, "common") != 0) {
        double y = strcmp(method, "ceil") == 0 ? ceil(x * scale) : floor(x * scale);
        *out = jn_float(y / scale);
        return HN_OK;
    }
    if (v.kind != JV_FLOAT && precision >= 0) {
        *out = jn_int(v.kind == JV_BOOL ? v.u.b : v.u.i); /* round(int) stays an int */
        return HN_OK;
    }
    if (!isfinite(x)) {
        *out = jn_float(x);
        return HN_OK;
    }
    double y;
    if (precision >= 0) {
        /* Correctly rounded decimal text, ties to even, as Python's round does. */
        char buf[400];
        g_snprintf(buf, sizeof buf, "%.*f", (int)precision, x);
        y = g_ascii_strtod(buf, NULL);
    } else {
        y = nearbyint(x / pow(10.0, (double)-precision)) * pow(10.0, (double)-precision);
    }
    *out = v.kind == JV_FLOAT ? jn_float(y) : jn_int((int64_t)y);
    return HN_OK;
}

static hn_status f_reverse(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "reverse", a));
    jn_list *items;
    HN_TRY(jn_iterate(r, pos, v, &items));
    if (v.kind == JV_STRING) {
        GString *g = g_string_new(NULL);
        for (size_t i = items->n; i > 0; i--)
            g_string_append_len(g, items->items[i - 1].u.str.s,
                                (gssize)items->items[i - 1].u.str.n);
        hn_status status = jn_str_from_gstring(r, pos, g, out);
        g_string_free(g, TRUE);
        return status;
    }
    HN_TRY(jn_list_new(r, pos, items->n, false, out));
    for (size_t i = 0; i < items->n; i++)
        out->u.list->items[i] = items->items[items->n - 1 - i];
    /* reversed() gives an iterator; a generator cannot be reversed, so jinja2 makes a list. */
    if (!jn_is_generator(v))
        out->flags |= JV_GENERATOR;
    return HN_OK;
}

/* Python's str.splitlines boundaries. */
static bool line_break(gunichar c)
{
    return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) ||
           c == 0x85 || c == 0x2028 || c == 0x2029;
}

static hn_status f_indent(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    JN_BIND("indent", "width", "first", "blank");
    jn_value s, pad;
    HN_TRY(jn_to_str(r, pos, v, &s));
    if (arg[0].kind == JV_STRING) {
        pad = arg[0];
    } else {
        int64_t width;
        HN_TRY(jn_arg_int(r, pos, "indent", "width", arg[0], 4, &width));
        if (width > 1024)
            return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "indent: width %" G_GINT64_FORMAT
                           " is too wide", width);
        char *spaces = jn_alloc(r, (size_t)(width > 0 ? width : 0) + 1);
        memset(spaces, ' ', (size_t)(width > 0 ? width : 0));
        pad = jn_str_ref(spaces, (size_t)(width > 0 ? width : 0));
    }
    bool first = jn_arg_bool(arg[1], false), blank = jn_arg_bool(arg[2], false);
    /* Lines of s + "\n" as splitlines() gives them. */
    GArray *lines = g_array_new(FALSE, FALSE, sizeof(jn_value));
    const char *p = s.u.str.s;
    size_t n = s.u.str.n, start = 0;
    for (size_t i = 0; i <= n;) {
        size_t len = 1;
        gunichar c = i < n ? jn_utf8_get(p + i, &len) : '\n';
        if (line_break(c)) {
            jn_value line = jn_str_ref(p + start, i - start);
            g_array_append_val(lines, line);
            if (c == '\r' && i + 1 < n && p[i + 1] == '\n')
                len = 2;
            start = i + len;
        }
        i += len;
    }
    GString *g = g_string_new(NULL);
    if (first)
        g_string_append_len(g, pad.u.str.s, (gssize)pad.u.str.n);
    for (guint i = 0; i < lines->len; i++) {
        jn_value line = g_array_index(lines, jn_value, i);
        if (i > 0) {
            g_string_append_c(g, '\n');
            if (blank || line.u.str.n > 0)
                g_string_append_len(g, pad.u.str.s, (gssize)pad.u.str.n);
        }
        g_string_append_len(g, line.u.str.s, (gssize)line.u.str.n);
    }
    g_array_free(lines, TRUE);
    hn_status status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}

static hn_status f_escape(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "escape", a));
    jn_value s;
    HN_TRY(jn_to_str(r, pos, v, &s));
    GString *g = g_string_new(NULL);
    for (size_t i = 0; i < s.u.str.n; i++) {
        char c = s.u.str.s[i];
        switch (c) {
        case '&': g_string_append(g, "&amp;"); break;
        case '<': g_string_append(g, "&lt;"); break;
        case '>': g_string_append(g, "&gt;"); break;
        case '"': g_string_append(g, "&#34;"); break;
        case '\'': g_string_append(g, "&#39;"); break;
        default: g_string_append_c(g, c);
        }
    }
    hn_status status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}

static hn_status f_safe(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "safe", a));
    *out = v;
    return HN_OK;
}

static hn_status f_attr(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    JN_BIND("attr", "name");
    jn_value name;
    HN_TRY(jn_arg_str(r, pos, "attr", "name", arg[0], &name));
    char *key = jn_arena_strndup(&r->arena, name.u.str.s, name.u.str.n);
    return jn_attribute(r, pos, v, key, out);
}

static const jn_builtin filters[] = {
    {"abs", f_abs},
    {"attr", f_attr},
    {"capitalize", f_capitalize},
    {"count", f_length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", jn_filter_dictsort},
    {"e", f_escape},
    {"escape", f_escape},
    {"first", f_first},
    {"float", f_float},
    {"forceescape", f_escape},
    {"indent", f_indent},
    {"int", f_int},
    {"items", f_items},
    {"join", jn_filter_join},
    {"last", f_last},
    {"length", f_length},
    {"list", f_list},
    {"lower", f_lower},
    {"map", jn_filter_map},
    {"max", jn_filter_max},
    {"min", jn_filter_min},
    {"reject", jn_filter_reject},
    {"rejectattr", jn_filter_rejectattr},
    {"replace", f_replace},
    {"reverse", f_reverse},
    {"round", f_round},
    {"safe", f_safe},
    {"select", jn_filter_select},
    {"selectattr", jn_filter_selectattr},
    {"sort", jn_filter_sort},
    {"string", f_string},
    {"sum", jn_filter_sum},
    {"title", f_title},
    {"tojson", f_tojson},
    {"trim", f_trim},
    {"unique", jn_filter_unique},
    {"upper", f_upper},
};

/* jinja2 filters that chat templates do not use and Hone does not implement. */
bool jn_is_unsupported_filter(const char *name)
{
    static const char *const names[] = {"batch", "center", "filesizeformat", "format", "groupby",
                                        "pprint", "random", "slice", "striptags", "truncate",
                                        "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

const jn_builtin *jn_find_filter(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(filters); i++)
        if (strcmp(filters[i].name, name) == 0)
            return &filters[i];
    return NULL;
}
