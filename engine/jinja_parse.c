/* Jinja statement parser: template text, {{ expressions }}, and the tags chat templates use:
 * if/elif/else, for (with `if` filter and else), set (also ns.attr, unpacking and block
 * form), macro, with, filter, print, break/continue and transformers' generation block.
 * Tags jinja2 has but Hone does not support (include, extends, call, ...) are errors that
 * name the tag; unclosed blocks name where they were opened. */
#include <stdarg.h>
#include <string.h>

#include "jinja_parse.h"

/* ---- token helpers shared with jinja_parse_expr.c ---- */

const jn_token *jn_cur(const jn_parser *p)
{
    return &p->tok[p->i];
}

const jn_token *jn_look(const jn_parser *p)
{
    return &p->tok[p->i + 1 < p->n ? p->i + 1 : p->n - 1];
}

void jn_next(jn_parser *p)
{
    if (p->i + 1 < p->n)
        p->i++;
}

bool jn_is_name(const jn_token *t, const char *name)
{
    return t->kind == JT_NAME && strcmp(t->text, name) == 0;
}

bool jn_is_op(const jn_token *t, jn_op op)
{
    return t->kind == JT_OP && t->op == op;
}

bool jn_skip_op(jn_parser *p, jn_op op)
{
    if (!jn_is_op(jn_cur(p), op))
        return false;
    jn_next(p);
    return true;
}

bool jn_skip_name(jn_parser *p, const char *name)
{
    if (!jn_is_name(jn_cur(p), name))
        return false;
    jn_next(p);
    return true;
}

hn_status jn_parse_fail(jn_parser *p, const jn_token *at, hn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    hn_fail(p->err, status, "%s: line %d, column %d: %s", p->t->label, at->pos.line,
            at->pos.column, msg);
    g_free(msg);
    return status;
}

hn_status jn_expected(jn_parser *p, const char *what)
{
    char buf[96];
    return jn_parse_fail(p, jn_cur(p), HN_ERR_FORMAT, "expected %s, found %s", what,
                         jn_token_describe(jn_cur(p), buf, sizeof buf));
}

hn_status jn_expect_op(jn_parser *p, jn_op op)
{
    if (jn_skip_op(p, op))
        return HN_OK;
    char what[16];
    g_snprintf(what, sizeof what, "'%s'", jn_op_text(op));
    return jn_expected(p, what);
}

void *jn_parse_alloc(jn_parser *p, size_t size)
{
    return jn_arena_alloc(&p->t->arena, size);
}

/* ---- statements ---- */

/* The block being parsed, for "unclosed" and "unexpected end tag" messages. */
typedef struct {
    const char *tag;
    jn_pos pos;
    const char *const *ends; /* NULL-terminated */
} open_block;

static hn_status parse_body(jn_parser *p, const open_block *open, jn_body *out,
                            const char **ended_by);

static const char *describe_ends(const char *const *ends, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; ends[i] != NULL; i++) {
        const char *sep = i == 0 ? "" : ends[i + 1] == NULL ? " or " : ", ";
        g_strlcat(buf, sep, size);
        g_strlcat(buf, "'", size);
        g_strlcat(buf, ends[i], size);
        g_strlcat(buf, "'", size);
    }
    return buf;
}

static hn_status expect_block_end(jn_parser *p)
{
    if (jn_cur(p)->kind == JT_BLOCK_END) {
        jn_next(p);
        return HN_OK;
    }
    return jn_expected(p, "end of statement block '%}'");
}

static jn_stmt *new_stmt(jn_parser *p, jn_stmt_kind kind, jn_pos pos)
{
    jn_stmt *s = jn_parse_alloc(p, sizeof *s);
    s->kind = kind;
    s->pos = pos;
    return s;
}

static bool is_reserved(const char *name)
{
    static const char *const words[] = {"true", "false", "none", "True", "False", "None",
                                        "and", "or", "not", "in", "is", "if", "else"};
    for (size_t i = 0; i < G_N_ELEMENTS(words); i++)
        if (strcmp(name, words[i]) == 0)
            return true;
    return false;
}

