/* The Jinja chat template interpreter: each construct on small templates, bad templates and
 * their messages (line, column, what), limits, the chat context builder, and the real
 * templates in tests/data/chat_templates rendered byte for byte as transformers renders them
 * (tests/reference/jinja_ref.py, needs the reference venv). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jinja.h"
#include "test_util.h"

typedef struct {
    const char *template;
    const char *context; /* JSON object, or NULL */
    const char *expected;
} render_case;

static char *render_with(const char *template, const char *context, const hn_jinja_options *opts,
                         hn_status *status, hn_error *err)
{
    hn_jinja_template *t = NULL;
    *status = hn_jinja_compile(template, "test", &t, err);
    if (*status != HN_OK)
        return NULL;
    cJSON *ctx = context != NULL ? cJSON_Parse(context) : NULL;
    if (context != NULL && ctx == NULL)
        g_error("bad test context JSON: %s", context);
    char *out = NULL;
    *status = hn_jinja_render_opts(t, ctx, opts, &out, NULL, err);
    cJSON_Delete(ctx);
    hn_jinja_free(t);
    return out;
}

static void check_renders(const render_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hn_error err = {0};
        hn_status status;
        hn_jinja_options opts = {.now = 1700000000};
        char *out = render_with(cases[i].template, cases[i].context, &opts, &status, &err);
        if (status != HN_OK)
            g_error("template %s failed: %s", cases[i].template, err.message);
        if (strcmp(out, cases[i].expected) != 0)
            g_error("template %s\n  rendered [%s]\n  expected [%s]", cases[i].template, out,
                    cases[i].expected);
        g_free(out);
    }
}

/* trim_blocks, lstrip_blocks, `-` and `+`, comments, raw, newlines. */
static void test_whitespace(void)
{
    static const render_case cases[] = {
        {"a\n{% if true %}\nb\n{% endif %}\nc", NULL, "a\nb\nc"},
        {"  {% if true %}x{% endif %}", NULL, "x"},
        {"a\n    {% if true %}\n    b\n    {% endif %}\nc", NULL, "a\n    b\nc"},
        {"a  {%- if true -%}  b  {%- endif -%}  c", NULL, "abc"},
        {"  {%+ if true %}x{% endif %}", NULL, "  x"},
        {"{% if true +%}\nx{% endif %}", NULL, "\nx"},
        {"{{ 'a' }}\n{{ 'b' }}", NULL, "a\nb"},
        {"  {{ 'a' }}  ", NULL, "  a  "},
        {"x\n  {{- 'a' -}}  \ny", NULL, "xay"},
        {"{# comment #}\nx", NULL, "x"},
        {"x {#- c -#} y", NULL, "xy"},
        {"  {# c #}\n  y", NULL, "  y"},
        {"{% raw %}{{ x }}{% endraw %}", NULL, "{{ x }}"},
        {"a {%- raw -%} {{ x }} {%- endraw -%} b", NULL, "a{{ x }}b"},
        {"line\r\nnext\rlast\r\n", NULL, "line\nnext\nlast"},
        {"x\n", NULL, "x"},
        {"x\n\n", NULL, "x\n"},
        {"{% for i in [1, 2] %}\n  {{ i }}\n{% endfor %}\n", NULL, "  1\n  2\n"},
        {"{%- for i in [1, 2] -%}\n  {{ i }}\n{%- endfor %}", NULL, "12"},
    };
    check_renders(cases, G_N_ELEMENTS(cases));
}

static void test_literals_and_operators(void)
{
    static const render_case cases[] = {
        {"{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}", NULL, "7 9 64 4"},
        {"{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 1 / 2 }} {{ 4 / 2 }}", NULL,
         "3 -4 1 2 0.5 2.0"},
        {"{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1.5e-7 }} {{ 3.0 }} {{ 1e100 }} {{ 123456.5 }}", NULL,
         "0.30000000000000004 1e+16 1.5e-07 3.0 1e+100 123456.5"},
        {"{{ 0x1F }} {{ 1_000 }} {{ 0o17 }} {{ 0b101 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}", NULL,
         "31 1000 15 5 3.0 0.5"},
        {"{{ 'a' ~ 1 ~ none ~ true ~ 2.5 }}", NULL, "a1NoneTrue2.5"},
        {"{{ 'ab' * 3 }} {{ [1] * 2 }} {{ 2 * 'x' }} {{ [1, 2] + [3] }} {{ 'a' + 'b' }}", NULL,
         "ababab [1, 1] xx [1, 2, 3] ab"},
        {"{{ [1, 'a', none, true, 2.5] }} {{ {'a': 1, \"b\": [2]} }} {{ (1, 2) }} {{ (1,) }} {{ () }}",
         NULL, "[1, 'a', None, True, 2.5] {'a': 1, 'b': [2]} (1, 2) (1,) ()"},
        {"{{ \"it's\" }} {{ ['it\\'s', 'a\"b', 'q\\'\"'] }}", NULL,
         "it's [\"it's\", 'a\"b', 'q\\'\"']"},
        {"{{ 'tab\\there' }}|{{ '\\u00e9\\x41\\101\\q' }}|{{ 'a' 'b' }}", NULL, "tab\there|éAA\\q|ab"},
        {"{{ ['\\u00e9', '\\n', '\\x01', '\\u2028', '\\\\'] }}", NULL,
         "['é', '\\n', '\\x01', '\\u2028', '\\\\']"},
        {"{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }}",
         NULL, "True False True True True True"},
        {"{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ [1] == (1,) }} {{ none == none }} {{ 'a' != 'b' }}",
         NULL, "True False True True"},
        {"{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ 'x' in nothing }}",
         NULL, "True True True True False"},
        {"{{ 0 or 'x' }} {{ 1 and 'y' }} [{{ '' and 'z' }}] {{ not 0 }} {{ not 'a' }}", NULL,
         "x y [] True False"},
        {"{{ 'y' if true else 'n' }}{{ 'y' if false else 'n' }}[{{ 'z' if false }}]", NULL, "yn[]"},
        {"{{ 'a' if false else 'b' if false else 'c' }}", NULL, "c"},
    };
    check_renders(cases, G_N_ELEMENTS(cases));
}

