/* Jinja statement execution and the render entry point: output, if, for loops (a fresh
 * scope per iteration, the `loop` object, filters, else, break/continue), set (names,
 * unpacking, namespace attributes, block form), macros and calls to them, with and filter
 * blocks; scopes as jinja2 has them; limits on steps, memory, output and nesting. */
#include <stdarg.h>
#include <string.h>

#include "jinja_internal.h"

enum {
    DEFAULT_MAX_OUTPUT = 64 << 20,
    DEFAULT_MAX_DEPTH = 500,
};
#define DEFAULT_MAX_MEMORY ((size_t)1 << 30)
#define DEFAULT_MAX_STEPS ((uint64_t)50000000)

hn_status jn_fail(jn_render *r, jn_pos pos, hn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (pos.line > 0)
        hn_fail(r->err, status, "%s: line %d, column %d: %s", r->tmpl->label, pos.line,
                pos.column, msg);
    else
        hn_fail(r->err, status, "%s: %s", r->tmpl->label, msg);
    g_free(msg);
    return status;
}

hn_status jn_reserve(jn_render *r, jn_pos pos, size_t more)
{
    if (more > r->limits.max_memory_bytes ||
        r->arena.total > r->limits.max_memory_bytes - more)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED,
                       "rendering needs more than the limit of %zu bytes of memory",
                       r->limits.max_memory_bytes);
    return HN_OK;
}

void *jn_alloc(jn_render *r, size_t size)
{
    return jn_arena_alloc(&r->arena, size);
}

hn_status jn_step(jn_render *r, jn_pos pos)
{
    if (++r->steps > r->limits.max_steps)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED,
                       "rendering took more than %" G_GUINT64_FORMAT " steps (a loop that does "
                       "not end?)",
                       r->limits.max_steps);
    return jn_reserve(r, pos, 0);
}

hn_status jn_charge(jn_render *r, jn_pos pos, size_t n)
{
    r->steps += n / 16;
    return jn_step(r, pos);
}

jn_scope *jn_scope_new(jn_render *r, jn_scope *parent)
{
    jn_scope *s = jn_alloc(r, sizeof *s);
    s->parent = parent;
    return s;
}

void jn_scope_set(jn_render *r, jn_scope *s, const char *name, jn_value v)
{
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], name) == 0) {
            s->values[i] = v;
            return;
        }
    }
    if (s->n == s->cap) {
        int cap = s->cap == 0 ? 4 : s->cap * 2;
        const char **names = jn_alloc(r, sizeof(char *) * (size_t)cap);
        jn_value *values = jn_alloc(r, sizeof(jn_value) * (size_t)cap);
        if (s->n > 0) {
            memcpy(names, s->names, sizeof(char *) * (size_t)s->n);
            memcpy(values, s->values, sizeof(jn_value) * (size_t)s->n);
        }
        s->names = names;
        s->values = values;
        s->cap = cap;
    }
    s->names[s->n] = name;
    s->values[s->n] = v;
    s->n++;
}

bool jn_scope_lookup(const jn_scope *s, const char *name, jn_value *out)
{
    for (; s != NULL; s = s->parent) {
        for (int i = s->n - 1; i >= 0; i--) {
            if (strcmp(s->names[i], name) == 0) {
                *out = s->values[i];
                return true;
            }
        }
    }
    return false;
}

static hn_status emit(jn_render *r, jn_pos pos, const char *s, size_t n)
{
    if (n > r->limits.max_output_bytes || r->out->len > r->limits.max_output_bytes - n)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED, "output exceeds the limit of %zu bytes",
                       r->limits.max_output_bytes);
    g_string_append_len(r->out, s, (gssize)n);
    return HN_OK;
}

static hn_status emit_value(jn_render *r, jn_pos pos, jn_value v)
{
    if (v.kind == JV_STRING)
        return emit(r, pos, v.u.str.s, v.u.str.n);
    HN_TRY(jn_append_str(r, pos, r->out, v));
    return emit(r, pos, "", 0);
}

/* Runs body with its output captured into a string value. */
static hn_status capture(jn_render *r, jn_pos pos, const jn_body *body, jn_scope *scope,
                         jn_value *out)
{
    GString *saved = r->out;
    r->out = g_string_new(NULL);
    hn_status status = jn_exec_body(r, body, scope);
    if (status == HN_OK)
        status = jn_str_from_gstring(r, pos, r->out, out);
    g_string_free(r->out, TRUE);
    r->out = saved;
    return status;
}