/* Where a for/set/with stores: name, name.attr (set only), or names to unpack, optionally
 * in parentheses. */
static hn_status parse_target(jn_parser *p, bool with_namespace, const char *extra_end,
                              jn_target *out)
{
    memset(out, 0, sizeof *out);
    const jn_token *t = jn_cur(p);
    if (with_namespace && t->kind == JT_NAME && jn_is_op(jn_look(p), OP_DOT)) {
        jn_next(p);
        jn_next(p);
        const jn_token *attr = jn_cur(p);
        if (attr->kind != JT_NAME)
            return jn_expected(p, "an attribute name after '.'");
        jn_next(p);
        out->n = 1;
        out->names = jn_parse_alloc(p, sizeof(char *));
        out->names[0] = t->text;
        out->attr = attr->text;
        return HN_OK;
    }
    bool parens = jn_skip_op(p, OP_LPAREN);
    GPtrArray *names = g_ptr_array_new();
    hn_status status = HN_OK;
    for (;;) {
        const jn_token *n = jn_cur(p);
        if (n->kind != JT_NAME || is_reserved(n->text)) {
            status = jn_expected(p, "a variable name to assign to");
            break;
        }
        g_ptr_array_add(names, (gpointer)n->text);
        jn_next(p);
        if (!jn_skip_op(p, OP_COMMA))
            break;
        out->unpack = true;
        const jn_token *after = jn_cur(p);
        if ((parens && jn_is_op(after, OP_RPAREN)) || jn_is_op(after, OP_ASSIGN) ||
            after->kind == JT_BLOCK_END || (extra_end != NULL && jn_is_name(after, extra_end)))
            break;
    }
    if (status == HN_OK && parens) {
        out->unpack = true;
        status = jn_expect_op(p, OP_RPAREN);
    }
    if (status == HN_OK) {
        out->n = (int)names->len;
        out->names = jn_parse_alloc(p, sizeof(char *) * names->len);
        memcpy(out->names, names->pdata, sizeof(char *) * names->len);
    }
    g_ptr_array_free(names, TRUE);
    return status;
}

static hn_status parse_for(jn_parser *p, jn_pos pos, jn_stmt **out)
{
    jn_stmt *s = new_stmt(p, JS_FOR, pos);
    HN_TRY(parse_target(p, false, "in", &s->u.for_.target));
    if (!jn_skip_name(p, "in"))
        return jn_expected(p, "'in'");
    s->u.for_.iter = jn_parse_tuple(p, false, "recursive");
    if (s->u.for_.iter == NULL)
        return p->err->status;
    if (jn_skip_name(p, "if")) {
        s->u.for_.filter = jn_parse_expression(p, true);
        if (s->u.for_.filter == NULL)
            return p->err->status;
    }
    if (jn_is_name(jn_cur(p), "recursive"))
        return jn_parse_fail(p, jn_cur(p), HN_ERR_UNSUPPORTED,
                             "recursive loops are not supported");
    HN_TRY(expect_block_end(p));
    static const char *const ends[] = {"endfor", "else", NULL};
    open_block open = {"for", pos, ends};
    const char *ended = NULL;
    p->loop_depth++;
    hn_status status = parse_body(p, &open, &s->u.for_.body, &ended);
    p->loop_depth--;
    HN_TRY(status);
    if (strcmp(ended, "else") == 0) {
        HN_TRY(expect_block_end(p));
        static const char *const else_ends[] = {"endfor", NULL};
        open_block open_else = {"for", pos, else_ends};
        HN_TRY(parse_body(p, &open_else, &s->u.for_.otherwise, &ended));
    }
    HN_TRY(expect_block_end(p));
    *out = s;
    return HN_OK;
}