static const char *access_ctx =
    "{\"m\": {\"role\": \"user\", \"content\": \"hi\"}, \"l\": [1, 2, 3], \"s\": \"h\\u00e9llo\","
    " \"d\": {\"b\": 1, \"a\": 2}, \"n\": null, \"f\": 2.5}";

static void test_access(void)
{
    static const render_case cases[] = {
        {"{{ m.role }} {{ m['content'] }} [{{ m.missing }}] {{ l[0] }} {{ l[-1] }} [{{ l[9] }}]", NULL,
         "user hi [] 1 3 []"},
        {"{{ l[1:] }} {{ l[::-1] }} {{ l[:-1] }} {{ s[1:3] }} {{ s[::-1] }} {{ s[-1] }} {{ l[5:] }}",
         NULL, "[2, 3] [3, 2, 1] [1, 2] él olléh o []"},
        {"{{ s|length }} {{ l|length }} {{ m|length }} {{ nothing|length }}", NULL, "5 3 2 0"},
        {"[{{ nothing }}][{{ m.nothing }}][{{ n }}][{{ m.items is defined }}]", NULL,
         "[][][None][True]"},
        {"{{ l.0 }} {{ d['a'] }} {{ d.a }} {{ d.get('b') }} {{ d.get('z', 'dflt') }} {{ d.get('z') }}",
         NULL, "1 2 2 1 dflt None"},
        {"{{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }}", NULL,
         "['b', 'a'] [1, 2] [('b', 1), ('a', 2)]"},
        {"{{ m.role.upper() }} {{ (m.role ~ '!')|upper }} {{ f }}", NULL, "USER USER! 2.5"},
    };
    /* All rows share one context. */
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        render_case c = cases[i];
        c.context = access_ctx;
        check_renders(&c, 1);
    }
}

static void test_set_and_scopes(void)
{
    static const render_case cases[] = {
        {"{% set x = 1 %}{% for i in [1, 2] %}{% set x = i %}{{ x }}{% endfor %}{{ x }}", NULL, "121"},
        {"{% set x = 'o' %}{% for i in [1, 2] %}[{{ x }}{% set x = i %}{{ x }}]{% endfor %}", NULL,
         "[o1][o2]"},
        {"{% for i in [1, 2] %}{% if i == 1 %}{% set y = 5 %}{% endif %}[{{ y }}]{% endfor %}", NULL,
         "[5][]"},
        {"{% if true %}{% set z = 3 %}{% endif %}{{ z }}", NULL, "3"},
        {"{% set ns = namespace(x=0, s='') %}{% for i in [1, 2, 3] %}{% set ns.x = ns.x + i %}"
         "{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.x }} {{ ns.s }}",
         NULL, "6 123"},
        {"{% set ns = namespace() %}{% set ns.a = 1 %}{{ ns.a }} {{ ns }}", NULL,
         "1 <Namespace {'a': 1}>"},
        {"{% set a, b = 1, 2 %}{{ b }}{{ a }}{% set (c, d) = 'xy' %}{{ d }}{{ c }}", NULL, "21yx"},
        {"{% set s %}x{{ 1 }}y{% endset %}[{{ s }}]{% set t | upper %}abc{% endset %}{{ t }}", NULL,
         "[x1y]ABC"},
        {"{% set messages = messages[1:] %}{{ messages|length }}", "{\"messages\": [1, 2, 3]}", "2"},
        {"{% with a = 5, b = 6 %}{{ a }}{{ b }}{% endwith %}[{{ a }}]", NULL, "56[]"},
        {"{% for t in [{'f': {'n': 1}}] %}{% set t = t.f %}{{ t.n }}{% endfor %}", NULL, "1"},
    };
    check_renders(cases, G_N_ELEMENTS(cases));
}

static void test_loops(void)
{
    static const render_case cases[] = {
        {"{% for x in ['a', 'b'] %}{{ loop.index0 }}{{ loop.index }}{{ loop.first }}{{ loop.last }}"
         "{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }};{% endfor %}",
         NULL, "01TrueFalse221;12FalseTrue210;"},
        {"{% for x in [1, 2, 3]|reverse %}{{ x }}{% endfor %}{% for x in [1, 2, 3][::-1] %}{{ x }}{% endfor %}",
         NULL, "321321"},
        {"{% for x in [] %}x{% else %}empty{% endfor %}", NULL, "empty"},
        {"{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{{ loop.length }}{% endfor %}", NULL, "2242"},
        {"{% for k, v in {'b': 1, 'a': 2}|items %}{{ k }}={{ v }};{% endfor %}", NULL, "b=1;a=2;"},
        {"{% for k, v in {'b': 1}.items() %}{{ k }}{{ v }}{% endfor %}{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}",
         NULL, "b1xy"},
        {"{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}"
         "{% endif %}{{ x }}{% endfor %}",
         NULL, "13"},
        {"{% for x in [1, 2] %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}", NULL, "-2;1-;"},
        {"{% for c in 'hé' %}{{ c }}.{% endfor %}{% for x in nothing %}x{% endfor %}", NULL, "h.é."},
        {"{% for i in range(3) %}{{ i }}{% endfor %} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }}",
         NULL, "012 [1, 4, 7] [5, 3, 1]"},
        {"{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.depth }} {% endfor %}{{ loop.index }}|{% endfor %}",
         NULL, "1x1 1y1 1|2x1 2y1 2|"},
        {"{% for x in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{% endfor %}", NULL, "aba"},
    };
    check_renders(cases, G_N_ELEMENTS(cases));
}

