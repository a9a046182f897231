/* Jinja expression parser: operators with jinja2's precedence (conditional, or, and, not,
 * comparisons and `in`, + -, ~, * / // %, **, unary - +), then postfix `.name`, `[index]`,
 * slices, calls, `|filter` and `is test`, and literals (strings, numbers, lists, tuples,
 * dicts, true/false/none). Unknown filters and tests are errors here, as in jinja2. */
#include <string.h>

#include "jinja_parse.h"

static jn_expr *new_expr(jn_parser *p, jn_expr_kind kind, jn_pos pos)
{
    jn_expr *e = jn_parse_alloc(p, sizeof *e);
    e->kind = kind;
    e->pos = pos;
    return e;
}

static jn_expr **copy_exprs(jn_parser *p, GPtrArray *a)
{
    jn_expr **items = jn_parse_alloc(p, sizeof(jn_expr *) * (a->len + 1));
    if (a->len > 0)
        memcpy(items, a->pdata, sizeof(jn_expr *) * a->len);
    return items;
}

static bool enter(jn_parser *p)
{
    if (p->depth >= JN_MAX_PARSE_DEPTH) {
        jn_parse_fail(p, jn_cur(p), HN_ERR_UNSUPPORTED,
                      "expression nested more than %d levels deep", JN_MAX_PARSE_DEPTH);
        return false;
    }
    p->depth++;
    return true;
}

static jn_expr *parse_or(jn_parser *p);
static jn_expr *parse_unary(jn_parser *p, bool with_filter);
static jn_expr *parse_primary(jn_parser *p);
static jn_expr *parse_postfix(jn_parser *p, jn_expr *node);

static jn_expr *parse_condexpr(jn_parser *p)
{
    if (!enter(p))
        return NULL;
    jn_expr *expr = parse_or(p);
    while (expr != NULL && jn_is_name(jn_cur(p), "if")) {
        jn_pos pos = jn_cur(p)->pos;
        jn_next(p);
        jn_expr *test = parse_or(p);
        if (test == NULL) {
            expr = NULL;
            break;
        }
        jn_expr *otherwise = NULL;
        if (jn_skip_name(p, "else")) {
            otherwise = parse_condexpr(p);
            if (otherwise == NULL) {
                expr = NULL;
                break;
            }
        }
        jn_expr *cond = new_expr(p, JE_COND, pos);
        cond->u.cond.test = test;
        cond->u.cond.then = expr;
        cond->u.cond.otherwise = otherwise;
        expr = cond;
    }
    p->depth--;
    return expr;
}

jn_expr *jn_parse_expression(jn_parser *p, bool with_condexpr)
{
    return with_condexpr ? parse_condexpr(p) : parse_or(p);
}

static jn_expr *binary(jn_parser *p, jn_op op, jn_pos pos, jn_expr *left, jn_expr *right)
{
    if (left == NULL || right == NULL)
        return NULL;
    jn_expr *e = new_expr(p, JE_BINARY, pos);
    e->u.binary.op = op;
    e->u.binary.left = left;
    e->u.binary.right = right;
    return e;
}

static jn_expr *parse_not(jn_parser *p);

static jn_expr *parse_and(jn_parser *p)
{
    jn_expr *left = parse_not(p);
    while (left != NULL && jn_is_name(jn_cur(p), "and")) {
        jn_pos pos = jn_cur(p)->pos;
        jn_next(p);
        left = binary(p, OP_AND, pos, left, parse_not(p));
    }
    return left;
}

static jn_expr *parse_or(jn_parser *p)
{
    jn_expr *left = parse_and(p);
    while (left != NULL && jn_is_name(jn_cur(p), "or")) {
        jn_pos pos = jn_cur(p)->pos;
        jn_next(p);
        left = binary(p, OP_OR, pos, left, parse_and(p));
    }
    return left;
}

static jn_expr *parse_compare(jn_parser *p);

static jn_expr *parse_not(jn_parser *p)
{
    if (!jn_is_name(jn_cur(p), "not"))
        return parse_compare(p);
    if (!enter(p))
        return NULL;
    jn_pos pos = jn_cur(p)->pos;
    jn_next(p);
    jn_expr *operand = parse_not(p);
    p->depth--;
    if (operand == NULL)
        return NULL;
    jn_expr *e = new_expr(p, JE_NOT, pos);
    e->u.operand = operand;
    return e;
}

