/* Jinja values with Python semantics: making them (in the render's memory), dicts with
 * Python key equality, truthiness, ==, ordering, type names, iteration, undefined values,
 * and converting the cJSON context into values. */
#include <math.h>
#include <string.h>

#include "jinja_internal.h"

jn_value jn_none(void)
{
    return (jn_value){.kind = JV_NONE};
}

jn_value jn_bool(bool b)
{
    return (jn_value){.kind = JV_BOOL, .u.b = b};
}

jn_value jn_int(int64_t i)
{
    return (jn_value){.kind = JV_INT, .u.i = i};
}

jn_value jn_float(double f)
{
    return (jn_value){.kind = JV_FLOAT, .u.f = f};
}

jn_value jn_undefined(const char *why)
{
    return (jn_value){.kind = JV_UNDEFINED, .u.why = why};
}

jn_value jn_missing(void)
{
    return (jn_value){.kind = JV_MISSING};
}

jn_value jn_str_ref(const char *s, size_t n)
{
    return (jn_value){.kind = JV_STRING, .u.str = {s, n}};
}

hn_status jn_str_new(jn_render *r, jn_pos pos, const char *s, size_t n, jn_value *out)
{
    HN_TRY(jn_reserve(r, pos, n + 1));
    *out = jn_str_ref(jn_arena_strndup(&r->arena, s, n), n);
    return HN_OK;
}

hn_status jn_str_from_gstring(jn_render *r, jn_pos pos, GString *g, jn_value *out)
{
    return jn_str_new(r, pos, g->str, g->len, out);
}

hn_status jn_list_new(jn_render *r, jn_pos pos, size_t n, bool tuple, jn_value *out)
{
    if (n > SIZE_MAX / sizeof(jn_value) / 2)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "a list of %zu items is too long", n);
    HN_TRY(jn_reserve(r, pos, n * sizeof(jn_value) + sizeof(jn_list)));
    jn_list *l = jn_alloc(r, sizeof *l);
    l->n = n;
    l->items = jn_alloc(r, sizeof(jn_value) * (n + 1));
    *out = (jn_value){.kind = JV_LIST, .flags = tuple ? JV_TUPLE : 0, .u.list = l};
    return HN_OK;
}

jn_value jn_dict_new(jn_render *r)
{
    jn_dict *d = jn_alloc(r, sizeof *d);
    return (jn_value){.kind = JV_DICT, .u.dict = d};
}

jn_value jn_callable_new(jn_render *r, const char *name, jn_builtin_fn fn, jn_value self)
{
    jn_callable *c = jn_alloc(r, sizeof *c);
    c->name = name;
    c->fn = fn;
    c->self = self;
    return (jn_value){.kind = JV_CALLABLE, .u.fn = c};
}

bool jn_is_generator(jn_value v)
{
    return v.kind == JV_LIST && (v.flags & JV_GENERATOR);
}

bool jn_is_number(jn_value v)
{
    return v.kind == JV_INT || v.kind == JV_FLOAT || v.kind == JV_BOOL;
}

bool jn_hashable(jn_value v)
{
    if (v.kind == JV_LIST) {
        if ((v.flags & JV_TUPLE) == 0)
            return false;
        for (size_t i = 0; i < v.u.list->n; i++)
            if (!jn_hashable(v.u.list->items[i]))
                return false;
        return true;
    }
    return v.kind == JV_NONE || v.kind == JV_STRING || jn_is_number(v);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

/* Equal keys hash equally: numbers hash by value, so 1, 1.0 and true collide on purpose. */
static uint64_t hash_value(jn_value v)
{
    switch ((jn_kind)v.kind) {
    case JV_BOOL: return mix((uint64_t)v.u.b);
    case JV_INT: return mix((uint64_t)v.u.i);
    case JV_FLOAT:
        if (v.u.f == floor(v.u.f) && fabs(v.u.f) < 9.2e18)
            return mix((uint64_t)(int64_t)v.u.f);
        {
            uint64_t bits;
            memcpy(&bits, &v.u.f, sizeof bits);
            return mix(bits);
        }
    case JV_STRING: {
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < v.u.str.n; i++)
            h = (h ^ (unsigned char)v.u.str.s[i]) * 1099511628211ULL;
        return h;
    }
    case JV_LIST: {
        uint64_t h = 0x345678;
        for (size_t i = 0; i < v.u.list->n; i++)
            h = mix(h ^ hash_value(v.u.list->items[i]));
        return h;
    }
    default: return 0x9e3779b97f4a7c15ULL;
    }
}

