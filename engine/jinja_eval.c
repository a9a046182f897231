/* Jinja expression evaluation: names through the scope chain (missing ones are undefined
 * values that fail only when used), literals, attribute/item/slice access, calls, filters,
 * tests, `not`, short-circuit `and`/`or` returning an operand as Python does, arithmetic,
 * `~`, chained comparisons and the inline if-else. */
#include <string.h>

#include "jinja_internal.h"

static hn_status eval_args(jn_render *r, const jn_args *args, jn_scope *scope, jn_argv *out)
{
    jn_value *values = jn_alloc(r, sizeof(jn_value) * (size_t)(args->n + 1));
    jn_value *kw_values = jn_alloc(r, sizeof(jn_value) * (size_t)(args->n_kw + 1));
    for (int i = 0; i < args->n; i++)
        HN_TRY(jn_eval(r, args->args[i], scope, &values[i]));
    for (int i = 0; i < args->n_kw; i++)
        HN_TRY(jn_eval(r, args->kw_values[i], scope, &kw_values[i]));
    *out = (jn_argv){args->n, values, args->n_kw, args->kw_names, kw_values};
    return HN_OK;
}

static hn_status eval_sequence(jn_render *r, const jn_expr *e, jn_scope *scope, jn_value *out)
{
    int n = e->u.list.n;
    HN_TRY(jn_list_new(r, e->pos, (size_t)n, e->kind == JE_TUPLE, out));
    for (int i = 0; i < n; i++)
        HN_TRY(jn_eval(r, e->u.list.items[i], scope, &out->u.list->items[i]));
    return HN_OK;
}

static hn_status eval_dict(jn_render *r, const jn_expr *e, jn_scope *scope, jn_value *out)
{
    *out = jn_dict_new(r);
    for (int i = 0; i < e->u.dict.n; i++) {
        jn_value k, v;
        HN_TRY(jn_eval(r, e->u.dict.keys[i], scope, &k));
        HN_TRY(jn_eval(r, e->u.dict.values[i], scope, &v));
        HN_TRY(jn_dict_set(r, e->pos, out->u.dict, k, v));
    }
    return HN_OK;
}

static hn_status eval_concat(jn_render *r, const jn_expr *e, jn_scope *scope, jn_value *out)
{
    GString *g = g_string_new(NULL);
    hn_status status = HN_OK;
    for (int i = 0; i < e->u.list.n && status == HN_OK; i++) {
        jn_value v;
        status = jn_eval(r, e->u.list.items[i], scope, &v);
        if (status == HN_OK)
            status = jn_append_str(r, e->pos, g, v);
    }
    if (status == HN_OK)
        status = jn_str_from_gstring(r, e->pos, g, out);
    g_string_free(g, TRUE);
    return status;
}

static hn_status compare_one(jn_render *r, jn_pos pos, jn_op op, jn_value a, jn_value b, bool *out)
{
    int cmp = 0;
    switch (op) {
    case OP_EQ: *out = jn_equal(a, b); return HN_OK;
    case OP_NE: *out = !jn_equal(a, b); return HN_OK;
    case OP_IN: return jn_contains(r, pos, b, a, out);
    case OP_NOT_IN:
        HN_TRY(jn_contains(r, pos, b, a, out));
        *out = !*out;
        return HN_OK;
    default: break;
    }
    HN_TRY(jn_compare(r, pos, a, b, &cmp));
    if (cmp == 2) { /* NaN */
        *out = false;
        return HN_OK;
    }
    *out = op == OP_LT ? cmp < 0 : op == OP_LE ? cmp <= 0 : op == OP_GT ? cmp > 0 : cmp >= 0;
    return HN_OK;
}

static hn_status eval_compare(jn_render *r, const jn_expr *e, jn_scope *scope, jn_value *out)
{
    jn_value left;
    HN_TRY(jn_eval(r, e->u.compare.first, scope, &left));
    bool result = true;
    for (int i = 0; i < e->u.compare.n && result; i++) {
        jn_value right;
        HN_TRY(jn_eval(r, e->u.compare.rest[i], scope, &right));
        HN_TRY(compare_one(r, e->u.compare.rest[i]->pos, e->u.compare.ops[i], left, right,
                           &result));
        left = right;
    }
    *out = jn_bool(result);
    return HN_OK;
}

static hn_status eval_name(jn_render *r, const jn_expr *e, jn_scope *scope, jn_value *out)
{
    if (jn_scope_lookup(scope, e->u.name, out))
        return HN_OK;
    *out = jn_undefined(jn_arena_printf(&r->arena, "'%s' is undefined", e->u.name));
    return HN_OK;
}

