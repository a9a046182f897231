/* Jinja tests (`x is defined`, `is none`, `is string`, `is mapping`, `is iterable`, `is
 * sequence`, `is number`, `is true`, `is equalto y`, `is in y`, ...) with jinja2's exact
 * meanings: `is true` asks for the boolean, undefined values are iterable and sequences,
 * bools are numbers but not integers. */
#include <string.h>

#include "jinja_internal.h"

/* The single argument a test takes, or an error. */
static hn_status one_arg(jn_render *r, jn_pos pos, const char *name, const jn_argv *a,
                         jn_value *out)
{
    static const char *const names[] = {"other"};
    jn_value slot;
    HN_TRY(jn_bind(r, pos, name, a, 1, names, &slot));
    if (slot.kind == JV_MISSING)
        return jn_fail(r, pos, HN_ERR_FORMAT, "test '%s' needs an argument", name);
    *out = slot;
    return HN_OK;
}

#define KIND_TEST(fn, name, expr)                                                             \
    static hn_status fn(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out) \
    {                                                                                         \
        HN_TRY(jn_no_args(r, pos, name, a));                                                      \
        *out = jn_bool(expr);                                                                 \
        return HN_OK;                                                                         \
    }

KIND_TEST(t_defined, "defined", v.kind != JV_UNDEFINED)
KIND_TEST(t_undefined, "undefined", v.kind == JV_UNDEFINED)
KIND_TEST(t_none, "none", v.kind == JV_NONE)
KIND_TEST(t_boolean, "boolean", v.kind == JV_BOOL)
KIND_TEST(t_true, "true", v.kind == JV_BOOL && v.u.b)
KIND_TEST(t_false, "false", v.kind == JV_BOOL && !v.u.b)
KIND_TEST(t_integer, "integer", v.kind == JV_INT)
KIND_TEST(t_float, "float", v.kind == JV_FLOAT)
KIND_TEST(t_number, "number", jn_is_number(v))
KIND_TEST(t_string, "string", v.kind == JV_STRING)
KIND_TEST(t_mapping, "mapping", v.kind == JV_DICT)
KIND_TEST(t_iterable, "iterable",
          v.kind == JV_STRING || v.kind == JV_LIST || v.kind == JV_DICT ||
              v.kind == JV_UNDEFINED || v.kind == JV_LOOP)
KIND_TEST(t_sequence, "sequence",
          v.kind == JV_STRING || (v.kind == JV_LIST && !jn_is_generator(v)) || v.kind == JV_DICT ||
              v.kind == JV_UNDEFINED)
KIND_TEST(t_callable, "callable", v.kind == JV_CALLABLE)
KIND_TEST(t_escaped, "escaped", false)

static hn_status parity(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, int want,
                        jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, want ? "odd" : "even", a));
    if (v.kind != JV_INT && v.kind != JV_BOOL) {
        HN_TRY(jn_require_defined(r, pos, v));
        return jn_fail(r, pos, HN_ERR_FORMAT, "test '%s' needs an integer, not '%s'",
                       want ? "odd" : "even", jn_type_name(v));
    }
    int64_t i = v.kind == JV_BOOL ? v.u.b : v.u.i;
    *out = jn_bool((i % 2 != 0) == (want == 1));
    return HN_OK;
}

static hn_status t_odd(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    return parity(r, pos, v, a, 1, out);
}

static hn_status t_even(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    return parity(r, pos, v, a, 0, out);
}

static hn_status t_divisibleby(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a,
                               jn_value *out)
{
    jn_value n, rem;
    HN_TRY(one_arg(r, pos, "divisibleby", a, &n));
    HN_TRY(jn_binary(r, pos, OP_MOD, v, n, &rem));
    *out = jn_bool(!jn_truthy(rem));
    return HN_OK;
}

static hn_status compare_test(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_op op,
                              jn_value *out)
{
    jn_value other = {0};
    HN_TRY(one_arg(r, pos, jn_op_text(op), a, &other));
    if (op == OP_EQ || op == OP_NE) {
        *out = jn_bool(jn_equal(v, other) == (op == OP_EQ));
        return HN_OK;
    }
    int cmp;
    HN_TRY(jn_compare(r, pos, v, other, &cmp));
    bool result = cmp != 2 && (op == OP_LT ? cmp < 0 : op == OP_LE ? cmp <= 0
                               : op == OP_GT ? cmp > 0 : cmp >= 0);
    *out = jn_bool(result);
    return HN_OK;
}

#define COMPARE_TEST(fn, op)                                                                  \
    static hn_status fn(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out) \
    {                                                                                         \
        return compare_test(r, pos, v, a, op, out);                                           \
    }