static jn_expr *parse_math1(jn_parser *p);

static jn_expr *parse_compare(jn_parser *p)
{
    jn_pos pos = jn_cur(p)->pos;
    jn_expr *first = parse_math1(p);
    if (first == NULL)
        return NULL;
    GArray *ops = g_array_new(FALSE, FALSE, sizeof(jn_op));
    GPtrArray *rest = g_ptr_array_new();
    jn_expr *result = first;
    for (;;) {
        const jn_token *t = jn_cur(p);
        jn_op op;
        if (t->kind == JT_OP && (t->op == OP_EQ || t->op == OP_NE || t->op == OP_LT ||
                                 t->op == OP_LE || t->op == OP_GT || t->op == OP_GE)) {
            op = t->op;
            jn_next(p);
        } else if (jn_is_name(t, "in")) {
            op = OP_IN;
            jn_next(p);
        } else if (jn_is_name(t, "not") && jn_is_name(jn_look(p), "in")) {
            op = OP_NOT_IN;
            jn_next(p);
            jn_next(p);
        } else {
            break;
        }
        jn_expr *right = parse_math1(p);
        if (right == NULL) {
            result = NULL;
            break;
        }
        g_array_append_val(ops, op);
        g_ptr_array_add(rest, right);
    }
    if (result != NULL && ops->len > 0) {
        result = new_expr(p, JE_COMPARE, pos);
        result->u.compare.first = first;
        result->u.compare.n = (int)ops->len;
        result->u.compare.ops = jn_parse_alloc(p, sizeof(jn_op) * ops->len);
        memcpy(result->u.compare.ops, ops->data, sizeof(jn_op) * ops->len);
        result->u.compare.rest = copy_exprs(p, rest);
    }
    g_array_free(ops, TRUE);
    g_ptr_array_free(rest, TRUE);
    return result;
}

static jn_expr *parse_concat(jn_parser *p);

static jn_expr *parse_math1(jn_parser *p)
{
    jn_expr *left = parse_concat(p);
    while (left != NULL && (jn_is_op(jn_cur(p), OP_ADD) || jn_is_op(jn_cur(p), OP_SUB))) {
        const jn_token *t = jn_cur(p);
        jn_next(p);
        left = binary(p, t->op, t->pos, left, parse_concat(p));
    }
    return left;
}

static jn_expr *parse_math2(jn_parser *p);

static jn_expr *parse_concat(jn_parser *p)
{
    jn_pos pos = jn_cur(p)->pos;
    jn_expr *first = parse_math2(p);
    if (first == NULL || !jn_is_op(jn_cur(p), OP_TILDE))
        return first;
    GPtrArray *items = g_ptr_array_new();
    g_ptr_array_add(items, first);
    jn_expr *result = NULL;
    while (jn_skip_op(p, OP_TILDE)) {
        jn_expr *next = parse_math2(p);
        if (next == NULL)
            goto done;
        g_ptr_array_add(items, next);
    }
    result = new_expr(p, JE_CONCAT, pos);
    result->u.list.n = (int)items->len;
    result->u.list.items = copy_exprs(p, items);
done:
    g_ptr_array_free(items, TRUE);
    return result;
}

static jn_expr *parse_pow(jn_parser *p);

static jn_expr *parse_math2(jn_parser *p)
{
    jn_expr *left = parse_pow(p);
    for (;;) {
        const jn_token *t = jn_cur(p);
        if (left == NULL || t->kind != JT_OP ||
            (t->op != OP_MUL && t->op != OP_DIV && t->op != OP_FLOORDIV && t->op != OP_MOD))
            return left;
        jn_next(p);
        left = binary(p, t->op, t->pos, left, parse_pow(p));
    }
}

static jn_expr *parse_pow(jn_parser *p)
{
    jn_expr *left = parse_unary(p, true);
    while (left != NULL && jn_is_op(jn_cur(p), OP_POW)) {
        jn_pos pos = jn_cur(p)->pos;
        jn_next(p);
        left = binary(p, OP_POW, pos, left, parse_unary(p, true));
    }
    return left;
}

