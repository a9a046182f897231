/* Internals of the Jinja interpreter shared by engine/jinja_*.c: memory, UTF-8 helpers,
 * tokens, the syntax tree, values and the render state. Not part of the engine's API. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hn_error.h"
#include "jinja.h"

/* ---- memory: a bump allocator freed all at once (jinja_mem.c) ---- */

typedef struct {
    GPtrArray *blocks; /* owned blocks, g_free'd by jn_arena_clear */
    char *cursor;
    size_t left;
    size_t total; /* bytes handed out, for the memory limit */
} jn_arena;

void jn_arena_init(jn_arena *a);
void jn_arena_clear(jn_arena *a);
/* Zeroed memory that lives until the arena is cleared (aborts when the system is out). */
void *jn_arena_alloc(jn_arena *a, size_t size);
char *jn_arena_strndup(jn_arena *a, const char *s, size_t n);
char *jn_arena_printf(jn_arena *a, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* ---- UTF-8 and Python's view of characters (jinja_utf8.c) ---- */

/* The code point at s (valid UTF-8 assumed), its byte length in *len. */
gunichar jn_utf8_get(const char *s, size_t *len);
size_t jn_utf8_put(char *out, gunichar c); /* writes 1-4 bytes */
size_t jn_utf8_count(const char *s, size_t n); /* code points in n bytes */
/* Byte offset of code point index i (0 <= i <= count). */
size_t jn_utf8_offset(const char *s, size_t n, size_t i);
/* Python's str.isspace for one code point (what \s, strip() and split() use). */
bool jn_py_isspace(gunichar c);
/* Python's str.isprintable for one code point (what repr() keeps unescaped). */
bool jn_py_isprintable(gunichar c);

/* ---- places and tokens (jinja_lex.c) ---- */

typedef struct {
    int line, column; /* 1-based; column counts characters */
} jn_pos;

typedef enum {
    JT_DATA,
    JT_VAR_BEGIN,
    JT_VAR_END,
    JT_BLOCK_BEGIN,
    JT_BLOCK_END,
    JT_NAME,
    JT_STRING,
    JT_INT,
    JT_FLOAT,
    JT_OP,
    JT_EOF,
} jn_token_kind;

typedef enum {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_TILDE,
    OP_LBRACKET, OP_RBRACKET, OP_LPAREN, OP_RPAREN, OP_LBRACE, OP_RBRACE,
    OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE, OP_ASSIGN, OP_DOT, OP_COLON, OP_PIPE,
    OP_COMMA, OP_SEMICOLON,
    OP_AND, OP_OR, OP_IN, OP_NOT_IN, /* never lexed: operators of the syntax tree */
} jn_op;

typedef struct {
    jn_token_kind kind;
    jn_op op;
    jn_pos pos;
    const char *text; /* DATA, NAME, STRING (unescaped) */
    size_t len;
    int64_t i;
    double f;
} jn_token;

/* Splits normalized template text into tokens (data with whitespace control applied, tag
 * delimiters, names, literals, operators), ending with JT_EOF. */
hn_status jn_lex(jn_arena *arena, const char *label, const char *src, size_t len,
                 jn_token **tokens, size_t *n_tokens, hn_error *err);
/* Spelling of a token for "found X" in messages. */
const char *jn_token_describe(const jn_token *t, char *buf, size_t size);
const char *jn_op_text(jn_op op);

/* ---- values (jinja_value.c) ---- */

typedef enum {
    JV_MISSING, /* an argument not given: never reaches a template */
    JV_UNDEFINED,
    JV_NONE,
    JV_BOOL,
    JV_INT,
    JV_FLOAT,
    JV_STRING,
    JV_LIST, /* also tuples (flag JV_TUPLE) */
    JV_DICT,
    JV_NAMESPACE,
    JV_CALLABLE,
    JV_LOOP,
} jn_kind;

/* JV_LIST flags. Generators are what jinja2's map, select, reject, selectattr, rejectattr,
 * unique, items and reverse return: always true, no len(), not subscriptable, not JSON, and
 * iterated only once. */
enum { JV_TUPLE = 1, JV_GENERATOR = 2 };

typedef struct jn_list jn_list;
typedef struct jn_dict jn_dict;
typedef struct jn_callable jn_callable;
typedef struct jn_loop jn_loop;

typedef struct {
    uint8_t kind;
    uint8_t flags;
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            const char *s;
            size_t n;
        } str;
        jn_list *list;
        jn_dict *dict; /* JV_DICT and JV_NAMESPACE */
        jn_callable *fn;
        jn_loop *loop;
        const char *why; /* JV_UNDEFINED: the message using it gives, e.g. "'x' is undefined" */
    } u;
} jn_value;

