/* Jinja lexer: splits template text into data and tag tokens the way jinja2's lexer does with
 * trim_blocks and lstrip_blocks on: `-` strips whitespace beside a tag, `+` keeps it, a
 * newline after a block or comment tag is dropped, indentation before one is dropped;
 * comments vanish; raw blocks become data; string escapes follow Python's unicode-escape. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "jinja_internal.h"

typedef enum { TAG_VAR, TAG_BLOCK, TAG_COMMENT } tag_kind;

typedef struct {
    jn_arena *arena;
    const char *label;
    const char *src;
    size_t len;
    hn_error *err;
    GArray *tokens;
    /* Position cursor: offsets are mostly visited in order. */
    size_t at_off;
    int at_line, at_col;
} lexer;

static jn_pos pos_of(lexer *lx, size_t off)
{
    if (off < lx->at_off) {
        lx->at_off = 0;
        lx->at_line = 1;
        lx->at_col = 1;
    }
    while (lx->at_off < off && lx->at_off < lx->len) {
        unsigned char c = (unsigned char)lx->src[lx->at_off];
        if (c == '\n') {
            lx->at_line++;
            lx->at_col = 1;
        } else if ((c & 0xC0) != 0x80) {
            lx->at_col++;
        }
        lx->at_off++;
    }
    /* A continuation byte started counting at its lead byte; columns count characters. */
    return (jn_pos){lx->at_line, lx->at_col};
}

