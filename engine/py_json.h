/* JSON text as Python's json.dumps(obj, indent=2) writes it (ensure_ascii: non-ASCII as
 * \uXXXX; one element per line; empty containers as {} and []; ", " never used since indent
 * puts items on lines of their own). Key order is the cJSON object's: build it sorted for
 * sort_keys=True. Numbers go in as cJSON raw items, so that the caller decides between an int
 * ("8") and a float ("8.0"); hn_py_float_repr writes the latter. */
#pragma once

#include <cjson/cJSON.h>

/* A double as Python's repr(): the shortest digits that read back the same, fixed notation
 * for decimal exponents -4 .. 15 ("0.0001", "100.0"), else "1e-05", "1.5e+16"; NaN and
 * Infinity as json.dumps writes them. Free with g_free. */
char *hn_py_float_repr(double x);
/* Python's round(x, digits) for a float: the correctly rounded decimal (glibc's printf rounds
 * the exact binary value, ties to even, as Python's float rounding does) read back. */
double hn_py_round(double x, int digits);
/* The text (no trailing newline); free with g_free. */
char *hn_py_json_dumps(const cJSON *item);
/* The same with indent=N spaces per level (json.dump(..., indent=4) for transformers'
 * *_results.json); N must be >= 1. */
char *hn_py_json_dumps_indent(const cJSON *item, int indent);
/* json.dumps(item, ensure_ascii=False): one line, ", " and ": ", UTF-8 as it is; parsed numbers
 * as ints where integral (Python would keep "1.0" a float: cJSON cannot tell). */
char *hn_py_json_dumps_line(const cJSON *item);