struct jn_list {
    size_t n;
    jn_value *items;
    bool consumed;  /* generators: iterated already */
    uint16_t depth; /* nesting, once jn_check_nesting measured it; 0: not yet */
};

/* Insertion-ordered; keys compare and hash as Python's do (1 == 1.0 == true). Past a few
 * entries an open-addressing index (entry number + 1, 0 empty) makes lookups O(1). */
struct jn_dict {
    size_t n, cap;
    jn_value *keys;
    jn_value *values;
    uint32_t *index;
    size_t index_size; /* a power of two, or 0 */
    uint16_t depth;    /* as in jn_list */
};

/* ---- the syntax tree (jinja_parse*.c) ---- */

typedef struct jn_expr jn_expr;
typedef struct jn_stmt jn_stmt;
typedef struct jn_render jn_render;

typedef struct {
    int n;
    jn_expr **args;
    int n_kw;
    const char **kw_names;
    jn_expr **kw_values;
} jn_args;

/* Arguments as values, for builtins. */
typedef struct {
    int n;
    const jn_value *args;
    int n_kw;
    const char *const *kw_names;
    const jn_value *kw_values;
} jn_argv;

/* Filters, tests, methods and globals: self is the filtered/tested value or the object a
 * method is bound to. */
typedef hn_status (*jn_builtin_fn)(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                                   jn_value *out);

typedef struct {
    const char *name;
    jn_builtin_fn fn;
} jn_builtin;

typedef enum {
    JE_LITERAL, JE_NAME, JE_HOLE, JE_LIST, JE_TUPLE, JE_DICT, JE_GETATTR, JE_GETITEM, JE_SLICE,
    JE_CALL, JE_FILTER, JE_TEST, JE_NOT, JE_NEG, JE_POS, JE_BINARY, JE_CONCAT, JE_COMPARE,
    JE_COND,
} jn_expr_kind;

struct jn_expr {
    jn_expr_kind kind;
    jn_pos pos;
    union {
        jn_value literal;
        const char *name;
        struct {
            int n;
            jn_expr **items;
        } list; /* JE_LIST, JE_TUPLE, JE_CONCAT */
        struct {
            int n;
            jn_expr **keys, **values;
        } dict;
        struct {
            jn_expr *obj;
            const char *name;
        } attr;
        struct {
            jn_expr *obj, *index;
        } item;
        struct {
            jn_expr *obj, *start, *stop, *step; /* NULL: omitted */
        } slice;
        struct {
            jn_expr *callee;
            jn_args args;
        } call;
        struct {
            jn_expr *operand; /* JE_HOLE in filter blocks */
            const jn_builtin *fn;
            jn_args args;
            bool negated; /* tests: `is not` */
        } filter;         /* JE_FILTER, JE_TEST */
        struct {
            jn_op op; /* arithmetic, OP_AND, OP_OR */
            jn_expr *left, *right;
        } binary;
        jn_expr *operand; /* JE_NOT, JE_NEG, JE_POS */
        struct {
            jn_expr *first;
            int n;
            jn_op *ops; /* OP_EQ ... OP_LE, OP_IN, OP_NOT_IN */
            jn_expr **rest;
        } compare;
        struct {
            jn_expr *test, *then, *otherwise; /* otherwise NULL: undefined */
        } cond;
    } u;
};

typedef struct {
    int n;
    jn_stmt **items;
} jn_body;

/* Where `set`, `for` and `with` store: a name, names to unpack, or namespace.attr. */
typedef struct {
    int n;
    const char **names;
    bool unpack;
    const char *attr; /* set ns.attr: names[0] is the namespace */
} jn_target;

typedef enum {
    JS_DATA, JS_OUTPUT, JS_IF, JS_FOR, JS_SET, JS_SET_BLOCK, JS_MACRO, JS_BREAK, JS_CONTINUE,
    JS_WITH, JS_FILTER_BLOCK, JS_BLOCK,
} jn_stmt_kind;