static hn_status parse_if(jn_parser *p, jn_pos pos, jn_stmt **out)
{
    jn_stmt *s = new_stmt(p, JS_IF, pos);
    GPtrArray *conds = g_ptr_array_new();
    GArray *bodies = g_array_new(FALSE, TRUE, sizeof(jn_body));
    static const char *const ends[] = {"elif", "else", "endif", NULL};
    static const char *const else_ends[] = {"endif", NULL};
    open_block open = {"if", pos, ends};
    hn_status status = HN_OK;
    for (;;) {
        jn_expr *cond = jn_parse_tuple(p, false, NULL);
        if (cond == NULL) {
            status = p->err->status;
            break;
        }
        jn_body body = {0};
        const char *ended = NULL;
        if ((status = expect_block_end(p)) != HN_OK ||
            (status = parse_body(p, &open, &body, &ended)) != HN_OK)
            break;
        g_ptr_array_add(conds, cond);
        g_array_append_val(bodies, body);
        if (strcmp(ended, "elif") == 0)
            continue;
        if (strcmp(ended, "else") == 0) {
            open_block open_else = {"if", pos, else_ends};
            if ((status = expect_block_end(p)) != HN_OK ||
                (status = parse_body(p, &open_else, &s->u.if_.otherwise, &ended)) != HN_OK)
                break;
        }
        status = expect_block_end(p);
        break;
    }
    if (status == HN_OK) {
        s->u.if_.n = (int)conds->len;
        s->u.if_.conds = jn_parse_alloc(p, sizeof(jn_expr *) * conds->len);
        memcpy(s->u.if_.conds, conds->pdata, sizeof(jn_expr *) * conds->len);
        s->u.if_.bodies = jn_parse_alloc(p, sizeof(jn_body) * bodies->len);
        memcpy(s->u.if_.bodies, bodies->data, sizeof(jn_body) * bodies->len);
        *out = s;
    }
    g_ptr_array_free(conds, TRUE);
    g_array_free(bodies, TRUE);
    return status;
}

static hn_status parse_set(jn_parser *p, jn_pos pos, jn_stmt **out)
{
    jn_target target;
    HN_TRY(parse_target(p, true, NULL, &target));
    if (jn_skip_op(p, OP_ASSIGN)) {
        jn_stmt *s = new_stmt(p, JS_SET, pos);
        s->u.set.target = target;
        s->u.set.value = jn_parse_tuple(p, true, NULL);
        if (s->u.set.value == NULL)
            return p->err->status;
        HN_TRY(expect_block_end(p));
        *out = s;
        return HN_OK;
    }
    /* {% set x %}...{% endset %}, optionally {% set x | filter %}. */
    if (target.unpack || target.attr != NULL)
        return jn_expected(p, "'='");
    jn_stmt *s = new_stmt(p, JS_SET_BLOCK, pos);
    s->u.set_block.target = target;
    if (jn_skip_op(p, OP_PIPE)) {
        jn_expr *hole = jn_parse_alloc(p, sizeof *hole);
        hole->kind = JE_HOLE;
        hole->pos = pos;
        if ((s->u.set_block.filter = jn_parse_filter_chain(p, hole)) == NULL)
            return p->err->status;
    }
    HN_TRY(expect_block_end(p));
    static const char *const ends[] = {"endset", NULL};
    open_block open = {"set", pos, ends};
    const char *ended;
    HN_TRY(parse_body(p, &open, &s->u.set_block.body, &ended));
    HN_TRY(expect_block_end(p));
    *out = s;
    return HN_OK;
}

