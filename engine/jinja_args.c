/* Argument binding for the Jinja builtins (filters, tests, methods, globals): positional and
 * keyword arguments matched to parameter names as a Python call would, and typed reads. */
#include <string.h>

#include "jinja_internal.h"

hn_status jn_bind(jn_render *r, jn_pos pos, const char *fname, const jn_argv *a, int n,
                  const char *const *names, jn_value *slots)
{
    for (int i = 0; i < n; i++)
        slots[i] = jn_missing();
    if (a->n > n)
        return jn_fail(r, pos, HN_ERR_FORMAT, "%s() takes at most %d argument%s (%d given)", fname,
                       n, n == 1 ? "" : "s", a->n);
    for (int i = 0; i < a->n; i++)
        slots[i] = a->args[i];
    for (int k = 0; k < a->n_kw; k++) {
        int i = 0;
        while (i < n && strcmp(names[i], a->kw_names[k]) != 0)
            i++;
        if (i == n)
            return jn_fail(r, pos, HN_ERR_FORMAT, "%s() got an unexpected keyword argument '%s'",
                           fname, a->kw_names[k]);
        if (slots[i].kind != JV_MISSING)
            return jn_fail(r, pos, HN_ERR_FORMAT, "%s() got multiple values for argument '%s'",
                           fname, a->kw_names[k]);
        slots[i] = a->kw_values[k];
    }
    return HN_OK;
}

hn_status jn_no_args(jn_render *r, jn_pos pos, const char *fname, const jn_argv *a)
{
    if (a->n > 0 || a->n_kw > 0)
        return jn_fail(r, pos, HN_ERR_FORMAT, "%s() takes no arguments", fname);
    return HN_OK;
}

bool jn_arg_bool(jn_value v, bool fallback)
{
    return v.kind == JV_MISSING ? fallback : jn_truthy(v);
}

hn_status jn_arg_int(jn_render *r, jn_pos pos, const char *fname, const char *param, jn_value v,
                     int64_t fallback, int64_t *out)
{
    if (v.kind == JV_MISSING) {
        *out = fallback;
        return HN_OK;
    }
    if (v.kind == JV_INT || v.kind == JV_BOOL) {
        *out = v.kind == JV_BOOL ? v.u.b : v.u.i;
        return HN_OK;
    }
    HN_TRY(jn_require_defined(r, pos, v));
    return jn_fail(r, pos, HN_ERR_FORMAT, "%s(): %s must be an integer, not '%s'", fname, param,
                   jn_type_name(v));
}

hn_status jn_arg_str(jn_render *r, jn_pos pos, const char *fname, const char *param, jn_value v,
                     jn_value *out)
{
    if (v.kind == JV_STRING) {
        *out = v;
        return HN_OK;
    }
    if (v.kind == JV_MISSING)
        return jn_fail(r, pos, HN_ERR_FORMAT, "%s(): missing argument '%s'", fname, param);
    HN_TRY(jn_require_defined(r, pos, v));
    return jn_fail(r, pos, HN_ERR_FORMAT, "%s(): %s must be a string, not '%s'", fname, param,
                   jn_type_name(v));
}
