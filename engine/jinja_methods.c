/* Python str and dict methods that chat templates call: startswith, endswith, split, rsplit,
 * strip, lstrip, rstrip, upper, lower, title, capitalize, replace, find, rfind, count, join,
 * removeprefix, removesuffix, isdigit, isspace, isalpha, isalnum, isupper, islower; dict
 * items, keys, values, get, copy. Indexes count characters, whitespace is Python's. */
#include <string.h>

#include "jinja_internal.h"

/* ---- string helpers ---- */

static bool all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* Whether code point c is in the string chars (or is whitespace when chars is NULL). */
static bool strip_char(gunichar c, const jn_value *chars)
{
    if (chars == NULL)
        return jn_py_isspace(c);
    for (size_t i = 0; i < chars->u.str.n;) {
        size_t len;
        if (jn_utf8_get(chars->u.str.s + i, &len) == c)
            return true;
        i += len;
    }
    return false;
}

/* Start offset of the code point ending at byte end. */
static size_t prev_char(const char *s, size_t end)
{
    size_t start = end - 1;
    while (start > 0 && ((unsigned char)s[start] & 0xC0) == 0x80)
        start--;
    return start;
}

hn_status jn_str_strip(jn_render *r, jn_pos pos, jn_value s, jn_value chars, int which,
                       jn_value *out)
{
    const jn_value *set = NULL;
    if (chars.kind == JV_STRING)
        set = &chars;
    else if (chars.kind != JV_MISSING && chars.kind != JV_NONE)
        return jn_fail(r, pos, HN_ERR_FORMAT, "strip arg must be None or str, not '%s'",
                       jn_type_name(chars));
    size_t from = 0, to = s.u.str.n;
    if (which & JN_STRIP_LEFT) {
        while (from < to) {
            size_t len;
            if (!strip_char(jn_utf8_get(s.u.str.s + from, &len), set))
                break;
            from += len;
        }
    }
    if (which & JN_STRIP_RIGHT) {
        while (to > from) {
            size_t start = prev_char(s.u.str.s, to), len;
            if (!strip_char(jn_utf8_get(s.u.str.s + start, &len), set))
                break;
            to = start;
        }
    }
    *out = jn_str_ref(s.u.str.s + from, to - from);
    return HN_OK;
}

static bool is_cased(gunichar c)
{
    return g_unichar_isupper(c) || g_unichar_islower(c) || g_unichar_istitle(c);
}

hn_status jn_str_case(jn_render *r, jn_pos pos, jn_value s, jn_case mode, jn_value *out)
{
    const char *p = s.u.str.s;
    size_t n = s.u.str.n;
    if (all_ascii(p, n)) {
        HN_TRY(jn_reserve(r, pos, n + 1));
        char *d = jn_alloc(r, n + 1);
        bool prev_cased = false;
        for (size_t i = 0; i < n; i++) {
            char c = p[i];
            bool up = mode == JN_UPPER || (mode == JN_CAPITALIZE && i == 0) ||
                      (mode == JN_TITLE && !prev_cased);
            d[i] = up ? g_ascii_toupper(c) : g_ascii_tolower(c);
            prev_cased = g_ascii_isalpha(c);
        }
        *out = jn_str_ref(d, n);
        return HN_OK;
    }
    GString *g = g_string_new(NULL);
    if (mode == JN_UPPER || mode == JN_LOWER) {
        /* Whole-string mapping handles expansions such as ß -> SS. */
        char *mapped = mode == JN_UPPER ? g_utf8_strup(p, (gssize)n) : g_utf8_strdown(p, (gssize)n);
        g_string_assign(g, mapped);
        g_free(mapped);
    } else {
        bool prev_cased = false;
        for (size_t i = 0, k = 0; i < n; k++) {
            size_t len;
            gunichar c = jn_utf8_get(p + i, &len);
            bool title = mode == JN_CAPITALIZE ? k == 0 : !prev_cased;
            gunichar m = title ? g_unichar_totitle(c) : g_unichar_tolower(c);
            char buf[8];
            g_string_append_len(g, buf, (gssize)jn_utf8_put(buf, m));
            prev_cased = is_cased(c);
            i += len;
        }
    }
    hn_status status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}

static const char *rfind_in(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn > hn)
        return NULL;
    for (size_t i = hn - nn + 1; i > 0; i--)
        if (memcmp(hay + i - 1, needle, nn) == 0)
            return hay + i - 1;
    return NULL;
}