static hn_status eval_inner(jn_render *r, const jn_expr *e, jn_scope *scope, jn_value *out)
{
    jn_value a, b, c, d;
    jn_argv argv;
    switch (e->kind) {
    case JE_LITERAL:
        *out = e->u.literal;
        return HN_OK;
    case JE_NAME:
        return eval_name(r, e, scope, out);
    case JE_HOLE:
        *out = r->hole;
        return HN_OK;
    case JE_LIST:
    case JE_TUPLE:
        return eval_sequence(r, e, scope, out);
    case JE_DICT:
        return eval_dict(r, e, scope, out);
    case JE_GETATTR:
        HN_TRY(jn_eval(r, e->u.attr.obj, scope, &a));
        HN_TRY(jn_require_defined(r, e->u.attr.obj->pos, a));
        return jn_getattr(r, e->pos, a, e->u.attr.name, out);
    case JE_GETITEM:
        HN_TRY(jn_eval(r, e->u.item.obj, scope, &a));
        HN_TRY(jn_require_defined(r, e->u.item.obj->pos, a));
        HN_TRY(jn_eval(r, e->u.item.index, scope, &b));
        return jn_getitem(r, e->pos, a, b, out);
    case JE_SLICE:
        HN_TRY(jn_eval(r, e->u.slice.obj, scope, &a));
        HN_TRY(jn_require_defined(r, e->u.slice.obj->pos, a));
        b = c = d = jn_missing();
        if (e->u.slice.start != NULL)
            HN_TRY(jn_eval(r, e->u.slice.start, scope, &b));
        if (e->u.slice.stop != NULL)
            HN_TRY(jn_eval(r, e->u.slice.stop, scope, &c));
        if (e->u.slice.step != NULL)
            HN_TRY(jn_eval(r, e->u.slice.step, scope, &d));
        return jn_slice(r, e->pos, a, b, c, d, out);
    case JE_CALL:
        HN_TRY(jn_eval(r, e->u.call.callee, scope, &a));
        HN_TRY(jn_require_defined(r, e->u.call.callee->pos, a));
        HN_TRY(eval_args(r, &e->u.call.args, scope, &argv));
        return jn_call(r, e->pos, a, &argv, out);
    case JE_FILTER:
    case JE_TEST:
        HN_TRY(jn_eval(r, e->u.filter.operand, scope, &a));
        HN_TRY(eval_args(r, &e->u.filter.args, scope, &argv));
        HN_TRY(e->u.filter.fn->fn(r, e->pos, a, &argv, out));
        if (e->kind == JE_TEST && e->u.filter.negated)
            *out = jn_bool(!jn_truthy(*out));
        return HN_OK;
    case JE_NOT:
        HN_TRY(jn_eval(r, e->u.operand, scope, &a));
        *out = jn_bool(!jn_truthy(a));
        return HN_OK;
    case JE_NEG:
    case JE_POS:
        HN_TRY(jn_eval(r, e->u.operand, scope, &a));
        return jn_negate(r, e->pos, a, e->kind == JE_NEG, out);
    case JE_BINARY:
        HN_TRY(jn_eval(r, e->u.binary.left, scope, &a));
        if (e->u.binary.op == OP_AND || e->u.binary.op == OP_OR) {
            bool stop = jn_truthy(a) == (e->u.binary.op == OP_OR);
            if (stop) {
                *out = a;
                return HN_OK;
            }
            return jn_eval(r, e->u.binary.right, scope, out);
        }
        HN_TRY(jn_eval(r, e->u.binary.right, scope, &b));
        return jn_binary(r, e->pos, e->u.binary.op, a, b, out);
    case JE_CONCAT:
        return eval_concat(r, e, scope, out);
    case JE_COMPARE:
        return eval_compare(r, e, scope, out);
    case JE_COND:
        HN_TRY(jn_eval(r, e->u.cond.test, scope, &a));
        if (jn_truthy(a))
            return jn_eval(r, e->u.cond.then, scope, out);
        if (e->u.cond.otherwise != NULL)
            return jn_eval(r, e->u.cond.otherwise, scope, out);
        *out = jn_undefined(jn_arena_printf(&r->arena, "the inline if-expression on line %d "
                                            "evaluated to false and no else section was defined",
                                            e->pos.line));
        return HN_OK;
    }
    return jn_fail(r, e->pos, HN_ERR_FORMAT, "unknown expression");
}

hn_status jn_eval(jn_render *r, const jn_expr *e, jn_scope *scope, jn_value *out)
{
    if (r->depth >= r->limits.max_depth)
        return jn_fail(r, e->pos, HN_ERR_UNSUPPORTED,
                       "expressions and macro calls nested more than %d deep", r->limits.max_depth);
    r->depth++;
    hn_status status = eval_inner(r, e, scope, out);
    r->depth--;
    return status;
}