static bool parse_call_args(jn_parser *p, jn_args *out)
{
    GPtrArray *args = g_ptr_array_new(), *kw_values = g_ptr_array_new();
    GPtrArray *kw_names = g_ptr_array_new();
    bool ok = jn_expect_op(p, OP_LPAREN) == HN_OK;
    bool need_comma = false;
    while (ok && !jn_is_op(jn_cur(p), OP_RPAREN)) {
        if (need_comma) {
            if (jn_expect_op(p, OP_COMMA) != HN_OK) {
                ok = false;
                break;
            }
            if (jn_is_op(jn_cur(p), OP_RPAREN))
                break;
        }
        const jn_token *t = jn_cur(p);
        if (jn_is_op(t, OP_MUL) || jn_is_op(t, OP_POW)) {
            jn_parse_fail(p, t, HN_ERR_UNSUPPORTED,
                          "*args and **kwargs in calls are not supported");
            ok = false;
            break;
        }
        if (t->kind == JT_NAME && jn_is_op(jn_look(p), OP_ASSIGN)) {
            jn_next(p);
            jn_next(p);
            jn_expr *value = jn_parse_expression(p, true);
            if (value == NULL) {
                ok = false;
                break;
            }
            g_ptr_array_add(kw_names, (gpointer)t->text);
            g_ptr_array_add(kw_values, value);
        } else {
            if (kw_names->len > 0) {
                jn_parse_fail(p, t, HN_ERR_FORMAT,
                              "a positional argument follows a keyword argument");
                ok = false;
                break;
            }
            jn_expr *value = jn_parse_expression(p, true);
            if (value == NULL) {
                ok = false;
                break;
            }
            g_ptr_array_add(args, value);
        }
        need_comma = true;
    }
    if (ok)
        ok = jn_expect_op(p, OP_RPAREN) == HN_OK;
    if (ok) {
        out->n = (int)args->len;
        out->args = copy_exprs(p, args);
        out->n_kw = (int)kw_names->len;
        out->kw_values = copy_exprs(p, kw_values);
        out->kw_names = jn_parse_alloc(p, sizeof(char *) * (kw_names->len + 1));
        if (kw_names->len > 0)
            memcpy(out->kw_names, kw_names->pdata, sizeof(char *) * kw_names->len);
    }
    g_ptr_array_free(args, TRUE);
    g_ptr_array_free(kw_values, TRUE);
    g_ptr_array_free(kw_names, TRUE);
    return ok;
}

/* name or name.name... after `|` or `is`. */
static const char *dotted_name(jn_parser *p, const char *what)
{
    const jn_token *t = jn_cur(p);
    if (t->kind != JT_NAME) {
        jn_expected(p, what);
        return NULL;
    }
    jn_next(p);
    GString *name = g_string_new(t->text);
    while (jn_is_op(jn_cur(p), OP_DOT) && jn_look(p)->kind == JT_NAME) {
        jn_next(p);
        g_string_append_printf(name, ".%s", jn_cur(p)->text);
        jn_next(p);
    }
    char *copy = jn_arena_strndup(&p->t->arena, name->str, name->len);
    g_string_free(name, TRUE);
    return copy;
}

static jn_expr *parse_filter(jn_parser *p, jn_expr *operand)
{
    const jn_token *at = jn_cur(p);
    const char *name = dotted_name(p, "a filter name");
    if (name == NULL)
        return NULL;
    const jn_builtin *fn = jn_find_filter(name);
    if (fn == NULL) {
        if (jn_is_unsupported_filter(name))
            jn_parse_fail(p, at, HN_ERR_UNSUPPORTED,
                          "the '%s' filter is not supported by Hone's template engine", name);
        else
            jn_parse_fail(p, at, HN_ERR_UNSUPPORTED, "no filter named '%s'", name);
        return NULL;
    }
    jn_expr *e = new_expr(p, JE_FILTER, at->pos);
    e->u.filter.operand = operand;
    e->u.filter.fn = fn;
    if (jn_is_op(jn_cur(p), OP_LPAREN) && !parse_call_args(p, &e->u.filter.args))
        return NULL;
    return e;
}

jn_expr *jn_parse_filter_chain(jn_parser *p, jn_expr *operand)
{
    jn_expr *e = parse_filter(p, operand);
    while (e != NULL && jn_skip_op(p, OP_PIPE))
        e = parse_filter(p, e);
    return e;
}