static hn_status unpack(jn_render *r, jn_pos pos, const jn_target *t, jn_value v, jn_scope *scope)
{
    jn_list *items;
    HN_TRY(jn_iterate(r, pos, v, &items));
    if (items->n != (size_t)t->n)
        return jn_fail(r, pos, HN_ERR_FORMAT, "%s values to unpack (expected %d, got %zu)",
                       items->n > (size_t)t->n ? "too many" : "not enough", t->n, items->n);
    for (int i = 0; i < t->n; i++)
        jn_scope_set(r, scope, t->names[i], items->items[i]);
    return HN_OK;
}

static hn_status assign(jn_render *r, jn_pos pos, const jn_target *t, jn_value v, jn_scope *scope)
{
    HN_TRY(jn_check_nesting(r, pos, v));
    if (t->attr != NULL) {
        jn_value ns;
        if (!jn_scope_lookup(scope, t->names[0], &ns) || ns.kind != JV_NAMESPACE)
            return jn_fail(r, pos, HN_ERR_FORMAT,
                           "cannot assign attribute '%s' on '%s', which is not a namespace()",
                           t->attr, t->names[0]);
        if (t->attr[0] == '_')
            return jn_fail(r, pos, HN_ERR_FORMAT,
                           "namespace attributes cannot start with '_' ('%s')", t->attr);
        return jn_dict_set(r, pos, ns.u.dict, jn_str_ref(t->attr, strlen(t->attr)), v);
    }
    if (t->unpack)
        return unpack(r, pos, t, v, scope);
    jn_scope_set(r, scope, t->names[0], v);
    return HN_OK;
}

static hn_status apply_filter_chain(jn_render *r, const jn_expr *chain, jn_value input,
                                    jn_scope *scope, jn_value *out)
{
    jn_value saved = r->hole;
    r->hole = input;
    hn_status status = jn_eval(r, chain, scope, out);
    r->hole = saved;
    return status;
}

static hn_status exec_for(jn_render *r, const jn_stmt *s, jn_scope *scope)
{
    jn_value iter;
    jn_list *items;
    HN_TRY(jn_eval(r, s->u.for_.iter, scope, &iter));
    HN_TRY(jn_iterate(r, s->u.for_.iter->pos, iter, &items));
    if (s->u.for_.filter != NULL) {
        jn_value kept;
        HN_TRY(jn_list_new(r, s->pos, items->n, false, &kept));
        size_t n = 0;
        for (size_t i = 0; i < items->n; i++) {
            HN_TRY(jn_step(r, s->pos));
            jn_scope *probe = jn_scope_new(r, scope);
            jn_value ok;
            HN_TRY(assign(r, s->pos, &s->u.for_.target, items->items[i], probe));
            HN_TRY(jn_eval(r, s->u.for_.filter, probe, &ok));
            if (jn_truthy(ok))
                kept.u.list->items[n++] = items->items[i];
        }
        kept.u.list->n = n;
        items = kept.u.list;
    }
    if (items->n == 0)
        return jn_exec_body(r, &s->u.for_.otherwise, jn_scope_new(r, scope));
    hn_status status = HN_OK;
    for (size_t i = 0; i < items->n && status == HN_OK; i++) {
        if ((status = jn_step(r, s->pos)) != HN_OK)
            break;
        jn_scope *iteration = jn_scope_new(r, scope);
        jn_loop *loop = jn_alloc(r, sizeof *loop);
        /* depth counts recursive loops, which are not supported: always 1. */
        *loop = (jn_loop){.index0 = i, .length = items->n, .items = items->items, .depth = 1};
        if ((status = assign(r, s->pos, &s->u.for_.target, items->items[i], iteration)) != HN_OK)
            break;
        jn_scope_set(r, iteration, "loop", (jn_value){.kind = JV_LOOP, .u.loop = loop});
        status = jn_exec_body(r, &s->u.for_.body, iteration);
        jn_flow flow = r->flow;
        r->flow = JN_FLOW_NORMAL;
        if (flow == JN_FLOW_BREAK)
            break;
    }
    return status;
}