static void test_methods(void)
{
    static const render_case cases[] = {
        {"{{ s.startswith('He') }} {{ s.endswith('!') }} {{ s.startswith(('x', 'H')) }} {{ s.endswith('x') }}",
         "{\"s\": \"Hello!\"}", "True True True False"},
        {"{{ 'a,,b'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }}"
         " {{ ' a b '.rsplit(none, 1) }}",
         NULL, "['a', '', 'b'] ['a', 'b'] ['a', 'b c'] ['a,b', 'c'] [' a', 'b']"},
        {"[{{ '  x  '.strip() }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}][{{ 'xxaxx'.strip('x') }}]"
         "[{{ '\\n\\nx\\n'.lstrip('\\n') }}][{{ '\\u3000x\\u00a0'.strip() }}]",
         NULL, "[x][x  ][  x][a][x\n][x]"},
        {"{{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}"
         " {{ 'straße'.upper() }}",
         NULL, "HELLO hello Hello World Hello STRASSE"},
        {"{{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '', 1) }} {{ 'ab'.replace('', '.') }}"
         " {{ 'héllo'.find('l') }} {{ 'abc'.find('z') }} {{ 'aaa'.count('a') }} {{ ', '.join(['a', 'b']) }}",
         NULL, "a+b+c ab-c .a.b. 2 -1 3 a, b"},
        {"{{ '<think>x</think>\\n\\ny'.split('</think>')[-1].lstrip('\\n') }}"
         " {{ 'x</think>'.split('</think>')[0].rstrip('\\n').split('<think>')[-1] }}",
         NULL, "y x"},
        {"{{ 'abc'.removeprefix('a') }} {{ '12'.isdigit() }} {{ 'ab'.isupper() }} {{ s.zfill is defined }}",
         "{\"s\": \"x\"}", "bc True False True"},
    };
    check_renders(cases, G_N_ELEMENTS(cases));
}

static void test_filters(void)
{
    static const render_case cases[] = {
        {"{{ '  x '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ [1, 2, 3]|join(', ') }}|{{ [1, 2]|first }}|"
         "{{ [1, 2]|last }}|{{ 'abc'|upper }}|{{ x|default('dflt') }}|{{ ''|default('dflt', true) }}|"
         "{{ none|default('no') }}",
         NULL, "x|a|1, 2, 3|1|2|ABC|dflt|dflt|None"},
        {"{{ d|tojson }}",
         "{\"d\": {\"b\": 1, \"a\": [1, 2.5, \"\\u00e9\\n\\\"\\\\\\u0001\"], \"c\": null, \"t\": true}}",
         "{\"b\": 1, \"a\": [1, 2.5, \"é\\n\\\"\\\\\\u0001\"], \"c\": null, \"t\": true}"},
        {"{{ d|tojson(indent=2) }}", "{\"d\": {\"a\": [1, {}], \"b\": []}}",
         "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}"},
        {"{{ 'é😀'|tojson(ensure_ascii=true) }} {{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}"
         " {{ [1, 2]|tojson(separators=(',', ':')) }} {{ {1: 'x', true: 'y'}|tojson }}",
         NULL, "\"\\u00e9\\ud83d\\ude00\" {\"a\": 2, \"b\": 1} [1,2] {\"1\": \"y\"}"},
        {"{{ {'b': 1, 'a': 2}|items|list }} {{ 'ab'|list }} {{ {'k': 1}|list }}", NULL,
         "[('b', 1), ('a', 2)] ['a', 'b'] ['k']"},
        {"{{ 7|string ~ 'x' }} {{ [1]|string }} {{ '12'|int + 1 }} {{ '2.5'|float }} {{ 2.7|int }}"
         " {{ 'x'|int }} {{ ' 7 '|int }} {{ '3.9'|int }} {{ -3|abs }} {{ 2.5|round }} {{ 3.14159|round(2) }}"
         " {{ 3|round }} {{ 2.1|round(0, 'ceil') }}",
         NULL, "7x [1] 13 2.5 2 0 7 3 3 2.0 3.14 3 3.0"},
        {"{{ ms|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(',') }}"
         " {{ ms|rejectattr('role', 'eq', 'user')|list|length }} {{ ms|map(attribute='role')|unique|list }}"
         " {{ ms|selectattr('content')|list|length }} {{ ms|map(attribute='x', default='-')|join }}",
         "{\"ms\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"\"},"
         " {\"role\": \"user\", \"content\": \"c\"}]}",
         "a,c 1 ['user', 'assistant'] 2 ---"},
        {"{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'a']|sort }} {{ {'b': 1, 'A': 2}|dictsort }}"
         " {{ [1, 5, 3]|max }} {{ [1, 5, 3]|min }} {{ [1, 2, 3]|sum }} {{ [3, 1]|sort(reverse=true) }}",
         NULL, "[1, 2, 3] ['A', 'a', 'b'] [('A', 2), ('b', 1)] 5 1 6 [3, 1]"},
        {"{{ [{'n': 2}, {'n': 1}]|sort(attribute='n')|map(attribute='n')|list }} {{ ['a', 'A', 'b']|unique|list }}",
         NULL, "[1, 2] ['a', 'b']"},
        {"{{ ['a', 'b']|map('upper')|list }} {{ [1, 2, 3]|select('odd')|list }} {{ [1, 2, 3]|reject('odd')|list }}"
         " {{ [1, 2, 3]|select('gt', 1)|list }}",
         NULL, "['A', 'B'] [1, 3] [2] [2, 3]"},
        {"{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'x\\ny'|indent(2, true) }}|{{ 'hello wORLD'|title }}|"
         "{{ '<a href=\"x\">&'|e }}|{{ 'abc'|reverse }}|{{ 'x'|safe }}|{{ 'hello'|capitalize }}",
         NULL, "a\n  b\n\n  c|  x\n  y|Hello World|&lt;a href=&#34;x&#34;&gt;&amp;|cba|x|Hello"},
        {"{% filter upper %}abc{{ 'd' }}{% endfilter %}", NULL, "ABCD"},
        /* map, select, ... give generators: always true, not sequences, iterated once. */
        {"{{ [0]|select('gt', 5) is sequence }} [{% if [1]|select('gt', 5) %}true{% endif %}]"
         " {{ {'a': 1}|items is sequence }} {{ [1, 2]|map('string')|reverse|list }}",
         NULL, "False [true] False ['2', '1']"},
        {"{% set g = [1, 2]|select %}{% for x in g %}{{ x }}{% endfor %}|{% for x in g %}{{ x }}"
         "{% endfor %}|{{ g|list }}|{{ [1, 2]|reverse is sequence }}",
         NULL, "12||[]|False"},
        {"{{ 'ab-ab'|replace('ab', 'x') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ {'a': 1}|attr('a') }}"
         " {{ {'a': 1}|attr('keys') is defined }}",
         NULL, "x-x bba  True"},
    };
    check_renders(cases, G_N_ELEMENTS(cases));
}