hn_status jn_str_replace(jn_render *r, jn_pos pos, jn_value s, jn_value old, jn_value repl,
                         int64_t count, jn_value *out)
{
    GString *g = g_string_new(NULL);
    const char *p = s.u.str.s, *end = s.u.str.s + s.u.str.n;
    hn_status status = HN_OK;
    if (old.u.str.n == 0) {
        /* Python inserts the replacement before every character and at the end. */
        int64_t done = 0;
        while (count < 0 || done < count) {
            g_string_append_len(g, repl.u.str.s, (gssize)repl.u.str.n);
            done++;
            if (p == end)
                break;
            size_t len;
            jn_utf8_get(p, &len);
            g_string_append_len(g, p, (gssize)len);
            p += len;
            if (g->len > r->limits.max_output_bytes)
                break;
        }
        g_string_append_len(g, p, end - p);
    } else {
        int64_t done = 0;
        const char *hit;
        while ((count < 0 || done < count) &&
               (hit = memmem(p, (size_t)(end - p), old.u.str.s, old.u.str.n)) != NULL) {
            g_string_append_len(g, p, hit - p);
            g_string_append_len(g, repl.u.str.s, (gssize)repl.u.str.n);
            p = hit + old.u.str.n;
            done++;
            if (g->len > r->limits.max_output_bytes)
                break;
        }
        g_string_append_len(g, p, end - p);
    }
    if (g->len > r->limits.max_output_bytes)
        status =
            jn_fail(r, pos, HN_ERR_UNSUPPORTED, "replace() result exceeds the limit of %zu bytes",
                    r->limits.max_output_bytes);
    if (status == HN_OK)
        status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}

/* ---- str methods ---- */

static hn_status affix_test(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, bool end,
                            jn_value *out)
{
    const char *fname = end ? "str.endswith" : "str.startswith";
    JN_BIND(fname, "prefix", "start", "end");
    if (arg[1].kind != JV_MISSING || arg[2].kind != JV_MISSING)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "%s() with start/end is not supported", fname);
    const jn_value *options = &arg[0];
    size_t n_options = 1;
    if (arg[0].kind == JV_LIST && (arg[0].flags & JV_TUPLE)) {
        options = arg[0].u.list->items;
        n_options = arg[0].u.list->n;
    }
    *out = jn_bool(false);
    for (size_t i = 0; i < n_options; i++) {
        jn_value o;
        HN_TRY(jn_arg_str(r, pos, fname, "prefix", options[i], &o));
        size_t n = o.u.str.n;
        if (n <= self.u.str.n &&
            memcmp(self.u.str.s + (end ? self.u.str.n - n : 0), o.u.str.s, n) == 0)
            *out = jn_bool(true);
    }
    return HN_OK;
}

static hn_status m_startswith(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                              jn_value *out)
{
    return affix_test(r, pos, self, a, false, out);
}

static hn_status m_endswith(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                            jn_value *out)
{
    return affix_test(r, pos, self, a, true, out);
}

static hn_status strip_method(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                              int which, jn_value *out)
{
    JN_BIND("str.strip", "chars");
    return jn_str_strip(r, pos, self, arg[0], which, out);
}

static hn_status m_strip(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return strip_method(r, pos, self, a, JN_STRIP_BOTH, out);
}

static hn_status m_lstrip(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return strip_method(r, pos, self, a, JN_STRIP_LEFT, out);
}

static hn_status m_rstrip(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return strip_method(r, pos, self, a, JN_STRIP_RIGHT, out);
}

/* Pieces of a split, collected then turned into a list. */
static hn_status pieces_to_list(jn_render *r, jn_pos pos, GArray *pieces, bool reverse,
                                jn_value *out)
{
    HN_TRY(jn_list_new(r, pos, pieces->len, false, out));
    for (guint i = 0; i < pieces->len; i++)
        out->u.list->items[i] = g_array_index(pieces, jn_value, reverse ? pieces->len - 1 - i : i);
    return HN_OK;
}