static hn_status exec_stmt(jn_render *r, const jn_stmt *s, jn_scope *scope)
{
    jn_value v;
    switch (s->kind) {
    case JS_DATA:
        return emit(r, s->pos, s->u.data.text, s->u.data.len);
    case JS_OUTPUT:
        HN_TRY(jn_eval(r, s->u.output, scope, &v));
        return emit_value(r, s->pos, v);
    case JS_IF:
        for (int i = 0; i < s->u.if_.n; i++) {
            HN_TRY(jn_eval(r, s->u.if_.conds[i], scope, &v));
            if (jn_truthy(v))
                return jn_exec_body(r, &s->u.if_.bodies[i], scope);
        }
        return jn_exec_body(r, &s->u.if_.otherwise, scope);
    case JS_FOR:
        return exec_for(r, s, scope);
    case JS_SET:
        HN_TRY(jn_eval(r, s->u.set.value, scope, &v));
        return assign(r, s->pos, &s->u.set.target, v, scope);
    case JS_SET_BLOCK:
        HN_TRY(capture(r, s->pos, &s->u.set_block.body, jn_scope_new(r, scope), &v));
        if (s->u.set_block.filter != NULL)
            HN_TRY(apply_filter_chain(r, s->u.set_block.filter, v, scope, &v));
        return assign(r, s->pos, &s->u.set_block.target, v, scope);
    case JS_MACRO: {
        jn_callable *c = jn_alloc(r, sizeof *c);
        c->name = s->u.macro.name;
        c->macro = s;
        c->closure = scope;
        jn_scope_set(r, scope, s->u.macro.name, (jn_value){.kind = JV_CALLABLE, .u.fn = c});
        return HN_OK;
    }
    case JS_BREAK:
        r->flow = JN_FLOW_BREAK;
        return HN_OK;
    case JS_CONTINUE:
        r->flow = JN_FLOW_CONTINUE;
        return HN_OK;
    case JS_WITH: {
        jn_scope *inner = jn_scope_new(r, scope);
        for (int i = 0; i < s->u.with.n; i++) {
            HN_TRY(jn_eval(r, s->u.with.values[i], scope, &v));
            jn_scope_set(r, inner, s->u.with.names[i], v);
        }
        return jn_exec_body(r, &s->u.with.body, inner);
    }
    case JS_FILTER_BLOCK:
        HN_TRY(capture(r, s->pos, &s->u.filter_block.body, jn_scope_new(r, scope), &v));
        HN_TRY(apply_filter_chain(r, s->u.filter_block.filter, v, scope, &v));
        return emit_value(r, s->pos, v);
    case JS_BLOCK:
        return jn_exec_body(r, &s->u.block, jn_scope_new(r, scope));
    }
    return jn_fail(r, s->pos, HN_ERR_FORMAT, "unknown statement");
}

hn_status jn_exec_body(jn_render *r, const jn_body *body, jn_scope *scope)
{
    for (int i = 0; i < body->n; i++) {
        HN_TRY(jn_step(r, body->items[i]->pos));
        HN_TRY(exec_stmt(r, body->items[i], scope));
        if (r->flow != JN_FLOW_NORMAL)
            break;
    }
    return HN_OK;
}

static hn_status call_macro(jn_render *r, jn_pos pos, const jn_callable *c, const jn_argv *a,
                            jn_value *out)
{
    const jn_stmt *m = c->macro;
    int n = m->u.macro.n_params;
    jn_scope *scope = jn_scope_new(r, c->closure);
    jn_value *slots = jn_alloc(r, sizeof(jn_value) * (size_t)(n + 1));
    int extra = a->n > n ? a->n - n : 0;
    if (extra > 0 && !m->u.macro.varargs)
        return jn_fail(r, pos, HN_ERR_FORMAT, "macro '%s' takes not more than %d argument(s)",
                       c->name, n);
    for (int i = 0; i < a->n && i < n; i++)
        slots[i] = a->args[i];
    jn_value kwargs = jn_dict_new(r);
    for (int k = 0; k < a->n_kw; k++) {
        int i = 0;
        while (i < n && strcmp(m->u.macro.params[i], a->kw_names[k]) != 0)
            i++;
        if (i < n) {
            if (slots[i].kind != JV_MISSING)
                return jn_fail(r, pos, HN_ERR_FORMAT,
                               "macro '%s' got multiple values for argument '%s'", c->name,
                               a->kw_names[k]);
            slots[i] = a->kw_values[k];
        } else if (m->u.macro.kwargs) {
            const char *key = a->kw_names[k];
            HN_TRY(jn_dict_set(r, pos, kwargs.u.dict, jn_str_ref(key, strlen(key)),
                               a->kw_values[k]));
        } else {
            return jn_fail(r, pos, HN_ERR_FORMAT, "macro '%s' takes no keyword argument '%s'",
                           c->name, a->kw_names[k]);
        }
    }
    for (int i = 0; i < n; i++) {
        const char *name = m->u.macro.params[i];
        if (slots[i].kind == JV_MISSING) {
            if (m->u.macro.defaults[i] != NULL) {
                HN_TRY(jn_eval(r, m->u.macro.defaults[i], scope, &slots[i]));
            } else {
                slots[i] = jn_undefined(
                    jn_arena_printf(&r->arena, "parameter '%s' was not provided", name));
            }
        }
        HN_TRY(jn_check_nesting(r, pos, slots[i]));
        jn_scope_set(r, scope, name, slots[i]);
    }
    if (m->u.macro.varargs) {
        jn_value varargs;
        HN_TRY(jn_list_new(r, pos, (size_t)extra, true, &varargs));
        for (int i = 0; i < extra; i++)
            varargs.u.list->items[i] = a->args[n + i];
        HN_TRY(jn_check_nesting(r, pos, varargs));
        jn_scope_set(r, scope, "varargs", varargs);
    }
    if (m->u.macro.kwargs) {
        HN_TRY(jn_check_nesting(r, pos, kwargs));
        jn_scope_set(r, scope, "kwargs", kwargs);
    }
    return capture(r, pos, &m->u.macro.body, scope, out);
}

