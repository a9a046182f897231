/* Attribute, item and slice access as jinja2's sandbox does it: obj.name looks for a method
 * or attribute first and then an item, obj[key] the other way round; what is missing is an
 * undefined value that says why; mutating methods (list.append, dict.update) are blocked;
 * indexes and slices count characters and follow Python's negative-index rules. */
#include <string.h>

#include "jinja_internal.h"

static bool in_list(const char *name, const char *const *names)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* Python's str methods; the ones Hone implements are in jinja_methods.c. */
static const char *const str_methods[] = {
    "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find",
    "format", "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit",
    "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper",
    "join", "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix",
    "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip",
    "split", "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper",
    "zfill", NULL};
static const char *const dict_methods[] = {"clear", "copy", "fromkeys", "get", "items", "keys",
                                           "pop", "popitem", "setdefault", "update", "values",
                                           NULL};
static const char *const dict_unsafe[] = {"clear", "pop", "popitem", "setdefault", "update",
                                          NULL};
static const char *const list_methods[] = {"append", "clear", "copy", "count", "extend", "index",
                                           "insert", "pop", "remove", "reverse", "sort", NULL};
static const char *const list_unsafe[] = {"append", "clear", "extend", "insert", "pop",
                                          "remove", "reverse", "sort", NULL};

static hn_status unsupported_method(jn_render *r, jn_value obj, const char *name, jn_value *out)
{
    /* A callable without a function: calling it fails naming the method (jn_call), while
     * `x.zfill is defined` still holds as in Python. */
    *out =
        jn_callable_new(r, jn_arena_printf(&r->arena, "%s.%s", jn_type_name(obj), name), NULL, obj);
    return HN_OK;
}

bool jn_method(jn_render *r, jn_value obj, const char *name, jn_value *out)
{
    jn_builtin_fn fn = NULL;
    if (obj.kind == JV_STRING)
        fn = jn_find_str_method(name);
    else if (obj.kind == JV_DICT)
        fn = jn_find_dict_method(name);
    if (fn == NULL)
        return false;
    *out =
        jn_callable_new(r, jn_arena_printf(&r->arena, "%s.%s", jn_type_name(obj), name), fn, obj);
    return true;
}

static hn_status loop_cycle(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                            jn_value *out)
{
    if (a->n == 0)
        return jn_fail(r, pos, HN_ERR_FORMAT, "loop.cycle() needs at least one argument");
    *out = a->args[self.u.loop->index0 % (size_t)a->n];
    return HN_OK;
}

static hn_status loop_attr(jn_render *r, jn_value obj, const char *name, jn_value *out)
{
    const jn_loop *l = obj.u.loop;
    size_t i = l->index0, n = l->length;
    if (strcmp(name, "index0") == 0)
        *out = jn_int((int64_t)i);
    else if (strcmp(name, "index") == 0)
        *out = jn_int((int64_t)i + 1);
    else if (strcmp(name, "revindex0") == 0)
        *out = jn_int((int64_t)(n - i - 1));
    else if (strcmp(name, "revindex") == 0)
        *out = jn_int((int64_t)(n - i));
    else if (strcmp(name, "first") == 0)
        *out = jn_bool(i == 0);
    else if (strcmp(name, "last") == 0)
        *out = jn_bool(i + 1 == n);
    else if (strcmp(name, "length") == 0)
        *out = jn_int((int64_t)n);
    else if (strcmp(name, "depth") == 0)
        *out = jn_int(l->depth);
    else if (strcmp(name, "depth0") == 0)
        *out = jn_int(l->depth - 1);
    else if (strcmp(name, "previtem") == 0)
        *out = i > 0 ? l->items[i - 1] : jn_undefined("there is no previous item");
    else if (strcmp(name, "nextitem") == 0)
        *out = i + 1 < n ? l->items[i + 1] : jn_undefined("there is no next item");
    else if (strcmp(name, "cycle") == 0)
        *out = jn_callable_new(r, "loop.cycle", loop_cycle, obj);
    else if (strcmp(name, "changed") == 0)
        return unsupported_method(r, obj, name, out);
    else
        *out = jn_undefined(
            jn_arena_printf(&r->arena, "'LoopContext object' has no attribute '%s'", name));
    return HN_OK;
}