static hn_status split_method(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                              bool from_right, jn_value *out)
{
    const char *fname = from_right ? "str.rsplit" : "str.split";
    JN_BIND(fname, "sep", "maxsplit");
    int64_t maxsplit;
    HN_TRY(jn_arg_int(r, pos, fname, "maxsplit", arg[1], -1, &maxsplit));
    const char *s = self.u.str.s;
    size_t n = self.u.str.n;
    GArray *pieces = g_array_new(FALSE, FALSE, sizeof(jn_value));
    hn_status status = HN_OK;
    if (arg[0].kind == JV_MISSING || arg[0].kind == JV_NONE) {
        /* Runs of whitespace separate; leading and trailing whitespace go. */
        size_t lo = 0, hi = n, len;
        int64_t splits = 0;
        for (;;) {
            if (!from_right) {
                while (lo < hi && jn_py_isspace(jn_utf8_get(s + lo, &len)))
                    lo += len;
                if (lo == hi)
                    break;
                if (maxsplit >= 0 && splits == maxsplit) {
                    jn_value v = jn_str_ref(s + lo, hi - lo);
                    g_array_append_val(pieces, v);
                    break;
                }
                size_t j = lo;
                while (j < hi && !jn_py_isspace(jn_utf8_get(s + j, &len)))
                    j += len;
                jn_value v = jn_str_ref(s + lo, j - lo);
                g_array_append_val(pieces, v);
                lo = j;
            } else {
                while (hi > lo && jn_py_isspace(jn_utf8_get(s + prev_char(s, hi), &len)))
                    hi = prev_char(s, hi);
                if (lo == hi)
                    break;
                if (maxsplit >= 0 && splits == maxsplit) {
                    jn_value v = jn_str_ref(s + lo, hi - lo);
                    g_array_append_val(pieces, v);
                    break;
                }
                size_t j = hi;
                while (j > lo && !jn_py_isspace(jn_utf8_get(s + prev_char(s, j), &len)))
                    j = prev_char(s, j);
                jn_value v = jn_str_ref(s + j, hi - j);
                g_array_append_val(pieces, v);
                hi = j;
            }
            splits++;
        }
    } else {
        jn_value sep;
        status = jn_arg_str(r, pos, fname, "sep", arg[0], &sep);
        if (status == HN_OK && sep.u.str.n == 0)
            status = jn_fail(r, pos, HN_ERR_FORMAT, "%s(): empty separator", fname);
        size_t lo = 0, hi = n;
        int64_t splits = 0;
        while (status == HN_OK) {
            const char *hit = NULL;
            if (maxsplit < 0 || splits < maxsplit)
                hit = from_right ? rfind_in(s + lo, hi - lo, sep.u.str.s, sep.u.str.n)
                                 : memmem(s + lo, hi - lo, sep.u.str.s, sep.u.str.n);
            if (hit == NULL) {
                jn_value v = jn_str_ref(s + lo, hi - lo);
                g_array_append_val(pieces, v);
                break;
            }
            size_t at = (size_t)(hit - s);
            jn_value v = from_right ? jn_str_ref(hit + sep.u.str.n, hi - at - sep.u.str.n)
                                    : jn_str_ref(s + lo, at - lo);
            g_array_append_val(pieces, v);
            if (from_right)
                hi = at;
            else
                lo = at + sep.u.str.n;
            splits++;
        }
    }
    if (status == HN_OK)
        status = pieces_to_list(r, pos, pieces, from_right, out);
    g_array_free(pieces, TRUE);
    return status;
}

static hn_status m_split(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return split_method(r, pos, self, a, false, out);
}

static hn_status m_rsplit(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return split_method(r, pos, self, a, true, out);
}

static hn_status case_method(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                             jn_case mode, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "str case method", a));
    return jn_str_case(r, pos, self, mode, out);
}

static hn_status m_upper(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return case_method(r, pos, self, a, JN_UPPER, out);
}

static hn_status m_lower(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return case_method(r, pos, self, a, JN_LOWER, out);
}

static hn_status m_title(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return case_method(r, pos, self, a, JN_TITLE, out);
}

static hn_status m_capitalize(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                              jn_value *out)
{
    return case_method(r, pos, self, a, JN_CAPITALIZE, out);
}

static hn_status m_replace(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                           jn_value *out)
{
    JN_BIND("str.replace", "old", "new", "count");
    jn_value old, repl;
    int64_t count;
    HN_TRY(jn_arg_str(r, pos, "str.replace", "old", arg[0], &old));
    HN_TRY(jn_arg_str(r, pos, "str.replace", "new", arg[1], &repl));
    HN_TRY(jn_arg_int(r, pos, "str.replace", "count", arg[2], -1, &count));
    return jn_str_replace(r, pos, self, old, repl, count, out);
}