static jn_expr *parse_test(jn_parser *p, jn_expr *operand, jn_pos pos)
{
    bool negated = jn_skip_name(p, "not");
    const jn_token *at = jn_cur(p);
    const char *name = dotted_name(p, "a test name");
    if (name == NULL)
        return NULL;
    const jn_builtin *fn = jn_find_test(name);
    if (fn == NULL) {
        jn_parse_fail(p, at, HN_ERR_UNSUPPORTED, "no test named '%s'", name);
        return NULL;
    }
    jn_expr *e = new_expr(p, JE_TEST, pos);
    e->u.filter.operand = operand;
    e->u.filter.fn = fn;
    e->u.filter.negated = negated;
    const jn_token *t = jn_cur(p);
    if (jn_is_op(t, OP_LPAREN)) {
        if (!parse_call_args(p, &e->u.filter.args))
            return NULL;
    } else if ((t->kind == JT_NAME || t->kind == JT_STRING || t->kind == JT_INT ||
                t->kind == JT_FLOAT || jn_is_op(t, OP_LBRACKET) || jn_is_op(t, OP_LBRACE)) &&
               !jn_is_name(t, "else") && !jn_is_name(t, "or") && !jn_is_name(t, "and")) {
        if (jn_is_name(t, "is")) {
            jn_parse_fail(p, t, HN_ERR_FORMAT, "tests cannot be chained with a second 'is'");
            return NULL;
        }
        jn_expr *arg = parse_primary(p);
        if (arg == NULL || (arg = parse_postfix(p, arg)) == NULL)
            return NULL;
        e->u.filter.args.n = 1;
        e->u.filter.args.args = jn_parse_alloc(p, sizeof(jn_expr *));
        e->u.filter.args.args[0] = arg;
    }
    return e;
}

/* One subscript inside [ ]: an expression or a slice a:b:c (a JE_SLICE without object). */
static jn_expr *parse_subscribed(jn_parser *p)
{
    jn_pos pos = jn_cur(p)->pos;
    jn_expr *parts[3] = {NULL, NULL, NULL};
    if (!jn_is_op(jn_cur(p), OP_COLON)) {
        jn_expr *e = jn_parse_expression(p, true);
        if (e == NULL || !jn_is_op(jn_cur(p), OP_COLON))
            return e;
        parts[0] = e;
    }
    jn_next(p); /* the first ':' */
    const jn_token *t = jn_cur(p);
    if (!jn_is_op(t, OP_COLON) && !jn_is_op(t, OP_RBRACKET) && !jn_is_op(t, OP_COMMA)) {
        if ((parts[1] = jn_parse_expression(p, true)) == NULL)
            return NULL;
    }
    if (jn_skip_op(p, OP_COLON)) {
        t = jn_cur(p);
        if (!jn_is_op(t, OP_RBRACKET) && !jn_is_op(t, OP_COMMA)) {
            if ((parts[2] = jn_parse_expression(p, true)) == NULL)
                return NULL;
        }
    }
    jn_expr *s = new_expr(p, JE_SLICE, pos);
    s->u.slice.start = parts[0];
    s->u.slice.stop = parts[1];
    s->u.slice.step = parts[2];
    return s;
}

static jn_expr *parse_subscript(jn_parser *p, jn_expr *node)
{
    const jn_token *t = jn_cur(p);
    if (jn_skip_op(p, OP_DOT)) {
        const jn_token *attr = jn_cur(p);
        if (attr->kind == JT_NAME) {
            jn_next(p);
            jn_expr *e = new_expr(p, JE_GETATTR, t->pos);
            e->u.attr.obj = node;
            e->u.attr.name = attr->text;
            return e;
        }
        if (attr->kind == JT_INT) {
            jn_next(p);
            jn_expr *index = new_expr(p, JE_LITERAL, attr->pos);
            index->u.literal = jn_int(attr->i);
            jn_expr *e = new_expr(p, JE_GETITEM, t->pos);
            e->u.item.obj = node;
            e->u.item.index = index;
            return e;
        }
        jn_expected(p, "an attribute name after '.'");
        return NULL;
    }
    jn_next(p); /* '[' */
    GPtrArray *args = g_ptr_array_new();
    jn_expr *result = NULL;
    while (!jn_is_op(jn_cur(p), OP_RBRACKET)) {
        if (args->len > 0 && jn_expect_op(p, OP_COMMA) != HN_OK)
            goto done;
        jn_expr *e = parse_subscribed(p);
        if (e == NULL)
            goto done;
        g_ptr_array_add(args, e);
    }
    if (jn_expect_op(p, OP_RBRACKET) != HN_OK)
        goto done;
    if (args->len != 1) {
        jn_parse_fail(p, t, HN_ERR_UNSUPPORTED, "%s subscripts are not supported",
                      args->len == 0 ? "empty" : "tuple");
        goto done;
    }
    jn_expr *index = g_ptr_array_index(args, 0);
    if (index->kind == JE_SLICE) {
        index->u.slice.obj = node;
        result = index;
    } else {
        result = new_expr(p, JE_GETITEM, t->pos);
        result->u.item.obj = node;
        result->u.item.index = index;
    }
done:
    g_ptr_array_free(args, TRUE);
    return result;
}

