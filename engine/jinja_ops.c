/* Jinja operators with Python semantics: + - * / // % ** on numbers (bool counts as int,
 * int / int gives a float, // and % floor), + on strings and lists, * to repeat them, unary
 * minus and plus, and `in` for substrings, list members and dict keys. Integers are 64-bit:
 * overflow is an error. */
#include <math.h>
#include <string.h>

#include "jinja_internal.h"

static hn_status type_error(jn_render *r, jn_pos pos, jn_op op, jn_value a, jn_value b)
{
    HN_TRY(jn_require_defined(r, pos, a));
    HN_TRY(jn_require_defined(r, pos, b));
    return jn_fail(r, pos, HN_ERR_FORMAT, "unsupported operand types for %s: '%s' and '%s'",
                   jn_op_text(op), jn_type_name(a), jn_type_name(b));
}

static hn_status overflow(jn_render *r, jn_pos pos, jn_op op)
{
    return jn_fail(r, pos, HN_ERR_UNSUPPORTED,
                   "integer overflow in '%s' (templates here use 64-bit integers)", jn_op_text(op));
}

static int64_t int_of(jn_value v)
{
    return v.kind == JV_BOOL ? (int64_t)v.u.b : v.u.i;
}

static double float_of(jn_value v)
{
    return v.kind == JV_FLOAT ? v.u.f : (double)int_of(v);
}

/* Python's float % and //: the remainder takes the divisor's sign. */
static double py_fmod(double a, double b)
{
    double mod = fmod(a, b);
    if (mod != 0.0) {
        if ((b < 0) != (mod < 0))
            mod += b;
    } else {
        mod = copysign(0.0, b);
    }
    return mod;
}

static double py_floordiv(double a, double b)
{
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0 && (b < 0) != (mod < 0))
        div -= 1.0;
    if (div != 0.0) {
        double floordiv = floor(div);
        if (div - floordiv > 0.5)
            floordiv += 1.0;
        return floordiv;
    }
    return copysign(0.0, a / b);
}

static hn_status int_pow(jn_render *r, jn_pos pos, int64_t base, int64_t exp, jn_value *out)
{
    if (exp < 0) {
        if (base == 0)
            return jn_fail(r, pos, HN_ERR_FORMAT, "0 cannot be raised to a negative power");
        *out = jn_float(pow((double)base, (double)exp));
        return HN_OK;
    }
    int64_t result = 1;
    while (exp > 0) {
        if (exp & 1) {
            if (__builtin_mul_overflow(result, base, &result))
                return overflow(r, pos, OP_POW);
        }
        exp >>= 1;
        if (exp > 0 && __builtin_mul_overflow(base, base, &base))
            return overflow(r, pos, OP_POW);
    }
    *out = jn_int(result);
    return HN_OK;
}

static hn_status numeric(jn_render *r, jn_pos pos, jn_op op, jn_value a, jn_value b, jn_value *out)
{
    bool floats = a.kind == JV_FLOAT || b.kind == JV_FLOAT;
    if (!floats) {
        int64_t x = int_of(a), y = int_of(b), z = 0;
        switch (op) {
        case OP_ADD:
            if (__builtin_add_overflow(x, y, &z))
                return overflow(r, pos, op);
            break;
        case OP_SUB:
            if (__builtin_sub_overflow(x, y, &z))
                return overflow(r, pos, op);
            break;
        case OP_MUL:
            if (__builtin_mul_overflow(x, y, &z))
                return overflow(r, pos, op);
            break;
        case OP_DIV:
            if (y == 0)
                return jn_fail(r, pos, HN_ERR_FORMAT, "division by zero");
            *out = jn_float((double)x / (double)y);
            return HN_OK;
        case OP_FLOORDIV:
        case OP_MOD:
            if (y == 0)
                return jn_fail(r, pos, HN_ERR_FORMAT, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1)
                return overflow(r, pos, op);
            z = x / y;
            int64_t m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                z -= 1;
                m += y;
            }
            if (op == OP_MOD)
                z = m;
            break;
        case OP_POW: return int_pow(r, pos, x, y, out);
        default: return type_error(r, pos, op, a, b);
        }
        *out = jn_int(z);
        return HN_OK;
    }
    double x = float_of(a), y = float_of(b);
    switch (op) {
    case OP_ADD: *out = jn_float(x + y); return HN_OK;
    case OP_SUB: *out = jn_float(x - y); return HN_OK;
    case OP_MUL: *out = jn_float(x * y); return HN_OK;
    case OP_DIV:
    case OP_FLOORDIV:
    case OP_MOD:
        if (y == 0.0)
            return jn_fail(r, pos, HN_ERR_FORMAT, "float division by zero");
        *out = jn_float(op == OP_DIV ? x / y : op == OP_MOD ? py_fmod(x, y) : py_floordiv(x, y));
        return HN_OK;
    case OP_POW:
        if (x == 0.0 && y < 0)
            return jn_fail(r, pos, HN_ERR_FORMAT, "0.0 cannot be raised to a negative power");
        if (x < 0 && y != floor(y))
            return jn_fail(r, pos, HN_ERR_UNSUPPORTED,
                           "a negative number to a fractional power is complex");
        *out = jn_float(pow(x, y));
        return HN_OK;
    default: return type_error(r, pos, op, a, b);
    }
}