static hn_status parse_macro(jn_parser *p, jn_pos pos, jn_stmt **out)
{
    jn_stmt *s = new_stmt(p, JS_MACRO, pos);
    const jn_token *name = jn_cur(p);
    if (name->kind != JT_NAME)
        return jn_expected(p, "a macro name");
    s->u.macro.name = name->text;
    jn_next(p);
    HN_TRY(jn_expect_op(p, OP_LPAREN));
    GPtrArray *params = g_ptr_array_new(), *defaults = g_ptr_array_new();
    hn_status status = HN_OK;
    while (!jn_is_op(jn_cur(p), OP_RPAREN)) {
        if (params->len > 0 && (status = jn_expect_op(p, OP_COMMA)) != HN_OK)
            break;
        if (jn_is_op(jn_cur(p), OP_RPAREN))
            break;
        const jn_token *param = jn_cur(p);
        if (param->kind != JT_NAME || is_reserved(param->text)) {
            status = jn_expected(p, "a parameter name");
            break;
        }
        jn_next(p);
        jn_expr *def = NULL;
        if (jn_skip_op(p, OP_ASSIGN)) {
            if ((def = jn_parse_expression(p, true)) == NULL) {
                status = p->err->status;
                break;
            }
        } else if (defaults->len > 0 && g_ptr_array_index(defaults, defaults->len - 1) != NULL) {
            status = jn_parse_fail(p, param, HN_ERR_FORMAT,
                                   "parameter '%s' without a default follows one with a default",
                                   param->text);
            break;
        }
        g_ptr_array_add(params, (gpointer)param->text);
        g_ptr_array_add(defaults, def);
    }
    if (status == HN_OK) {
        s->u.macro.n_params = (int)params->len;
        s->u.macro.params = jn_parse_alloc(p, sizeof(char *) * (params->len + 1));
        s->u.macro.defaults = jn_parse_alloc(p, sizeof(jn_expr *) * (params->len + 1));
        if (params->len > 0) {
            memcpy(s->u.macro.params, params->pdata, sizeof(char *) * params->len);
            memcpy(s->u.macro.defaults, defaults->pdata, sizeof(jn_expr *) * params->len);
        }
    }
    g_ptr_array_free(params, TRUE);
    g_ptr_array_free(defaults, TRUE);
    HN_TRY(status);
    HN_TRY(jn_expect_op(p, OP_RPAREN));
    HN_TRY(expect_block_end(p));
    static const char *const ends[] = {"endmacro", NULL};
    open_block open = {"macro", pos, ends};
    const char *ended;
    jn_stmt *outer = p->macro;
    int outer_loops = p->loop_depth;
    p->macro = s;
    p->loop_depth = 0;
    status = parse_body(p, &open, &s->u.macro.body, &ended);
    p->macro = outer;
    p->loop_depth = outer_loops;
    HN_TRY(status);
    if (jn_cur(p)->kind == JT_NAME && strcmp(jn_cur(p)->text, s->u.macro.name) == 0)
        jn_next(p); /* {% endmacro name %} */
    HN_TRY(expect_block_end(p));
    *out = s;
    return HN_OK;
}

static hn_status parse_with(jn_parser *p, jn_pos pos, jn_stmt **out)
{
    jn_stmt *s = new_stmt(p, JS_WITH, pos);
    GPtrArray *names = g_ptr_array_new(), *values = g_ptr_array_new();
    hn_status status = HN_OK;
    while (jn_cur(p)->kind != JT_BLOCK_END) {
        if (names->len > 0 && (status = jn_expect_op(p, OP_COMMA)) != HN_OK)
            break;
        const jn_token *name = jn_cur(p);
        if (name->kind != JT_NAME || is_reserved(name->text)) {
            status = jn_expected(p, "a variable name");
            break;
        }
        jn_next(p);
        if ((status = jn_expect_op(p, OP_ASSIGN)) != HN_OK)
            break;
        jn_expr *value = jn_parse_expression(p, true);
        if (value == NULL) {
            status = p->err->status;
            break;
        }
        g_ptr_array_add(names, (gpointer)name->text);
        g_ptr_array_add(values, value);
    }
    if (status == HN_OK) {
        s->u.with.n = (int)names->len;
        s->u.with.names = jn_parse_alloc(p, sizeof(char *) * (names->len + 1));
        s->u.with.values = jn_parse_alloc(p, sizeof(jn_expr *) * (names->len + 1));
        if (names->len > 0) {
            memcpy(s->u.with.names, names->pdata, sizeof(char *) * names->len);
            memcpy(s->u.with.values, values->pdata, sizeof(jn_expr *) * names->len);
        }
    }
    g_ptr_array_free(names, TRUE);
    g_ptr_array_free(values, TRUE);
    HN_TRY(status);
    HN_TRY(expect_block_end(p));
    static const char *const ends[] = {"endwith", NULL};
    open_block open = {"with", pos, ends};
    const char *ended;
    HN_TRY(parse_body(p, &open, &s->u.with.body, &ended));
    HN_TRY(expect_block_end(p));
    *out = s;
    return HN_OK;
}

