/* Jinja filters over sequences, as jinja2 defines them: join, map (a filter or attribute=),
 * select/reject (a test), selectattr/rejectattr, sort and dictsort (stable, case-insensitive
 * by default), unique, min, max and sum; attribute paths like "a.b" look items up first. */
#include <string.h>

#include "jinja_internal.h"

hn_status jn_get_path(jn_render *r, jn_pos pos, jn_value obj, jn_value path, jn_value *out)
{
    if (path.kind != JV_STRING)
        return jn_getitem(r, pos, obj, path, out);
    const char *s = path.u.str.s, *end = s + path.u.str.n;
    *out = obj;
    while (s <= end) {
        const char *dot = memchr(s, '.', (size_t)(end - s));
        const char *stop = dot != NULL ? dot : end;
        jn_value part = jn_str_ref(s, (size_t)(stop - s));
        bool digits = stop > s;
        for (const char *c = s; c < stop; c++)
            digits = digits && *c >= '0' && *c <= '9';
        if (digits && stop - s < 18)
            part = jn_int(g_ascii_strtoll(s, NULL, 10));
        HN_TRY(jn_getitem(r, pos, *out, part, out));
        if (dot == NULL)
            break;
        s = dot + 1;
    }
    return HN_OK;
}

/* Items of v, or none when v is falsy (jinja2's `if value:` guards). */
static hn_status items_of(jn_render *r, jn_pos pos, jn_value v, jn_list **out)
{
    static jn_list empty = {0, NULL, false, 0};
    if (!jn_truthy(v)) {
        *out = &empty;
        return HN_OK;
    }
    return jn_iterate(r, pos, v, out);
}

hn_status jn_filter_join(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    JN_BIND("join", "d", "attribute");
    jn_value sep = jn_str_ref("", 0);
    if (arg[0].kind != JV_MISSING)
        HN_TRY(jn_to_str(r, pos, arg[0], &sep));
    jn_list *items;
    HN_TRY(jn_iterate(r, pos, self, &items));
    GString *g = g_string_new(NULL);
    hn_status status = HN_OK;
    for (size_t i = 0; i < items->n && status == HN_OK; i++) {
        jn_value item = items->items[i];
        if (arg[1].kind != JV_MISSING && arg[1].kind != JV_NONE)
            status = jn_get_path(r, pos, item, arg[1], &item);
        if (i > 0)
            g_string_append_len(g, sep.u.str.s, (gssize)sep.u.str.n);
        if (status == HN_OK)
            status = jn_append_str(r, pos, g, item);
    }
    if (status == HN_OK)
        status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}

hn_status jn_filter_map(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    jn_list *items;
    HN_TRY(items_of(r, pos, self, &items));
    HN_TRY(jn_list_new(r, pos, items->n, false, out));
    if (a->n == 0) {
        /* map(attribute="x", default=...) */
        JN_BIND("map", "attribute", "default");
        if (arg[0].kind == JV_MISSING)
            return jn_fail(r, pos, HN_ERR_FORMAT, "map: needs a filter name or attribute=");
        for (size_t i = 0; i < items->n; i++) {
            jn_value v;
            HN_TRY(jn_get_path(r, pos, items->items[i], arg[0], &v));
            if (v.kind == JV_UNDEFINED && arg[1].kind != JV_MISSING && arg[1].kind != JV_NONE)
                v = arg[1];
            out->u.list->items[i] = v;
        }
        out->flags |= JV_GENERATOR;
        return HN_OK;
    }
    jn_value name;
    HN_TRY(jn_arg_str(r, pos, "map", "filter", a->args[0], &name));
    char *fname = jn_arena_strndup(&r->arena, name.u.str.s, name.u.str.n);
    const jn_builtin *f = jn_find_filter(fname);
    if (f == NULL)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "map: no filter named '%s'", fname);
    jn_argv rest = {a->n - 1, a->args + 1, a->n_kw, a->kw_names, a->kw_values};
    for (size_t i = 0; i < items->n; i++)
        HN_TRY(f->fn(r, pos, items->items[i], &rest, &out->u.list->items[i]));
    out->flags |= JV_GENERATOR;
    return HN_OK;
}

hn_status jn_run_test(jn_render *r, jn_pos pos, jn_value name, jn_value v, const jn_argv *extra,
                      bool *out)
{
    jn_value n;
    HN_TRY(jn_arg_str(r, pos, "select", "test", name, &n));
    char *tname = jn_arena_strndup(&r->arena, n.u.str.s, n.u.str.n);
    const jn_builtin *t = jn_find_test(tname);
    if (t == NULL)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "no test named '%s'", tname);
    jn_value result;
    HN_TRY(t->fn(r, pos, v, extra, &result));
    *out = jn_truthy(result);
    return HN_OK;
}

/* select/reject/selectattr/rejectattr: keep items whose (attribute) passes the test (or is
 * truthy when no test is named), or fails it when rejecting. */