static hn_status find_method(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                             int mode, jn_value *out)
{
    static const char *const fnames[] = {"str.find", "str.rfind", "str.count"};
    JN_BIND(fnames[mode], "sub");
    jn_value sub;
    HN_TRY(jn_arg_str(r, pos, fnames[mode], "sub", arg[0], &sub));
    const char *s = self.u.str.s;
    size_t n = self.u.str.n;
    if (mode == 2) {
        int64_t count = 0;
        if (sub.u.str.n == 0) {
            count = (int64_t)jn_utf8_count(s, n) + 1;
        } else {
            const char *p = s, *hit;
            while ((hit = memmem(p, n - (size_t)(p - s), sub.u.str.s, sub.u.str.n)) != NULL) {
                count++;
                p = hit + sub.u.str.n;
            }
        }
        *out = jn_int(count);
        return HN_OK;
    }
    const char *hit = mode == 0
                          ? memmem(s, n, sub.u.str.s, sub.u.str.n)
                          : (sub.u.str.n == 0 ? s + n : rfind_in(s, n, sub.u.str.s, sub.u.str.n));
    *out = jn_int(hit == NULL ? -1 : (int64_t)jn_utf8_count(s, (size_t)(hit - s)));
    return HN_OK;
}

static hn_status m_find(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return find_method(r, pos, self, a, 0, out);
}

static hn_status m_rfind(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return find_method(r, pos, self, a, 1, out);
}

static hn_status m_count(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return find_method(r, pos, self, a, 2, out);
}

static hn_status m_join(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    JN_BIND("str.join", "iterable");
    jn_list *items;
    HN_TRY(jn_require_defined(r, pos, arg[0]));
    HN_TRY(jn_iterate(r, pos, arg[0], &items));
    GString *g = g_string_new(NULL);
    hn_status status = HN_OK;
    for (size_t i = 0; i < items->n && status == HN_OK; i++) {
        if (items->items[i].kind != JV_STRING) {
            status = jn_fail(r, pos, HN_ERR_FORMAT,
                             "str.join(): sequence item %zu: expected str instance, %s found", i,
                             jn_type_name(items->items[i]));
            break;
        }
        if (i > 0)
            g_string_append_len(g, self.u.str.s, (gssize)self.u.str.n);
        g_string_append_len(g, items->items[i].u.str.s, (gssize)items->items[i].u.str.n);
        if (g->len > r->limits.max_output_bytes)
            status = jn_fail(r, pos, HN_ERR_UNSUPPORTED, "str.join() result exceeds the limit");
    }
    if (status == HN_OK)
        status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}

static hn_status affix_remove(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                              bool suffix, jn_value *out)
{
    const char *fname = suffix ? "str.removesuffix" : "str.removeprefix";
    JN_BIND(fname, "affix");
    jn_value affix;
    HN_TRY(jn_arg_str(r, pos, fname, "affix", arg[0], &affix));
    size_t n = affix.u.str.n;
    *out = self;
    if (n > 0 && n <= self.u.str.n &&
        memcmp(self.u.str.s + (suffix ? self.u.str.n - n : 0), affix.u.str.s, n) == 0)
        *out = jn_str_ref(self.u.str.s + (suffix ? 0 : n), self.u.str.n - n);
    return HN_OK;
}

static hn_status m_removeprefix(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                                jn_value *out)
{
    return affix_remove(r, pos, self, a, false, out);
}

static hn_status m_removesuffix(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                                jn_value *out)
{
    return affix_remove(r, pos, self, a, true, out);
}

typedef enum { IS_DIGIT, IS_SPACE, IS_ALPHA, IS_ALNUM, IS_UPPER, IS_LOWER } char_class;

static hn_status class_method(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                              char_class cls, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "str.is...", a));
    const char *s = self.u.str.s;
    size_t n = self.u.str.n;
    bool all = n > 0, any_cased = false, any_upper = false, any_lower = false;
    for (size_t i = 0; i < n;) {
        size_t len;
        gunichar c = jn_utf8_get(s + i, &len);
        i += len;
        switch (cls) {
        case IS_DIGIT: all = all && g_unichar_isdigit(c); break;
        case IS_SPACE: all = all && jn_py_isspace(c); break;
        case IS_ALPHA: all = all && g_unichar_isalpha(c); break;
        case IS_ALNUM: all = all && (g_unichar_isalpha(c) || g_unichar_isdigit(c)); break;
        case IS_UPPER:
        case IS_LOWER:
            any_cased = any_cased || is_cased(c);
            any_upper = any_upper || g_unichar_isupper(c) || g_unichar_istitle(c);
            any_lower = any_lower || g_unichar_islower(c);
            break;
        }
    }
    if (cls == IS_UPPER)
        all = any_cased && !any_lower;
    else if (cls == IS_LOWER)
        all = any_cased && !any_upper;
    *out = jn_bool(all);
    return HN_OK;
}