static jn_expr *parse_call(jn_parser *p, jn_expr *callee)
{
    jn_expr *e = new_expr(p, JE_CALL, callee->pos);
    e->u.call.callee = callee;
    return parse_call_args(p, &e->u.call.args) ? e : NULL;
}

static jn_expr *parse_postfix(jn_parser *p, jn_expr *node)
{
    while (node != NULL) {
        const jn_token *t = jn_cur(p);
        if (jn_is_op(t, OP_DOT) || jn_is_op(t, OP_LBRACKET))
            node = parse_subscript(p, node);
        else if (jn_is_op(t, OP_LPAREN))
            node = parse_call(p, node);
        else
            break;
    }
    return node;
}

static jn_expr *parse_filter_expr(jn_parser *p, jn_expr *node)
{
    while (node != NULL) {
        const jn_token *t = jn_cur(p);
        if (jn_skip_op(p, OP_PIPE)) {
            node = parse_filter(p, node);
        } else if (jn_is_name(t, "is")) {
            jn_next(p);
            node = parse_test(p, node, t->pos);
        } else if (jn_is_op(t, OP_LPAREN)) {
            node = parse_call(p, node);
        } else {
            break;
        }
    }
    return node;
}

static jn_expr *parse_unary(jn_parser *p, bool with_filter)
{
    if (!enter(p))
        return NULL;
    const jn_token *t = jn_cur(p);
    jn_expr *node;
    if (jn_is_op(t, OP_SUB) || jn_is_op(t, OP_ADD)) {
        jn_next(p);
        jn_expr *operand = parse_unary(p, false);
        node = NULL;
        if (operand != NULL) {
            node = new_expr(p, t->op == OP_SUB ? JE_NEG : JE_POS, t->pos);
            node->u.operand = operand;
        }
    } else {
        node = parse_primary(p);
    }
    node = parse_postfix(p, node);
    if (with_filter)
        node = parse_filter_expr(p, node);
    p->depth--;
    return node;
}

static jn_expr *literal(jn_parser *p, jn_pos pos, jn_value v)
{
    jn_expr *e = new_expr(p, JE_LITERAL, pos);
    e->u.literal = v;
    return e;
}

/* [a, b] and {k: v, ...}. */
static jn_expr *parse_list_or_dict(jn_parser *p, bool dict)
{
    jn_pos pos = jn_cur(p)->pos;
    jn_next(p);
    jn_op close = dict ? OP_RBRACE : OP_RBRACKET;
    GPtrArray *keys = g_ptr_array_new(), *values = g_ptr_array_new();
    jn_expr *result = NULL;
    while (!jn_is_op(jn_cur(p), close)) {
        if (values->len > 0) {
            if (jn_expect_op(p, OP_COMMA) != HN_OK)
                goto done;
            if (jn_is_op(jn_cur(p), close))
                break;
        }
        if (dict) {
            jn_expr *k = jn_parse_expression(p, true);
            if (k == NULL || jn_expect_op(p, OP_COLON) != HN_OK)
                goto done;
            g_ptr_array_add(keys, k);
        }
        jn_expr *v = jn_parse_expression(p, true);
        if (v == NULL)
            goto done;
        g_ptr_array_add(values, v);
    }
    if (jn_expect_op(p, close) != HN_OK)
        goto done;
    if (dict) {
        result = new_expr(p, JE_DICT, pos);
        result->u.dict.n = (int)values->len;
        result->u.dict.keys = copy_exprs(p, keys);
        result->u.dict.values = copy_exprs(p, values);
    } else {
        result = new_expr(p, JE_LIST, pos);
        result->u.list.n = (int)values->len;
        result->u.list.items = copy_exprs(p, values);
    }
done:
    g_ptr_array_free(keys, TRUE);
    g_ptr_array_free(values, TRUE);
    return result;
}