static hn_status select_items(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                              bool keep_passing, bool by_attr, jn_value *out)
{
    int off = by_attr ? 1 : 0;
    if (by_attr && a->n < 1)
        return jn_fail(r, pos, HN_ERR_FORMAT, "%s needs an attribute name",
                       keep_passing ? "selectattr" : "rejectattr");
    jn_list *items;
    HN_TRY(items_of(r, pos, self, &items));
    HN_TRY(jn_list_new(r, pos, items->n, false, out));
    bool has_test = a->n > off;
    jn_argv extra = {has_test ? a->n - off - 1 : 0, a->args + off + (has_test ? 1 : 0), a->n_kw,
                     a->kw_names, a->kw_values};
    size_t kept = 0;
    for (size_t i = 0; i < items->n; i++) {
        jn_value v = items->items[i];
        if (by_attr)
            HN_TRY(jn_get_path(r, pos, v, a->args[0], &v));
        bool pass;
        if (has_test)
            HN_TRY(jn_run_test(r, pos, a->args[off], v, &extra, &pass));
        else
            pass = jn_truthy(v);
        if (pass == keep_passing)
            out->u.list->items[kept++] = items->items[i];
    }
    out->u.list->n = kept;
    out->flags |= JV_GENERATOR;
    return HN_OK;
}

hn_status jn_filter_select(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return select_items(r, pos, self, a, true, false, out);
}

hn_status jn_filter_reject(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return select_items(r, pos, self, a, false, false, out);
}

hn_status jn_filter_selectattr(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                               jn_value *out)
{
    return select_items(r, pos, self, a, true, true, out);
}

hn_status jn_filter_rejectattr(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                               jn_value *out)
{
    return select_items(r, pos, self, a, false, true, out);
}

/* The sort key of an item: its attribute(s) (comma-separated paths make a tuple), strings
 * lower-cased unless case_sensitive. */
static hn_status sort_key(jn_render *r, jn_pos pos, jn_value item, jn_value attribute,
                          bool case_sensitive, jn_value *out)
{
    if (attribute.kind == JV_STRING && memchr(attribute.u.str.s, ',', attribute.u.str.n)) {
        gchar **parts =
            g_strsplit(jn_arena_strndup(&r->arena, attribute.u.str.s, attribute.u.str.n), ",", -1);
        guint n = g_strv_length(parts);
        hn_status status = jn_list_new(r, pos, n, true, out);
        for (guint i = 0; i < n && status == HN_OK; i++) {
            char *path = jn_arena_strndup(&r->arena, parts[i], strlen(parts[i]));
            status = sort_key(r, pos, item, jn_str_ref(path, strlen(path)), case_sensitive,
                              &out->u.list->items[i]);
        }
        g_strfreev(parts);
        return status;
    }
    jn_value v = item;
    if (attribute.kind != JV_MISSING && attribute.kind != JV_NONE)
        HN_TRY(jn_get_path(r, pos, item, attribute, &v));
    if (!case_sensitive && v.kind == JV_STRING)
        return jn_str_case(r, pos, v, JN_LOWER, out);
    *out = v;
    return HN_OK;
}

/* Stable merge sort of items by keys (both reordered together). */
static hn_status merge_sort(jn_render *r, jn_pos pos, jn_value *items, jn_value *keys, size_t n,
                            bool reverse)
{
    if (n < 2)
        return HN_OK;
    size_t half = n / 2;
    HN_TRY(merge_sort(r, pos, items, keys, half, reverse));
    HN_TRY(merge_sort(r, pos, items + half, keys + half, n - half, reverse));
    jn_value *ti = jn_alloc(r, sizeof(jn_value) * n), *tk = jn_alloc(r, sizeof(jn_value) * n);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n) {
        int cmp;
        HN_TRY(jn_compare(r, pos, keys[j], keys[i], &cmp));
        if (reverse)
            cmp = -cmp;
        bool take_right = cmp < 0; /* only strictly smaller moves ahead: stable */
        ti[k] = take_right ? items[j] : items[i];
        tk[k++] = take_right ? keys[j++] : keys[i++];
    }
    while (i < half) {
        ti[k] = items[i];
        tk[k++] = keys[i++];
    }
    while (j < n) {
        ti[k] = items[j];
        tk[k++] = keys[j++];
    }
    memcpy(items, ti, sizeof(jn_value) * n);
    memcpy(keys, tk, sizeof(jn_value) * n);
    return HN_OK;
}

static hn_status sorted(jn_render *r, jn_pos pos, jn_list *items, jn_value attribute,
                        bool case_sensitive, bool reverse, jn_value *out)
{
    HN_TRY(jn_list_new(r, pos, items->n, false, out));
    jn_value *keys = jn_alloc(r, sizeof(jn_value) * (items->n + 1));
    for (size_t i = 0; i < items->n; i++) {
        out->u.list->items[i] = items->items[i];
        HN_TRY(sort_key(r, pos, items->items[i], attribute, case_sensitive, &keys[i]));
    }
    return merge_sort(r, pos, out->u.list->items, keys, items->n, reverse);
}