static void test_tests(void)
{
    static const render_case cases[] = {
        {"{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ n is none }} {{ s is string }}"
         " {{ d is mapping }} {{ l is iterable }} {{ s is iterable }} {{ d is sequence }} {{ y is iterable }}",
         "{\"x\": 1, \"n\": null, \"s\": \"a\", \"d\": {}, \"l\": []}",
         "True False True True True True True True True True"},
        {"{{ 1 is number }} {{ true is number }} {{ true is integer }} {{ 1.5 is float }} {{ false is false }}"
         " {{ 0 is false }} {{ true is true }} {{ 1 is true }} {{ 'x' is boolean }}",
         NULL, "True True False True True False True False False"},
        {"{{ 3 is odd }} {{ 4 is even }} {{ 6 is divisibleby 3 }} {{ x is not none }} {{ 2 is in [1, 2] }}"
         " {{ 'a' is eq 'a' }} {{ 1 is lt 2 }} {{ 1 is equalto(1) }} {{ 'ABC' is upper }} {{ 'abc' is lower }}"
         " {{ none is sameas none }} {{ namespace is callable }} {{ 'upper' is filter }} {{ 'odd' is test }}",
         "{\"x\": 0}", "True True True True True True True True True True True True True True"},
        {"{% if not x is defined %}a{% endif %}{% if x is not defined and true %}b{% endif %}", NULL, "ab"},
    };
    check_renders(cases, G_N_ELEMENTS(cases));
}

static void test_macros_and_globals(void)
{
    static const render_case cases[] = {
        {"{% macro m(a, b='B') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(1, 2) }}{{ m(b=3, a=4) }}[{{ m() }}]",
         NULL, "[1B][12][43][[B]]"},
        {"{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", NULL,
         "321"},
        {"{% macro m() %}{{ x }}{% endmacro %}{% set x = 5 %}{{ m() }}", NULL, "5"},
        {"{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, z=3) }}", NULL,
         "1(2,){'z': 3}"},
        {"{% for i in [1, 2] %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}", NULL, "12"},
        {"{{ raise_exception is defined }} {{ namespace(a=1).a }} {{ dict(a=1, b=2) }} {{ dict({'x': 1}, y=2) }}",
         NULL, "True 1 {'a': 1, 'b': 2} {'x': 1, 'y': 2}"},
        {"{{ strftime_now('%Y-%m-%d %H:%M:%S %b %a %B %A %d %j %p %%') }}", NULL,
         "2023-11-14 22:13:20 Nov Tue November Tuesday 14 318 PM %"},
        {"{% generation %}gen{{ 1 }}{% endgeneration %}{% print 'p', 1 %}{% print (1, 2) %}", NULL,
         "gen1p1(1, 2)"},
        {"{{ messages[0].content }}", "{\"messages\": [{\"content\": \"from context\"}]}", "from context"},
        {"{{ range }}", "{\"range\": \"shadowed by the context\"}", "shadowed by the context"},
    };
    check_renders(cases, G_N_ELEMENTS(cases));
}

/* Bad templates and renders: status and the parts of the message that must be there. */
typedef struct {
    const char *template;
    const char *context;
    hn_status status;
    const char *needles[3];
} error_case;

static void check_errors(const error_case *cases, size_t n, const hn_jinja_options *opts)
{
    for (size_t i = 0; i < n; i++) {
        hn_error err = {0};
        hn_status status;
        char *out = render_with(cases[i].template, cases[i].context, opts, &status, &err);
        if (status == HN_OK)
            g_error("template %s rendered [%s], expected an error", cases[i].template, out);
        char *shown = g_strescape(cases[i].template, NULL);
        g_test_message("%s -> %s", shown, err.message);
        g_free(shown);
        if (status != cases[i].status)
            g_error("template %s: status %d, expected %d (%s)", cases[i].template, status,
                    cases[i].status, err.message);
        g_assert_true(g_str_has_prefix(err.message, "test: "));
        for (int k = 0; k < 3 && cases[i].needles[k] != NULL; k++)
            test_assert_contains(err.message, cases[i].needles[k]);
        g_assert_null(out);
    }
}

