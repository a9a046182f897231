/* The global names a chat template sees: jinja2's range (with the sandbox's 100000 limit),
 * dict and namespace, and transformers' raise_exception and strftime_now (local time, C
 * locale names, as Python's datetime.now().strftime writes them). cycler, joiner and lipsum
 * exist but fail when called. */
#include <locale.h>
#include <string.h>
#include <time.h>

#include "jinja_internal.h"

enum { MAX_RANGE = 100000 };

static hn_status g_range(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    (void)self;
    if (a->n_kw > 0)
        return jn_fail(r, pos, HN_ERR_FORMAT, "range() takes no keyword arguments");
    if (a->n < 1 || a->n > 3)
        return jn_fail(r, pos, HN_ERR_FORMAT, "range() takes 1 to 3 arguments, %d given", a->n);
    int64_t v[3] = {0, 0, 1};
    for (int i = 0; i < a->n; i++) {
        jn_value x = a->args[i];
        if (x.kind != JV_INT && x.kind != JV_BOOL) {
            HN_TRY(jn_require_defined(r, pos, x));
            return jn_fail(r, pos, HN_ERR_FORMAT, "range(): '%s' object cannot be interpreted as "
                           "an integer", jn_type_name(x));
        }
        v[a->n == 1 ? 1 : i] = x.kind == JV_BOOL ? x.u.b : x.u.i;
    }
    int64_t start = v[0], stop = v[1], step = v[2];
    if (step == 0)
        return jn_fail(r, pos, HN_ERR_FORMAT, "range() arg 3 must not be zero");
    /* Count in floating point: the operands may be anywhere in int64. */
    double span = step > 0 ? (double)stop - (double)start : (double)start - (double)stop;
    double count = span <= 0 ? 0 : (span + (double)(step > 0 ? step : -step) - 1) /
                                        (double)(step > 0 ? step : -step);
    if (count > MAX_RANGE)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "range too big: the sandbox allows at most %d "
                       "items",
                       MAX_RANGE);
    size_t n = (size_t)count;
    HN_TRY(jn_list_new(r, pos, n, false, out));
    for (size_t i = 0; i < n; i++)
        out->u.list->items[i] = jn_int(start + (int64_t)i * step);
    return HN_OK;
}

/* dict(mapping or pairs, **kwargs) into d. */
static hn_status fill_dict(jn_render *r, jn_pos pos, const char *fname, const jn_argv *a,
                           jn_dict *d)
{
    if (a->n > 1)
        return jn_fail(r, pos, HN_ERR_FORMAT, "%s() takes at most 1 positional argument", fname);
    if (a->n == 1) {
        jn_value src = a->args[0];
        if (src.kind == JV_DICT || src.kind == JV_NAMESPACE) {
            for (size_t i = 0; i < src.u.dict->n; i++)
                HN_TRY(jn_dict_set(r, pos, d, src.u.dict->keys[i], src.u.dict->values[i]));
        } else {
            jn_list *pairs;
            HN_TRY(jn_iterate(r, pos, src, &pairs));
            for (size_t i = 0; i < pairs->n; i++) {
                jn_value p = pairs->items[i];
                if (p.kind != JV_LIST || p.u.list->n != 2)
                    return jn_fail(r, pos, HN_ERR_FORMAT, "%s(): element %zu is not a pair", fname,
                                   i);
                HN_TRY(jn_dict_set(r, pos, d, p.u.list->items[0], p.u.list->items[1]));
            }
        }
    }
    for (int k = 0; k < a->n_kw; k++) {
        const char *key = a->kw_names[k];
        HN_TRY(jn_dict_set(r, pos, d, jn_str_ref(key, strlen(key)), a->kw_values[k]));
    }
    return HN_OK;
}

static hn_status g_dict(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    (void)self;
    *out = jn_dict_new(r);
    return fill_dict(r, pos, "dict", a, out->u.dict);
}