hn_status jn_call(jn_render *r, jn_pos pos, jn_value fn, const jn_argv *a, jn_value *out)
{
    if (fn.kind != JV_CALLABLE) {
        HN_TRY(jn_require_defined(r, pos, fn));
        return jn_fail(r, pos, HN_ERR_FORMAT, "'%s' object is not callable", jn_type_name(fn));
    }
    const jn_callable *c = fn.u.fn;
    HN_TRY(jn_step(r, pos));
    if (c->macro == NULL && c->fn == NULL)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED,
                       "%s() is not supported by Hone's template engine", c->name);
    if (r->depth >= r->limits.max_depth)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED,
                       "expressions and macro calls nested more than %d deep", r->limits.max_depth);
    r->depth++;
    hn_status status = c->macro != NULL ? call_macro(r, pos, c, a, out)
                                        : c->fn(r, pos, c->self, a, out);
    r->depth--;
    return status;
}

hn_status hn_jinja_render_opts(const hn_jinja_template *tmpl, const cJSON *context,
                               const hn_jinja_options *options, char **out, size_t *out_length,
                               hn_error *err)
{
    hn_error local = {0};
    jn_render r = {.tmpl = tmpl, .err = err != NULL ? err : &local};
    *out = NULL;
    if (options != NULL)
        r.limits = *options;
    if (r.limits.max_output_bytes == 0)
        r.limits.max_output_bytes = DEFAULT_MAX_OUTPUT;
    if (r.limits.max_memory_bytes == 0)
        r.limits.max_memory_bytes = DEFAULT_MAX_MEMORY;
    if (r.limits.max_steps == 0)
        r.limits.max_steps = DEFAULT_MAX_STEPS;
    if (r.limits.max_depth <= 0)
        r.limits.max_depth = DEFAULT_MAX_DEPTH;
    if (context != NULL && !cJSON_IsObject(context))
        return hn_fail(r.err, HN_ERR_ARGUMENT, "%s: the render context must be a JSON object, "
                       "found %s", tmpl->label, cJSON_IsArray(context) ? "an array" : "a scalar");
    jn_arena_init(&r.arena);
    r.out = g_string_new(NULL);
    r.globals = jn_scope_new(&r, NULL);
    jn_add_globals(&r, r.globals);
    jn_scope *vars = jn_scope_new(&r, r.globals);
    hn_status status = HN_OK;
    const cJSON *member;
    cJSON_ArrayForEach(member, context)
    {
        jn_value v;
        if ((status = jn_from_json(&r, member, member->string, &v)) != HN_OK)
            break;
        jn_scope_set(&r, vars, member->string, v);
    }
    if (status == HN_OK)
        status = jn_exec_body(&r, &tmpl->body, jn_scope_new(&r, vars));
    if (status == HN_OK) {
        if (out_length != NULL)
            *out_length = r.out->len;
        *out = g_string_free(r.out, FALSE);
    } else {
        g_string_free(r.out, TRUE);
    }
    jn_arena_clear(&r.arena);
    return status;
}

hn_status hn_jinja_render(const hn_jinja_template *tmpl, const cJSON *context, char **out,
                          hn_error *err)
{
    return hn_jinja_render_opts(tmpl, context, NULL, out, NULL, err);
}