static void test_syntax_errors(void)
{
    static const error_case cases[] = {
        {"{% for x in l %}x", NULL, HN_ERR_FORMAT,
         {"line 1, column 18", "unclosed 'for' (opened at line 1, column 4)", "expected 'endfor' or 'else'"}},
        {"a\n{% if x %}\nb", NULL, HN_ERR_FORMAT, {"line 3, column 2: unclosed 'if' (opened at line 2, column 4)"}},
        {"{% if x %}a{% endfor %}", NULL, HN_ERR_FORMAT,
         {"line 1, column 15", "unexpected 'endfor'", "'elif', 'else' or 'endif'"}},
        {"{{ x|nosuch }}", NULL, HN_ERR_UNSUPPORTED, {"line 1, column 6", "no filter named 'nosuch'"}},
        {"{{ 'a %s'|format('b') }}", NULL, HN_ERR_UNSUPPORTED,
         {"line 1, column 11", "the 'format' filter is not supported"}},
        {"{{ x is nosuch }}", NULL, HN_ERR_UNSUPPORTED, {"line 1, column 9", "no test named 'nosuch'"}},
        {"line1\n  {{ 1 + }}", NULL, HN_ERR_FORMAT,
         {"line 2, column 10", "expected an expression, found end of print statement"}},
        {"{{ 'unterminated }}", NULL, HN_ERR_FORMAT, {"line 1, column 4", "unterminated string"}},
        {"{% include 'x.jinja' %}", NULL, HN_ERR_UNSUPPORTED,
         {"line 1, column 4", "'{% include %}' tag is not supported"}},
        {"{% break %}", NULL, HN_ERR_FORMAT, {"line 1, column 4", "'break' outside a for loop"}},
        {"ok {# open comment", NULL, HN_ERR_FORMAT, {"line 1, column 4", "missing end of comment"}},
        {"{{ (1 }}", NULL, HN_ERR_FORMAT, {"line 1, column 7", "expected ')', found '}'"}},
        {"{% foo %}", NULL, HN_ERR_FORMAT, {"line 1, column 4", "unknown tag 'foo'"}},
        {"{{ x }", NULL, HN_ERR_FORMAT, {"line 1, column 6", "unexpected '}'"}},
        {"{{ x", NULL, HN_ERR_FORMAT,
         {"line 1, column 5", "expected end of print statement '}}', found end of template"}},
        {"{% for x in l recursive %}{% endfor %}", NULL, HN_ERR_UNSUPPORTED, {"recursive loops"}},
        {"{{ f(*args) }}", NULL, HN_ERR_UNSUPPORTED, {"*args and **kwargs"}},
        {"{{ a ! b }}", NULL, HN_ERR_FORMAT, {"line 1, column 6", "unexpected character '!'"}},
        {"{% raw %}never closed", NULL, HN_ERR_FORMAT, {"missing end of raw block"}},
        {"{{ 'a' is defined is string }}", NULL, HN_ERR_FORMAT, {"cannot be chained"}},
        {"{% set 1 = 2 %}", NULL, HN_ERR_FORMAT, {"expected a variable name to assign to"}},
        {"\xc3\x28", NULL, HN_ERR_FORMAT, {"line 1, column 1", "not valid UTF-8"}},
        {"{{ 99999999999999999999 }}", NULL, HN_ERR_FORMAT, {"does not fit in 64 bits"}},
    };
    check_errors(cases, G_N_ELEMENTS(cases), NULL);
}