static hn_status parse_filter_block(jn_parser *p, jn_pos pos, jn_stmt **out)
{
    jn_stmt *s = new_stmt(p, JS_FILTER_BLOCK, pos);
    jn_expr *hole = jn_parse_alloc(p, sizeof *hole);
    hole->kind = JE_HOLE;
    hole->pos = pos;
    if ((s->u.filter_block.filter = jn_parse_filter_chain(p, hole)) == NULL)
        return p->err->status;
    HN_TRY(expect_block_end(p));
    static const char *const ends[] = {"endfilter", NULL};
    open_block open = {"filter", pos, ends};
    const char *ended;
    HN_TRY(parse_body(p, &open, &s->u.filter_block.body, &ended));
    HN_TRY(expect_block_end(p));
    *out = s;
    return HN_OK;
}

static hn_status parse_generation(jn_parser *p, jn_pos pos, jn_stmt **out)
{
    jn_stmt *s = new_stmt(p, JS_BLOCK, pos);
    HN_TRY(expect_block_end(p));
    static const char *const ends[] = {"endgeneration", NULL};
    open_block open = {"generation", pos, ends};
    const char *ended;
    HN_TRY(parse_body(p, &open, &s->u.block, &ended));
    HN_TRY(expect_block_end(p));
    *out = s;
    return HN_OK;
}

/* {% print a, b %} prints each expression in turn. */
static hn_status parse_print(jn_parser *p, jn_pos pos, jn_stmt **out)
{
    jn_stmt *s = new_stmt(p, JS_BLOCK, pos);
    GPtrArray *items = g_ptr_array_new();
    hn_status status = HN_OK;
    while (jn_cur(p)->kind != JT_BLOCK_END) {
        if (items->len > 0 && (status = jn_expect_op(p, OP_COMMA)) != HN_OK)
            break;
        jn_stmt *output = new_stmt(p, JS_OUTPUT, jn_cur(p)->pos);
        if ((output->u.output = jn_parse_expression(p, true)) == NULL) {
            status = p->err->status;
            break;
        }
        g_ptr_array_add(items, output);
    }
    if (status == HN_OK) {
        s->u.block.n = (int)items->len;
        s->u.block.items = jn_parse_alloc(p, sizeof(jn_stmt *) * (items->len + 1));
        if (items->len > 0)
            memcpy(s->u.block.items, items->pdata, sizeof(jn_stmt *) * items->len);
        status = expect_block_end(p);
    }
    g_ptr_array_free(items, TRUE);
    if (status == HN_OK)
        *out = s;
    return status;
}

/* Parses the tag after `{%` (the current token is its name). */
static hn_status parse_statement(jn_parser *p, const open_block *open, jn_stmt **out)
{
    const jn_token *name = jn_cur(p);
    if (name->kind != JT_NAME)
        return jn_expected(p, "a tag name after '{%'");
    jn_pos pos = name->pos;
    const char *tag = name->text;
    jn_next(p);
    if (strcmp(tag, "for") == 0)
        return parse_for(p, pos, out);
    if (strcmp(tag, "if") == 0)
        return parse_if(p, pos, out);
    if (strcmp(tag, "set") == 0)
        return parse_set(p, pos, out);
    if (strcmp(tag, "macro") == 0)
        return parse_macro(p, pos, out);
    if (strcmp(tag, "with") == 0)
        return parse_with(p, pos, out);
    if (strcmp(tag, "filter") == 0)
        return parse_filter_block(p, pos, out);
    if (strcmp(tag, "generation") == 0)
        return parse_generation(p, pos, out);
    if (strcmp(tag, "print") == 0)
        return parse_print(p, pos, out);
    if (strcmp(tag, "break") == 0 || strcmp(tag, "continue") == 0) {
        if (p->loop_depth == 0)
            return jn_parse_fail(p, name, HN_ERR_FORMAT, "'%s' outside a for loop", tag);
        *out = new_stmt(p, tag[0] == 'b' ? JS_BREAK : JS_CONTINUE, pos);
        return expect_block_end(p);
    }
    static const char *const unsupported[] = {"include", "import", "from", "extends", "block",
                                              "call", "autoescape", "trans", "do", "raw"};
    for (size_t i = 0; i < G_N_ELEMENTS(unsupported); i++)
        if (strcmp(tag, unsupported[i]) == 0)
            return jn_parse_fail(p, name, HN_ERR_UNSUPPORTED,
                                 "the '{%% %s %%}' tag is not supported by Hone's template engine",
                                 tag);
    bool closes = strncmp(tag, "end", 3) == 0 || strcmp(tag, "elif") == 0 ||
                  strcmp(tag, "else") == 0;
    if (open != NULL && closes) {
        char buf[96];
        return jn_parse_fail(p, name, HN_ERR_FORMAT,
                             "unexpected '%s': expected %s to close the '%s' opened at line %d, "
                             "column %d",
                             tag, describe_ends(open->ends, buf, sizeof buf), open->tag,
                             open->pos.line, open->pos.column);
    }
    return jn_parse_fail(p, name, HN_ERR_FORMAT, "unknown tag '%s'", tag);
}