static hn_status get_attribute(jn_render *r, jn_pos pos, jn_value obj, const char *name,
                               bool items, jn_value *out);

hn_status jn_getattr(jn_render *r, jn_pos pos, jn_value obj, const char *name, jn_value *out)
{
    return get_attribute(r, pos, obj, name, true, out);
}

hn_status jn_attribute(jn_render *r, jn_pos pos, jn_value obj, const char *name, jn_value *out)
{
    return get_attribute(r, pos, obj, name, false, out);
}

static hn_status get_attribute(jn_render *r, jn_pos pos, jn_value obj, const char *name,
                               bool items, jn_value *out)
{
    HN_TRY(jn_require_defined(r, pos, obj));
    if (name[0] == '_') {
        *out = jn_undefined(jn_arena_printf(&r->arena,
                                            "access to attribute '%s' of '%s' object is unsafe",
                                            name, jn_type_name(obj)));
        return HN_OK;
    }
    switch ((jn_kind)obj.kind) {
    case JV_LOOP:
        return loop_attr(r, obj, name, out);
    case JV_STRING:
        if (jn_method(r, obj, name, out))
            return HN_OK;
        if (in_list(name, str_methods))
            return unsupported_method(r, obj, name, out);
        break;
    case JV_DICT:
        if (in_list(name, dict_unsafe)) {
            *out = jn_undefined(jn_arena_printf(
                &r->arena, "access to attribute '%s' of 'dict' object is unsafe", name));
            return HN_OK;
        }
        if (jn_method(r, obj, name, out))
            return HN_OK;
        if (in_list(name, dict_methods))
            return unsupported_method(r, obj, name, out);
        if (items) {
            const jn_value *v = jn_dict_get_str(obj.u.dict, name);
            if (v != NULL) {
                *out = *v;
                return HN_OK;
            }
        }
        break;
    case JV_NAMESPACE: {
        const jn_value *v = jn_dict_get_str(obj.u.dict, name);
        if (v != NULL) {
            *out = *v;
            return HN_OK;
        }
        break;
    }
    case JV_LIST:
        if (in_list(name, list_unsafe)) {
            *out = jn_undefined(jn_arena_printf(&r->arena,
                                                "access to attribute '%s' of '%s' object is unsafe",
                                                name, jn_type_name(obj)));
            return HN_OK;
        }
        if (in_list(name, list_methods))
            return unsupported_method(r, obj, name, out);
        break;
    default:
        break;
    }
    *out = jn_undefined(
        jn_arena_printf(&r->arena, "'%s object' has no attribute '%s'", jn_type_name(obj), name));
    return HN_OK;
}

/* Python index semantics on n items: negative counts from the end; false when outside. */
static bool index_of(jn_value key, size_t n, size_t *out)
{
    if (key.kind != JV_INT && key.kind != JV_BOOL)
        return false;
    int64_t i = key.kind == JV_BOOL ? key.u.b : key.u.i;
    if (i < 0)
        i += (int64_t)n;
    if (i < 0 || (uint64_t)i >= n)
        return false;
    *out = (size_t)i;
    return true;
}

hn_status jn_getitem(jn_render *r, jn_pos pos, jn_value obj, jn_value key, jn_value *out)
{
    HN_TRY(jn_require_defined(r, pos, obj));
    size_t i;
    switch ((jn_kind)obj.kind) {
    case JV_DICT: {
        const jn_value *v = jn_dict_get(obj.u.dict, key);
        if (v != NULL) {
            *out = *v;
            return HN_OK;
        }
        break;
    }
    case JV_LIST:
        if (!jn_is_generator(obj) && index_of(key, obj.u.list->n, &i)) {
            *out = obj.u.list->items[i];
            return HN_OK;
        }
        break;
    case JV_STRING:
        if (index_of(key, jn_utf8_count(obj.u.str.s, obj.u.str.n), &i)) {
            size_t off = jn_utf8_offset(obj.u.str.s, obj.u.str.n, i), len;
            jn_utf8_get(obj.u.str.s + off, &len);
            *out = jn_str_ref(obj.u.str.s + off, len);
            return HN_OK;
        }
        break;
    default:
        break;
    }
    if (key.kind == JV_STRING) {
        char *name = jn_arena_strndup(&r->arena, key.u.str.s, key.u.str.n);
        if (strlen(name) == key.u.str.n) {
            HN_TRY(jn_getattr(r, pos, obj, name, out));
            if (out->kind != JV_UNDEFINED)
                return HN_OK;
        }
        *out = jn_undefined(jn_arena_printf(&r->arena, "'%s object' has no attribute '%s'",
                                            jn_type_name(obj), name));
        return HN_OK;
    }
    GString *g = g_string_new(NULL);
    hn_status status = jn_append_repr(r, pos, g, key);
    if (status == HN_OK)
        *out = jn_undefined(
            jn_arena_printf(&r->arena, "%s object has no element %s", jn_type_name(obj), g->str));
    g_string_free(g, TRUE);
    return status;
}