static void index_insert(jn_dict *d, size_t entry)
{
    size_t mask = d->index_size - 1;
    for (size_t slot = hash_value(d->keys[entry]) & mask;; slot = (slot + 1) & mask) {
        if (d->index[slot] == 0) {
            d->index[slot] = (uint32_t)entry + 1;
            return;
        }
    }
}

static ptrdiff_t dict_index(const jn_dict *d, jn_value key)
{
    if (!jn_hashable(key))
        return -1;
    if (d->index_size == 0) {
        for (size_t i = 0; i < d->n; i++)
            if (jn_equal(d->keys[i], key))
                return (ptrdiff_t)i;
        return -1;
    }
    size_t mask = d->index_size - 1;
    for (size_t slot = hash_value(key) & mask; d->index[slot] != 0; slot = (slot + 1) & mask) {
        size_t entry = d->index[slot] - 1;
        if (jn_equal(d->keys[entry], key))
            return (ptrdiff_t)entry;
    }
    return -1;
}

hn_status jn_dict_set(jn_render *r, jn_pos pos, jn_dict *d, jn_value key, jn_value value)
{
    if (!jn_hashable(key))
        return jn_fail(r, pos, HN_ERR_FORMAT, "unhashable type: '%s'", jn_type_name(key));
    ptrdiff_t at = dict_index(d, key);
    if (at >= 0) {
        d->values[at] = value;
        return HN_OK;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap == 0 ? 8 : d->cap * 2;
        HN_TRY(jn_reserve(r, pos, cap * 2 * sizeof(jn_value)));
        jn_value *keys = jn_alloc(r, sizeof(jn_value) * cap);
        jn_value *values = jn_alloc(r, sizeof(jn_value) * cap);
        if (d->n > 0) {
            memcpy(keys, d->keys, sizeof(jn_value) * d->n);
            memcpy(values, d->values, sizeof(jn_value) * d->n);
        }
        d->keys = keys;
        d->values = values;
        d->cap = cap;
    }
    d->keys[d->n] = key;
    d->values[d->n] = value;
    d->n++;
    if (d->n >= 8 && d->n * 2 > d->index_size) {
        /* (Re)build the index at four times the entries: at most half full. */
        if (d->n > UINT32_MAX / 4)
            return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "a dict of %zu entries is too large", d->n);
        d->index_size = 32;
        while (d->index_size < d->n * 4)
            d->index_size *= 2;
        HN_TRY(jn_reserve(r, pos, d->index_size * sizeof(uint32_t)));
        d->index = jn_alloc(r, d->index_size * sizeof(uint32_t));
        for (size_t i = 0; i < d->n; i++)
            index_insert(d, i);
    } else if (d->index_size > 0) {
        index_insert(d, d->n - 1);
    }
    return HN_OK;
}

const jn_value *jn_dict_get(const jn_dict *d, jn_value key)
{
    ptrdiff_t at = dict_index(d, key);
    return at >= 0 ? &d->values[at] : NULL;
}

const jn_value *jn_dict_get_str(const jn_dict *d, const char *key)
{
    return jn_dict_get(d, jn_str_ref(key, strlen(key)));
}

bool jn_is_string(jn_value v, const char *s)
{
    size_t n = strlen(s);
    return v.kind == JV_STRING && v.u.str.n == n && memcmp(v.u.str.s, s, n) == 0;
}