static hn_status lex_fail(lexer *lx, size_t off, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static hn_status lex_fail(lexer *lx, size_t off, const char *fmt, ...)
{
    jn_pos p = pos_of(lx, off);
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    hn_fail(lx->err, HN_ERR_FORMAT, "%s: line %d, column %d: %s", lx->label, p.line, p.column,
            msg);
    g_free(msg);
    return HN_ERR_FORMAT;
}

static jn_token *push(lexer *lx, jn_token_kind kind, size_t off)
{
    jn_token t = {.kind = kind, .pos = pos_of(lx, off)};
    g_array_append_val(lx->tokens, t);
    return &g_array_index(lx->tokens, jn_token, lx->tokens->len - 1);
}

static void push_data(lexer *lx, size_t from, size_t to)
{
    if (to <= from)
        return;
    jn_token *t = push(lx, JT_DATA, from);
    t->text = lx->src + from;
    t->len = to - from;
}

/* Python whitespace (\s) at off, its byte length in *n; false when none. */
static bool space_at(const lexer *lx, size_t off, size_t *n)
{
    if (off >= lx->len)
        return false;
    gunichar c = jn_utf8_get(lx->src + off, n);
    return jn_py_isspace(c);
}

static size_t skip_space(const lexer *lx, size_t off)
{
    size_t n;
    while (space_at(lx, off, &n))
        off += n;
    return off;
}

static bool at(const lexer *lx, size_t off, const char *s)
{
    size_t n = strlen(s);
    return off + n <= lx->len && memcmp(lx->src + off, s, n) == 0;
}

/* End of text [from, to) once trailing Python whitespace is stripped. */
static size_t rstrip_end(const lexer *lx, size_t from, size_t to)
{
    size_t end = to;
    while (end > from) {
        size_t start = end - 1;
        while (start > from && ((unsigned char)lx->src[start] & 0xC0) == 0x80)
            start--;
        size_t n;
        if (!jn_py_isspace(jn_utf8_get(lx->src + start, &n)))
            break;
        end = start;
    }
    return end;
}

/* The whitespace control that applies to the text [from, to) before a tag: `-` strips all
 * trailing whitespace; otherwise (not `+`, not a variable tag) lstrip_blocks drops the
 * indentation before the tag when nothing else precedes it on its line. */
static size_t strip_before_tag(const lexer *lx, size_t from, size_t to, char sign,
                               bool is_variable, bool line_starting)
{
    if (sign == '-')
        return rstrip_end(lx, from, to);
    if (sign == '+' || is_variable)
        return to;
    size_t line = from;
    bool newline = false;
    for (size_t i = to; i > from; i--) {
        if (lx->src[i - 1] == '\n') {
            line = i;
            newline = true;
            break;
        }
    }
    if ((newline || line_starting) && line < to && rstrip_end(lx, line, to) == line)
        return line;
    return to;
}

/* The first tag start at or after off: "{{", "{%" or "{#"; len when none. */
static size_t find_tag(const lexer *lx, size_t off, tag_kind *kind)
{
    for (size_t i = off; i + 1 < lx->len; i++) {
        if (lx->src[i] != '{')
            continue;
        char c = lx->src[i + 1];
        if (c == '{' || c == '%' || c == '#') {
            *kind = c == '{' ? TAG_VAR : c == '%' ? TAG_BLOCK : TAG_COMMENT;
            return i;
        }
    }
    return lx->len;
}

/* Block end at off: "+%}", "-%}" plus whitespace, or "%}" plus one newline; returns the end
 * offset or 0 when there is none. */
static size_t block_end_at(const lexer *lx, size_t off)
{
    if (at(lx, off, "+%}"))
        return off + 3;
    if (at(lx, off, "-%}"))
        return skip_space(lx, off + 3);
    if (at(lx, off, "%}"))
        return off + 2 + (off + 2 < lx->len && lx->src[off + 2] == '\n');
    return 0;
}

/* `{% raw %}` at the tag start t (after its sign): returns the offset after the tag or 0. */
static size_t raw_begin_at(const lexer *lx, size_t after)
{
    size_t p = skip_space(lx, after);
    if (!at(lx, p, "raw"))
        return 0;
    p = skip_space(lx, p + 3);
    if (at(lx, p, "-%}"))
        return skip_space(lx, p + 3);
    if (at(lx, p, "%}"))
        return p + 2;
    return 0;
}

static hn_status lex_raw(lexer *lx, size_t tag, size_t body, size_t *next, bool *line_starting)
{
    for (size_t q = body; q + 1 < lx->len; q++) {
        if (lx->src[q] != '{' || lx->src[q + 1] != '%')
            continue;
        size_t p = q + 2;
        char sign = 0;
        if (p < lx->len && (lx->src[p] == '-' || lx->src[p] == '+'))
            sign = lx->src[p++];
        p = skip_space(lx, p);
        if (!at(lx, p, "endraw"))
            continue;
        size_t end = block_end_at(lx, skip_space(lx, p + 6));
        if (end == 0)
            continue;
        push_data(lx, body, strip_before_tag(lx, body, q, sign, false, *line_starting));
        *line_starting = lx->src[end - 1] == '\n';
        *next = end;
        return HN_OK;
    }
    return lex_fail(lx, tag, "missing end of raw block: expected '{%% endraw %%}', found end "
                             "of template");
}

static hn_status lex_comment(lexer *lx, size_t tag, size_t body, size_t *next,
                             bool *line_starting)
{
    for (size_t q = body; q < lx->len; q++) {
        size_t end = 0;
        if (at(lx, q, "+#}"))
            end = q + 3;
        else if (at(lx, q, "-#}"))
            end = skip_space(lx, q + 3);
        else if (at(lx, q, "#}"))
            end = q + 2 + (q + 2 < lx->len && lx->src[q + 2] == '\n');
        if (end != 0) {
            *line_starting = lx->src[end - 1] == '\n';
            *next = end;
            return HN_OK;
        }
    }
    return lex_fail(lx, tag, "missing end of comment: expected '#}', found end of template");
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* (\d+_)*\d+ at off: the end, or off when none. */
static size_t digits_end(const lexer *lx, size_t off)
{
    size_t p = off;
    if (p >= lx->len || !is_digit(lx->src[p]))
        return off;
    for (;;) {
        while (p < lx->len && is_digit(lx->src[p]))
            p++;
        if (p + 1 < lx->len && lx->src[p] == '_' && is_digit(lx->src[p + 1]))
            p++;
        else
            return p;
    }
}

/* jinja2's float_re at off: the end, or 0 when it does not match. */
static size_t float_end(const lexer *lx, size_t off)
{
    if (off > 0 && lx->src[off - 1] == '.')
        return 0;
    size_t p = digits_end(lx, off);
    if (p == off)
        return 0;
    size_t frac = 0;
    if (p < lx->len && lx->src[p] == '.') {
        size_t e = digits_end(lx, p + 1);
        if (e != p + 1)
            frac = e;
    }
    size_t q = frac != 0 ? frac : p;
    if (q < lx->len && (lx->src[q] == 'e' || lx->src[q] == 'E')) {
        size_t s = q + 1;
        if (s < lx->len && (lx->src[s] == '+' || lx->src[s] == '-'))
            s++;
        size_t e = digits_end(lx, s);
        if (e != s)
            return e;
    }
    return frac;
}

static bool in_base(char c, int base)
{
    if (base == 2)
        return c == '0' || c == '1';
    if (base == 8)
        return c >= '0' && c <= '7';
    if (base == 16)
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    return is_digit(c);
}

/* jinja2's integer_re at off: the end (0 when none) and the base. */
static size_t integer_end(const lexer *lx, size_t off, int *base)
{
    const char *s = lx->src;
    if (off + 1 < lx->len && s[off] == '0') {
        char x = s[off + 1];
        int b = (x == 'b' || x == 'B')   ? 2
                : (x == 'o' || x == 'O') ? 8
                : (x == 'x' || x == 'X') ? 16
                                         : 0;
        if (b != 0) {
            size_t p = off + 2, last = 0;
            for (;;) {
                size_t q = p;
                if (q < lx->len && s[q] == '_')
                    q++;
                if (q < lx->len && in_base(s[q], b)) {
                    p = q + 1;
                    last = p;
                } else {
                    break;
                }
            }
            if (last != 0) {
                *base = b;
                return last;
            }
        }
    }
    *base = 10;
    if (off < lx->len && s[off] >= '1' && s[off] <= '9') {
        size_t p = off + 1;
        for (;;) {
            size_t q = p;
            if (q < lx->len && s[q] == '_')
                q++;
            if (q < lx->len && is_digit(s[q]))
                p = q + 1;
            else
                return p;
        }
    }
    if (off < lx->len && s[off] == '0') {
        size_t p = off + 1;
        for (;;) {
            size_t q = p;
            if (q < lx->len && s[q] == '_')
                q++;
            if (q < lx->len && s[q] == '0')
                p = q + 1;
            else
                return p;
        }
    }
    return 0;
}

static char *without_underscores(lexer *lx, size_t from, size_t to)
{
    char *buf = jn_arena_alloc(lx->arena, to - from + 1);
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        if (lx->src[i] != '_')
            buf[n++] = lx->src[i];
    buf[n] = '\0';
    return buf;
}

static hn_status lex_number(lexer *lx, size_t off, size_t *next, bool *found)
{
    size_t end = float_end(lx, off);
    *found = true;
    if (end != 0) {
        jn_token *t = push(lx, JT_FLOAT, off);
        t->f = g_ascii_strtod(without_underscores(lx, off, end), NULL);
        *next = end;
        return HN_OK;
    }
    int base = 10;
    end = integer_end(lx, off, &base);
    if (end == 0) {
        *found = false;
        return HN_OK;
    }
    size_t skip = base == 10 ? 0 : 2;
    char *digits = without_underscores(lx, off + skip, end);
    errno = 0;
    guint64 v = g_ascii_strtoull(digits, NULL, base);
    if (errno != 0 || v > (guint64)INT64_MAX)
        return lex_fail(lx, off, "integer literal %.*s does not fit in 64 bits",
                        (int)(end - off), lx->src + off);
    jn_token *t = push(lx, JT_INT, off);
    t->i = (int64_t)v;
    *next = end;
    return HN_OK;
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescapes a string literal's body as jinja2 does: the text with non-ASCII characters
 * written as \x/\u/\U escapes, decoded with Python's unicode-escape codec. */
static hn_status unescape(lexer *lx, size_t off, const char *s, size_t n, jn_token *t)
{
    char *out = jn_arena_alloc(lx->arena, n * 2 + 16);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        if (i + 1 >= n) {
            return lex_fail(lx, off, "string literal ends with a lone backslash");
        }
        unsigned char c = (unsigned char)s[i + 1];
        if (c >= 0x80) {
            /* backslashreplace turns the character into its escape; the backslash before it
             * then escapes that escape's own backslash. */
            size_t clen;
            gunichar u = jn_utf8_get(s + i + 1, &clen);
            char esc[16];
            int k = u <= 0xFF     ? g_snprintf(esc, sizeof esc, "\\x%02x", u)
                    : u <= 0xFFFF ? g_snprintf(esc, sizeof esc, "\\u%04x", u)
                                  : g_snprintf(esc, sizeof esc, "\\U%08x", u);
            memcpy(out + o, esc, (size_t)k);
            o += (size_t)k;
            i += 1 + clen;
            continue;
        }
        i += 2;
        gunichar code = 0;
        int need = 0;
        switch (c) {
        case '\n': continue;
        case '\\': out[o++] = '\\'; continue;
        case '\'': out[o++] = '\''; continue;
        case '"': out[o++] = '"'; continue;
        case 'a': out[o++] = '\a'; continue;
        case 'b': out[o++] = '\b'; continue;
        case 'f': out[o++] = '\f'; continue;
        case 'n': out[o++] = '\n'; continue;
        case 'r': out[o++] = '\r'; continue;
        case 't': out[o++] = '\t'; continue;
        case 'v': out[o++] = '\v'; continue;
        case 'x': need = 2; break;
        case 'u': need = 4; break;
        case 'U': need = 8; break;
        case 'N':
            return lex_fail(lx, off, "\\N{...} escapes in string literals are not supported");
        default:
            if (c >= '0' && c <= '7') {
                code = c - '0';
                for (int k = 0; k < 2 && i < n && s[i] >= '0' && s[i] <= '7'; k++)
                    code = code * 8 + (gunichar)(s[i++] - '0');
                o += jn_utf8_put(out + o, code);
            } else {
                out[o++] = '\\';
                out[o++] = (char)c;
            }
            continue;
        }
        for (int k = 0; k < need; k++) {
            int h = i < n ? hex_value(s[i]) : -1;
            if (h < 0)
                return lex_fail(lx, off, "truncated \\%c escape in a string literal", c);
            code = code * 16 + (gunichar)h;
            i++;
        }
        if (code > 0x10FFFF)
            return lex_fail(lx, off, "\\U escape beyond U+10FFFF in a string literal");
        if (code >= 0xD800 && code <= 0xDFFF)
            return lex_fail(lx, off, "string literal holds a lone surrogate \\u%04x", code);
        o += jn_utf8_put(out + o, code);
    }
    out[o] = '\0';
    t->text = out;
    t->len = o;
    return HN_OK;
}

static hn_status lex_string(lexer *lx, size_t off, size_t *next)
{
    char quote = lx->src[off];
    size_t p = off + 1;
    while (p < lx->len && lx->src[p] != quote) {
        if (lx->src[p] == '\\')
            p++;
        p++;
    }
    if (p >= lx->len)
        return lex_fail(lx, off, "unterminated string literal: expected %c, found end of template",
                        quote);
    jn_token *t = push(lx, JT_STRING, off);
    HN_TRY(unescape(lx, off, lx->src + off + 1, p - off - 1, t));
    *next = p + 1;
    return HN_OK;
}

static const struct {
    const char *text;
    jn_op op;
} operators[] = {
    {"//", OP_FLOORDIV}, {"**", OP_POW}, {"==", OP_EQ}, {"!=", OP_NE}, {">=", OP_GE},
    {"<=", OP_LE},       {"+", OP_ADD},  {"-", OP_SUB}, {"/", OP_DIV}, {"*", OP_MUL},
    {"%", OP_MOD},       {"~", OP_TILDE}, {"[", OP_LBRACKET}, {"]", OP_RBRACKET},
    {"(", OP_LPAREN},    {")", OP_RPAREN}, {"{", OP_LBRACE}, {"}", OP_RBRACE},
    {">", OP_GT},        {"<", OP_LT},   {"=", OP_ASSIGN}, {".", OP_DOT}, {":", OP_COLON},
    {"|", OP_PIPE},      {",", OP_COMMA}, {";", OP_SEMICOLON},
};

const char *jn_op_text(jn_op op)
{
    for (size_t i = 0; i < G_N_ELEMENTS(operators); i++)
        if (operators[i].op == op)
            return operators[i].text;
    switch (op) {
    case OP_AND: return "and";
    case OP_OR: return "or";
    case OP_IN: return "in";
    case OP_NOT_IN: return "not in";
    default: return "?";
    }
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Tokens inside a {{ }} or {% %} tag up to and including its end. */
static hn_status lex_tag(lexer *lx, tag_kind kind, size_t p, size_t *next, bool *line_starting)
{
    char stack[64];
    int depth = 0;
    for (;;) {
        if (depth == 0) {
            size_t end = 0;
            if (kind == TAG_VAR) {
                if (at(lx, p, "-}}"))
                    end = skip_space(lx, p + 3);
                else if (at(lx, p, "}}"))
                    end = p + 2;
            } else {
                end = block_end_at(lx, p);
            }
            if (end != 0) {
                push(lx, kind == TAG_VAR ? JT_VAR_END : JT_BLOCK_END, p);
                *line_starting = lx->src[end - 1] == '\n';
                *next = end;
                return HN_OK;
            }
        }
        size_t n;
        if (space_at(lx, p, &n)) {
            p += n;
            continue;
        }
        if (p >= lx->len) {
            *next = p;
            return HN_OK; /* the parser reports the missing end */
        }
        char c = lx->src[p];
        if (is_digit(c)) {
            bool found;
            HN_TRY(lex_number(lx, p, &p, &found));
            if (found)
                continue;
        }
        if (is_name_start(c)) {
            size_t e = p + 1;
            while (e < lx->len && (is_name_start(lx->src[e]) || is_digit(lx->src[e])))
                e++;
            jn_token *t = push(lx, JT_NAME, p);
            t->text = jn_arena_strndup(lx->arena, lx->src + p, e - p);
            t->len = e - p;
            p = e;
            continue;
        }
        if (c == '\'' || c == '"') {
            HN_TRY(lex_string(lx, p, &p));
            continue;
        }
        size_t i = 0;
        while (i < G_N_ELEMENTS(operators) && !at(lx, p, operators[i].text))
            i++;
        if (i == G_N_ELEMENTS(operators)) {
            size_t clen;
            gunichar u = jn_utf8_get(lx->src + p, &clen);
            return lex_fail(lx, p, "unexpected character '%.*s' (U+%04X) in a %s", (int)clen,
                            lx->src + p, u, kind == TAG_VAR ? "{{ }} expression" : "{% %} tag");
        }
        jn_op op = operators[i].op;
        if (op == OP_LPAREN || op == OP_LBRACKET || op == OP_LBRACE) {
            if (depth == (int)sizeof stack)
                return lex_fail(lx, p, "brackets nested more than %d deep", (int)sizeof stack);
            stack[depth++] = op == OP_LPAREN ? ')' : op == OP_LBRACKET ? ']' : '}';
        } else if (op == OP_RPAREN || op == OP_RBRACKET || op == OP_RBRACE) {
            if (depth == 0)
                return lex_fail(lx, p, "unexpected '%c'", c);
            if (stack[depth - 1] != c)
                return lex_fail(lx, p, "expected '%c', found '%c'", stack[depth - 1], c);
            depth--;
        }
        jn_token *t = push(lx, JT_OP, p);
        t->op = op;
        p += strlen(operators[i].text);
    }
}

hn_status jn_lex(jn_arena *arena, const char *label, const char *src, size_t len,
                 jn_token **tokens, size_t *n_tokens, hn_error *err)
{
    lexer lx = {.arena = arena, .label = label, .src = src, .len = len, .err = err,
                .tokens = g_array_new(FALSE, TRUE, sizeof(jn_token)),
                .at_off = 0, .at_line = 1, .at_col = 1};
    hn_status status = HN_OK;
    size_t p = 0;
    bool line_starting = true;
    while (p < len && status == HN_OK) {
        tag_kind kind = TAG_VAR;
        size_t t = find_tag(&lx, p, &kind);
        if (t == len) {
            push_data(&lx, p, len);
            break;
        }
        size_t after = t + 2;
        char sign = 0;
        if (after < len && (src[after] == '-' || src[after] == '+'))
            sign = src[after++];
        size_t raw_body = kind == TAG_BLOCK ? raw_begin_at(&lx, after) : 0;
        push_data(&lx, p, strip_before_tag(&lx, p, t, sign, kind == TAG_VAR, line_starting));
        if (kind == TAG_COMMENT) {
            status = lex_comment(&lx, t, after, &p, &line_starting);
        } else if (raw_body != 0) {
            line_starting = src[raw_body - 1] == '\n';
            status = lex_raw(&lx, t, raw_body, &p, &line_starting);
        } else {
            push(&lx, kind == TAG_VAR ? JT_VAR_BEGIN : JT_BLOCK_BEGIN, t);
            status = lex_tag(&lx, kind, after, &p, &line_starting);
        }
    }
    if (status != HN_OK) {
        g_array_free(lx.tokens, TRUE);
        return status;
    }
    push(&lx, JT_EOF, len);
    *n_tokens = lx.tokens->len;
    *tokens = jn_arena_alloc(arena, sizeof(jn_token) * lx.tokens->len);
    memcpy(*tokens, lx.tokens->data, sizeof(jn_token) * lx.tokens->len);
    g_array_free(lx.tokens, TRUE);
    return HN_OK;
}

const char *jn_token_describe(const jn_token *t, char *buf, size_t size)
{
    switch (t->kind) {
    case JT_DATA: return "template text";
    case JT_VAR_BEGIN: return "'{{'";
    case JT_VAR_END: return "end of print statement '}}'";
    case JT_BLOCK_BEGIN: return "'{%'";
    case JT_BLOCK_END: return "end of statement block '%}'";
    case JT_STRING: return "a string";
    case JT_INT: return "an integer";
    case JT_FLOAT: return "a number";
    case JT_EOF: return "end of template";
    case JT_NAME:
        g_snprintf(buf, size, "'%s'", t->text);
        return buf;
    case JT_OP:
        g_snprintf(buf, size, "'%s'", jn_op_text(t->op));
        return buf;
    }
    return "?";
}