/* Python's slice bound: none or an int; false for other types. */
static bool slice_arg(jn_value v, bool *given, int64_t *out)
{
    *given = false;
    if (v.kind == JV_MISSING || v.kind == JV_NONE)
        return true;
    if (v.kind != JV_INT && v.kind != JV_BOOL)
        return false;
    *given = true;
    *out = v.kind == JV_BOOL ? v.u.b : v.u.i;
    return true;
}

static int64_t clamp_bound(int64_t v, int64_t len, int64_t step)
{
    if (v < 0) {
        v += len;
        if (v < 0)
            v = step < 0 ? -1 : 0;
    } else if (v >= len) {
        v = step < 0 ? len - 1 : len;
    }
    return v;
}

hn_status jn_slice(jn_render *r, jn_pos pos, jn_value obj, jn_value start, jn_value stop,
                   jn_value step, jn_value *out)
{
    HN_TRY(jn_require_defined(r, pos, obj));
    bool has_start, has_stop, has_step;
    int64_t a = 0, b = 0, s = 1;
    if (!slice_arg(start, &has_start, &a) || !slice_arg(stop, &has_stop, &b) ||
        !slice_arg(step, &has_step, &s) || (obj.kind != JV_STRING && obj.kind != JV_LIST) ||
        jn_is_generator(obj)) {
        *out = jn_undefined(jn_arena_printf(&r->arena, "'%s' object cannot be sliced like that",
                                            jn_type_name(obj)));
        return HN_OK;
    }
    if (!has_step)
        s = 1;
    if (s == 0)
        return jn_fail(r, pos, HN_ERR_FORMAT, "slice step cannot be zero");
    int64_t len = obj.kind == JV_LIST ? (int64_t)obj.u.list->n
                                      : (int64_t)jn_utf8_count(obj.u.str.s, obj.u.str.n);
    a = has_start ? clamp_bound(a, len, s) : (s < 0 ? len - 1 : 0);
    b = has_stop ? clamp_bound(b, len, s) : (s < 0 ? -1 : len);
    int64_t count = 0;
    if (s < 0 && b < a)
        count = (a - b - 1) / (-s) + 1;
    else if (s > 0 && a < b)
        count = (b - a - 1) / s + 1;
    if (obj.kind == JV_LIST) {
        HN_TRY(jn_list_new(r, pos, (size_t)count, obj.flags & JV_TUPLE, out));
        for (int64_t k = 0; k < count; k++)
            out->u.list->items[k] = obj.u.list->items[a + k * s];
        return HN_OK;
    }
    /* Strings: map character indexes to byte offsets once. */
    size_t *offsets = jn_alloc(r, sizeof(size_t) * (size_t)(len + 1));
    size_t off = 0;
    for (int64_t k = 0; k <= len; k++) {
        offsets[k] = off;
        if (k < len) {
            size_t clen;
            jn_utf8_get(obj.u.str.s + off, &clen);
            off += clen;
        }
    }
    if (s == 1) {
        size_t from = offsets[a], to = offsets[a + count];
        *out = jn_str_ref(obj.u.str.s + from, to - from);
        return HN_OK;
    }
    GString *g = g_string_new(NULL);
    for (int64_t k = 0; k < count; k++) {
        int64_t c = a + k * s;
        g_string_append_len(g, obj.u.str.s + offsets[c], (gssize)(offsets[c + 1] - offsets[c]));
    }
    hn_status status = jn_str_from_gstring(r, pos, g, out);
    g_string_free(g, TRUE);
    return status;
}