hn_status jn_filter_sort(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    JN_BIND("sort", "reverse", "case_sensitive", "attribute");
    jn_list *items;
    HN_TRY(jn_iterate(r, pos, self, &items));
    return sorted(r, pos, items, arg[2], jn_arg_bool(arg[1], false), jn_arg_bool(arg[0], false),
                  out);
}

hn_status jn_filter_dictsort(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                             jn_value *out)
{
    JN_BIND("dictsort", "case_sensitive", "by", "reverse");
    if (self.kind != JV_DICT) {
        HN_TRY(jn_require_defined(r, pos, self));
        return jn_fail(r, pos, HN_ERR_FORMAT, "dictsort: '%s' is not a dict", jn_type_name(self));
    }
    int by = 0;
    if (arg[1].kind != JV_MISSING) {
        if (jn_is_string(arg[1], "value"))
            by = 1;
        else if (!jn_is_string(arg[1], "key"))
            return jn_fail(r, pos, HN_ERR_FORMAT, "dictsort: you can only sort by either \"key\" "
                           "or \"value\"");
    }
    const jn_dict *d = self.u.dict;
    jn_value pairs;
    HN_TRY(jn_list_new(r, pos, d->n, false, &pairs));
    for (size_t i = 0; i < d->n; i++) {
        HN_TRY(jn_list_new(r, pos, 2, true, &pairs.u.list->items[i]));
        pairs.u.list->items[i].u.list->items[0] = d->keys[i];
        pairs.u.list->items[i].u.list->items[1] = d->values[i];
    }
    return sorted(r, pos, pairs.u.list, jn_int(by), jn_arg_bool(arg[0], false),
                  jn_arg_bool(arg[2], false), out);
}

hn_status jn_filter_unique(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                           jn_value *out)
{
    JN_BIND("unique", "case_sensitive", "attribute");
    jn_list *items;
    HN_TRY(jn_iterate(r, pos, self, &items));
    HN_TRY(jn_list_new(r, pos, items->n, false, out));
    /* jinja2 keeps a set of the keys seen: they must be hashable. */
    jn_value seen = jn_dict_new(r);
    size_t kept = 0;
    for (size_t i = 0; i < items->n; i++) {
        jn_value key;
        HN_TRY(sort_key(r, pos, items->items[i], arg[1], jn_arg_bool(arg[0], false), &key));
        if (jn_dict_get(seen.u.dict, key) == NULL) {
            HN_TRY(jn_dict_set(r, pos, seen.u.dict, key, jn_none()));
            out->u.list->items[kept++] = items->items[i];
        }
    }
    out->u.list->n = kept;
    out->flags |= JV_GENERATOR;
    return HN_OK;
}

static hn_status min_or_max(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, bool max,
                            jn_value *out)
{
    JN_BIND(max ? "max" : "min", "case_sensitive", "attribute");
    jn_list *items;
    HN_TRY(jn_iterate(r, pos, self, &items));
    if (items->n == 0) {
        *out = jn_undefined("No aggregated item, sequence was empty.");
        return HN_OK;
    }
    size_t best = 0;
    jn_value best_key;
    HN_TRY(sort_key(r, pos, items->items[0], arg[1], jn_arg_bool(arg[0], false), &best_key));
    for (size_t i = 1; i < items->n; i++) {
        jn_value key;
        int cmp;
        HN_TRY(sort_key(r, pos, items->items[i], arg[1], jn_arg_bool(arg[0], false), &key));
        HN_TRY(jn_compare(r, pos, key, best_key, &cmp));
        if (cmp != 2 && (max ? cmp > 0 : cmp < 0)) {
            best = i;
            best_key = key;
        }
    }
    *out = items->items[best];
    return HN_OK;
}

hn_status jn_filter_min(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return min_or_max(r, pos, self, a, false, out);
}

hn_status jn_filter_max(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    return min_or_max(r, pos, self, a, true, out);
}

hn_status jn_filter_sum(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out)
{
    JN_BIND("sum", "attribute", "start");
    jn_list *items;
    HN_TRY(jn_iterate(r, pos, self, &items));
    *out = arg[1].kind == JV_MISSING ? jn_int(0) : arg[1];
    for (size_t i = 0; i < items->n; i++) {
        jn_value v = items->items[i];
        if (arg[0].kind != JV_MISSING && arg[0].kind != JV_NONE)
            HN_TRY(jn_get_path(r, pos, v, arg[0], &v));
        HN_TRY(jn_binary(r, pos, OP_ADD, *out, v, out));
    }
    return HN_OK;
}