static void test_render_errors(void)
{
    static const error_case cases[] = {
        {"{{ raise_exception('Roles must alternate') }}", NULL, HN_ERR_ARGUMENT,
         {"line 1, column 4", "the template raised an error: Roles must alternate"}},
        {"\n\n  {%- if true %}{{ raise_exception(\"deep \" ~ 1) }}{% endif %}", NULL, HN_ERR_ARGUMENT,
         {"line 3, column 20", "deep 1"}},
        {"{{ x.y }}", NULL, HN_ERR_FORMAT, {"line 1, column 4", "'x' is undefined"}},
        {"{{ m.a.b }}", "{\"m\": {}}", HN_ERR_FORMAT, {"'dict object' has no attribute 'a'"}},
        {"{{ x + 1 }}", NULL, HN_ERR_FORMAT, {"'x' is undefined"}},
        {"{{ 'a' + 1 }}", NULL, HN_ERR_FORMAT, {"unsupported operand types for +: 'str' and 'int'"}},
        {"{{ 1 / 0 }}", NULL, HN_ERR_FORMAT, {"division by zero"}},
        {"{{ 1 < 'a' }}", NULL, HN_ERR_FORMAT, {"cannot order 'int' and 'str'"}},
        {"{% set ns.a = 1 %}", NULL, HN_ERR_FORMAT, {"which is not a namespace()"}},
        {"{{ range(200000)|length }}", NULL, HN_ERR_UNSUPPORTED, {"range too big"}},
        {"{{ nope() }}", NULL, HN_ERR_FORMAT, {"line 1, column 4", "'nope' is undefined"}},
        {"{{ 'x'() }}", NULL, HN_ERR_FORMAT, {"'str' object is not callable"}},
        {"{{ 'x'.zfill(3) }}", NULL, HN_ERR_UNSUPPORTED, {"str.zfill() is not supported"}},
        {"{{ '%s' % 1 }}", NULL, HN_ERR_UNSUPPORTED, {"printf-style formatting"}},
        {"{% for a, b in [1] %}{% endfor %}", NULL, HN_ERR_FORMAT, {"'int' object is not iterable"}},
        {"{% for a, b in ['abc'] %}{% endfor %}", NULL, HN_ERR_FORMAT,
         {"too many values to unpack (expected 2, got 3)"}},
        {"{{ 9223372036854775807 + 1 }}", NULL, HN_ERR_UNSUPPORTED, {"integer overflow"}},
        {"{{ x|tojson }}", NULL, HN_ERR_FORMAT, {"not JSON serializable"}},
        {"{{ 'a'|trim(1) }}", NULL, HN_ERR_FORMAT, {"strip arg must be None or str"}},
        {"{{ [1]|join(', ', 'x', 'y') }}", NULL, HN_ERR_FORMAT, {"join() takes at most 2 arguments"}},
        {"{{ cycler() }}", NULL, HN_ERR_UNSUPPORTED, {"cycler() is not supported"}},
        {"{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", NULL, HN_ERR_FORMAT,
         {"macro 'm' takes not more than 1 argument(s)"}},
        {"{{ [1, 2][::0] }}", NULL, HN_ERR_FORMAT, {"slice step cannot be zero"}},
        {"{{ [1, 2]|select|length }}", NULL, HN_ERR_FORMAT,
         {"object of type 'generator' has no len()"}},
        {"{{ [1]|map('string')|tojson }}", NULL, HN_ERR_FORMAT,
         {"object of type generator is not JSON serializable"}},
        {"{{ [1]|select }}", NULL, HN_ERR_UNSUPPORTED, {"printing a generator", "add |list"}},
        {"{{ [{'a': 1}]|unique|list }}", NULL, HN_ERR_FORMAT, {"unhashable type: 'dict'"}},
        {"{{ {[1]: 2} }}", NULL, HN_ERR_FORMAT, {"unhashable type: 'list'"}},
    };
    check_errors(cases, G_N_ELEMENTS(cases), NULL);
}

static void test_limits(void)
{
    hn_jinja_options opts = {.max_steps = 100000, .max_output_bytes = 10000,
                             .max_memory_bytes = 64 << 20, .max_depth = 400};
    static const error_case cases[] = {
        {"{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", NULL,
         HN_ERR_UNSUPPORTED, {"more than 100000 steps"}},
        {"{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}", NULL, HN_ERR_UNSUPPORTED,
         {"output exceeds the limit of 10000 bytes"}},
        {"{{ 'x' * 100000000 }}", NULL, HN_ERR_UNSUPPORTED, {"memory limit"}},
        {"{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", NULL, HN_ERR_UNSUPPORTED,
         {"nested more than 400 deep"}},
        {"{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
         NULL, HN_ERR_UNSUPPORTED, {"limit"}},
        /* Nesting grows only through set and macro arguments, and is bounded there. */
        {"{% set ns = namespace(x=1) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}",
         NULL, HN_ERR_UNSUPPORTED, {"nested more than 256 levels deep"}},
        /* Searching a long list counts as work, not as one step. */
        {"{% set big = range(100000)|list %}{% for i in range(1000) %}{% if -1 in big %}{% endif %}{% endfor %}",
         NULL, HN_ERR_UNSUPPORTED, {"more than 100000 steps"}},
    };
    check_errors(cases, G_N_ELEMENTS(cases), &opts);
    hn_jinja_options deep_calls = {.max_depth = 3000};
    static const error_case by_macro[] = {
        {"{% macro f(x, n) %}{% if n > 0 %}{{ f({'k': x}, n - 1) }}{% endif %}{% endmacro %}{{ f(1, 300) }}",
         NULL, HN_ERR_UNSUPPORTED, {"nested more than 256 levels deep"}},
    };
    check_errors(by_macro, G_N_ELEMENTS(by_macro), &deep_calls);

    /* The parser's own nesting bound. */
    GString *deep = g_string_new("{{ ");
    for (int i = 0; i < 1000; i++)
        g_string_append_c(deep, '(');
    g_string_append(deep, "1");
    for (int i = 0; i < 1000; i++)
        g_string_append_c(deep, ')');
    g_string_append(deep, " }}");
    hn_jinja_template *t = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_jinja_compile(deep->str, "deep", &t, &err), !=, HN_OK);
    test_assert_contains(err.message, "nested");
    g_string_free(deep, TRUE);
}