#define CLASS_METHOD(fn, cls)                                                                 \
    static hn_status fn(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,           \
                        jn_value *out)                                                        \
    {                                                                                         \
        return class_method(r, pos, self, a, cls, out);                                       \
    }
CLASS_METHOD(m_isdigit, IS_DIGIT)
CLASS_METHOD(m_isspace, IS_SPACE)
CLASS_METHOD(m_isalpha, IS_ALPHA)
CLASS_METHOD(m_isalnum, IS_ALNUM)
CLASS_METHOD(m_isupper, IS_UPPER)
CLASS_METHOD(m_islower, IS_LOWER)

static const jn_builtin str_methods[] = {
    {"startswith", m_startswith}, {"endswith", m_endswith},     {"strip", m_strip},
    {"lstrip", m_lstrip},         {"rstrip", m_rstrip},         {"split", m_split},
    {"rsplit", m_rsplit},         {"upper", m_upper},           {"lower", m_lower},
    {"title", m_title},           {"capitalize", m_capitalize}, {"replace", m_replace},
    {"find", m_find},             {"rfind", m_rfind},           {"count", m_count},
    {"join", m_join},             {"removeprefix", m_removeprefix},
    {"removesuffix", m_removesuffix},
    {"isdigit", m_isdigit},       {"isspace", m_isspace},       {"isalpha", m_isalpha},
    {"isalnum", m_isalnum},       {"isupper", m_isupper},       {"islower", m_islower},
};

jn_builtin_fn jn_find_str_method(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(str_methods); i++)
        if (strcmp(str_methods[i].name, name) == 0)
            return str_methods[i].fn;
    return NULL;
}

/* ---- dict methods ---- */

static hn_status dict_view(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                           int which, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos,
                      which == 0   ? "dict.items"
                      : which == 1 ? "dict.keys"
                                   : "dict.values",
                      a));
    const jn_dict *d = self.u.dict;
    HN_TRY(jn_list_new(r, pos, d->n, false, out));
    for (size_t i = 0; i < d->n; i++) {
        if (which == 0) {
            jn_value pair;
            HN_TRY(jn_list_new(r, pos, 2, true, &pair));
            pair.u.list->items[0] = d->keys[i];
            pair.u.list->items[1] = d->values[i];
            out->u.list->items[i] = pair;
        } else {
            out->u.list->items[i] = which == 1 ? d->keys[i] : d->values[i];
        }
    }
    return HN_OK;
}

static hn_status m_items(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return dict_view(r, pos, self, a, 0, out);
}

static hn_status m_keys(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return dict_view(r, pos, self, a, 1, out);
}

static hn_status m_values(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return dict_view(r, pos, self, a, 2, out);
}

static hn_status m_get(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    JN_BIND("dict.get", "key", "default");
    if (arg[0].kind == JV_MISSING)
        return jn_fail(r, pos, HN_ERR_FORMAT, "dict.get() needs a key");
    const jn_value *v = jn_dict_get(self.u.dict, arg[0]);
    *out = v != NULL ? *v : arg[1].kind == JV_MISSING ? jn_none() : arg[1];
    return HN_OK;
}

static hn_status m_copy(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "dict.copy", a));
    *out = jn_dict_new(r);
    for (size_t i = 0; i < self.u.dict->n; i++)
        HN_TRY(jn_dict_set(r, pos, out->u.dict, self.u.dict->keys[i], self.u.dict->values[i]));
    return HN_OK;
}

static const jn_builtin dict_methods[] = {
    {"items", m_items}, {"keys", m_keys}, {"values", m_values}, {"get", m_get}, {"copy", m_copy},
};

jn_builtin_fn jn_find_dict_method(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(dict_methods); i++)
        if (strcmp(dict_methods[i].name, name) == 0)
            return dict_methods[i].fn;
    return NULL;
}