bool jn_truthy(jn_value v)
{
    switch ((jn_kind)v.kind) {
    case JV_MISSING:
    case JV_UNDEFINED:
    case JV_NONE: return false;
    case JV_BOOL: return v.u.b;
    case JV_INT: return v.u.i != 0;
    case JV_FLOAT: return v.u.f != 0.0;
    case JV_STRING: return v.u.str.n > 0;
    case JV_LIST: return v.u.list->n > 0 || (v.flags & JV_GENERATOR);
    case JV_DICT: return v.u.dict->n > 0;
    case JV_NAMESPACE:
    case JV_CALLABLE:
    case JV_LOOP: return true;
    }
    return false;
}

static double as_double(jn_value v)
{
    return v.kind == JV_FLOAT ? v.u.f : v.kind == JV_BOOL ? (double)v.u.b : (double)v.u.i;
}

static int64_t as_int(jn_value v)
{
    return v.kind == JV_BOOL ? (int64_t)v.u.b : v.u.i;
}

/* -1, 0, 1, or 2 when unordered (NaN). Integers compare exactly with floats. */
static int compare_numbers(jn_value a, jn_value b)
{
    if (a.kind != JV_FLOAT && b.kind != JV_FLOAT) {
        int64_t x = as_int(a), y = as_int(b);
        return x < y ? -1 : x > y;
    }
    double x = as_double(a), y = as_double(b);
    if (isnan(x) || isnan(y))
        return 2;
    if (x != y)
        return x < y ? -1 : 1;
    /* Equal as doubles: an integer beyond 2^53 may still differ from the float. */
    if (a.kind != JV_FLOAT && fabs(y) < 9.2e18) {
        int64_t yi = (int64_t)y, xi = as_int(a);
        return xi < yi ? -1 : xi > yi;
    }
    if (b.kind != JV_FLOAT && fabs(x) < 9.2e18) {
        int64_t xi = (int64_t)x, yi = as_int(b);
        return xi < yi ? -1 : xi > yi;
    }
    return 0;
}