/* s * n and list * n. */
static hn_status repeat(jn_render *r, jn_pos pos, jn_value seq, int64_t times, jn_value *out)
{
    if (times < 0)
        times = 0;
    size_t unit = seq.kind == JV_STRING ? seq.u.str.n : seq.u.list->n * sizeof(jn_value);
    if (unit > 0 && (uint64_t)times > (uint64_t)r->limits.max_memory_bytes / unit)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED,
                       "repeating a %s %" G_GINT64_FORMAT " times exceeds the memory limit",
                       jn_type_name(seq), times);
    if (seq.kind == JV_STRING) {
        size_t n = seq.u.str.n * (size_t)times;
        HN_TRY(jn_reserve(r, pos, n + 1));
        char *s = jn_alloc(r, n + 1);
        for (int64_t i = 0; i < times; i++)
            memcpy(s + (size_t)i * seq.u.str.n, seq.u.str.s, seq.u.str.n);
        *out = jn_str_ref(s, n);
        return HN_OK;
    }
    size_t n = seq.u.list->n;
    HN_TRY(jn_list_new(r, pos, n * (size_t)times, seq.flags & JV_TUPLE, out));
    for (int64_t i = 0; i < times; i++)
        if (n > 0)
            memcpy(out->u.list->items + (size_t)i * n, seq.u.list->items, sizeof(jn_value) * n);
    return HN_OK;
}

hn_status jn_binary(jn_render *r, jn_pos pos, jn_op op, jn_value a, jn_value b, jn_value *out)
{
    if (jn_is_number(a) && jn_is_number(b))
        return numeric(r, pos, op, a, b, out);
    if (op == OP_ADD && a.kind == JV_STRING && b.kind == JV_STRING) {
        size_t n = a.u.str.n + b.u.str.n;
        HN_TRY(jn_reserve(r, pos, n + 1));
        char *s = jn_alloc(r, n + 1);
        memcpy(s, a.u.str.s, a.u.str.n);
        memcpy(s + a.u.str.n, b.u.str.s, b.u.str.n);
        *out = jn_str_ref(s, n);
        return HN_OK;
    }
    if (op == OP_ADD && a.kind == JV_LIST && b.kind == JV_LIST && a.flags == b.flags &&
        !jn_is_generator(a)) {
        size_t na = a.u.list->n, nb = b.u.list->n;
        HN_TRY(jn_list_new(r, pos, na + nb, a.flags & JV_TUPLE, out));
        if (na > 0)
            memcpy(out->u.list->items, a.u.list->items, sizeof(jn_value) * na);
        if (nb > 0)
            memcpy(out->u.list->items + na, b.u.list->items, sizeof(jn_value) * nb);
        return HN_OK;
    }
    if (op == OP_MUL) {
        bool a_seq = a.kind == JV_STRING || (a.kind == JV_LIST && !jn_is_generator(a));
        bool b_seq = b.kind == JV_STRING || (b.kind == JV_LIST && !jn_is_generator(b));
        if (a_seq && (b.kind == JV_INT || b.kind == JV_BOOL))
            return repeat(r, pos, a, int_of(b), out);
        if (b_seq && (a.kind == JV_INT || a.kind == JV_BOOL))
            return repeat(r, pos, b, int_of(a), out);
    }
    if (op == OP_MOD && a.kind == JV_STRING)
        return jn_fail(r, pos, HN_ERR_UNSUPPORTED,
                       "printf-style formatting (str %% args) is not supported");
    return type_error(r, pos, op, a, b);
}

hn_status jn_negate(jn_render *r, jn_pos pos, jn_value a, bool minus, jn_value *out)
{
    if (a.kind == JV_FLOAT) {
        *out = jn_float(minus ? -a.u.f : a.u.f);
        return HN_OK;
    }
    if (a.kind == JV_INT || a.kind == JV_BOOL) {
        int64_t v = int_of(a);
        if (minus && v == INT64_MIN)
            return overflow(r, pos, OP_SUB);
        *out = jn_int(minus ? -v : v);
        return HN_OK;
    }
    HN_TRY(jn_require_defined(r, pos, a));
    return jn_fail(r, pos, HN_ERR_FORMAT, "bad operand type for unary %c: '%s'", minus ? '-' : '+',
                   jn_type_name(a));
}

hn_status jn_contains(jn_render *r, jn_pos pos, jn_value haystack, jn_value needle, bool *out)
{
    switch ((jn_kind)haystack.kind) {
    case JV_STRING:
        if (needle.kind != JV_STRING) {
            HN_TRY(jn_require_defined(r, pos, needle));
            return jn_fail(r, pos, HN_ERR_FORMAT,
                           "'in <string>' requires string as left operand, not %s",
                           jn_type_name(needle));
        }
        *out = memmem(haystack.u.str.s, haystack.u.str.n, needle.u.str.s, needle.u.str.n) != NULL;
        return HN_OK;
    case JV_LIST: {
        jn_list *items;
        HN_TRY(jn_iterate(r, pos, haystack, &items)); /* consumes a generator */
        HN_TRY(jn_charge(r, pos, items->n));
        *out = false;
        for (size_t i = 0; i < items->n && !*out; i++)
            *out = jn_equal(items->items[i], needle);
        return HN_OK;
    }
    case JV_DICT:
        *out = jn_dict_get(haystack.u.dict, needle) != NULL;
        return HN_OK;
    case JV_UNDEFINED:
        *out = false; /* iterating an undefined value gives nothing */
        return HN_OK;
    default:
        return jn_fail(r, pos, HN_ERR_FORMAT, "argument of type '%s' is not iterable",
                       jn_type_name(haystack));
    }
}