struct jn_stmt {
    jn_stmt_kind kind;
    jn_pos pos;
    union {
        struct {
            const char *text;
            size_t len;
        } data;
        jn_expr *output;
        struct {
            int n;
            jn_expr **conds;
            jn_body *bodies;
            jn_body otherwise;
        } if_;
        struct {
            jn_target target;
            jn_expr *iter, *filter;
            jn_body body, otherwise;
        } for_;
        struct {
            jn_target target;
            jn_expr *value;
        } set;
        struct {
            jn_target target;
            jn_expr *filter; /* NULL or a filter chain over JE_HOLE */
            jn_body body;
        } set_block;
        struct {
            const char *name;
            int n_params;
            const char **params;
            jn_expr **defaults; /* NULL entries: required */
            bool varargs, kwargs; /* the body reads `varargs` / `kwargs` */
            jn_body body;
        } macro;
        struct {
            int n;
            const char **names;
            jn_expr **values;
            jn_body body;
        } with;
        struct {
            jn_expr *filter; /* a filter chain over JE_HOLE */
            jn_body body;
        } filter_block;
        jn_body block; /* {% generation %}: rendered as it is */
    } u;
};

struct hn_jinja_template {
    jn_arena arena;
    char *label;
    jn_body body;
};

/* Parses tokens into the template's body (jinja_parse.c, expressions in jinja_parse_expr.c). */
hn_status jn_parse(hn_jinja_template *t, const jn_token *tokens, size_t n, hn_error *err);

/* ---- the render state (jinja_exec.c, jinja_eval.c) ---- */

typedef struct jn_scope jn_scope;
struct jn_scope {
    jn_scope *parent;
    int n, cap;
    const char **names;
    jn_value *values;
};

struct jn_callable {
    const char *name;
    jn_builtin_fn fn;   /* builtins and bound methods */
    jn_value self;      /* the object a method is bound to */
    const jn_stmt *macro;
    jn_scope *closure;  /* the scope a macro was defined in */
};

struct jn_loop {
    size_t index0, length;
    const jn_value *items;
    int depth;
};

typedef enum { JN_FLOW_NORMAL, JN_FLOW_BREAK, JN_FLOW_CONTINUE } jn_flow;

struct jn_render {
    const hn_jinja_template *tmpl;
    hn_error *err;
    jn_arena arena;
    GString *out;
    jn_scope *globals;
    jn_value hole; /* the value JE_HOLE stands for in a filter block */
    jn_flow flow;
    int depth;
    uint64_t steps;
    hn_jinja_options limits;
};