static jn_expr *parse_primary(jn_parser *p)
{
    const jn_token *t = jn_cur(p);
    switch (t->kind) {
    case JT_NAME:
        jn_next(p);
        if (strcmp(t->text, "true") == 0 || strcmp(t->text, "True") == 0)
            return literal(p, t->pos, jn_bool(true));
        if (strcmp(t->text, "false") == 0 || strcmp(t->text, "False") == 0)
            return literal(p, t->pos, jn_bool(false));
        if (strcmp(t->text, "none") == 0 || strcmp(t->text, "None") == 0)
            return literal(p, t->pos, jn_none());
        if (p->macro != NULL && strcmp(t->text, "varargs") == 0)
            p->macro->u.macro.varargs = true;
        if (p->macro != NULL && strcmp(t->text, "kwargs") == 0)
            p->macro->u.macro.kwargs = true;
        jn_expr *name = new_expr(p, JE_NAME, t->pos);
        name->u.name = t->text;
        return name;
    case JT_STRING: {
        /* Adjacent string literals join, as in Python. */
        GString *s = g_string_new_len(t->text, (gssize)t->len);
        jn_next(p);
        while (jn_cur(p)->kind == JT_STRING) {
            g_string_append_len(s, jn_cur(p)->text, (gssize)jn_cur(p)->len);
            jn_next(p);
        }
        const char *copy = jn_arena_strndup(&p->t->arena, s->str, s->len);
        jn_value v = jn_str_ref(copy, s->len);
        g_string_free(s, TRUE);
        return literal(p, t->pos, v);
    }
    case JT_INT:
        jn_next(p);
        return literal(p, t->pos, jn_int(t->i));
    case JT_FLOAT:
        jn_next(p);
        return literal(p, t->pos, jn_float(t->f));
    case JT_OP:
        if (t->op == OP_LPAREN) {
            jn_next(p);
            jn_expr *e = NULL;
            if (jn_is_op(jn_cur(p), OP_RPAREN)) {
                e = new_expr(p, JE_TUPLE, t->pos);
                e->u.list.items = jn_parse_alloc(p, sizeof(jn_expr *));
            } else {
                e = jn_parse_tuple(p, true, NULL);
            }
            if (e == NULL || jn_expect_op(p, OP_RPAREN) != HN_OK)
                return NULL;
            return e;
        }
        if (t->op == OP_LBRACKET || t->op == OP_LBRACE)
            return parse_list_or_dict(p, t->op == OP_LBRACE);
        break;
    default:
        break;
    }
    jn_expected(p, "an expression");
    return NULL;
}

static bool tuple_end(jn_parser *p, const char *extra_end)
{
    const jn_token *t = jn_cur(p);
    return t->kind == JT_VAR_END || t->kind == JT_BLOCK_END || t->kind == JT_EOF ||
           jn_is_op(t, OP_RPAREN) || (extra_end != NULL && jn_is_name(t, extra_end));
}

jn_expr *jn_parse_tuple(jn_parser *p, bool with_condexpr, const char *extra_end)
{
    jn_pos pos = jn_cur(p)->pos;
    GPtrArray *items = g_ptr_array_new();
    bool is_tuple = false;
    jn_expr *result = NULL;
    for (;;) {
        if (items->len > 0 && jn_expect_op(p, OP_COMMA) != HN_OK)
            goto done;
        if (tuple_end(p, extra_end))
            break;
        jn_expr *e = jn_parse_expression(p, with_condexpr);
        if (e == NULL)
            goto done;
        g_ptr_array_add(items, e);
        if (jn_is_op(jn_cur(p), OP_COMMA))
            is_tuple = true;
        else
            break;
    }
    if (!is_tuple) {
        if (items->len == 0)
            jn_expected(p, "an expression");
        else
            result = g_ptr_array_index(items, 0);
        goto done;
    }
    result = new_expr(p, JE_TUPLE, pos);
    result->u.list.n = (int)items->len;
    result->u.list.items = copy_exprs(p, items);
done:
    g_ptr_array_free(items, TRUE);
    return result;
}