static int compare_strings(jn_value a, jn_value b)
{
    size_t n = a.u.str.n < b.u.str.n ? a.u.str.n : b.u.str.n;
    int c = n > 0 ? memcmp(a.u.str.s, b.u.str.s, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return a.u.str.n < b.u.str.n ? -1 : a.u.str.n > b.u.str.n;
}

bool jn_equal(jn_value a, jn_value b)
{
    if (jn_is_number(a) && jn_is_number(b))
        return compare_numbers(a, b) == 0;
    if (a.kind != b.kind)
        return false;
    switch ((jn_kind)a.kind) {
    case JV_UNDEFINED:
    case JV_NONE: return true;
    case JV_STRING: return compare_strings(a, b) == 0;
    case JV_LIST:
        if (a.u.list == b.u.list && a.flags == b.flags)
            return true; /* the same object, as Python checks first */
        if ((a.flags | b.flags) & JV_GENERATOR)
            return false;
        if ((a.flags & JV_TUPLE) != (b.flags & JV_TUPLE) || a.u.list->n != b.u.list->n)
            return false;
        for (size_t i = 0; i < a.u.list->n; i++)
            if (!jn_equal(a.u.list->items[i], b.u.list->items[i]))
                return false;
        return true;
    case JV_DICT:
        if (a.u.dict == b.u.dict)
            return true;
        if (a.u.dict->n != b.u.dict->n)
            return false;
        for (size_t i = 0; i < a.u.dict->n; i++) {
            const jn_value *other = jn_dict_get(b.u.dict, a.u.dict->keys[i]);
            if (other == NULL || !jn_equal(a.u.dict->values[i], *other))
                return false;
        }
        return true;
    case JV_NAMESPACE: return a.u.dict == b.u.dict;
    case JV_CALLABLE: return a.u.fn == b.u.fn;
    case JV_LOOP: return a.u.loop == b.u.loop;
    default: return false;
    }
}

hn_status jn_compare(jn_render *r, jn_pos pos, jn_value a, jn_value b, int *cmp)
{
    HN_TRY(jn_require_defined(r, pos, a));
    HN_TRY(jn_require_defined(r, pos, b));
    if (jn_is_number(a) && jn_is_number(b)) {
        *cmp = compare_numbers(a, b);
        return HN_OK;
    }
    if (a.kind == JV_STRING && b.kind == JV_STRING) {
        *cmp = compare_strings(a, b);
        return HN_OK;
    }
    if (a.kind == JV_LIST && b.kind == JV_LIST && a.flags == b.flags && !jn_is_generator(a)) {
        size_t n = a.u.list->n < b.u.list->n ? a.u.list->n : b.u.list->n;
        for (size_t i = 0; i < n; i++) {
            if (!jn_equal(a.u.list->items[i], b.u.list->items[i]))
                return jn_compare(r, pos, a.u.list->items[i], b.u.list->items[i], cmp);
        }
        *cmp = a.u.list->n < b.u.list->n ? -1 : a.u.list->n > b.u.list->n;
        return HN_OK;
    }
    return jn_fail(r, pos, HN_ERR_FORMAT, "cannot order '%s' and '%s' (comparison not supported)",
                   jn_type_name(a), jn_type_name(b));
}

const char *jn_type_name(jn_value v)
{
    switch ((jn_kind)v.kind) {
    case JV_MISSING: return "missing";
    case JV_UNDEFINED: return "Undefined";
    case JV_NONE: return "NoneType";
    case JV_BOOL: return "bool";
    case JV_INT: return "int";
    case JV_FLOAT: return "float";
    case JV_STRING: return "str";
    case JV_LIST:
        return (v.flags & JV_GENERATOR) ? "generator" : (v.flags & JV_TUPLE) ? "tuple" : "list";
    case JV_DICT: return "dict";
    case JV_NAMESPACE: return "Namespace";
    case JV_CALLABLE: return v.u.fn->macro != NULL ? "Macro" : "function";
    case JV_LOOP: return "LoopContext";
    }
    return "?";
}

hn_status jn_require_defined(jn_render *r, jn_pos pos, jn_value v)
{
    if (v.kind == JV_UNDEFINED)
        return jn_fail(r, pos, HN_ERR_FORMAT, "%s", v.u.why != NULL ? v.u.why : "undefined value");
    if (v.kind == JV_MISSING)
        return jn_fail(r, pos, HN_ERR_FORMAT, "a value is missing");
    return HN_OK;
}

hn_status jn_iterate(jn_render *r, jn_pos pos, jn_value v, jn_list **out)
{
    static jn_list empty = {0, NULL, false, 0};
    jn_value list = {0};
    switch ((jn_kind)v.kind) {
    case JV_UNDEFINED:
        *out = &empty;
        return HN_OK;
    case JV_LIST:
        if (v.flags & JV_GENERATOR) {
            /* A generator gives its items once. */
            *out = v.u.list->consumed ? &empty : v.u.list;
            v.u.list->consumed = true;
            return HN_OK;
        }
        *out = v.u.list;
        return HN_OK;
    case JV_DICT:
        HN_TRY(jn_list_new(r, pos, v.u.dict->n, false, &list));
        if (v.u.dict->n > 0)
            memcpy(list.u.list->items, v.u.dict->keys, sizeof(jn_value) * v.u.dict->n);
        *out = list.u.list;
        return HN_OK;
    case JV_STRING: {
        size_t n = jn_utf8_count(v.u.str.s, v.u.str.n);
        HN_TRY(jn_list_new(r, pos, n, false, &list));
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len;
            jn_utf8_get(v.u.str.s + off, &len);
            list.u.list->items[i] = jn_str_ref(v.u.str.s + off, len);
            off += len;
        }
        *out = list.u.list;
        return HN_OK;
    }
    default:
        HN_TRY(jn_require_defined(r, pos, v));
        return jn_fail(r, pos, HN_ERR_FORMAT, "'%s' object is not iterable", jn_type_name(v));
    }
}

/* Nesting of v (a scalar is 0), memoized on containers; fails past the limit. Namespaces
 * count as scalars: they compare by identity and may refer to themselves. */