/* A template compiles once and renders many contexts; NUL bytes are template text. */
static void test_reuse_and_lengths(void)
{
    hn_jinja_template *t = NULL;
    hn_error err = {0};
    static const char text[] = "a\0b{{ x }}";
    g_assert_cmpint(hn_jinja_compile_len(text, sizeof text - 1, "nul", &t, &err), ==, HN_OK);
    for (int i = 0; i < 3; i++) {
        char json[32];
        g_snprintf(json, sizeof json, "{\"x\": %d}", i);
        cJSON *ctx = cJSON_Parse(json);
        char *out = NULL;
        size_t len = 0;
        g_assert_cmpint(hn_jinja_render_opts(t, ctx, NULL, &out, &len, &err), ==, HN_OK);
        g_assert_cmpuint(len, ==, 4);
        char want[4] = {'a', '\0', 'b', (char)('0' + i)};
        g_assert_cmpmem(out, len, want, 4);
        g_free(out);
        cJSON_Delete(ctx);
    }
    cJSON *array = cJSON_CreateArray();
    char *out = NULL;
    g_assert_cmpint(hn_jinja_render(t, array, &out, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "must be a JSON object");
    cJSON_Delete(array);
    /* Context strings must be UTF-8; the message names where the bad one is. */
    cJSON *bad = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(bad, "x");
    cJSON_AddItemToArray(list, cJSON_CreateString("fine"));
    cJSON_AddItemToArray(list, cJSON_CreateString("\xff\xfe"));
    g_assert_cmpint(hn_jinja_render(t, bad, &out, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "context[\"x\"][1] is not valid UTF-8");
    cJSON_Delete(bad);
    /* Context values nest at most 256 deep. */
    GString *deep = g_string_new("{\"x\": ");
    for (int i = 0; i < 300; i++)
        g_string_append_c(deep, '[');
    for (int i = 0; i < 300; i++)
        g_string_append_c(deep, ']');
    g_string_append_c(deep, '}');
    cJSON *nested = cJSON_Parse(deep->str);
    g_assert_nonnull(nested);
    g_assert_cmpint(hn_jinja_render(t, nested, &out, &err), ==, HN_ERR_UNSUPPORTED);
    test_assert_contains(err.message, "nested too deeply");
    cJSON_Delete(nested);
    g_string_free(deep, TRUE);
    hn_jinja_free(t);
    hn_jinja_free(NULL);
}

/* Big dicts and lists stay fast: hashed lookups, hashed unique. */
static void test_large_inputs(void)
{
    enum { N = 100000 };
    GString *json = g_string_new("{\"d\": {");
    for (int i = 0; i < N; i++)
        g_string_append_printf(json, "%s\"k%d\": %d", i > 0 ? ", " : "", i, i);
    g_string_append(json, "}, \"l\": [");
    for (int i = 0; i < N; i++)
        g_string_append_printf(json, "%s\"v%d\"", i > 0 ? ", " : "", i % 1000);
    g_string_append(json, "]}");
    static const render_case cases[] = {
        {"{{ d|length }} {{ d['k99999'] }} {{ d.k5 }} {{ 'k777' in d }} {{ 'x' in d }}", NULL,
         "100000 99999 5 True False"},
        {"{{ l|unique|list|length }} {{ (l|unique|list)[999] }}", NULL, "1000 v999"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        render_case c = cases[i];
        c.context = json->str;
        check_renders(&c, 1);
    }
    g_string_free(json, TRUE);
}

static char *context_json(const char *messages, const char *special, const char *kwargs,
                          hn_status *status, hn_error *err)
{
    cJSON *m = cJSON_Parse(messages), *s = special ? cJSON_Parse(special) : NULL;
    cJSON *k = kwargs ? cJSON_Parse(kwargs) : NULL;
    hn_chat_input in = {.messages = m, .special_tokens = s, .kwargs = k, .add_generation_prompt = true};
    cJSON *ctx = NULL;
    *status = hn_jinja_chat_context(&in, &ctx, err);
    char *text = ctx != NULL ? cJSON_PrintUnformatted(ctx) : NULL;
    cJSON_Delete(ctx);
    cJSON_Delete(m);
    cJSON_Delete(s);
    cJSON_Delete(k);
    return text;
}

/* Null keys dropped, reasoning aliased in transformers' key order, kwargs over special tokens. */
static void test_chat_context(void)
{
    hn_error err = {0};
    hn_status status;
    char *text = context_json(
        "[{\"role\": \"user\", \"content\": \"hi\", \"name\": null},"
        " {\"role\": \"assistant\", \"content\": \"a\", \"reasoning_content\": \"r\", \"tool_calls\": null},"
        " {\"role\": \"assistant\", \"thinking\": \"t\", \"content\": \"b\"},"
        " {\"role\": \"assistant\", \"content\": \"c\", \"reasoning\": \"old\", \"thinking\": null}]",
        "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}", "{\"eos_token\": \"<|end|>\", \"enable_thinking\": false}",
        &status, &err);
    g_assert_cmpint(status, ==, HN_OK);
    g_assert_cmpstr(text, ==,
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
                    "{\"thinking\":\"r\",\"role\":\"assistant\",\"content\":\"a\",\"reasoning_content\":\"r\"},"
                    "{\"thinking\":\"t\",\"role\":\"assistant\",\"content\":\"b\",\"reasoning_content\":\"t\"},"
                    "{\"thinking\":\"old\",\"role\":\"assistant\",\"content\":\"c\",\"reasoning\":\"old\","
                    "\"reasoning_content\":\"old\"}],"
                    "\"tools\":null,\"documents\":null,\"add_generation_prompt\":true,"
                    "\"bos_token\":\"<s>\",\"eos_token\":\"<|end|>\",\"enable_thinking\":false}");
    g_free(text);

    g_assert_null(context_json("[]", NULL, NULL, &status, &err));
    g_assert_cmpint(status, ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "empty conversation");
    g_assert_null(context_json("[\"text\"]", NULL, NULL, &status, &err));
    test_assert_contains(err.message, "messages[0] must be an object");
    g_assert_null(context_json("[{\"role\": \"user\"}]", NULL, "{\"messages\": []}", &status, &err));
    test_assert_contains(err.message, "kwargs may not set 'messages'");
}

/* ---- the real templates against transformers ---- */

static char *read_text(const char *path)
{
    GBytes *bytes = test_read_file(path);
    gsize n;
    const char *data = g_bytes_get_data(bytes, &n);
    char *text = g_strndup(data, n);
    g_bytes_unref(bytes);
    return text;
}

static void report_difference(const char *name, const char *got, const char *want)
{
    size_t i = 0;
    while (got[i] != '\0' && got[i] == want[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    g_test_message("%s: differs at byte %zu\n  hone:   [%.80s]\n  python: [%.80s]", name, i,
                   got + from, want + from);
}

/* Renders one reference case; returns whether it matched what transformers did. */
static bool check_case(const char *template_name, const hn_jinja_template *t, const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    char *label = g_strdup_printf("%s/%s", template_name, name);
    const cJSON *tools = cJSON_GetObjectItem(c, "tools");
    hn_chat_input in = {
        .messages = cJSON_GetObjectItem(c, "messages"),
        .tools = cJSON_IsNull(tools) ? NULL : tools,
        .add_generation_prompt = cJSON_IsTrue(cJSON_GetObjectItem(c, "add_generation_prompt")),
        .special_tokens = cJSON_GetObjectItem(c, "special_tokens"),
        .kwargs = cJSON_GetObjectItem(c, "kwargs"),
    };
    hn_jinja_options opts = {.now = (int64_t)cJSON_GetObjectItem(c, "now")->valuedouble};
    hn_error err = {0};
    cJSON *ctx = NULL;
    char *out = NULL;
    hn_status status = hn_jinja_chat_context(&in, &ctx, &err);
    if (status == HN_OK)
        status = hn_jinja_render_opts(t, ctx, &opts, &out, NULL, &err);
    cJSON_Delete(ctx);
    const cJSON *expected = cJSON_GetObjectItem(c, "expected");
    bool ok;
    if (cJSON_IsString(expected)) {
        ok = status == HN_OK && strcmp(out, expected->valuestring) == 0;
        if (status != HN_OK)
            g_test_message("%s: hone failed where transformers rendered: %s", label, err.message);
        else if (!ok)
            report_difference(label, out, expected->valuestring);
    } else {
        /* transformers refused: so must Hone, with the template's own message when the
         * template raised it. */
        const char *type = cJSON_GetObjectItem(c, "error_type")->valuestring;
        const char *message = cJSON_GetObjectItem(c, "error")->valuestring;
        ok = status != HN_OK;
        if (ok && strcmp(type, "TemplateError") == 0)
            ok = strstr(err.message, message) != NULL;
        if (!ok)
            g_test_message("%s: transformers failed (%s: %s), hone gave %s", label, type, message,
                           status == HN_OK ? out : err.message);
    }
    g_free(out);
    g_free(label);
    return ok;
}

static void test_real_templates(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("jinja_ref.py", "write", dir);
    char *path = g_build_filename(dir, "expected.json", NULL);
    char *json = read_text(path);
    cJSON *all = cJSON_Parse(json);
    g_assert_nonnull(all);
    char *templates_dir = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "tests", "data",
                                           "chat_templates", NULL);
    char *sources_path = g_build_filename(templates_dir, "SOURCES.md", NULL);
    char *sources = read_text(sources_path);
    int n_templates = 0, n_cases = 0, n_failed = 0, n_errors = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, all)
    {
        char *file = g_strdup_printf("%s.jinja", entry->string);
        char *template_path = g_build_filename(templates_dir, file, NULL);
        /* Every template says where its text came from. */
        test_assert_contains(sources, file);
        char *text = read_text(template_path);
        hn_jinja_template *t = NULL;
        hn_error err = {0};
        if (hn_jinja_compile(text, file, &t, &err) != HN_OK)
            g_error("%s", err.message);
        int passed = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, entry)
        {
            n_cases++;
            n_errors += cJSON_GetObjectItem(c, "expected") == NULL;
            if (check_case(entry->string, t, c))
                passed++;
            else
                n_failed++;
        }
        g_test_message("%s: %d of %d conversations match transformers", file, passed,
                       cJSON_GetArraySize(entry));
        g_assert_cmpint(cJSON_GetArraySize(entry), >=, 20);
        hn_jinja_free(t);
        g_free(text);
        g_free(template_path);
        g_free(file);
        n_templates++;
    }
    g_test_message("%d templates, %d conversations (%d that the template rejects), %d differ",
                   n_templates, n_cases, n_errors, n_failed);
    g_assert_cmpint(n_templates, >=, 8);
    g_assert_cmpint(n_failed, ==, 0);
    g_free(sources);
    g_free(sources_path);
    g_free(templates_dir);
    cJSON_Delete(all);
    g_free(json);
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    /* strftime_now uses local time: pin the zone for the fixed-clock rows. */
    g_setenv("TZ", "UTC", TRUE);
    tzset();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/jinja/whitespace", test_whitespace);
    g_test_add_func("/engine/jinja/literals-operators", test_literals_and_operators);
    g_test_add_func("/engine/jinja/access", test_access);
    g_test_add_func("/engine/jinja/set-scopes", test_set_and_scopes);
    g_test_add_func("/engine/jinja/loops", test_loops);
    g_test_add_func("/engine/jinja/methods", test_methods);
    g_test_add_func("/engine/jinja/filters", test_filters);
    g_test_add_func("/engine/jinja/tests", test_tests);
    g_test_add_func("/engine/jinja/macros-globals", test_macros_and_globals);
    g_test_add_func("/engine/jinja/syntax-errors", test_syntax_errors);
    g_test_add_func("/engine/jinja/render-errors", test_render_errors);
    g_test_add_func("/engine/jinja/limits", test_limits);
    g_test_add_func("/engine/jinja/reuse", test_reuse_and_lengths);
    g_test_add_func("/engine/jinja/large-inputs", test_large_inputs);
    g_test_add_func("/engine/jinja/chat-context", test_chat_context);
    g_test_add_func("/engine/jinja/real-templates", test_real_templates);
    return g_test_run();
}
