/* The Jinja parser's state, shared by the statement parser (jinja_parse.c) and the
 * expression parser (jinja_parse_expr.c). Private to those two files. */
#pragma once

#include "jinja_internal.h"

typedef struct {
    hn_jinja_template *t;
    const jn_token *tok;
    size_t n, i;
    hn_error *err;
    int depth;          /* nesting of expressions and blocks, bounded */
    int loop_depth;     /* for break / continue */
    jn_stmt *macro;     /* the macro whose body is being parsed, or NULL */
} jn_parser;

enum { JN_MAX_PARSE_DEPTH = 200 };

const jn_token *jn_cur(const jn_parser *p);
const jn_token *jn_look(const jn_parser *p); /* the token after the current one */
void jn_next(jn_parser *p);
bool jn_is_name(const jn_token *t, const char *name);
bool jn_is_op(const jn_token *t, jn_op op);
bool jn_skip_op(jn_parser *p, jn_op op);
bool jn_skip_name(jn_parser *p, const char *name);
/* Fails at the current token: "expected WHAT, found TOKEN". */
hn_status jn_expected(jn_parser *p, const char *what);
hn_status jn_parse_fail(jn_parser *p, const jn_token *at, hn_status status, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
hn_status jn_expect_op(jn_parser *p, jn_op op);
void *jn_parse_alloc(jn_parser *p, size_t size);

/* Expressions, as jinja2's parser builds them (NULL on failure, error set). */
jn_expr *jn_parse_expression(jn_parser *p, bool with_condexpr);
/* Comma-separated expressions: one expression, or a tuple when a comma appears. extra_end
 * names a keyword that ends the tuple (e.g. "in"); NULL for none. */
jn_expr *jn_parse_tuple(jn_parser *p, bool with_condexpr, const char *extra_end);
/* A filter chain `name(args)|name2...` applied to operand (the `|` before the first name
 * already consumed by the caller when operand is a JE_HOLE). */
jn_expr *jn_parse_filter_chain(jn_parser *p, jn_expr *operand);