COMPARE_TEST(t_eq, OP_EQ)
COMPARE_TEST(t_ne, OP_NE)
COMPARE_TEST(t_lt, OP_LT)
COMPARE_TEST(t_le, OP_LE)
COMPARE_TEST(t_gt, OP_GT)
COMPARE_TEST(t_ge, OP_GE)

static hn_status t_in(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    jn_value seq;
    bool found;
    HN_TRY(one_arg(r, pos, "in", a, &seq));
    HN_TRY(jn_contains(r, pos, seq, v, &found));
    *out = jn_bool(found);
    return HN_OK;
}

/* Python `is`: singletons and small integers are identical when equal; containers only when
 * they are the same object. */
static hn_status t_sameas(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    jn_value other = {0};
    HN_TRY(one_arg(r, pos, "sameas", a, &other));
    bool same = false;
    if (v.kind == other.kind) {
        switch ((jn_kind)v.kind) {
        case JV_NONE: same = true; break;
        case JV_BOOL: same = v.u.b == other.u.b; break;
        case JV_INT: same = v.u.i == other.u.i && v.u.i >= -5 && v.u.i <= 256; break;
        case JV_LIST: same = v.u.list == other.u.list; break;
        case JV_DICT:
        case JV_NAMESPACE: same = v.u.dict == other.u.dict; break;
        case JV_CALLABLE: same = v.u.fn == other.u.fn; break;
        default: break;
        }
    }
    *out = jn_bool(same);
    return HN_OK;
}

static hn_status case_test(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, bool upper,
                           jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, upper ? "upper" : "lower", a));
    jn_value s, mapped;
    HN_TRY(jn_to_str(r, pos, v, &s));
    HN_TRY(jn_str_case(r, pos, s, upper ? JN_UPPER : JN_LOWER, &mapped));
    /* jinja2: str(value).isupper() / islower(); a string with cased characters that maps to
     * itself. */
    bool cased = false;
    for (size_t i = 0; i < s.u.str.n;) {
        size_t len;
        gunichar c = jn_utf8_get(s.u.str.s + i, &len);
        cased = cased || g_unichar_isupper(c) || g_unichar_islower(c) || g_unichar_istitle(c);
        i += len;
    }
    *out = jn_bool(cased && jn_equal(s, mapped));
    return HN_OK;
}

static hn_status t_upper(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    return case_test(r, pos, v, a, true, out);
}

static hn_status t_lower(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    return case_test(r, pos, v, a, false, out);
}

static hn_status t_filter(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "filter", a));
    char *name = v.kind == JV_STRING ? jn_arena_strndup(&r->arena, v.u.str.s, v.u.str.n) : NULL;
    *out = jn_bool(name != NULL && jn_find_filter(name) != NULL);
    return HN_OK;
}

static hn_status t_test(jn_render *r, jn_pos pos, jn_value v, const jn_argv *a, jn_value *out)
{
    HN_TRY(jn_no_args(r, pos, "test", a));
    char *name = v.kind == JV_STRING ? jn_arena_strndup(&r->arena, v.u.str.s, v.u.str.n) : NULL;
    *out = jn_bool(name != NULL && jn_find_test(name) != NULL);
    return HN_OK;
}

static const jn_builtin tests[] = {
    {"!=", t_ne},
    {"<", t_lt},
    {"<=", t_le},
    {"==", t_eq},
    {">", t_gt},
    {">=", t_ge},
    {"boolean", t_boolean},
    {"callable", t_callable},
    {"defined", t_defined},
    {"divisibleby", t_divisibleby},
    {"eq", t_eq},
    {"equalto", t_eq},
    {"escaped", t_escaped},
    {"even", t_even},
    {"false", t_false},
    {"filter", t_filter},
    {"float", t_float},
    {"ge", t_ge},
    {"greaterthan", t_gt},
    {"gt", t_gt},
    {"in", t_in},
    {"integer", t_integer},
    {"iterable", t_iterable},
    {"le", t_le},
    {"lessthan", t_lt},
    {"lower", t_lower},
    {"lt", t_lt},
    {"mapping", t_mapping},
    {"ne", t_ne},
    {"none", t_none},
    {"number", t_number},
    {"odd", t_odd},
    {"sameas", t_sameas},
    {"sequence", t_sequence},
    {"string", t_string},
    {"test", t_test},
    {"true", t_true},
    {"undefined", t_undefined},
    {"upper", t_upper},
};

const jn_builtin *jn_find_test(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tests); i++)
        if (strcmp(tests[i].name, name) == 0)
            return &tests[i];
    return NULL;
}
