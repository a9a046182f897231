/* Jinja chat templates: a Jinja2 interpreter for the subset that models' own `chat_template`s
 * use, rendering byte for byte as transformers' apply_chat_template does (jinja2's
 * ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loop controls, and
 * transformers' raise_exception, strftime_now, namespace and tojson(ensure_ascii=False)).
 *
 * Compile once, render many times; the context is a cJSON object whose members become the
 * template's variables. hn_jinja_chat_context builds that object from a conversation the way
 * apply_chat_template prepares it. Errors name the template (label), the line and column and
 * what went wrong; syntax this interpreter does not support is an error naming the construct.
 *
 * Known differences from jinja2, all outside what chat templates use: integers are 64-bit
 * (overflow is an error); a JSON number in the context is an integer when it has no fraction
 * (cJSON cannot tell 1.0 from 1); printing a generator (`{{ x|select }}`, which jinja2 prints
 * as its memory address) is an error; dict.keys()/values()/items() and range() give lists
 * (jinja2 prints those as dict_items([...]) and range(0, 3)); not supported, each an error
 * naming it: `str % args`, `{% call %}`, `{% include %}`, `{% extends %}`, `{% import %}`,
 * `{% block %}`, recursive loops, `loop.changed`, `*args`/`**kwargs` in calls, \N{...}
 * escapes, non-ASCII names, the filters batch, center, filesizeformat, format, groupby,
 * pprint, random, slice, striptags, truncate, urlencode, urlize, wordcount, wordwrap,
 * xmlattr, and str methods other than those in jinja_methods.c. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hn_error.h"

typedef struct hn_jinja_template hn_jinja_template;

/* Limits that keep a hostile or broken template from running away. Zero fields take the
 * defaults listed here. */
typedef struct {
    size_t max_output_bytes; /* rendered text; default 64 MiB */
    size_t max_memory_bytes; /* values made while rendering; default 1 GiB */
    uint64_t max_steps;      /* statements, loop iterations and calls; default 50 million */
    int max_depth;           /* nesting of expressions and macro calls; default 500 */
    int64_t now; /* strftime_now's clock in seconds since the epoch; 0: the real clock */
} hn_jinja_options;

/* Compiles template text (UTF-8); label names it in messages (e.g. "qwen3 chat_template"). */
hn_status hn_jinja_compile(const char *text, const char *label, hn_jinja_template **out,
                           hn_error *err);
/* The same for text of a given length (it may hold NUL bytes). */
hn_status hn_jinja_compile_len(const char *text, size_t length, const char *label,
                               hn_jinja_template **out, hn_error *err);
void hn_jinja_free(hn_jinja_template *tmpl);

/* Renders with the members of context (an object, or NULL for none) as variables. *out is
 * NUL-terminated and freed with g_free. A compiled template is not changed by rendering, so
 * several threads may render it at once. */
hn_status hn_jinja_render(const hn_jinja_template *tmpl, const cJSON *context, char **out,
                          hn_error *err);
/* The same with limits (options may be NULL); *out_length (may be NULL) gets the length. */
hn_status hn_jinja_render_opts(const hn_jinja_template *tmpl, const cJSON *context,
                               const hn_jinja_options *options, char **out, size_t *out_length,
                               hn_error *err);

/* A conversation as apply_chat_template receives it. */
typedef struct {
    const cJSON *messages;        /* array of {"role", "content", ...}; required, not empty */
    const cJSON *tools;           /* array of JSON schemas, or NULL */
    const cJSON *documents;       /* array of objects, or NULL */
    bool add_generation_prompt;
    const cJSON *special_tokens;  /* object: bos_token, eos_token, ... (may be NULL) */
    const cJSON *kwargs;          /* object: extra template variables such as enable_thinking;
                                     they override special tokens (may be NULL) */
} hn_chat_input;

/* Builds the template context exactly as transformers does: message keys whose value is null
 * are dropped, reasoning given as reasoning_content, thinking or reasoning is offered under
 * both "thinking" and "reasoning_content", tools/documents are null when absent. */
hn_status hn_jinja_chat_context(const hn_chat_input *input, cJSON **out, hn_error *err);