/* Statements until one of open->ends (left after its name, *ended_by set) or, at the top
 * level (open NULL), the end of the template. */
static hn_status parse_body(jn_parser *p, const open_block *open, jn_body *out,
                            const char **ended_by)
{
    if (p->depth >= JN_MAX_PARSE_DEPTH)
        return jn_parse_fail(p, jn_cur(p), HN_ERR_UNSUPPORTED,
                             "blocks nested more than %d levels deep", JN_MAX_PARSE_DEPTH);
    p->depth++;
    GPtrArray *items = g_ptr_array_new();
    hn_status status = HN_OK;
    for (;;) {
        const jn_token *t = jn_cur(p);
        if (t->kind == JT_EOF) {
            if (open != NULL) {
                char buf[96];
                status = jn_parse_fail(p, t, HN_ERR_FORMAT,
                                       "unclosed '%s' (opened at line %d, column %d): expected "
                                       "%s, found end of template",
                                       open->tag, open->pos.line, open->pos.column,
                                       describe_ends(open->ends, buf, sizeof buf));
            }
            break;
        }
        jn_stmt *s = NULL;
        if (t->kind == JT_DATA) {
            s = new_stmt(p, JS_DATA, t->pos);
            s->u.data.text = t->text;
            s->u.data.len = t->len;
            jn_next(p);
        } else if (t->kind == JT_VAR_BEGIN) {
            jn_next(p);
            s = new_stmt(p, JS_OUTPUT, t->pos);
            if ((s->u.output = jn_parse_tuple(p, true, NULL)) == NULL) {
                status = p->err->status;
                break;
            }
            if (jn_cur(p)->kind != JT_VAR_END) {
                status = jn_expected(p, "end of print statement '}}'");
                break;
            }
            jn_next(p);
        } else if (t->kind == JT_BLOCK_BEGIN) {
            jn_next(p);
            const jn_token *name = jn_cur(p);
            bool is_end = false;
            for (int i = 0; open != NULL && open->ends[i] != NULL; i++) {
                if (jn_is_name(name, open->ends[i])) {
                    *ended_by = open->ends[i];
                    is_end = true;
                }
            }
            if (is_end) {
                jn_next(p);
                break;
            }
            if ((status = parse_statement(p, open, &s)) != HN_OK)
                break;
        } else {
            char buf[96];
            status = jn_parse_fail(p, t, HN_ERR_FORMAT, "unexpected %s",
                                   jn_token_describe(t, buf, sizeof buf));
            break;
        }
        g_ptr_array_add(items, s);
    }
    if (status == HN_OK) {
        out->n = (int)items->len;
        out->items = jn_parse_alloc(p, sizeof(jn_stmt *) * (items->len + 1));
        if (items->len > 0)
            memcpy(out->items, items->pdata, sizeof(jn_stmt *) * items->len);
    }
    g_ptr_array_free(items, TRUE);
    p->depth--;
    return status;
}

hn_status jn_parse(hn_jinja_template *t, const jn_token *tokens, size_t n, hn_error *err)
{
    jn_parser p = {.t = t, .tok = tokens, .n = n, .i = 0, .err = err};
    return parse_body(&p, NULL, &t->body, NULL);
}