/* Fails with "LABEL: line L, column C: message". */
hn_status jn_fail(jn_render *r, jn_pos pos, hn_status status, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
/* Fails unless the memory limit still has room for `more` bytes. */
hn_status jn_reserve(jn_render *r, jn_pos pos, size_t more);
void *jn_alloc(jn_render *r, size_t size);
/* Counts one step against the limit. */
hn_status jn_step(jn_render *r, jn_pos pos);
/* Counts the work of scanning n items (list searches) against the step limit. */
hn_status jn_charge(jn_render *r, jn_pos pos, size_t n);

hn_status jn_eval(jn_render *r, const jn_expr *e, jn_scope *scope, jn_value *out);
hn_status jn_exec_body(jn_render *r, const jn_body *body, jn_scope *scope);
jn_scope *jn_scope_new(jn_render *r, jn_scope *parent);
void jn_scope_set(jn_render *r, jn_scope *s, const char *name, jn_value v);
bool jn_scope_lookup(const jn_scope *s, const char *name, jn_value *out);

/* Calls a callable value (builtin, method or macro). */
hn_status jn_call(jn_render *r, jn_pos pos, jn_value fn, const jn_argv *a, jn_value *out);

/* ---- values: making, comparing, converting (jinja_value.c) ---- */

jn_value jn_none(void);
jn_value jn_bool(bool b);
jn_value jn_int(int64_t i);
jn_value jn_float(double f);
jn_value jn_undefined(const char *why);
jn_value jn_missing(void);
/* A string value over bytes that outlive the render (template text, context, arena). */
jn_value jn_str_ref(const char *s, size_t n);
/* Copies bytes into the arena (checked against the memory limit). */
hn_status jn_str_new(jn_render *r, jn_pos pos, const char *s, size_t n, jn_value *out);
hn_status jn_str_from_gstring(jn_render *r, jn_pos pos, GString *g, jn_value *out);
hn_status jn_list_new(jn_render *r, jn_pos pos, size_t n, bool tuple, jn_value *out);
jn_value jn_dict_new(jn_render *r);
jn_value jn_callable_new(jn_render *r, const char *name, jn_builtin_fn fn, jn_value self);

/* Whether v can be a dict key (None, bool, numbers, strings, tuples of those). */
bool jn_hashable(jn_value v);
/* Sets or replaces key (Python key equality). */
hn_status jn_dict_set(jn_render *r, jn_pos pos, jn_dict *d, jn_value key, jn_value value);
/* The value for key, or NULL. */
const jn_value *jn_dict_get(const jn_dict *d, jn_value key);
const jn_value *jn_dict_get_str(const jn_dict *d, const char *key);

bool jn_is_string(jn_value v, const char *s);
bool jn_is_generator(jn_value v);
bool jn_truthy(jn_value v);
bool jn_is_number(jn_value v); /* int, float or bool */
/* Python ==. */
bool jn_equal(jn_value a, jn_value b);
/* Python <, ==, > for orderable pairs: *cmp is -1, 0 or 1; fails with a TypeError message. */
hn_status jn_compare(jn_render *r, jn_pos pos, jn_value a, jn_value b, int *cmp);
/* Python type name, for messages ("str", "int", "dict", "NoneType", "Undefined", ...). */
const char *jn_type_name(jn_value v);
/* What iterating gives: list/tuple items, dict keys, string characters, nothing for
 * undefined; fails for the rest. */
hn_status jn_iterate(jn_render *r, jn_pos pos, jn_value v, jn_list **out);
/* Fails with the undefined value's message when v is undefined. */
hn_status jn_require_defined(jn_render *r, jn_pos pos, jn_value v);
/* Values may nest at most this deep, so comparing, hashing and printing them cannot exhaust
 * the C stack. Nesting only accumulates through `set` and macro arguments, where it is
 * checked. */
enum { JN_MAX_NESTING = 256 };
hn_status jn_check_nesting(jn_render *r, jn_pos pos, jn_value v);
/* Converts a cJSON value (checking UTF-8); name (or NULL) starts the path in messages. */
hn_status jn_from_json(jn_render *r, const cJSON *item, const char *name, jn_value *out);

/* ---- text forms (jinja_format.c) ---- */

/* Python repr(float) into buf (at least 32 bytes). */
void jn_format_float(double f, char *buf, size_t size);
/* Python str(v) (undefined gives ""), appended. */
hn_status jn_append_str(jn_render *r, jn_pos pos, GString *g, jn_value v);
/* Python repr(v), appended. */
hn_status jn_append_repr(jn_render *r, jn_pos pos, GString *g, jn_value v);
/* str(v) as a string value (strings are returned as they are). */
hn_status jn_to_str(jn_render *r, jn_pos pos, jn_value v, jn_value *out);

/* json.dumps with transformers' tojson arguments (jinja_json.c). */
typedef struct {
    bool ensure_ascii;
    bool sort_keys;
    bool has_indent;
    const char *indent; /* the text of one level */
    size_t indent_len;
    const char *item_sep, *key_sep;
    size_t item_sep_len, key_sep_len;
} jn_json_style;
hn_status jn_append_json(jn_render *r, jn_pos pos, GString *g, jn_value v,
                         const jn_json_style *style, int depth);

/* ---- operators and access (jinja_ops.c, jinja_access.c) ---- */

hn_status jn_binary(jn_render *r, jn_pos pos, jn_op op, jn_value a, jn_value b, jn_value *out);
hn_status jn_negate(jn_render *r, jn_pos pos, jn_value a, bool minus, jn_value *out);
/* `needle in haystack`. */
hn_status jn_contains(jn_render *r, jn_pos pos, jn_value haystack, jn_value needle, bool *out);

/* obj.name as the sandbox does it: methods and attributes first, then items. */
hn_status jn_getattr(jn_render *r, jn_pos pos, jn_value obj, const char *name, jn_value *out);
/* Python getattr(obj, name) alone: methods and attributes, no items (the attr filter). */
hn_status jn_attribute(jn_render *r, jn_pos pos, jn_value obj, const char *name, jn_value *out);
/* obj[key]: items first, then attributes for string keys. */
hn_status jn_getitem(jn_render *r, jn_pos pos, jn_value obj, jn_value key, jn_value *out);
hn_status jn_slice(jn_render *r, jn_pos pos, jn_value obj, jn_value start, jn_value stop,
                   jn_value step, jn_value *out);
/* A bound method of a str or dict, or false when there is none of that name. */
bool jn_method(jn_render *r, jn_value obj, const char *name, jn_value *out);

/* ---- builtins (jinja_filters*.c, jinja_tests.c, jinja_globals.c, jinja_methods.c) ---- */

const jn_builtin *jn_find_filter(const char *name);
bool jn_is_unsupported_filter(const char *name); /* a jinja2 filter Hone lacks */
const jn_builtin *jn_find_test(const char *name);
/* The global names (range, namespace, dict, raise_exception, strftime_now, ...). */
void jn_add_globals(jn_render *r, jn_scope *globals);
/* String and dict methods by name, NULL when unknown. */
jn_builtin_fn jn_find_str_method(const char *name);
jn_builtin_fn jn_find_dict_method(const char *name);

/* String operations shared by methods and filters (jinja_methods.c). */
enum { JN_STRIP_LEFT = 1, JN_STRIP_RIGHT = 2, JN_STRIP_BOTH = 3 };
/* s.strip(chars): chars JV_MISSING or none strips Python whitespace. */
hn_status jn_str_strip(jn_render *r, jn_pos pos, jn_value s, jn_value chars, int which,
                       jn_value *out);
typedef enum { JN_UPPER, JN_LOWER, JN_CAPITALIZE, JN_TITLE } jn_case;
hn_status jn_str_case(jn_render *r, jn_pos pos, jn_value s, jn_case mode, jn_value *out);
/* s.replace(old, new, count); count < 0: all. */
hn_status jn_str_replace(jn_render *r, jn_pos pos, jn_value s, jn_value old, jn_value repl,
                         int64_t count, jn_value *out);

/* Filters implemented in jinja_filters_seq.c, registered in jinja_filters.c's table. */
hn_status jn_filter_join(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out);
hn_status jn_filter_map(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out);
hn_status jn_filter_select(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                           jn_value *out);
hn_status jn_filter_reject(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                           jn_value *out);
hn_status jn_filter_selectattr(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                               jn_value *out);
hn_status jn_filter_rejectattr(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                               jn_value *out);
hn_status jn_filter_sort(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out);
hn_status jn_filter_dictsort(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                             jn_value *out);
hn_status jn_filter_unique(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a,
                           jn_value *out);
hn_status jn_filter_min(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out);
hn_status jn_filter_max(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out);
hn_status jn_filter_sum(jn_render *r, jn_pos pos, jn_value self, const jn_argv *a, jn_value *out);

/* Binds arguments to parameter names (n of them) like a Python call: slots not given are
 * JV_MISSING; too many positionals, unknown or repeated keywords fail naming `fname`. */
hn_status jn_bind(jn_render *r, jn_pos pos, const char *fname, const jn_argv *a, int n,
                  const char *const *names, jn_value *slots);
/* In a builtin (r, pos and a in scope): declares jn_value arg[] bound to the parameter names
 * given, failing the call on bad arguments. */
#define JN_BIND(fname, ...)                                                                  \
    static const char *const jn_names_[] = {__VA_ARGS__};                                   \
    jn_value arg[G_N_ELEMENTS(jn_names_)];                                                   \
    HN_TRY(jn_bind(r, pos, fname, a, (int)G_N_ELEMENTS(jn_names_), jn_names_, arg))
/* Fails unless the call has no arguments. */
hn_status jn_no_args(jn_render *r, jn_pos pos, const char *fname, const jn_argv *a);
/* Typed reads of bound arguments (JV_MISSING takes the default); errors name fname and the
 * parameter. */
bool jn_arg_bool(jn_value v, bool fallback);
hn_status jn_arg_int(jn_render *r, jn_pos pos, const char *fname, const char *param, jn_value v,
                     int64_t fallback, int64_t *out);
hn_status jn_arg_str(jn_render *r, jn_pos pos, const char *fname, const char *param, jn_value v,
                     jn_value *out);
/* Runs the test named by a string value on v (select, selectattr). */
hn_status jn_run_test(jn_render *r, jn_pos pos, jn_value name, jn_value v, const jn_argv *extra,
                      bool *out);
/* attribute="a.b" lookups as jinja's make_attrgetter (items first); undefined when absent. */
hn_status jn_get_path(jn_render *r, jn_pos pos, jn_value obj, jn_value path, jn_value *out);