static hn_status g_namespace(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                             jn_value *out)
{
    (void)self;
    *out = jn_dict_new(r);
    out->kind = JV_NAMESPACE;
    HN_TRY(fill_dict(r, pos, "namespace", a, out->u.dict));
    for (size_t i = 0; i < out->u.dict->n; i++) {
        jn_value k = out->u.dict->keys[i];
        if (k.kind == JV_STRING && k.u.str.n > 0 && k.u.str.s[0] == '_')
            return jn_fail(r, pos, HN_ERR_FORMAT, "namespace attributes cannot start with '_' "
                           "('%.*s')", (int)k.u.str.n, k.u.str.s);
    }
    return HN_OK;
}

static hn_status g_raise_exception(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                                   jn_value *out)
{
    (void)self;
    (void)out;
    static const char *const names[] = {"message"};
    jn_value message;
    HN_TRY(jn_bind(r, pos, "raise_exception", a, 1, names, &message));
    GString *g = g_string_new(NULL);
    if (message.kind != JV_MISSING)
        jn_append_str(r, pos, g, message);
    hn_status status = jn_fail(r, pos, HN_ERR_ARGUMENT, "the template raised an error: %s", g->str);
    g_string_free(g, TRUE);
    return status;
}

static hn_status g_strftime_now(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                                jn_value *out)
{
    (void)self;
    static const char *const names[] = {"format"};
    jn_value fmt;
    HN_TRY(jn_bind(r, pos, "strftime_now", a, 1, names, &fmt));
    HN_TRY(jn_arg_str(r, pos, "strftime_now", "format", fmt, &fmt));
    gint64 micros = r->limits.now != 0 ? r->limits.now * G_USEC_PER_SEC : g_get_real_time();
    time_t seconds = (time_t)(micros / G_USEC_PER_SEC);
    struct tm tm;
    localtime_r(&seconds, &tm);
    /* datetime.strftime handles %f, %z and %Z itself (naive time: empty zone). */
    GString *pattern = g_string_new(NULL);
    for (size_t i = 0; i < fmt.u.str.n; i++) {
        char c = fmt.u.str.s[i];
        if (c == '%' && i + 1 < fmt.u.str.n) {
            char d = fmt.u.str.s[++i];
            if (d == 'f')
                g_string_append_printf(pattern, "%06d", (int)(micros % G_USEC_PER_SEC));
            else if (d != 'z' && d != 'Z')
                g_string_append_printf(pattern, "%%%c", d);
        } else if (c == '\0') {
            g_string_free(pattern, TRUE);
            return jn_fail(r, pos, HN_ERR_FORMAT, "strftime_now: embedded NUL in the format");
        } else {
            g_string_append_c(pattern, c);
        }
    }
    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    GString *result = g_string_new(NULL);
    hn_status status = HN_OK;
    if (pattern->len > 0) {
        /* A leading marker tells an empty result from a buffer that is too small. */
        g_string_prepend_c(pattern, 'x');
        size_t size = 64 + pattern->len * 8, n = 0;
        char *buf = NULL;
        while (size <= (1u << 20)) {
            buf = g_realloc(buf, size);
            n = strftime_l(buf, size, pattern->str, &tm, c_locale);
            if (n > 0)
                break;
            size *= 4;
        }
        if (n == 0)
            status = jn_fail(r, pos, HN_ERR_UNSUPPORTED, "strftime_now: result too long");
        else
            g_string_append_len(result, buf + 1, (gssize)(n - 1));
        g_free(buf);
    }
    freelocale(c_locale);
    if (status == HN_OK)
        status = jn_str_from_gstring(r, pos, result, out);
    g_string_free(result, TRUE);
    g_string_free(pattern, TRUE);
    return status;
}

void jn_add_globals(jn_render *r, jn_scope *globals)
{
    static const jn_builtin functions[] = {
        {"range", g_range},
        {"dict", g_dict},
        {"namespace", g_namespace},
        {"raise_exception", g_raise_exception},
        {"strftime_now", g_strftime_now},
        {"cycler", NULL},
        {"joiner", NULL},
        {"lipsum", NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(functions); i++)
        jn_scope_set(r, globals, functions[i].name,
                     jn_callable_new(r, functions[i].name, functions[i].fn, jn_none()));
}