static hn_status nesting(jn_render *r, jn_pos pos, jn_value v, int level, int *out)
{
    *out = 0;
    if (v.kind != JV_LIST && v.kind != JV_DICT)
        return HN_OK;
    uint16_t *memo = v.kind == JV_LIST ? &v.u.list->depth : &v.u.dict->depth;
    if (*memo != 0) {
        *out = *memo;
        return HN_OK;
    }
    if (level >= JN_MAX_NESTING)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "a value is nested more than %d levels deep",
                       JN_MAX_NESTING);
    int deepest = 0;
    size_t n = v.kind == JV_LIST ? v.u.list->n : v.u.dict->n;
    for (size_t i = 0; i < n; i++) {
        int d;
        if (v.kind == JV_LIST) {
            HN_TRY(nesting(r, pos, v.u.list->items[i], level + 1, &d));
        } else {
            HN_TRY(nesting(r, pos, v.u.dict->keys[i], level + 1, &d));
            deepest = d > deepest ? d : deepest;
            HN_TRY(nesting(r, pos, v.u.dict->values[i], level + 1, &d));
        }
        deepest = d > deepest ? d : deepest;
    }
    if (deepest + 1 > JN_MAX_NESTING)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "a value is nested more than %d levels deep",
                       JN_MAX_NESTING);
    *memo = (uint16_t)(deepest + 1);
    *out = deepest + 1;
    return HN_OK;
}

hn_status jn_check_nesting(jn_render *r, jn_pos pos, jn_value v)
{
    int depth;
    return nesting(r, pos, v, 0, &depth);
}

static hn_status from_json(jn_render *r, const cJSON *item, int depth, GString *path,
                           jn_value *out)
{
    jn_pos none = {0, 0};
    if (depth >= JN_MAX_NESTING)
        return jn_fail(r, none, HN_ERR_UNSUPPORTED, "context%s is nested too deeply", path->str);
    if (cJSON_IsNull(item)) {
        *out = jn_none();
    } else if (cJSON_IsBool(item)) {
        *out = jn_bool(cJSON_IsTrue(item));
    } else if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        /* cJSON keeps no int/float distinction: a number without a fraction is an int. */
        if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0)
            *out = jn_int((int64_t)d);
        else
            *out = jn_float(d);
    } else if (cJSON_IsString(item)) {
        size_t n = strlen(item->valuestring);
        if (!g_utf8_validate(item->valuestring, (gssize)n, NULL))
            return jn_fail(r, none, HN_ERR_ARGUMENT, "context%s is not valid UTF-8", path->str);
        *out = jn_str_ref(item->valuestring, n);
    } else if (cJSON_IsArray(item)) {
        HN_TRY(jn_list_new(r, none, (size_t)cJSON_GetArraySize(item), false, out));
        size_t i = 0, len = path->len;
        const cJSON *child;
        cJSON_ArrayForEach(child, item)
        {
            g_string_append_printf(path, "[%zu]", i);
            HN_TRY(from_json(r, child, depth + 1, path, &out->u.list->items[i++]));
            g_string_truncate(path, len);
        }
    } else if (cJSON_IsObject(item)) {
        *out = jn_dict_new(r);
        size_t len = path->len;
        const cJSON *child;
        cJSON_ArrayForEach(child, item)
        {
            g_string_append_printf(path, "[\"%s\"]", child->string);
            size_t klen = strlen(child->string);
            if (!g_utf8_validate(child->string, (gssize)klen, NULL))
                return jn_fail(r, none, HN_ERR_ARGUMENT, "context%s: key is not valid UTF-8",
                               path->str);
            jn_value v;
            HN_TRY(from_json(r, child, depth + 1, path, &v));
            HN_TRY(jn_dict_set(r, none, out->u.dict, jn_str_ref(child->string, klen), v));
            g_string_truncate(path, len);
        }
    } else {
        return jn_fail(r, none, HN_ERR_ARGUMENT, "context%s is not a JSON value", path->str);
    }
    return HN_OK;
}

hn_status jn_from_json(jn_render *r, const cJSON *item, const char *name, jn_value *out)
{
    GString *path = g_string_new(NULL);
    if (name != NULL)
        g_string_append_printf(path, "[\"%s\"]", name);
    hn_status status = from_json(r, item, 0, path, out);
    g_string_free(path, TRUE);
    return status;
}
